package planner

import (
	"errors"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/spec"
)

// planSQL plans the prelude's sources with one SQL stage read by a sink.
func planSQL(t *testing.T, sql string) (*Graph, spec.Diagnostics) {
	t.Helper()
	src := prelude + `  stages:
    - name: s
      sql: |
        ` + strings.ReplaceAll(sql, "\n", "\n        ") + `
  sinks:
    - name: out
      from: s
      jetstream: {stream: OUT, subject: out.s}
`
	ps, ds := spec.Parse("t.yaml", []byte(src))
	if ds.HasErrors() || len(ps) != 1 {
		return nil, ds
	}
	return Plan(ps[0])
}

// TestErrorKinds checks that diagnostics wrap both the planner's and
// spec's sentinel errors.
func TestErrorKinds(t *testing.T) {
	for _, tc := range []struct {
		sql       string
		kind, std error
	}{
		{"SELECT ammount FROM tx", ErrUnknown, spec.ErrReference},
		{"SELECT ts FROM tx AS a JOIN tx AS b ON a.tx_id = b.tx_id AND b.ts BETWEEN a.ts AND a.ts", ErrAmbiguous, spec.ErrReference},
		{"SELECT amount + 'x' AS y FROM tx", ErrType, spec.ErrSQL},
		{"SELECT tx_id FROM tx ORDER BY tx_id", ErrUnsupported, spec.ErrSQL},
		{"SELECT merchant, COUNT(*) AS n FROM tx GROUP BY user_id", ErrGrouping, spec.ErrSQL},
		{"SELECT c.url FROM clicks AS c JOIN tx AS t ON c.user_id = t.user_id", ErrJoin, spec.ErrSQL},
		{"SELECT COUNT(*) AS n FROM tx GROUP BY TUMBLE(amount, INTERVAL 1 MINUTE)", ErrWindow, spec.ErrSQL},
	} {
		g, ds := planSQL(t, tc.sql)
		if g != nil {
			t.Errorf("%s: planned, want an error", tc.sql)
			continue
		}
		if !errors.Is(ds, tc.kind) || !errors.Is(ds, tc.std) {
			t.Errorf("%s: diagnostics %v are not %v and %v", tc.sql, ds, tc.kind, tc.std)
		}
		for _, d := range ds {
			if d.Pos.Line == 0 {
				t.Errorf("%s: %v has no position", tc.sql, d)
			}
		}
	}
}

// TestDeepNesting checks that a deeply nested expression is an error with
// a position, not a crash.
func TestDeepNesting(t *testing.T) {
	sql := "SELECT " + strings.Repeat("(", 300) + "amount" + strings.Repeat(" + 1)", 300) + " AS x FROM tx"
	g, ds := planSQL(t, sql)
	if g != nil || !ds.HasErrors() {
		t.Fatalf("planned a %d-deep expression", 300)
	}
	for _, d := range ds {
		if d.Pos.Line == 0 {
			t.Errorf("%v has no position", d)
		}
	}
	// A long left-deep chain passes the parser and hits the binder's limit.
	_, ds = planSQL(t, "SELECT amount"+strings.Repeat(" + 1", 1200)+" AS x FROM tx")
	if !errors.Is(ds, spec.ErrLimit) {
		t.Errorf("want a limit error, got %v", ds)
	}
}
