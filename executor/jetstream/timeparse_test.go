package jetstream

import (
	"testing"

	"github.com/flowrun/flowrun/executor/eval"
)

// A source's auto timestamps and CAST(... AS TIMESTAMP) read the same
// strings the same way (both start with udf.ParseISOTime).
func TestAutoTimestampAgreesWithCast(t *testing.T) {
	for _, s := range []string{
		"2024-02-29", "2024-02-29T23:59:59Z", "2024-02-29 23:59:59", "2024-02-29T23:59:59.123456789+05:30",
		"2013-12-02 21:15:00", "1969-12-31T23:59:59.999Z", "2024-01-01T00:00:00-0800", "2024-01-01T7:00:00Z",
	} {
		want, ok := eval.ParseTime(s)
		if !ok {
			t.Fatalf("CAST does not read %q", s)
		}
		got, err := ParseTimestamp("auto", s)
		if err != nil || got != want {
			t.Errorf("%q: source reads %d (%v), CAST %d", s, got, err, want)
		}
	}
	for _, s := range []string{"2024-02-30", "2024-13-01", "yesterday"} {
		if _, ok := eval.ParseTime(s); ok {
			t.Errorf("CAST reads %q", s)
		}
		if _, err := ParseTimestamp("auto", s); err == nil {
			t.Errorf("the source reads %q", s)
		}
	}
}
