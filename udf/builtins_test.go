package udf

import (
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
)

// sampleArgs returns non-NULL arguments that pass f's Check, found by
// taking the arguments of f's first example.
func sampleArgs(t *testing.T, f *Func) []Value {
	t.Helper()
	call := f.Examples[0].Call
	p := &exParser{s: call[strings.IndexByte(call, '(')+1:]}
	var args []Value
	for {
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ')' {
			break
		}
		v, _, err := p.expr()
		if err != nil {
			t.Fatalf("%s: %v", call, err)
		}
		args = append(args, v)
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
		}
	}
	return args
}

// TestNullRule checks SQL NULL propagation: every NullIfAnyNull function
// returns NULL when any one argument is NULL, and every function's Check
// accepts a NULL literal in every position.
func TestNullRule(t *testing.T) {
	for _, f := range Funcs() {
		args := sampleArgs(t, f)
		types := make([]Type, len(args))
		for i, a := range args {
			types[i] = a.K
		}
		for i := range args {
			nargs := append([]Value(nil), args...)
			nargs[i] = Null
			ntypes := append([]Type(nil), types...)
			ntypes[i] = TypeNull
			if _, err := f.Check(ntypes); err != nil {
				t.Errorf("%s: Check with NULL argument %d: %v", f.Name, i+1, err)
			}
			v, err := f.Eval(nargs)
			if f.Nulls == NullIfAnyNull && (err != nil || v.K != TypeNull) {
				t.Errorf("%s with NULL argument %d = %v, %v; want NULL", f.Name, i+1, v, err)
			}
		}
	}
}

func TestCheckErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		args []Type
		msg  string
	}{
		{"SUBSTRING", []Type{TypeString}, "takes 2 to 3 argument(s), got 1"},
		{"SUBSTRING", []Type{TypeBigint, TypeBigint}, "argument 1 (s) must be string, got bigint"},
		{"SUBSTRING", []Type{TypeString, TypeDouble}, "argument 2 (start) must be bigint, got double"},
		{"ABS", []Type{TypeString}, "must be numeric"},
		{"COALESCE", []Type{TypeString, TypeBigint}, "mismatched types string and bigint"},
		{"CONCAT", nil, "at least 1"},
		{"IF", []Type{TypeBigint, TypeBigint, TypeBigint}, "argument 1 (cond) must be bool"},
		{"EXTRACT", []Type{TypeString, TypeBigint}, "must be timestamp"},
		{"GREATEST", []Type{TypeVector, TypeVector}, "not ordered"},
	} {
		f, _ := Lookup(c.name)
		_, err := f.Check(c.args)
		if !errors.Is(err, ErrArgs) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s%v: err = %v, want %q", c.name, c.args, err, c.msg)
		}
	}
	for _, c := range []struct {
		name string
		args []Type
		want Type
	}{
		{"ABS", []Type{TypeBigint}, TypeBigint},
		{"ABS", []Type{TypeDouble}, TypeDouble},
		{"MOD", []Type{TypeBigint, TypeDouble}, TypeDouble},
		{"COALESCE", []Type{TypeNull, TypeBigint, TypeDouble}, TypeDouble},
		{"GREATEST", []Type{TypeTimestamp, TypeTimestamp}, TypeTimestamp},
		{"IF", []Type{TypeBool, TypeNull, TypeString}, TypeString},
		{"POWER", []Type{TypeBigint, TypeBigint}, TypeDouble},
		{"substr", []Type{TypeString, TypeBigint}, TypeString},
		{"CONCAT", []Type{TypeString, TypeAny}, TypeString},
	} {
		f, ok := Lookup(c.name)
		if !ok {
			t.Fatalf("Lookup(%q) failed", c.name)
		}
		if got, err := f.Check(c.args); err != nil || got != c.want {
			t.Errorf("%s%v = %v, %v; want %v", c.name, c.args, got, err, c.want)
		}
	}
}

// TestNumericEdges pins the documented behaviour at the edges: overflow is
// an error, division by zero and non-finite results are NULL.
func TestNumericEdges(t *testing.T) {
	call := func(name string, args ...Value) (Value, error) {
		f, _ := Lookup(name)
		return f.Eval(args)
	}
	for _, c := range []struct {
		name string
		args []Value
		want string // or "error"
	}{
		{"ABS", []Value{Int(math.MinInt64)}, "error"},
		{"ABS", []Value{Float(math.Inf(-1))}, "+Inf"},
		{"MOD", []Value{Int(math.MinInt64), Int(-1)}, "0"},
		{"MOD", []Value{Float(1), Float(0)}, "NULL"},
		{"MOD", []Value{Int(7), Float(0)}, "NULL"},
		{"ROUND", []Value{Int(math.MaxInt64), Int(-1)}, "error"},
		{"ROUND", []Value{Int(15), Int(-1)}, "20"},
		{"ROUND", []Value{Int(-15), Int(-1)}, "-20"},
		{"ROUND", []Value{Int(5), Int(math.MinInt64)}, "0"},
		{"ROUND", []Value{Float(2.675), Int(2)}, "2.68"},
		{"ROUND", []Value{Float(1e300), Int(5)}, "1e+300"},
		{"ROUND", []Value{Float(math.NaN())}, "NaN"},
		{"SQRT", []Value{Float(math.NaN())}, "NULL"},
		{"LN", []Value{Float(math.Inf(1))}, "NULL"},
		{"POWER", []Value{Float(10), Float(400)}, "NULL"},
		{"SIGN", []Value{Float(math.NaN())}, "NULL"},
		{"GREATEST", []Value{Float(math.NaN()), Float(1)}, "1"},
		{"TIMESTAMP_ADD", []Value{Str("MILLISECOND"), Int(1), Time(math.MaxInt64)}, "error"},
		{"TIMESTAMP_ADD", []Value{Str("YEAR"), Int(math.MaxInt64), Time(0)}, "error"},
		{"TIMESTAMP_ADD", []Value{Str("MONTH"), Int(-1), Time(1772361000000)}, "2026-02-01T10:30:00.000Z"},
		{"TIMESTAMP_DIFF", []Value{Str("SECOND"), Time(math.MinInt64), Time(math.MaxInt64)}, "error"},
		{"TIMESTAMP_DIFF", []Value{Str("YEAR"), Time(0), Time(1772361000000)}, "56"},
		{"FROM_UNIXTIME", []Value{Int(math.MaxInt64)}, "error"},
		{"FROM_UNIXTIME", []Value{Float(math.Inf(1))}, "NULL"},
		{"UNIX_TIMESTAMP", []Value{Time(-1)}, "-1"},
		{"DATE_TRUNC", []Value{Str("second"), Time(-1)}, "1969-12-31T23:59:59.000Z"},
		{"VECTOR_NORM", []Value{Vec([]float64{1e200, 1e200})}, "1.414213562373095e+200"},
		{"SUBSTRING", []Value{Str("héllo"), Int(2), Int(math.MaxInt64)}, `"éllo"`},
		{"SUBSTRING", []Value{Str("héllo"), Int(math.MinInt64)}, `""`},
		{"SPLIT_PART", []Value{Str("a,b"), Str(","), Int(math.MinInt64)}, `""`},
		{"REGEXP_EXTRACT", []Value{Str("ab"), Str("(a)"), Int(2)}, "error"},
	} {
		v, err := call(c.name, c.args...)
		if c.want == "error" {
			if !errors.Is(err, ErrExpr) {
				t.Errorf("%s%v = %v, %v; want an ErrExpr error", c.name, c.args, v, err)
			}
			continue
		}
		if err != nil || v.String() != c.want {
			t.Errorf("%s%v = %v, %v; want %s", c.name, c.args, v, err, c.want)
		}
	}
}

func TestLookupAliases(t *testing.T) {
	for alias, name := range map[string]string{"substr": "SUBSTRING", "CEILING": "CEIL", "pow": "POWER",
		"TimestampDiff": "TIMESTAMP_DIFF", "char_length": "LENGTH"} {
		f, ok := Lookup(alias)
		if !ok || f.Name != name {
			t.Errorf("Lookup(%q) = %v, %v; want %s", alias, f, ok, name)
		}
	}
	if _, ok := Lookup("CASE"); ok {
		t.Error("CASE is syntax, not a function")
	}
	if _, ok := Lookup("NOW"); ok {
		t.Error("NOW must not exist: it reads the clock")
	}
	fs := Funcs()
	for i := 1; i < len(fs); i++ {
		if fs[i-1].Name >= fs[i].Name {
			t.Fatalf("Funcs not sorted at %s", fs[i].Name)
		}
	}
}

// TestConcurrentCalls runs compiled functions from many goroutines (go test
// -race checks the shared state: the stack pool, the regexp cache).
func TestConcurrentCalls(t *testing.T) {
	env := mustEnv(t, UserFunc{Name: "f", Params: []Param{{"s", TypeString}, {"x", TypeDouble}},
		Expr: `REGEXP_LIKE(s, "^[a-z]+$") ? ROUND(x * 2, 1) : ABS(x)`})
	f, _ := env.Lookup("f")
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				v, err := f.Call([]Value{Str("abc"), Float(1.25)})
				if err != nil || v.String() != "2.5" {
					t.Errorf("= %v, %v", v, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestConstCheck(t *testing.T) {
	for _, c := range []struct {
		name string
		i    int
		v    Value
		err  string
	}{
		{"EXTRACT", 0, Str("hour"), ""},
		{"EXTRACT", 0, Str("fortnight"), "unknown unit"},
		{"DATE_TRUNC", 0, Str("dayofweek"), "unknown unit"},
		{"TIMESTAMP_DIFF", 0, Str("MINUTE"), ""},
		{"TIMESTAMP_ADD", 1, Int(5), ""},
		{"REGEXP_LIKE", 1, Str("a+"), ""},
		{"REGEXP_EXTRACT", 1, Str("(a"), "invalid pattern"},
		{"JSON_VALUE", 1, Str("$.a[0]"), ""},
		{"JSON_VALUE", 1, Str("$.a["), "missing ]"},
	} {
		f, _ := Lookup(c.name)
		err := f.ConstCheck(c.i, c.v)
		if c.err == "" {
			if err != nil {
				t.Errorf("%s arg %d %v: %v", c.name, c.i, c.v, err)
			}
			continue
		}
		if !errors.Is(err, ErrArgs) || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s arg %d %v: err = %v, want %q", c.name, c.i, c.v, err, c.err)
		}
	}
}

func TestUnaryF64MatchesEval(t *testing.T) {
	xs := []float64{0, math.Copysign(0, -1), 1, -1, 2.5, -2.5, 1e-300, 1e300, -1e300, 710, -710, math.Inf(1), math.Inf(-1), math.NaN()}
	for name, fast := range unaryF64 {
		f, _ := Lookup(name)
		for _, x := range xs {
			want, err := f.Eval([]Value{Float(x)})
			if err != nil {
				t.Fatalf("%s(%v): %v", name, x, err)
			}
			r, ok := fast(x)
			got := Null
			if ok {
				got = Float(r)
			}
			if !Equal(got, want) {
				t.Errorf("%s(%v): fast %v, Eval %v", name, x, got, want)
			}
		}
	}
}

func TestBinaryF64MatchesEval(t *testing.T) {
	xs := []float64{0, math.Copysign(0, -1), 1, -1, 2.5, -7.25, 1e300, -1e300, math.Inf(1), math.Inf(-1), math.NaN()}
	for name, fast := range binaryF64 {
		f, _ := Lookup(name)
		for _, a := range xs {
			for _, b := range xs {
				want, err := f.Eval([]Value{Float(a), Float(b)})
				if err != nil {
					t.Fatalf("%s(%v, %v): %v", name, a, b, err)
				}
				r, ok := fast(a, b)
				got := Null
				if ok {
					got = Float(r)
				}
				if !Equal(got, want) || (ok && math.Signbit(r) != math.Signbit(want.F)) {
					t.Errorf("%s(%v, %v): fast %v, Eval %v", name, a, b, got, want)
				}
			}
		}
	}
}
