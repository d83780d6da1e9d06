package udf

// aggregates is the table of aggregate functions.
var aggregates = []*Aggregate{
	{
		Name:      "COUNT",
		Signature: "COUNT(*) | COUNT(x any) | COUNT(DISTINCT x any) bigint",
		Doc:       "Counts rows (COUNT(*)) or non-NULL values of x. COUNT(DISTINCT x) counts distinct non-NULL values exactly.",
		Examples:  []AggExample{{Call: "COUNT(x)", Input: []Value{Int(1), Null, Int(3)}, Want: "2"}},
		Check:     checkCount,
		New:       func([]Value) AggState { return &countState{} },
	},
}
