package spec

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// billionLaughs is the classic alias bomb: 10 levels of 10 aliases each.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString("apiVersion: flowrun.dev/v1\nkind: Pipeline\nlol0: &l0 [\"lol\"]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "lol%d: &l%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("spec:\n  models:\n    - name: m\n      params: {x: *l9}\n")
	return b.String()
}

// mergeBomb nests merge keys of 10 aliases each, 9 levels deep.
func mergeBomb() string {
	var b strings.Builder
	b.WriteString("apiVersion: flowrun.dev/v1\nkind: Pipeline\nx-0: &l0 {a: 1, b: 2}\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "x-%d: &l%d {<<: [%s]}\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 10), ", "))
	}
	b.WriteString("metadata:\n  <<: *l9\n  name: x\n")
	return b.String()
}

func TestLimits(t *testing.T) {
	deepFlow := "apiVersion: flowrun.dev/v1\nspec: " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n"
	var deepBlock strings.Builder
	deepBlock.WriteString("spec:\n")
	for i := 1; i < 80; i++ {
		fmt.Fprintf(&deepBlock, "%sk%d:\n", strings.Repeat(" ", i), i)
	}
	longSQL := "apiVersion: flowrun.dev/v1\nkind: Pipeline\nspec:\n  stages:\n    - name: s\n      sql: SELECT a FROM t WHERE " + strings.Repeat("a = 1 OR ", 100) + "a = 2\n"
	cases := []struct {
		name, src string
		opts      []Option
		want      string // in the message
		hint      string
	}{
		{"billion laughs", billionLaughs(), nil, "max yaml nodes", "--max-yaml-nodes"},
		{"merge-key bomb", mergeBomb(), nil, "max yaml nodes", "--max-yaml-nodes"},
		{"many nodes", "spec:\n  sources:\n" + strings.Repeat("    - {a: 1}\n", 300000), nil, "max yaml nodes", "--max-yaml-nodes"},
		{"many flow nodes", "spec: [" + strings.Repeat("1,", 1<<20) + "1]\n", nil, "max yaml nodes", "--max-yaml-nodes"},
		{"deep flow", deepFlow, nil, "max depth", "--max-depth"},
		{"deep block", deepBlock.String(), nil, "max depth", "--max-depth"},
		{"file size", strings.Repeat("# x\n", 100), []Option{WithMaxFileSize(64)}, "max file size", "--max-file-size"},
		{"sql length", longSQL, []Option{WithMaxSQLLength(100)}, "max sql length", "--max-sql-length"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, ds := Parse("l.yaml", []byte(c.src), c.opts...)
			if !errors.Is(ds, ErrLimit) {
				t.Fatalf("no limit error: %v", ds)
			}
			for _, d := range ds {
				if d.Err == ErrLimit {
					if !strings.Contains(d.Msg, c.want) || !strings.Contains(d.Hint, c.hint) || d.Pos.Line == 0 {
						t.Errorf("limit diagnostic = %+v", d)
					}
				}
			}
		})
	}
}

// TestAliasesWithinLimit checks that ordinary anchors and merge keys work.
func TestAliasesWithinLimit(t *testing.T) {
	src := `apiVersion: flowrun.dev/v1
kind: Pipeline
metadata: {name: a}
x-common: &js {stream: S, subject: s.out}
spec:
  sources:
    - name: src
      jetstream: {stream: IN}
      schema: &cols {a: double, ts: timestamp}
  sinks:
    - name: out
      from: src
      jetstream: *js
`
	ps, ds := Parse("a.yaml", []byte(src), WithoutValidation())
	// x-common is an extension field: ignored.
	if len(ds) != 0 {
		t.Fatalf("%v", ds)
	}
	if js := ps[0].Spec.Sinks[0].JetStream; js == nil || js.Subject != "s.out" {
		t.Errorf("sink jetstream = %+v", js)
	}
}
