package main

import (
	"bufio"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
)

func TestCheckCSVHeader(t *testing.T) {
	op := &planner.SourceOp{Decl: []spec.Column{{Name: "id"}, {Name: "limit_bal"}, {Name: "default_next"}}}
	for _, c := range []struct {
		header      string
		warn, error bool
	}{
		{"id,limit_bal,default_next\n1,2,3\n", false, false},
		{`"ID","LIMIT_BAL","Default-Next"` + "\r\n", false, false}, // case, quotes, punctuation
		{"id,limit,default.payment.next.month\n", true, false},     // renamed by the schema
		{"id,limit_bal\n", false, true},                            // a column short
		{"id,default_next,limit_bal\n", false, true},               // declared columns swapped
	} {
		warn, err := checkCSVHeader(bufio.NewReader(strings.NewReader(c.header)), op)
		if (warn != "") != c.warn || (err != nil) != c.error {
			t.Errorf("%q: warning %q, error %v; want warning %v, error %v", c.header, warn, err, c.warn, c.error)
		}
	}
}
