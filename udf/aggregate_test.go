package udf

import (
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// aggCall builds the state an example's Call describes: COUNT(*),
// NAME(DISTINCT x) or NAME(x, const...).
func aggCall(t *testing.T, a *Aggregate, call string) func() AggState {
	t.Helper()
	open, cls := strings.IndexByte(call, '('), strings.LastIndexByte(call, ')')
	args := strings.Split(call[open+1:cls], ",")
	first := strings.TrimSpace(args[0])
	if first == "*" {
		return CountStar
	}
	var consts []Value
	for _, s := range args[1:] {
		v, _, err := evalSQL(strings.TrimSpace(s))
		if err != nil {
			t.Fatalf("%s: constant %q: %v", call, s, err)
		}
		consts = append(consts, v)
	}
	if a.ValidateConsts != nil {
		if err := a.ValidateConsts(consts); err != nil {
			t.Fatalf("%s: %v", call, err)
		}
	}
	if strings.HasPrefix(strings.ToUpper(first), "DISTINCT ") {
		return func() AggState { return NewDistinct(a.New(consts)) }
	}
	return func() AggState { return a.New(consts) }
}

// TestAggExamples runs every aggregate example three ways: straight, split
// in two states merged, and through MarshalBinary/UnmarshalBinary.
func TestAggExamples(t *testing.T) {
	for _, a := range Aggregates() {
		if len(a.Examples) == 0 || a.Doc == "" {
			t.Errorf("%s lacks examples or doc", a.Name)
		}
		for _, ex := range a.Examples {
			t.Run(ex.Call, func(t *testing.T) {
				mk := aggCall(t, a, ex.Call)
				ts := func(i int) int64 {
					if ex.Times != nil {
						return ex.Times[i]
					}
					return int64(i)
				}
				s := mk()
				for i, v := range ex.Input {
					s.Add(v, ts(i))
				}
				if got := s.Result().String(); got != ex.Want {
					t.Fatalf("straight: got %s, want %s", got, ex.Want)
				}
				for cut := 0; cut <= len(ex.Input); cut += max(1, len(ex.Input)/3) {
					l, r := mk(), mk()
					for i, v := range ex.Input {
						if i < cut {
							l.Add(v, ts(i))
						} else {
							r.Add(v, ts(i))
						}
					}
					b, err := r.MarshalBinary()
					if err != nil {
						t.Fatal(err)
					}
					r2 := mk()
					if err := r2.UnmarshalBinary(b); err != nil {
						t.Fatalf("unmarshal: %v", err)
					}
					l.Merge(r2)
					if got := l.Result().String(); got != ex.Want {
						t.Fatalf("merged at %d: got %s, want %s", cut, got, ex.Want)
					}
				}
			})
		}
	}
}

func newAgg(t testing.TB, name string, consts ...Value) AggState {
	a, ok := LookupAggregate(name)
	if !ok {
		t.Fatalf("no aggregate %s", name)
	}
	return a.New(consts)
}

func roundTrip(t testing.TB, name string, s AggState, consts ...Value) AggState {
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	r := newAgg(t, name, consts...)
	if err := r.UnmarshalBinary(b); err != nil {
		t.Fatalf("%s: unmarshal: %v", name, err)
	}
	return r
}

// TestAggMergeAnyOrder splits one input over many states in a fixed
// pseudo-random way, round-trips each through its encoding and merges them:
// the result must equal the straight one (approximately for float sums).
func TestAggMergeAnyOrder(t *testing.T) {
	rng := uint64(42)
	next := func() uint64 { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng }
	var in []Value
	for i := 0; i < 3000; i++ {
		switch next() % 10 {
		case 0:
			in = append(in, Null)
		default:
			in = append(in, Float(float64(int64(next()%20000)-5000)/8))
		}
	}
	for _, a := range Aggregates() {
		if a.Name == "COLLECT_VECTOR" {
			continue // vectors: covered by its examples
		}
		consts := []Value(nil)
		if a.Name == "APPROX_PERCENTILE" {
			consts = []Value{Float(0.9)}
		}
		straight := a.New(consts)
		parts := make([]AggState, 7)
		for i := range parts {
			parts[i] = a.New(consts)
		}
		for i, v := range in {
			straight.Add(v, int64(i))
			parts[next()%7].Add(v, int64(i))
		}
		merged := a.New(consts)
		for _, p := range parts {
			merged.Merge(roundTrip(t, a.Name, p, consts...))
		}
		w, g := straight.Result(), merged.Result()
		if wf, ok := w.AsFloat(); ok && w.K == TypeDouble {
			gf, _ := g.AsFloat()
			if math.Abs(wf-gf) > 1e-9*math.Max(1, math.Abs(wf)) {
				t.Errorf("%s: merged %v, straight %v", a.Name, g, w)
			}
			continue
		}
		if !Equal(w, g) {
			t.Errorf("%s: merged %v, straight %v", a.Name, g, w)
		}
	}
}

// TestApproxPercentileBound checks the documented ±1% relative error
// against the exact quantile of skewed data.
func TestApproxPercentileBound(t *testing.T) {
	rng := uint64(7)
	var xs []float64
	for i := 0; i < 20000; i++ {
		rng ^= rng << 13
		rng ^= rng >> 7
		rng ^= rng << 17
		u := float64(rng>>11) / (1 << 53)
		xs = append(xs, math.Exp(8*u)-1500) // spans negatives, zero region and a long tail
	}
	sorted := append([]float64(nil), xs...)
	sort.Float64s(sorted)
	for _, p := range []float64{0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1} {
		s := newAgg(t, "APPROX_PERCENTILE", Float(p))
		for _, x := range xs {
			s.Add(Float(x), 0)
		}
		exact := sorted[int(math.Floor(p*float64(len(sorted)-1)))]
		got := s.Result().F
		if math.Abs(got-exact) > 0.01*math.Abs(exact)+1e-12 {
			t.Errorf("p=%v: got %v, exact %v", p, got, exact)
		}
	}
}

// TestApproxCountDistinctBound checks the HyperLogLog estimate within 4
// standard errors (0.8% each) at several cardinalities.
func TestApproxCountDistinctBound(t *testing.T) {
	for _, n := range []int{100, 256, 257, 1000, 50_000, 200_000} {
		s := newAgg(t, "APPROX_COUNT_DISTINCT")
		for i := 0; i < n; i++ {
			s.Add(Str("user-"+strconv.Itoa(i)), 0)
			if i%3 == 0 {
				s.Add(Str("user-"+strconv.Itoa(i/2)), 0) // repeats
			}
		}
		got := float64(s.Result().I)
		if n <= hllSparseMax && got != float64(n) {
			t.Errorf("n=%d: got %v, want exact", n, got)
		}
		if math.Abs(got-float64(n)) > 4*0.0081*float64(n) {
			t.Errorf("n=%d: got %v", n, got)
		}
	}
}

func TestAggStates(t *testing.T) {
	// SUM: exact 128-bit accumulation comes back into range.
	s := newAgg(t, "SUM")
	s.Add(Int(math.MaxInt64), 0)
	s.Add(Int(math.MaxInt64), 0)
	if v := s.Result(); v.K != TypeNull {
		t.Errorf("overflowed SUM = %v, want NULL", v)
	}
	s.Add(Int(math.MinInt64), 0)
	s.Add(Int(math.MinInt64+2), 0)
	if v := s.Result(); v.String() != "0" {
		t.Errorf("SUM back in range = %v, want 0", v)
	}
	s.Add(Float(0.5), 0)
	if v := s.Result(); v.String() != "0.5" {
		t.Errorf("SUM mixed = %v", v)
	}
	s.Add(Int(-1), 0)
	if v := s.Result(); v.String() != "-0.5" {
		t.Errorf("SUM mixed, negative integer part = %v", v)
	}
	// FIRST_VALUE / LAST_VALUE by event time, across merges.
	f, l := newAgg(t, "FIRST_VALUE"), newAgg(t, "LAST_VALUE")
	f2, l2 := newAgg(t, "FIRST_VALUE"), newAgg(t, "LAST_VALUE")
	f.Add(Str("late"), 50)
	l.Add(Str("late"), 50)
	f2.Add(Str("early"), 10)
	l2.Add(Str("early"), 10)
	f.Merge(f2)
	l.Merge(l2)
	if f.Result().S != "early" || l.Result().S != "late" {
		t.Errorf("FIRST=%v LAST=%v", f.Result(), l.Result())
	}
	// COUNT(*) counts NULLs; distinct states merge without double counting.
	c := CountStar()
	c.Add(Null, 0)
	if c.Result().I != 1 {
		t.Errorf("COUNT(*) of NULL = %v", c.Result())
	}
	a, _ := LookupAggregate("COUNT")
	d1, d2 := NewDistinct(a.New(nil)), NewDistinct(a.New(nil))
	for _, v := range []Value{Int(1), Int(2), Float(2)} {
		d1.Add(v, 0)
	}
	for _, v := range []Value{Int(2), Int(3), Null} {
		d2.Add(v, 0)
	}
	b, _ := d2.MarshalBinary()
	d3 := NewDistinct(a.New(nil))
	if err := d3.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	d1.Merge(d3)
	if d1.Result().I != 4 { // 1, 2, 2.0 (a double), 3
		t.Errorf("COUNT(DISTINCT) = %v, want 4", d1.Result())
	}
	// Empty states.
	for _, a := range Aggregates() {
		s := a.New([]Value{Float(0.5)}[:0])
		want := "NULL"
		if a.Name == "COUNT" || a.Name == "APPROX_COUNT_DISTINCT" {
			want = "0"
		}
		if got := roundTrip(t, a.Name, s).Result().String(); got != want {
			t.Errorf("%s of nothing = %s, want %s", a.Name, got, want)
		}
	}
}

// TestAggCorruptState: restoring garbage, another aggregate's state or a
// truncated state fails with ErrState and never panics.
func TestAggCorruptState(t *testing.T) {
	for _, a := range Aggregates() {
		s := a.New(nil)
		s.Add(Int(5), 1)
		s.Add(Int(7), 2)
		good, _ := s.MarshalBinary()
		for i := 0; i < len(good); i++ {
			_ = a.New(nil).UnmarshalBinary(good[:i]) // must not panic
		}
		for _, bad := range [][]byte{nil, {0}, {'z', 1}, append([]byte{}, append(good, 0)...)} {
			if err := a.New(nil).UnmarshalBinary(bad); !errors.Is(err, ErrState) {
				t.Errorf("%s: UnmarshalBinary(%v) = %v, want ErrState", a.Name, bad, err)
			}
		}
		other := newAgg(t, "COUNT")
		ob, _ := other.MarshalBinary()
		if a.Name != "COUNT" {
			if err := a.New(nil).UnmarshalBinary(ob); !errors.Is(err, ErrState) {
				t.Errorf("%s accepted a COUNT state: %v", a.Name, err)
			}
		}
	}
}

func TestAggChecks(t *testing.T) {
	for _, c := range []struct {
		name string
		args []Type
		want Type
		err  string
	}{
		{"COUNT", nil, TypeBigint, ""},
		{"SUM", []Type{TypeBigint}, TypeBigint, ""},
		{"SUM", []Type{TypeDouble}, TypeDouble, ""},
		{"SUM", []Type{TypeString}, 0, "must be numeric"},
		{"AVG", []Type{TypeBigint}, TypeDouble, ""},
		{"MIN", []Type{TypeTimestamp}, TypeTimestamp, ""},
		{"MAX", []Type{TypeVector}, 0, "not ordered"},
		{"FIRST_VALUE", []Type{TypeVector}, TypeVector, ""},
		{"APPROX_PERCENTILE", []Type{TypeDouble, TypeDouble}, TypeDouble, ""},
		{"APPROX_PERCENTILE", []Type{TypeDouble}, 0, "takes 2"},
		{"COLLECT_VECTOR", []Type{TypeVector, TypeString}, TypeVector, ""},
	} {
		a, _ := LookupAggregate(c.name)
		got, err := a.Check(c.args)
		if c.err != "" {
			if !errors.Is(err, ErrArgs) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s%v: err = %v, want %q", c.name, c.args, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s%v = %v, %v; want %v", c.name, c.args, got, err, c.want)
		}
	}
	a, _ := LookupAggregate("approx_percentile")
	for _, p := range []Value{Float(1.5), Float(-0.1), Str("x"), Null} {
		if err := a.ValidateConsts([]Value{p}); err == nil {
			t.Errorf("p=%v accepted", p)
		}
	}
}
