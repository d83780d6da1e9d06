package eval

import (
	"errors"
	"math"
	"strings"
	"syscall"
	"testing"

	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

func lit(v udf.Value) planner.Expr { return &planner.Literal{Value: v} }

func bin(op string, l, r planner.Expr, t udf.Type) planner.Expr {
	return &planner.BinaryOp{Op: op, L: l, R: r, T: t}
}

var (
	T = udf.Bool(true)
	F = udf.Bool(false)
	N = udf.Null
)

func evalOne(t *testing.T, e planner.Expr, row udf.Row) (udf.Value, error) {
	t.Helper()
	f, err := Compile(e, &Env{})
	if err != nil {
		t.Fatalf("compile %s: %v", e, err)
	}
	return f(row)
}

func TestThreeValuedLogic(t *testing.T) {
	vals := []udf.Value{T, F, N}
	and := [3][3]udf.Value{{T, F, N}, {F, F, F}, {N, F, N}}
	or := [3][3]udf.Value{{T, T, T}, {T, F, N}, {T, N, N}}
	for i, a := range vals {
		for j, b := range vals {
			got, err := evalOne(t, bin("AND", lit(a), lit(b), udf.TypeBool), nil)
			if err != nil || !udf.Equal(got, and[i][j]) {
				t.Errorf("%v AND %v = %v, %v; want %v", a, b, got, err, and[i][j])
			}
			got, err = evalOne(t, bin("OR", lit(a), lit(b), udf.TypeBool), nil)
			if err != nil || !udf.Equal(got, or[i][j]) {
				t.Errorf("%v OR %v = %v, %v; want %v", a, b, got, err, or[i][j])
			}
		}
		not := []udf.Value{F, T, N}[i]
		got, _ := evalOne(t, &planner.UnaryOp{Op: "NOT", X: lit(a), T: udf.TypeBool}, nil)
		if !udf.Equal(got, not) {
			t.Errorf("NOT %v = %v, want %v", a, got, not)
		}
		isNull, _ := evalOne(t, &planner.IsNull{X: lit(a)}, nil)
		if isNull.AsBool() != (a.K == udf.TypeNull) {
			t.Errorf("%v IS NULL = %v", a, isNull)
		}
	}
	// Short circuit: FALSE AND <error> is FALSE, TRUE OR <error> is TRUE.
	boom := bin("*", lit(udf.Int(math.MaxInt64)), lit(udf.Int(2)), udf.TypeBigint)
	cmp := bin(">", boom, lit(udf.Int(0)), udf.TypeBool)
	if v, err := evalOne(t, bin("AND", lit(F), cmp, udf.TypeBool), nil); err != nil || !udf.Equal(v, F) {
		t.Errorf("FALSE AND error = %v, %v", v, err)
	}
	if v, err := evalOne(t, bin("OR", lit(T), cmp, udf.TypeBool), nil); err != nil || !udf.Equal(v, T) {
		t.Errorf("TRUE OR error = %v, %v", v, err)
	}
	if _, err := evalOne(t, bin("AND", lit(T), cmp, udf.TypeBool), nil); !errors.Is(err, ErrExpr) {
		t.Errorf("TRUE AND error: err = %v, want ErrExpr", err)
	}
}

func TestArithmetic(t *testing.T) {
	I, D, TS := udf.TypeBigint, udf.TypeDouble, udf.TypeTimestamp
	cases := []struct {
		op   string
		a, b udf.Value
		t    udf.Type
		want string // Value.String() or "error"
	}{
		{"+", udf.Int(2), udf.Int(3), I, "5"},
		{"-", udf.Int(2), udf.Int(3), I, "-1"},
		{"*", udf.Int(-4), udf.Int(3), I, "-12"},
		{"/", udf.Int(7), udf.Int(2), I, "3"},
		{"/", udf.Int(-7), udf.Int(2), I, "-3"},
		{"/", udf.Int(7), udf.Int(2), D, "3.5"},
		{"%", udf.Int(7), udf.Int(3), I, "1"},
		{"%", udf.Int(-7), udf.Int(3), I, "-1"},
		{"/", udf.Int(7), udf.Int(0), I, "NULL"},
		{"%", udf.Int(7), udf.Int(0), I, "NULL"},
		{"/", udf.Float(7), udf.Float(0), D, "NULL"},
		{"%", udf.Float(7.5), udf.Float(2), D, "1.5"},
		{"+", udf.Int(1), udf.Float(0.5), D, "1.5"},
		{"*", udf.Float(1.5), udf.Int(2), D, "3"},
		{"+", udf.Int(math.MaxInt64), udf.Int(1), I, "error"},
		{"-", udf.Int(math.MinInt64), udf.Int(1), I, "error"},
		{"*", udf.Int(math.MaxInt64), udf.Int(2), I, "error"},
		{"*", udf.Int(math.MinInt64), udf.Int(-1), I, "error"},
		{"*", udf.Int(math.MinInt64), udf.Int(1), I, "-9223372036854775808"},
		{"*", udf.Int(-(1 << 62)), udf.Int(2), I, "-9223372036854775808"},
		{"/", udf.Int(math.MinInt64), udf.Int(-1), I, "error"},
		{"%", udf.Int(math.MinInt64), udf.Int(-1), I, "0"},
		{"+", udf.Int(1), N, I, "NULL"},
		{"*", N, udf.Float(2), D, "NULL"},
		{"+", udf.Time(1000), udf.Int(500), TS, "1970-01-01T00:00:01.500Z"},
		{"-", udf.Time(1000), udf.Int(500), TS, "1970-01-01T00:00:00.500Z"},
		{"-", udf.Time(1000), udf.Time(250), I, "750"},
		{"+", udf.Int(500), udf.Time(1000), TS, "1970-01-01T00:00:01.500Z"},
		{"*", udf.Time(1000), udf.Int(2), TS, "error"},
		{"+", udf.Str("a"), udf.Int(2), I, "error"},
		{"||", udf.Str("ab"), udf.Str("cd"), udf.TypeString, `"abcd"`},
		{"||", udf.Str("ab"), N, udf.TypeString, "NULL"},
		{"||", udf.Str("n="), udf.Int(3), udf.TypeString, `"n=3"`},
	}
	for _, c := range cases {
		v, err := evalOne(t, bin(c.op, lit(c.a), lit(c.b), c.t), nil)
		got := v.String()
		if err != nil {
			got = "error"
			if !errors.Is(err, ErrExpr) {
				t.Errorf("%v %s %v: error %v does not wrap ErrExpr", c.a, c.op, c.b, err)
			}
		}
		if got != c.want {
			t.Errorf("%v %s %v (%s) = %s, want %s", c.a, c.op, c.b, c.t, got, c.want)
		}
	}
	if v, err := evalOne(t, &planner.UnaryOp{Op: "-", X: lit(udf.Int(math.MinInt64)), T: I}, nil); err == nil {
		t.Errorf("-MinInt64 = %v, want error", v)
	}
	if v, _ := evalOne(t, &planner.UnaryOp{Op: "-", X: lit(udf.Float(2.5)), T: D}, nil); v.F != -2.5 {
		t.Errorf("-2.5 = %v", v)
	}
}

func TestComparisons(t *testing.T) {
	cases := []struct {
		a    udf.Value
		op   string
		b    udf.Value
		want udf.Value
	}{
		{udf.Int(1), "<", udf.Int(2), T},
		{udf.Int(2), "<=", udf.Float(2.0), T},
		{udf.Float(2.5), ">", udf.Int(2), T},
		{udf.Int(math.MaxInt64), ">", udf.Float(9.2233720368547e18), T},
		{udf.Int(math.MaxInt64), "=", udf.Float(9.223372036854775807e18), F},
		{udf.Time(1000), "=", udf.Int(1000), T},
		{udf.Time(1000), ">", udf.Str("1970-01-01T00:00:00Z"), T},
		{udf.Str("1970-01-01T00:00:01Z"), "=", udf.Time(1000), T},
		{udf.Str("abc"), "<", udf.Str("abd"), T},
		{udf.Str("b"), "<>", udf.Str("b"), F},
		{udf.Bool(false), "<", udf.Bool(true), T},
		{udf.Int(1), "=", N, N},
		{N, "!=", N, N},
		{udf.Vec([]float64{1, 2}), "=", udf.Vec([]float64{1, 2}), T},
		{udf.Vec([]float64{1, 2}), "!=", udf.Vec([]float64{1, 3}), T},
	}
	for _, c := range cases {
		got, err := evalOne(t, bin(c.op, lit(c.a), lit(c.b), udf.TypeBool), nil)
		if err != nil || !udf.Equal(got, c.want) {
			t.Errorf("%v %s %v = %v, %v; want %v", c.a, c.op, c.b, got, err, c.want)
		}
		// The column-literal fast paths, both ways round.
		colA := &planner.ColumnRef{Index: 0, T: c.a.K}
		got, err = evalOne(t, bin(c.op, colA, lit(c.b), udf.TypeBool), udf.Row{c.a})
		if err != nil || !udf.Equal(got, c.want) {
			t.Errorf("col(%v) %s %v = %v, %v; want %v", c.a, c.op, c.b, got, err, c.want)
		}
		colB := &planner.ColumnRef{Index: 0, T: c.b.K}
		got, err = evalOne(t, bin(c.op, lit(c.a), colB, udf.TypeBool), udf.Row{c.b})
		if err != nil || !udf.Equal(got, c.want) {
			t.Errorf("%v %s col(%v) = %v, %v; want %v", c.a, c.op, c.b, got, err, c.want)
		}
	}
	for _, c := range [][2]udf.Value{{udf.Str("a"), udf.Int(1)}, {udf.Vec([]float64{1}), udf.Vec([]float64{2})}} {
		if _, err := evalOne(t, bin("<", lit(c[0]), lit(c[1]), udf.TypeBool), nil); !errors.Is(err, ErrExpr) {
			t.Errorf("%v < %v: err %v, want ErrExpr", c[0], c[1], err)
		}
	}
}

func TestInLikeCase(t *testing.T) {
	list := func(vs ...udf.Value) []planner.Expr {
		var out []planner.Expr
		for _, v := range vs {
			out = append(out, lit(v))
		}
		return out
	}
	ins := []struct {
		x    udf.Value
		list []planner.Expr
		not  bool
		want udf.Value
	}{
		{udf.Int(2), list(udf.Int(1), udf.Int(2)), false, T},
		{udf.Int(3), list(udf.Int(1), udf.Int(2)), false, F},
		{udf.Int(3), list(udf.Int(1), N), false, N},
		{udf.Int(1), list(udf.Int(1), N), false, T},
		{udf.Int(3), list(udf.Int(1), N), true, N},
		{udf.Int(3), list(udf.Int(1), udf.Int(2)), true, T},
		{N, list(udf.Int(1)), false, N},
		{udf.Float(2), list(udf.Int(1), udf.Int(2)), false, T},
		{udf.Str("c"), list(udf.Str("a"), udf.Str("b"), udf.Str("c"), udf.Str("d"), udf.Str("e")), false, T},
		{udf.Str("z"), list(udf.Str("a"), udf.Str("b"), udf.Str("c"), udf.Str("d"), udf.Str("e")), true, T},
		{udf.Int(9), list(udf.Int(1), udf.Int(2), udf.Int(3), udf.Int(4), udf.Int(9)), false, T},
		{udf.Float(9), list(udf.Int(1), udf.Int(2), udf.Int(3), udf.Int(4), udf.Int(9)), false, T},
		{udf.Float(9.5), list(udf.Int(1), udf.Int(2), udf.Int(3), udf.Int(4), udf.Int(9)), false, F},
	}
	for _, c := range ins {
		got, err := evalOne(t, &planner.In{X: lit(c.x), List: c.list, Not: c.not}, nil)
		if err != nil || !udf.Equal(got, c.want) {
			t.Errorf("%v IN %v (not=%v) = %v, %v; want %v", c.x, c.list, c.not, got, err, c.want)
		}
	}
	likes := []struct {
		s, p string
		want bool
	}{
		{"flowrun", "flow%", true}, {"flowrun", "%run", true}, {"flowrun", "%owr%", true},
		{"flowrun", "flowrun", true}, {"flowrun", "flow", false}, {"flowrun", "f_owr_n", true},
		{"flowrun", "f%r_n", true}, {"flowrun", "f%x%", false}, {"", "%", true}, {"", "_", false},
		{"a%b", `a\%b`, true}, {"axb", `a\%b`, false}, {"a_b", `a\_b`, true}, {"héllo", "h_llo", true},
		{"mississippi", "%ss%ss%i", true}, {"mississippi", "m%sip_i", true}, {"abc", "%%%", true},
		{"abc", "a%%c", true}, {"abc", "_b_", true}, {"abcd", "_b_", false}, {"ab", "a%b%", true},
	}
	for _, c := range likes {
		got, err := evalOne(t, &planner.Like{X: lit(udf.Str(c.s)), Pattern: lit(udf.Str(c.p))}, nil)
		if err != nil || got.AsBool() != c.want {
			t.Errorf("%q LIKE %q = %v, %v; want %v", c.s, c.p, got, err, c.want)
		}
		// The same through a non-literal pattern.
		row := udf.Row{udf.Str(c.p)}
		got, _ = evalOne(t, &planner.Like{X: lit(udf.Str(c.s)), Pattern: &planner.ColumnRef{Index: 0, T: udf.TypeString}, Not: true}, row)
		if got.AsBool() == c.want {
			t.Errorf("%q NOT LIKE column %q = %v", c.s, c.p, got)
		}
	}
	if v, _ := evalOne(t, &planner.Like{X: lit(N), Pattern: lit(udf.Str("%"))}, nil); v.K != udf.TypeNull {
		t.Errorf("NULL LIKE = %v", v)
	}
	if v, _ := evalOne(t, &planner.Like{X: lit(udf.Str("a")), Pattern: lit(N)}, nil); v.K != udf.TypeNull {
		t.Errorf("LIKE NULL = %v", v)
	}

	x := &planner.ColumnRef{Index: 0, Name: "x", T: udf.TypeBigint}
	cs := &planner.Case{
		Whens: []planner.When{
			{Cond: bin(">", x, lit(udf.Int(10)), udf.TypeBool), Then: lit(udf.Float(1.5))},
			{Cond: bin(">", x, lit(udf.Int(5)), udf.TypeBool), Then: lit(udf.Int(2))},
		},
		Else: lit(udf.Int(3)), T: udf.TypeDouble,
	}
	for _, c := range []struct {
		x    udf.Value
		want string
	}{{udf.Int(11), "1.5"}, {udf.Int(6), "2"}, {udf.Int(1), "3"}, {N, "3"}} {
		v, err := evalOne(t, cs, udf.Row{c.x})
		if err != nil || v.String() != c.want || v.K != udf.TypeDouble {
			t.Errorf("CASE x=%v = %v (%s), %v; want %s double", c.x, v, v.K, err, c.want)
		}
	}
	cs.Else = nil
	if v, _ := evalOne(t, cs, udf.Row{udf.Int(0)}); v.K != udf.TypeNull {
		t.Errorf("CASE without ELSE = %v, want NULL", v)
	}
}

func TestCast(t *testing.T) {
	cases := []struct {
		v    udf.Value
		to   udf.Type
		want string
	}{
		{udf.Float(2.7), udf.TypeBigint, "2"},
		{udf.Float(-2.7), udf.TypeBigint, "-2"},
		{udf.Float(math.NaN()), udf.TypeBigint, "error"},
		{udf.Float(1e19), udf.TypeBigint, "error"},
		{udf.Str(" 42 "), udf.TypeBigint, "42"},
		{udf.Str("4.9"), udf.TypeBigint, "4"},
		{udf.Str("x"), udf.TypeBigint, "error"},
		{udf.Str("2.5"), udf.TypeDouble, "2.5"},
		{udf.Int(3), udf.TypeDouble, "3"},
		{udf.Float(0.1), udf.TypeString, `"0.1"`},
		{udf.Int(-3), udf.TypeString, `"-3"`},
		{udf.Bool(true), udf.TypeString, `"true"`},
		{udf.Time(1500), udf.TypeString, `"1970-01-01T00:00:01.500Z"`},
		{udf.Str("YES"), udf.TypeBool, "true"},
		{udf.Str("0"), udf.TypeBool, "false"},
		{udf.Str("maybe"), udf.TypeBool, "error"},
		{udf.Int(0), udf.TypeBool, "false"},
		{udf.Str("2024-01-02T03:04:05.678Z"), udf.TypeTimestamp, "2024-01-02T03:04:05.678Z"},
		{udf.Str("2024-01-02 03:04:05"), udf.TypeTimestamp, "2024-01-02T03:04:05.000Z"},
		{udf.Str("2024-01-02T03:04:05+01:00"), udf.TypeTimestamp, "2024-01-02T02:04:05.000Z"},
		{udf.Str("2024-01-02"), udf.TypeTimestamp, "2024-01-02T00:00:00.000Z"},
		{udf.Str("1500"), udf.TypeTimestamp, "1970-01-01T00:00:01.500Z"},
		{udf.Str("soon"), udf.TypeTimestamp, "error"},
		{udf.Int(1500), udf.TypeTimestamp, "1970-01-01T00:00:01.500Z"},
		{udf.Time(1500), udf.TypeBigint, "1500"},
		{udf.Str("[1, 2.5]"), udf.TypeVector, "[1,2.5]"},
		{udf.Vec([]float64{1, 2.5}), udf.TypeString, `"[1,2.5]"`},
		{N, udf.TypeBigint, "NULL"},
	}
	for _, c := range cases {
		v, err := evalOne(t, &planner.Cast{X: lit(c.v), To: c.to}, nil)
		got := v.String()
		if err != nil {
			got = "error"
			if !errors.Is(err, ErrExpr) {
				t.Errorf("CAST(%v AS %s): %v does not wrap ErrExpr", c.v, c.to, err)
			}
		}
		if got != c.want {
			t.Errorf("CAST(%v AS %s) = %s, want %s", c.v, c.to, got, c.want)
		}
	}
}

type fakeModels struct{ calls int }

func (m *fakeModels) Predict(kind planner.ModelCallKind, model string, args []udf.Value) (udf.Value, error) {
	m.calls++
	if model == "broken" {
		return udf.Null, errors.New("no version")
	}
	s := 0.0
	for _, a := range args {
		f, _ := a.AsFloat()
		s += f
	}
	return udf.Float(s), nil
}

func TestCalls(t *testing.T) {
	abs, ok := udf.Lookup("ABS")
	if !ok {
		t.Fatal("udf has no ABS")
	}
	x := &planner.ColumnRef{Index: 0, Name: "x", T: udf.TypeBigint}
	call := &planner.Call{Func: abs, Args: []planner.Expr{x}, T: udf.TypeBigint}
	f, err := Compile(call, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x    udf.Value
		want string
	}{{udf.Int(-3), "3"}, {N, "NULL"}, {udf.Int(math.MinInt64), "error"}} {
		v, err := f(udf.Row{c.x})
		got := v.String()
		if err != nil {
			got = "error"
			if !errors.Is(err, ErrExpr) {
				t.Errorf("ABS error %v not ErrExpr", err)
			}
		}
		if got != c.want {
			t.Errorf("ABS(%v) = %s, want %s", c.x, got, c.want)
		}
	}
	row := udf.Row{udf.Int(-7)}
	if n := testing.AllocsPerRun(100, func() { f(row) }); n != 0 {
		t.Errorf("ABS(x) allocates %v per row", n)
	}

	m := &fakeModels{}
	env := &Env{Models: m}
	p, err := Compile(&planner.ModelCall{Kind: planner.Predict, Model: "fraud", Args: []planner.Expr{x, lit(udf.Float(0.5))}, T: udf.TypeDouble}, env)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := p(udf.Row{udf.Int(2)}); err != nil || v.F != 2.5 {
		t.Errorf("PREDICT = %v, %v", v, err)
	}
	p, _ = Compile(&planner.ModelCall{Kind: planner.Predict, Model: "broken", T: udf.TypeDouble}, env)
	if _, err := p(nil); !errors.Is(err, ErrExpr) || !strings.Contains(err.Error(), "broken") {
		t.Errorf("broken model: %v", err)
	}
	if _, err := Compile(&planner.ModelCall{Model: "fraud"}, nil); !errors.Is(err, ErrCompile) {
		t.Errorf("model call without Models: %v", err)
	}
	if _, err := Compile(&planner.UserCall{Name: "f"}, nil); !errors.Is(err, ErrCompile) {
		t.Errorf("user call without Funcs: %v", err)
	}

	funcs, errs := udf.CompileUserFuncs([]udf.UserFunc{{
		Name:   "risk_bucket",
		Params: []udf.Param{{Name: "amount", Type: udf.TypeDouble}},
		Expr:   `amount > 1000 ? "high" : (amount > 100 ? "mid" : "low")`,
	}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	amount := &planner.ColumnRef{Index: 0, Name: "amount", T: udf.TypeDouble}
	u, err := Compile(&planner.UserCall{Name: "RISK_BUCKET", Args: []planner.Expr{amount}, T: udf.TypeString}, &Env{Funcs: funcs})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x    udf.Value
		want string
	}{{udf.Float(5000), `"high"`}, {udf.Float(250), `"mid"`}, {udf.Float(3), `"low"`}} {
		if v, err := u(udf.Row{c.x}); err != nil || v.String() != c.want {
			t.Errorf("risk_bucket(%v) = %v, %v; want %s", c.x, v, err, c.want)
		}
	}
	if _, err := Compile(&planner.UserCall{Name: "nope"}, &Env{Funcs: funcs}); !errors.Is(err, ErrCompile) {
		t.Errorf("unknown user function: %v", err)
	}
}

func TestNumericPathsDoNotAllocate(t *testing.T) {
	x := &planner.ColumnRef{Index: 0, Name: "x", T: udf.TypeDouble}
	y := &planner.ColumnRef{Index: 1, Name: "y", T: udf.TypeBigint}
	e := bin("AND",
		bin(">", bin("*", x, lit(udf.Float(2)), udf.TypeDouble), lit(udf.Float(10)), udf.TypeBool),
		&planner.In{X: y, List: []planner.Expr{lit(udf.Int(1)), lit(udf.Int(2)), lit(udf.Int(3))}},
		udf.TypeBool)
	f, err := Compile(e, nil)
	if err != nil {
		t.Fatal(err)
	}
	row := udf.Row{udf.Float(7), udf.Int(2)}
	if v, _ := f(row); !v.AsBool() {
		t.Fatalf("got %v", v)
	}
	if n := testing.AllocsPerRun(100, func() { f(row) }); n != 0 {
		t.Errorf("%v allocations per row", n)
	}
}

func BenchmarkEvalPredicate(b *testing.B) {
	x := &planner.ColumnRef{Index: 0, Name: "x", T: udf.TypeDouble}
	y := &planner.ColumnRef{Index: 1, Name: "y", T: udf.TypeBigint}
	e := bin("AND", bin(">", x, lit(udf.Float(10)), udf.TypeBool),
		bin("=", bin("%", y, lit(udf.Int(3)), udf.TypeBigint), lit(udf.Int(1)), udf.TypeBool), udf.TypeBool)
	f, _ := Compile(e, nil)
	row := udf.Row{udf.Float(17), udf.Int(4)}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		f(row)
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime returns the user+system CPU time of the process in ns (on a
// loaded machine wall time overstates the cost).
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
