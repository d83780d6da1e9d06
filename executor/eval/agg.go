package eval

import (
	"fmt"

	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

// Aggs is a compiled list of aggregate calls (the Aggs of a WindowAggOp or
// GroupAggOp): it evaluates their arguments over a row once and folds them
// into the states of a group. Like Fn, it keeps scratch buffers and belongs
// to one operator.
type Aggs struct {
	args  []Fn // nil for COUNT(*)
	news  []func() udf.AggState
	types []udf.Type
	vals  []udf.Value
}

// CompileAggs compiles aggregate calls.
func CompileAggs(calls []planner.AggCall, env *Env) (*Aggs, error) {
	a := &Aggs{
		args:  make([]Fn, len(calls)),
		news:  make([]func() udf.AggState, len(calls)),
		types: make([]udf.Type, len(calls)),
		vals:  make([]udf.Value, len(calls)),
	}
	for i, c := range calls {
		if c.Func == nil || c.Func.New == nil {
			return nil, fmt.Errorf("%w: aggregate %d has no function", ErrCompile, i)
		}
		a.types[i] = c.T
		fn, consts, distinct := c.Func, c.Consts, c.Distinct
		if fn.ValidateConsts != nil {
			if err := fn.ValidateConsts(consts); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrCompile, fn.Name, err)
			}
		}
		switch {
		case len(c.Args) == 0:
			if fn.Name != "COUNT" {
				return nil, fmt.Errorf("%w: %s(*) is not an aggregate", ErrCompile, fn.Name)
			}
			a.news[i] = udf.CountStar
		case distinct:
			a.news[i] = func() udf.AggState { return udf.NewDistinct(fn.New(consts)) }
		default:
			a.news[i] = func() udf.AggState { return fn.New(consts) }
		}
		if len(c.Args) > 0 {
			f, err := Compile(c.Args[0], env)
			if err != nil {
				return nil, err
			}
			a.args[i] = f
		}
	}
	return a, nil
}

// Len returns the number of aggregates.
func (a *Aggs) Len() int { return len(a.news) }

// New returns fresh states, one per aggregate.
func (a *Aggs) New() []udf.AggState {
	s := make([]udf.AggState, len(a.news))
	for i, f := range a.news {
		s[i] = f()
	}
	return s
}

// Eval evaluates the arguments over row into the scratch values that Add
// folds. An error wraps ErrExpr.
func (a *Aggs) Eval(row udf.Row) error {
	for i, f := range a.args {
		if f == nil {
			continue
		}
		v, err := f(row)
		if err != nil {
			return err
		}
		a.vals[i] = v
	}
	return nil
}

// Add folds the values of the last Eval into states at event time ts.
func (a *Aggs) Add(states []udf.AggState, ts int64) {
	for i, s := range states {
		s.Add(a.vals[i], ts)
	}
}

// Merge folds src into dst (src must not be used afterwards).
func Merge(dst, src []udf.AggState) {
	for i, s := range dst {
		s.Merge(src[i])
	}
}

// AppendResults appends the result of each state, as the call's type.
func (a *Aggs) AppendResults(dst udf.Row, states []udf.AggState) udf.Row {
	for i, s := range states {
		v := s.Result()
		if t := a.types[i]; v.K != t {
			v = widen(v, t)
		}
		dst = append(dst, v)
	}
	return dst
}

// NewInto appends fresh states, one per aggregate, to dst.
func (a *Aggs) NewInto(dst []udf.AggState) []udf.AggState {
	for _, f := range a.news {
		dst = append(dst, f())
	}
	return dst
}
