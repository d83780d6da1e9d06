package udf

import (
	"fmt"
	"sort"
	"strings"
)

// AggExample is one documented aggregate call: the values it sees and the
// result.
// Every example runs as a test, straight and through Merge and
// MarshalBinary/UnmarshalBinary.
type AggExample struct {
	Call  string  // e.g. "AVG(x)", "APPROX_PERCENTILE(x, 0.5)", "COUNT(DISTINCT x)", "COUNT(*)"
	Input []Value // the values of x, in Add order
	Times []int64 // event times of Input; nil: 0, 1, 2, ...
	Want  string  // Value.String() of the result
	Note  string  // optional remark printed next to the example
}

// Aggregate is one aggregate function: a row of the table in aggregates.go.
//
// Check returns the result type for the argument types of the call (the
// aggregated expression first, then constant extra arguments such as p of
// APPROX_PERCENTILE(x, p)). COUNT(*) is checked and built with no arguments.
//
// New returns a fresh, empty state. consts holds the evaluated constant
// extra arguments (Check has accepted their types; New may still panic on a
// value Check could not see, so the binder calls ValidateConsts).
type Aggregate struct {
	Name, Doc, Signature string
	Examples             []AggExample
	Check                func(args []Type) (Type, error)
	New                  func(consts []Value) AggState
	// ValidateConsts checks the values of constant extra arguments (e.g.
	// 0 <= p <= 1); nil means nothing to check.
	ValidateConsts func(consts []Value) error
	// ErrorBound documents the error bound of approximate aggregates.
	ErrorBound string
	// SQLForms lists the accepted SQL spellings when there are several.
	SQLForms []string
}

// AggState is the running state of one aggregate for one group (and one
// window). It is used by one goroutine at a time: an operator owns it.
//
// Add folds one input value at event time ts (epoch millis; FIRST_VALUE and
// LAST_VALUE order by it, ties going to the earlier Add for FIRST_VALUE and
// the later Add for LAST_VALUE). SQL NULLs are ignored, except by COUNT(*)
// whose state counts every Add.
//
// Merge folds other into the receiver; other has the same concrete type (it
// comes from the same Aggregate's New with the same consts) and must not be
// used afterwards. Merge makes states of partitions, panes of sliding
// windows and restored checkpoints combinable: for every aggregate,
// Add(a..); Merge(Add(b..)) gives the same Result as Add(a.., b..) (exactly,
// or within ErrorBound for the approximate ones, and for floating-point sums
// up to rounding).
//
// Result returns the current value without changing the state; it may be
// called many times (unwindowed GROUP BY emits after every change).
//
// MarshalBinary and UnmarshalBinary save and restore the state for
// checkpoints. The encoding is versioned, deterministic for a given state
// and portable across machines; UnmarshalBinary is called on a state freshly
// made by New with the same consts.
type AggState interface {
	Add(v Value, ts int64)
	Merge(other AggState)
	Result() Value
	MarshalBinary() ([]byte, error)
	UnmarshalBinary([]byte) error
}

var (
	aggIndex  map[string]*Aggregate
	aggSorted []*Aggregate
)

func init() {
	aggIndex = make(map[string]*Aggregate, len(aggregates))
	for _, a := range aggregates {
		sig, err := parseSignature(a.Signature)
		if err != nil || sig.name != a.Name {
			panic(fmt.Sprintf("udf: aggregate %s: bad signature %q", a.Name, a.Signature))
		}
		if a.Check == nil {
			a.Check = sig.check
		}
		if _, dup := aggIndex[a.Name]; dup {
			panic("udf: duplicate aggregate " + a.Name)
		}
		aggIndex[a.Name] = a
		aggSorted = append(aggSorted, a)
	}
	sort.Slice(aggSorted, func(i, j int) bool { return aggSorted[i].Name < aggSorted[j].Name })
}

// LookupAggregate returns the aggregate function of that name, ignoring case.
// COUNT(*) is LookupAggregate("COUNT") checked and built with no arguments.
func LookupAggregate(name string) (*Aggregate, bool) {
	a, ok := aggIndex[strings.ToUpper(name)]
	return a, ok
}

// Aggregates returns every aggregate function sorted by name. The slice is
// shared: do not modify it.
func Aggregates() []*Aggregate { return aggSorted }
