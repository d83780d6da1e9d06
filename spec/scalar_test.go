package spec

import (
	"fmt"
	"strings"
	"testing"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// TestScalarValues checks that the value rebuilt by the position mapper
// equals the YAML parser's value for every style of scalar, so that the
// segments it records line up with the value.
func TestScalarValues(t *testing.T) {
	bodies := []string{
		"  a\n  b\n",
		"  a\n\n  b\n\n\n",
		"\n  a\n    more\n  b\n",
		"  a\n  b\n\n  c\n    d\n    e\n\n  f\n",
		"  SELECT x\n    FROM t\n\n  WHERE y\n",
		"  one\n\n",
		"  x  \n  y\n",
	}
	var cases []string
	for _, h := range []string{"|", "|-", "|+", ">", ">-", ">+"} {
		for _, b := range bodies {
			cases = append(cases, "k: "+h+"\n"+b+"z: 1\n")
		}
	}
	cases = append(cases,
		"k: \"a\\tb\\u00e9 c\\\n   d\\\"e\"\n",
		"k: \"a\n\n  b   \n  c\"\n",
		"k: 'it''s\n  a\n\n  b'\n",
		"k: plain\n  words\n\n  here\n",
		"k: |2\n    two\n  one\n",
		"- k: |\n    in a list\n    two\n",
	)
	for i, src := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			f, err := parser.ParseBytes([]byte(src), 0)
			if err != nil {
				t.Skipf("parse: %v", err)
			}
			m := newSrcMap("s", []byte(src), []byte(src), nil)
			d := &decoder{m: m}
			var node ast.Node
			ast.Walk(visitFunc(func(n ast.Node) bool {
				if node != nil {
					return false
				}
				if mv, ok := n.(*ast.MappingValueNode); ok && scalarString(mv.Key) == "k" {
					node = mv.Value
					return false
				}
				return true
			}), f.Docs[0])
			if node == nil {
				t.Fatal("no k")
			}
			want := scalarString(node)
			off := d.nodeOffset(node)
			var b segBuilder
			switch x := node.(type) {
			case *ast.LiteralNode:
				b = blockScalar(m.parsed, off)
			case *ast.StringNode:
				switch x.GetToken().Type {
				case token.DoubleQuoteType:
					b = quotedScalar(m.parsed, off, '"')
				case token.SingleQuoteType:
					b = quotedScalar(m.parsed, off, '\'')
				default:
					b = plainScalar(m.parsed, off, want)
				}
			}
			if string(b.val) != want {
				t.Errorf("src %q:\n got %q\nwant %q", src, b.val, want)
			}
			// Every non-space byte maps to the same byte of the source.
			tx := Text{Value: want, segs: b.segs, src: m}
			for k := 0; k < len(want); k++ {
				c := want[k]
				if c == ' ' || c == '\n' || c == '\\' || c == '\'' || c == '"' || c >= 0x80 || c == '\t' {
					continue
				}
				p := tx.PosAt(k)
				line := strings.Split(src, "\n")[p.Line-1]
				if p.Col-1 >= len(line) || line[p.Col-1] != c {
					t.Errorf("src %q: byte %d %q maps to %v", src, k, c, p)
				}
			}
		})
	}
}

type visitFunc func(ast.Node) bool

func (f visitFunc) Visit(n ast.Node) ast.Visitor {
	if f(n) {
		return f
	}
	return nil
}
