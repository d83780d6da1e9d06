package planner

import (
	"testing"

	"github.com/flowrun/flowrun/udf"
)

func TestFoldExpr(t *testing.T) {
	i := func(v int64) Expr { return &Literal{Value: udf.Int(v)} }
	f := func(v float64) Expr { return &Literal{Value: udf.Float(v)} }
	s := func(v string) Expr { return &Literal{Value: udf.Str(v)} }
	b := func(v bool) Expr { return &Literal{Value: udf.Bool(v)} }
	null := &Literal{Value: udf.Null}
	col := &ColumnRef{Index: 0, Name: "x", T: udf.TypeBool}
	bin := func(op string, l, r Expr, t udf.Type) Expr { return &BinaryOp{Op: op, L: l, R: r, T: t} }
	big := int64(1) << 62
	for _, tc := range []struct {
		name string
		in   Expr
		want string
	}{
		{"add", bin("+", i(1), i(2), udf.TypeBigint), "3"},
		{"mixed", bin("*", i(2), f(1.5), udf.TypeDouble), "3.0"},
		{"divide", bin("/", i(7), i(2), udf.TypeDouble), "3.5"},
		{"divide by zero stays", bin("/", i(7), i(0), udf.TypeDouble), "(7 / 0)"},
		{"modulo by zero stays", bin("%", i(7), i(0), udf.TypeBigint), "(7 % 0)"},
		{"overflow stays", bin("*", i(big), i(4), udf.TypeBigint), "(4611686018427387904 * 4)"},
		{"null arithmetic", bin("+", i(1), null, udf.TypeBigint), "NULL"},
		{"compare", bin("<", i(1), f(1.5), udf.TypeBool), "true"},
		{"strings", bin("=", s("a"), s("b"), udf.TypeBool), "false"},
		{"null compare", bin("=", s("a"), null, udf.TypeBool), "NULL"},
		{"and false", bin("AND", col, b(false), udf.TypeBool), "false"},
		{"and true", bin("AND", b(true), col, udf.TypeBool), "#0:x"},
		{"or true", bin("OR", col, b(true), udf.TypeBool), "true"},
		{"or false", bin("OR", b(false), col, udf.TypeBool), "#0:x"},
		{"timestamp plus", bin("+", &Literal{Value: udf.Time(1000)}, i(500), udf.TypeTimestamp), "TIMESTAMP '1970-01-01T00:00:01.500Z'"},
		{"not", &UnaryOp{Op: "NOT", X: b(true), T: udf.TypeBool}, "false"},
		{"neg", &UnaryOp{Op: "-", X: f(2), T: udf.TypeDouble}, "-2.0"},
		{"is null", &IsNull{X: null}, "true"},
		{"case", &Case{Whens: []When{{Cond: b(false), Then: i(1)}, {Cond: col, Then: i(2)}, {Cond: b(true), Then: i(3)}}, Else: i(4), T: udf.TypeBigint},
			"CASE WHEN #0:x THEN 2 ELSE 3 END"},
		{"case all false", &Case{Whens: []When{{Cond: b(false), Then: i(1)}}, T: udf.TypeBigint}, "NULL"},
	} {
		if got := foldExpr(tc.in).String(); got != tc.want {
			t.Errorf("%s: fold(%s) = %s, want %s", tc.name, tc.in, got, tc.want)
		}
	}
	if lower, ok := udf.Lookup("LOWER"); ok {
		call := &Call{Func: lower, Args: []Expr{s("ABC")}, T: udf.TypeString}
		if got := foldExpr(call).String(); got != "'abc'" {
			t.Errorf("fold(LOWER('ABC')) = %s", got)
		}
	}
}
