package udf

import (
	"errors"
	"strings"
	"testing"
)

func mustEnv(t *testing.T, fns ...UserFunc) *Env {
	t.Helper()
	env, errs := CompileUserFuncs(fns)
	if errs != nil {
		t.Fatalf("compile: %v", errs)
	}
	return env
}

func TestUserFuncDesignExample(t *testing.T) {
	env := mustEnv(t, UserFunc{
		Name:   "risk_bucket",
		Params: []Param{{Name: "amount", Type: TypeAny}},
		Expr:   `amount > 1000 ? "high" : (amount > 100 ? "mid" : "low")`,
	})
	f, ok := env.Lookup("RISK_BUCKET")
	if !ok {
		t.Fatal("not found")
	}
	if f.Params[0].Type != TypeDouble || f.Returns != TypeString {
		t.Fatalf("inferred %v -> %v", f.Params[0].Type, f.Returns)
	}
	if f.prog.fast == nil {
		t.Fatal("not on the typed path")
	}
	for _, c := range []struct {
		in   Value
		want string
	}{{Float(2000), `"high"`}, {Float(250), `"mid"`}, {Int(5), `"low"`}, {Null, `"low"`}} {
		v, err := f.Call([]Value{c.in})
		if err != nil || v.String() != c.want {
			t.Errorf("risk_bucket(%v) = %v, %v; want %s", c.in, v, err, c.want)
		}
	}
	if got, err := f.Check([]Type{TypeBigint}); err != nil || got != TypeString {
		t.Errorf("Check(bigint) = %v, %v", got, err)
	}
	if _, err := f.Check([]Type{TypeString}); !errors.Is(err, ErrArgs) {
		t.Errorf("Check(string) = %v, want ErrArgs", err)
	}
}

// TestUserExprs evaluates expressions over params a (double), b (bigint),
// s (string), ok (bool), ts (timestamp), v (vector).
func TestUserExprs(t *testing.T) {
	params := []Param{{"a", TypeDouble}, {"b", TypeBigint}, {"s", TypeString}, {"ok", TypeBool}, {"ts", TypeTimestamp}, {"v", TypeVector}}
	row := Row{Float(2.5), Int(7), Str("Flow"), Bool(true), Time(90_000), Vec([]float64{1, 2, 3})}
	nulls := Row{Null, Null, Null, Null, Null, Null}
	cases := []struct {
		expr, want, wantNull string // wantNull: result when every param is NULL
		vm                   bool
	}{
		{"a * 2", "5", "NULL", false},
		{"b + 1", "8", "NULL", false},
		{"b / 2", "3.5", "NULL", false},
		{"b % 4", "3", "NULL", false},
		{"b / 0", "NULL", "NULL", false},
		{"b % 0", "NULL", "NULL", false},
		{"a ** 2", "6.25", "NULL", false},
		{"-b", "-7", "NULL", false},
		{"s + \"run\"", `"Flowrun"`, "NULL", false},
		{"lower(s) == \"flow\"", "true", "NULL", false},
		{"LOWER(s)", `"flow"`, "NULL", false},
		{"len(s)", "4", "NULL", false},
		{"a > 1 && ok", "true", "NULL", false},
		{"a > 1 || ok", "true", "NULL", false},
		{"b > 100 and ok", "false", "NULL", false},
		{"(b > 100) || (a == nil)", "false", "true", false},
		{"a == nil", "false", "true", false},
		{"a != nil", "true", "false", false},
		{"!ok", "false", "NULL", false},
		{"not ok", "false", "NULL", false},
		{"a ?? 0", "2.5", "0", false},
		{"b ?? 1.5", "7", "1.5", false},
		{"ok ? 1 : 2.5", "1", "2.5", false},
		{"b in [1, 7, 9]", "true", "NULL", false},
		{"b not in [1, 9]", "true", "NULL", false},
		{"b in [1, nil]", "NULL", "NULL", false},
		{"s contains \"lo\"", "true", "NULL", false},
		{"s startsWith \"Fl\"", "true", "NULL", false},
		{"s endsWith \"w\"", "true", "NULL", false},
		{"s matches \"^F[a-z]+$\"", "true", "NULL", false},
		{"v[1]", "2", "NULL", false},
		{"v[-1]", "3", "NULL", false},
		{"v[5]", "NULL", "NULL", false},
		{"ts + 1000", "1970-01-01T00:01:31.000Z", "NULL", false},
		{"ts - ts", "0", "NULL", false},
		{"ts > 60000", "true", "NULL", false},
		{"EXTRACT(\"MINUTE\", ts)", "1", "NULL", false},
		{"round(a)", "3", "NULL", false},
		{"coalesce(a, 1)", "2.5", "1", false},
		{"max(a, b)", "7", "NULL", false},
		{"int(a)", "2", "NULL", false},
		{"float(b)", "7", "NULL", false},
		{"string(b) + \"x\"", `"7x"`, "NULL", false},
		{"int(\"42\")", "42", "42", false},
		{"DOT(v, v)", "14", "NULL", false},
		{"len(v)", "3", "NULL", false},
		{"float(max(v))", "3", "error", true},
		{"COSINE_SIMILARITY(v, v) > 0.99", "true", "NULL", false},
		{"if ok { 1 } else { 2 }", "1", "2", false},
		// outside the typed subset: expr-lang's VM.
		{"len(filter([1, 2, 3], # > 1))", "2", "2", true},
		{"all(v, # > 0)", "true", "error", true},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			p, errs := compileExpr("f", c.expr, append([]Param(nil), params...), nil, TypeAny, true)
			if errs != nil {
				t.Fatalf("compile: %v", errs)
			}
			if (p.fast == nil) != c.vm {
				t.Errorf("on VM = %v, want %v", p.fast == nil, c.vm)
			}
			v, err := p.run(row)
			if err != nil || v.String() != c.want {
				t.Errorf("= %v, %v; want %s", v, err, c.want)
			}
			if v.K != TypeNull && v.K != p.ret {
				t.Errorf("result kind %s, static type %s", v.K, p.ret)
			}
			v, err = p.run(nulls)
			if c.wantNull == "error" {
				if !errors.Is(err, ErrExpr) {
					t.Errorf("all NULL: = %v, %v; want an ErrExpr error", v, err)
				}
				return
			}
			if err != nil || v.String() != c.wantNull {
				t.Errorf("all NULL: = %v, %v; want %s", v, err, c.wantNull)
			}
		})
	}
}

func TestUserExprRuntimeErrors(t *testing.T) {
	params := []Param{{"b", TypeBigint}, {"s", TypeString}}
	for _, c := range []struct{ expr, msg string }{
		{"b * b", "overflow"},
		{"b + b", "overflow"},
		{"-b", "overflow"},
		{"int(s)", "cannot convert"},
		{"REGEXP_LIKE(s, s + \"(\")", "invalid pattern"},
	} {
		p, errs := compileExpr("f", c.expr, append([]Param(nil), params...), nil, TypeAny, true)
		if errs != nil {
			t.Fatalf("%s: %v", c.expr, errs)
		}
		_, err := p.run(Row{Int(-9223372036854775808), Str("x")})
		if !errors.Is(err, ErrExpr) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want ErrExpr with %q", c.expr, err, c.msg)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct {
		fn        UserFunc
		line, col int
		msg       string
	}{
		{UserFunc{Name: "f", Params: []Param{{"x", TypeAny}}, Expr: "x"}, 1, 1, "cannot infer the type of parameter x"},
		{UserFunc{Name: "f", Params: []Param{{"x", TypeAny}}, Expr: "1 + 2"}, 1, 1, "not used"},
		{UserFunc{Name: "f", Params: []Param{{"x", TypeAny}}, Expr: "x > 1 && x contains \"a\""}, 1, 1, "used as double and as string"},
		{UserFunc{Name: "f", Params: []Param{{"x", TypeDouble}}, Expr: "x +\n  y"}, 2, 3, "unknown name y"},
		{UserFunc{Name: "f", Params: []Param{{"s", TypeString}}, Expr: "lowr(s)"}, 1, 1, "unknown name lowr; did you mean lower?"},
		{UserFunc{Name: "f", Params: []Param{{"x", TypeDouble}}, Expr: "x > 1 &&\n x contains \"a\""}, 2, 4, "mismatched types"},
		{UserFunc{Name: "f", Params: []Param{{"x", TypeDouble}}, Expr: "(x > "}, 1, 5, "unexpected token"},
		{UserFunc{Name: "f", Params: []Param{{"x", TypeDouble}}, Expr: "now()"}, 1, 1, ""},
		{UserFunc{Name: "f", Params: []Param{{"x", TypeDouble}}, Expr: "SUBSTRING(x, 1)"}, 1, 1, "SUBSTRING argument 1 (s) must be string"},
		{UserFunc{Name: "f", Params: []Param{{"s", TypeString}}, Expr: "s matches \"(\""}, 1, 3, "missing closing )"},
		{UserFunc{Name: "f", Params: []Param{{"s", TypeString}}, Expr: "REGEXP_LIKE(s, \"(\")"}, 1, 16, "REGEXP_LIKE: invalid pattern"},
		{UserFunc{Name: "f", Params: []Param{{"t", TypeTimestamp}}, Expr: "EXTRACT(\"FORTNIGHT\", t)"}, 1, 9, "unknown unit \"FORTNIGHT\""},
		{UserFunc{Name: "f", Params: []Param{{"s", TypeString}}, Expr: "JSON_VALUE(s, \"a.b\")"}, 1, 15, "path must start with $"},
		{UserFunc{Name: "int", Params: []Param{{"s", TypeString}}, Expr: "s"}, 1, 1, "shadows an expr-lang builtin"},
		{UserFunc{Name: "f", Params: []Param{{"in", TypeString}}, Expr: "1"}, 1, 1, "keyword"},
		{UserFunc{Name: "lower", Params: []Param{{"s", TypeString}}, Expr: "s"}, 1, 1, "shadows the built-in"},
		{UserFunc{Name: "f", Params: []Param{{"x", TypeDouble}}, Expr: "x", Returns: TypeString}, 1, 1, "expression is double, want string"},
		{UserFunc{Name: "f", Params: []Param{{"x", TypeDouble}}, Expr: ""}, 1, 1, "empty"},
		{UserFunc{Name: "f", Params: []Param{{"x", TypeDouble}}, Expr: strings.Repeat("x+", MaxExprNodes) + "x"}, 1, 1, "limit"},
	} {
		_, errs := CompileUserFuncs([]UserFunc{c.fn})
		if len(errs) == 0 {
			t.Errorf("%q: no error", c.fn.Expr)
			continue
		}
		e := errs[0]
		if e.Line != c.line || e.Column != c.col || !strings.Contains(e.Msg, c.msg) || e.Func != c.fn.Name {
			t.Errorf("%q: got %d:%d %q (func %q); want %d:%d containing %q", c.fn.Expr, e.Line, e.Column, e.Msg, e.Func, c.line, c.col, c.msg)
		}
		if e.Offset < 0 || e.Offset > len(c.fn.Expr) {
			t.Errorf("%q: offset %d out of range", c.fn.Expr, e.Offset)
		}
	}
}

func TestUserFuncCallsUserFunc(t *testing.T) {
	env := mustEnv(t,
		UserFunc{Name: "sq", Params: []Param{{"x", TypeDouble}}, Expr: "x * x"},
		UserFunc{Name: "hyp", Params: []Param{{"a", TypeAny}, {"b", TypeAny}}, Expr: "SQRT(sq(a) + sq(b))"},
	)
	h, _ := env.Lookup("hyp")
	if h.Params[0].Type != TypeDouble {
		t.Fatalf("a inferred as %v", h.Params[0].Type)
	}
	v, err := h.Call([]Value{Int(3), Float(4)})
	if err != nil || v.String() != "5" {
		t.Fatalf("hyp(3, 4) = %v, %v", v, err)
	}
	// Declared later: not callable (no recursion).
	_, errs := CompileUserFuncs([]UserFunc{
		{Name: "f", Params: []Param{{"x", TypeDouble}}, Expr: "g(x)"},
		{Name: "g", Params: []Param{{"x", TypeDouble}}, Expr: "f(x)"},
	})
	if len(errs) == 0 {
		t.Fatal("recursion accepted")
	}
}

func TestPredicate(t *testing.T) {
	env := mustEnv(t, UserFunc{Name: "risk_bucket", Params: []Param{{"amount", TypeAny}},
		Expr: `amount > 1000 ? "high" : (amount > 100 ? "mid" : "low")`})
	cols := []Column{{"fraud_score", TypeDouble}, {"amount", TypeDouble}}
	p, errs := CompilePredicate(`fraud_score > 0.9 && risk_bucket(amount) != "low"`, cols, env)
	if errs != nil {
		t.Fatal(errs)
	}
	for _, c := range []struct {
		row  Row
		want bool
	}{
		{Row{Float(0.95), Float(500)}, true},
		{Row{Float(0.5), Float(500)}, false},
		{Row{Float(0.95), Float(5)}, false},
		{Row{Null, Float(500)}, false}, // unknown is false
	} {
		v, err := p.Eval(c.row)
		if err != nil || v.K != TypeBool || v.AsBool() != c.want {
			t.Errorf("%v: got %v, %v; want %v", c.row, v, err, c.want)
		}
	}
	if _, errs := CompilePredicate(`amount + 1`, cols, nil); len(errs) == 0 || !strings.Contains(errs[0].Msg, "want bool") {
		t.Errorf("non-bool predicate: %v", errs)
	}
	if _, errs := CompilePredicate(`amount > 1 && nosuch > 2`, cols, nil); len(errs) == 0 || errs[0].Column != 15 {
		t.Errorf("unknown column: %v", errs)
	}
}

func TestPredicateUnknownColumnType(t *testing.T) {
	p, errs := CompilePredicate(`x > 1 && s == "a"`, []Column{{"x", TypeAny}, {"s", TypeString}}, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	if v, err := p.Eval(Row{Float(2), Str("a")}); err != nil || !v.AsBool() {
		t.Fatalf("= %v, %v", v, err)
	}
}

func TestPredicateRuntimeErrorIsExpr(t *testing.T) {
	p, errs := CompilePredicate(`REGEXP_LIKE(s, pat)`, []Column{{"s", TypeString}, {"pat", TypeString}}, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	if _, err := p.Eval(Row{Str("x"), Str("(")}); !errors.Is(err, ErrExpr) {
		t.Fatalf("err = %v, want ErrExpr", err)
	}
	if v, err := p.Eval(Row{Str("x"), Str("x")}); err != nil || !v.AsBool() {
		t.Fatalf("= %v, %v", v, err)
	}
}

func TestSandbox(t *testing.T) {
	for _, src := range []string{`now()`, `date("2024-01-01")`, `duration("1h")`, `timezone("UTC")`} {
		if _, errs := CompilePredicate(src+` != nil`, nil, nil); len(errs) == 0 {
			t.Errorf("%s compiled", src)
		}
	}
	for _, src := range []string{`len(map(1..1000000, # * 2)) > 0`, `let x = 1; x > 0`, `len(repeat("x", 1000)) > 0`,
		`reduce([1, 2], #acc + #) > 0`} {
		if _, errs := CompilePredicate(src, nil, nil); len(errs) == 0 {
			t.Errorf("%s compiled", src)
		}
	}
	// The VM's memory budget stops runaway allocation.
	cols := []Column{{"v", TypeVector}}
	p, errs := CompilePredicate(`len(map(v, map(v, map(v, #)))) > 0`, cols, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	if _, err := p.Eval(Row{Vec(make([]float64, 100))}); !errors.Is(err, ErrExpr) || !strings.Contains(err.Error(), "memory budget") {
		t.Fatalf("err = %v", err)
	}
}
