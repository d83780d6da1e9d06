package spec

import (
	"strings"
	"testing"
)

// textOf decodes src and returns the Text of the first function's expr.
func textsOf(t *testing.T, src string) []*Text {
	t.Helper()
	ps, ds := Parse("t.yaml", []byte(src), WithoutValidation())
	if ds.HasErrors() {
		t.Fatalf("decode: %v", ds)
	}
	var out []*Text
	for _, f := range ps[0].Spec.Functions {
		out = append(out, &f.Expr)
	}
	return out
}

// TestPosAt checks that every byte of a Text value maps to the file
// position of the character it came from, for each scalar style.
func TestPosAt(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		// want maps a marker substring of the value to the line:col where
		// its first byte is written.
		want map[string]string
		val  string
	}{
		{"plain", "  - name: f\n    expr: a + bé + zz\n", map[string]string{"a": "2:11", "zz": "2:21"}, "a + bé + zz"},
		{"plain multiline", "  - name: f\n    expr: a +\n      b\n\n      c\n", map[string]string{"b": "3:7", "c": "5:7", "+": "2:13"}, "a + b\nc"},
		{"double", "  - name: f\n    expr: \"x\\ty ==\n      z\"\n", map[string]string{"x": "2:12", "y": "2:15", "z": "3:7"}, "x\ty == z"},
		{"single", "  - name: f\n    expr: 'it''s + q'\n", map[string]string{"s +": "2:16", "q": "2:20"}, "it's + q"},
		{"literal", "  - name: f\n    expr: |\n      SELECT a\n        FROM t\n\n      WHERE x\n", map[string]string{"SELECT": "3:7", "FROM": "4:9", "WHERE": "6:7"}, "SELECT a\n  FROM t\n\nWHERE x\n"},
		{"literal strip", "  - name: f\n    expr: |-\n      one\n      two\n\n\n  - name: g\n    expr: x\n", map[string]string{"two": "4:7"}, "one\ntwo"},
		{"literal keep", "  - name: f\n    expr: |+\n      one\n\n  - name: g\n    expr: x\n", map[string]string{"one": "3:7"}, "one\n\n"},
		{"folded", "  - name: f\n    expr: >\n      one\n      two\n\n      three\n        four\n      five\n", map[string]string{"two": "4:7", "three": "6:7", "four": "7:9", "five": "8:7"}, "one two\nthree\n  four\nfive\n"},
		{"explicit indent", "  - name: f\n    expr: |2\n        indented\n      x\n", map[string]string{"indented": "3:9", "x": "4:7"}, "  indented\nx\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := "apiVersion: flowrun.dev/v1\nkind: Pipeline\nspec:\n  functions:\n" + c.yaml
			// Lines of c.yaml start at file line 5.
			tx := textsOf(t, src)[0]
			if c.val != "" && tx.Value != c.val {
				t.Errorf("value = %q, want %q", tx.Value, c.val)
			}
			for marker, want := range c.want {
				i := strings.Index(tx.Value, marker)
				if i < 0 {
					t.Fatalf("marker %q not in %q", marker, tx.Value)
				}
				p := tx.PosAt(i)
				var line, col int
				parsePair(want, &line, &col)
				line += 4
				if p.Line != line || p.Col != col {
					t.Errorf("PosAt(%q) = %d:%d, want %d:%d", marker, p.Line, p.Col, line, col)
				}
			}
		})
	}
}

func parsePair(s string, a, b *int) {
	l, r, _ := strings.Cut(s, ":")
	*a, *b = atoi(l), atoi(r)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestPosAtInterpolated checks positions after ${VAR} interpolation
// changed the length of a line.
func TestPosAtInterpolated(t *testing.T) {
	src := "apiVersion: flowrun.dev/v1\nkind: Pipeline\nspec:\n  functions:\n  - name: ${N}\n    expr: ${LONG} + zz\n"
	env := map[string]string{"N": "f", "LONG": "aaaaaaaaaaaaaaaaaaaa"}
	ps, ds := Parse("t.yaml", []byte(src), WithoutValidation(), WithEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	tx := ps[0].Spec.Functions[0].Expr
	p := tx.PosAt(strings.Index(tx.Value, "zz"))
	if p.Line != 6 || p.Col != 21 {
		t.Errorf("PosAt(zz) = %v, want 6:21", p)
	}
	if p := tx.PosAt(3); p.Line != 6 || p.Col != 11 {
		t.Errorf("PosAt(inside ${LONG}) = %v, want 6:11", p)
	}
}
