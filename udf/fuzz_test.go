package udf

import (
	"errors"
	"math"
	"testing"
	"unicode/utf8"
)

// FuzzUserExpr compiles arbitrary expression text as a user function (with
// declared and with inferred parameters) and as a predicate, and runs what
// compiles on ordinary, NULL and extreme rows. It must never panic; every
// compile error must have a position inside the text; every runtime error
// must wrap ErrExpr; results must have the static type.
func FuzzUserExpr(f *testing.F) {
	for _, s := range []string{
		`a > 1000 ? "high" : (a > 100 ? "mid" : "low")`,
		`b * b + 1`, `-b`, `b % 0`, `a / 0`, `a ** 1e308`, `s + s`, `lower(s) contains "x"`,
		`SUBSTRING(s, b, 2)`, `v[b]`, `v[-1] ?? 0`, `ts - 60000 > ts`, `EXTRACT("HOUR", ts)`,
		`ok and not ok or a == nil`, `b in [1, 2, nil]`, `s matches "^[a-z]+$"`, `int(s) + 1`,
		`all(v, # > 0)`, `len(filter(v, # > a))`, `JSON_VALUE(s, "$.a")`, `REGEXP_LIKE(s, s)`,
		`TIMESTAMP_ADD("MONTH", b, ts)`, `ROUND(a, b)`, `HASH(s, b, ts)`, "(\n", `"é" + s`,
		`DOT(v, v) / VECTOR_NORM(v)`, `float(s)`, `string(v)`, `max(a, b, 3)`, `COALESCE(a, b)`,
	} {
		f.Add(s)
	}
	params := []Param{{"a", TypeDouble}, {"b", TypeBigint}, {"s", TypeString}, {"ok", TypeBool}, {"ts", TypeTimestamp}, {"v", TypeVector}}
	rows := []Row{
		{Float(2.5), Int(3), Str("flowrun"), Bool(true), Time(1_700_000_000_000), Vec([]float64{1, 2, 3})},
		{Null, Null, Null, Null, Null, Null},
		{Float(math.NaN()), Int(math.MinInt64), Str(""), Bool(false), Time(math.MaxInt64), Vec(nil)},
		{Float(math.Inf(-1)), Int(math.MaxInt64), Str(`{"a":[1]}`), Bool(true), Time(math.MinInt64), Vec([]float64{math.MaxFloat64, -0.0})},
	}
	checkErrs := func(t *testing.T, src string, errs []CompileError) {
		for _, e := range errs {
			if e.Line < 1 || e.Column < 1 || e.Offset < 0 || e.Offset > len(src) || e.Msg == "" {
				t.Fatalf("%q: bad compile error %+v", src, e)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		if !utf8.ValidString(src) {
			return
		}
		for _, infer := range []bool{false, true} {
			ps := append([]Param(nil), params...)
			if infer {
				for i := range ps {
					ps[i].Type = TypeAny
				}
			}
			env, errs := CompileUserFuncs([]UserFunc{{Name: "f", Params: ps, Expr: src}})
			checkErrs(t, src, errs)
			if errs != nil {
				continue
			}
			fn, _ := env.Lookup("f")
			if !infer {
				checkAgainstVM(t, src, fn.prog, rows[0])
			}
			for _, r := range rows {
				v, err := fn.Call(r)
				if err != nil {
					if !errors.Is(err, ErrExpr) {
						t.Fatalf("%q: error %v does not wrap ErrExpr", src, err)
					}
					continue
				}
				if v.K != TypeNull && fn.Returns != TypeAny && v.K != fn.Returns {
					t.Fatalf("%q on %v: result %v of type %s, declared %s", src, r, v, v.K, fn.Returns)
				}
			}
		}
		cols := make([]Column, len(params))
		for i, p := range params {
			cols[i] = Column(p)
		}
		p, errs := CompilePredicate(src, cols, nil)
		checkErrs(t, src, errs)
		if errs != nil {
			return
		}
		for _, r := range rows {
			v, err := p.Eval(r)
			if err != nil && !errors.Is(err, ErrExpr) {
				t.Fatalf("%q: predicate error %v does not wrap ErrExpr", src, err)
			}
			if err == nil && v.K != TypeBool {
				t.Fatalf("%q: predicate gave %v", src, v)
			}
		}
	})
}

// FuzzAggState restores arbitrary bytes as every aggregate's state (a
// checkpoint is input too): no panic, and an accepted state can be used.
func FuzzAggState(f *testing.F) {
	for _, a := range Aggregates() {
		for _, s := range []AggState{a.New([]Value{Float(0.5)}), NewDistinct(a.New(nil))} {
			for i := 0; i < 300; i++ {
				s.Add(Int(int64(i*i%97)), int64(i))
			}
			b, _ := s.MarshalBinary()
			f.Add(b)
		}
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, a := range Aggregates() {
			plain := func() AggState { return a.New(nil) }
			distinct := func() AggState { return NewDistinct(a.New(nil)) }
			for _, mk := range []func() AggState{plain, distinct} {
				s := mk()
				if err := s.UnmarshalBinary(b); err != nil {
					if !errors.Is(err, ErrState) {
						t.Fatalf("%s: error %v is not ErrState", a.Name, err)
					}
					continue
				}
				s.Result()
				s.Add(Int(1), 0)
				s.Merge(mk())
				if _, err := s.MarshalBinary(); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
