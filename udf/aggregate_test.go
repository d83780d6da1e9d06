package udf

import (
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
