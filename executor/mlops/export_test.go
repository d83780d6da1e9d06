package mlops

import (
	"testing"

	"github.com/flowrun/flowrun/udf"
)

// SMSRows exposes the SMS collection rows (ts, is_spam, text) to the
// external tests of package mlops_test.
func SMSRows(t testing.TB) []udf.Row { return smsRows(t) }
