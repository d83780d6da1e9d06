package udf

import (
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

func benchCall(b *testing.B, fn UserFunc, args []Value) {
	env, errs := CompileUserFuncs([]UserFunc{fn})
	if errs != nil {
		b.Fatal(errs)
	}
	f, _ := env.Lookup(fn.Name)
	if _, err := f.Call(args); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.Call(args); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUserFuncNumeric is the budget of issue 5: a compiled user
// function call with numeric arguments, < 200 ns and 0 allocations.
func BenchmarkUserFuncNumeric(b *testing.B) {
	benchCall(b, UserFunc{Name: "score", Params: []Param{{"amount", TypeAny}, {"n", TypeBigint}},
		Expr: "amount > 1000 ? amount * 0.5 + n : (amount - n) / 2"}, []Value{Float(1234.5), Int(3)})
}

func BenchmarkUserFuncRiskBucket(b *testing.B) {
	benchCall(b, UserFunc{Name: "risk_bucket", Params: []Param{{"amount", TypeAny}},
		Expr: `amount > 1000 ? "high" : (amount > 100 ? "mid" : "low")`}, []Value{Float(250)})
}

// BenchmarkUserFuncBuiltinCalls calls built-ins (scratch stack from a pool).
func BenchmarkUserFuncBuiltinCalls(b *testing.B) {
	benchCall(b, UserFunc{Name: "f", Params: []Param{{"x", TypeDouble}, {"y", TypeDouble}},
		Expr: "ABS(x) + SQRT(y) * GREATEST(x, y)"}, []Value{Float(-3), Float(16)})
}

// BenchmarkUserFuncVM is the same numeric expression on expr-lang's VM
// (what the typed path replaces), for comparison.
func BenchmarkUserFuncVM(b *testing.B) {
	prog, err := expr.Compile("amount > 1000 ? amount * 0.5 + n : (amount - n) / 2",
		expr.Env(map[string]any{"amount": 0.0, "n": 0}))
	if err != nil {
		b.Fatal(err)
	}
	var m vm.VM
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		env := map[string]any{"amount": 1234.5, "n": 3}
		if _, err := m.Run(prog, env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPredicate(b *testing.B) {
	p, errs := CompilePredicate(`fraud_score > 0.9 && amount >= 100`, []Column{{"fraud_score", TypeDouble}, {"amount", TypeDouble}}, nil)
	if errs != nil {
		b.Fatal(errs)
	}
	row := Row{Float(0.95), Float(250)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := p.Eval(row); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuiltinEval(b *testing.B) {
	f, _ := Lookup("ROUND")
	args := []Value{Float(3.14159), Int(2)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f.Eval(args)
	}
}

func BenchmarkAggAdd(b *testing.B) {
	for _, name := range []string{"SUM", "AVG", "STDDEV_POP", "APPROX_PERCENTILE", "APPROX_COUNT_DISTINCT"} {
		b.Run(name, func(b *testing.B) {
			a, _ := LookupAggregate(name)
			s := a.New([]Value{Float(0.9)})
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				s.Add(Float(float64(i%10007)), int64(i))
			}
		})
	}
}

// TestNumericCallsDoNotAllocate guards the 0-allocation budget of numeric
// user functions and predicates (an allocation count, not a timing).
func TestNumericCallsDoNotAllocate(t *testing.T) {
	env := mustEnv(t,
		UserFunc{Name: "score", Params: []Param{{"amount", TypeAny}, {"n", TypeBigint}},
			Expr: "amount > 1000 ? amount * 0.5 + n : (amount - n) / 2"},
		UserFunc{Name: "feat", Params: []Param{{"x", TypeDouble}, {"y", TypeDouble}},
			Expr: "LN(x + 1) * 0.3 + SQRT(ABS(y)) - (x > y ? 1 : 0)"},
	)
	for _, name := range []string{"score", "feat"} {
		f, _ := env.Lookup(name)
		args := []Value{Float(1234.5), Int(3)}
		if name == "feat" {
			args[1] = Float(-16)
		}
		if n := testing.AllocsPerRun(100, func() { f.Call(args) }); n != 0 {
			t.Errorf("%s: %v allocations per call", name, n)
		}
	}
	p, _ := CompilePredicate(`fraud_score > 0.9 && (amount >= 100 || amount == nil)`,
		[]Column{{"fraud_score", TypeDouble}, {"amount", TypeDouble}}, env)
	row := Row{Float(0.95), Float(250)}
	if n := testing.AllocsPerRun(100, func() { p.Eval(row) }); n != 0 {
		t.Errorf("predicate: %v allocations per call", n)
	}
}

// BenchmarkUserFuncFeature is a feature-engineering expression calling
// numeric built-ins (the unboxed path).
func BenchmarkUserFuncFeature(b *testing.B) {
	benchCall(b, UserFunc{Name: "feat", Params: []Param{{"x", TypeDouble}, {"y", TypeDouble}},
		Expr: "LN(x + 1) * 0.3 + SQRT(ABS(y)) - (x > y ? 1 : 0)"}, []Value{Float(1234.5), Float(-16)})
}
