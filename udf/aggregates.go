package udf

// aggregates is the table of aggregate functions. Signature, as for scalar
// functions, gives the type checker unless Check is set; arguments after
// the first are constants (consts of New). Implementations are in
// agg_*.go.
var aggregates = []*Aggregate{
	{
		Name:      "COUNT",
		Signature: "COUNT(x any) bigint",
		Doc: "COUNT(*) counts rows; COUNT(x) counts rows where x is not NULL; COUNT(DISTINCT x) counts distinct " +
			"non-NULL values exactly (the state holds every distinct value: use APPROX_COUNT_DISTINCT for large cardinalities). " +
			"The count of no rows is 0.",
		Examples: []AggExample{
			{Call: "COUNT(*)", Input: []Value{Int(1), Null, Int(3)}, Want: "3"},
			{Call: "COUNT(x)", Input: []Value{Int(1), Null, Int(3)}, Want: "2"},
			{Call: "COUNT(DISTINCT x)", Input: []Value{Str("a"), Str("b"), Str("a"), Null}, Want: "2"},
			{Call: "COUNT(x)", Input: nil, Want: "0"},
		},
		SQLForms: []string{"COUNT(*)", "COUNT(x)", "COUNT(DISTINCT x)"},
		Check:    checkCount,
		New:      func([]Value) AggState { return &countState{} },
	},
	{
		Name:      "SUM",
		Signature: "SUM(x numeric) numeric",
		Doc: "Sums the non-NULL values of x; NULL when there are none. bigint sums are exact (a 128-bit " +
			"accumulator) and the result is NULL if it does not fit in a bigint; double sums use compensated " +
			"(Neumaier) summation, so the result does not depend on the order of Adds and Merges beyond rounding.",
		Examples: []AggExample{
			{Call: "SUM(x)", Input: []Value{Int(1), Null, Int(3)}, Want: "4"},
			{Call: "SUM(x)", Input: []Value{Float(0.1), Float(0.2), Float(0.3)}, Want: "0.6"},
			{Call: "SUM(x)", Input: []Value{Null}, Want: "NULL"},
			{Call: "SUM(x)", Input: []Value{Int(9223372036854775807), Int(1)}, Want: "NULL", Note: "overflow"},
		},
		New: func([]Value) AggState { return &sumState{} },
	},
	{
		Name:      "AVG",
		Signature: "AVG(x numeric) double",
		Doc:       "The mean of the non-NULL values of x; NULL when there are none.",
		Examples: []AggExample{
			{Call: "AVG(x)", Input: []Value{Int(2), Null, Int(4)}, Want: "3"},
			{Call: "AVG(x)", Input: []Value{Int(1), Int(2)}, Want: "1.5"},
		},
		New: func([]Value) AggState { return &avgState{} },
	},
	{
		Name:      "MIN",
		Signature: "MIN(x T) T",
		Doc:       "The smallest non-NULL value of x (numbers, strings, timestamps, bools); NULL when there are none.",
		Examples: []AggExample{
			{Call: "MIN(x)", Input: []Value{Int(3), Null, Int(1), Int(2)}, Want: "1"},
			{Call: "MIN(x)", Input: []Value{Str("b"), Str("a")}, Want: `"a"`},
		},
		Check: checkOrdered("MIN"),
		New:   func([]Value) AggState { return &extremeState{sign: -1} },
	},
	{
		Name:      "MAX",
		Signature: "MAX(x T) T",
		Doc:       "The largest non-NULL value of x (numbers, strings, timestamps, bools); NULL when there are none.",
		Examples: []AggExample{
			{Call: "MAX(x)", Input: []Value{Int(3), Null, Int(7), Int(2)}, Want: "7"},
			{Call: "MAX(x)", Input: []Value{Time(0), Time(60000)}, Want: "1970-01-01T00:01:00.000Z"},
		},
		Check: checkOrdered("MAX"),
		New:   func([]Value) AggState { return &extremeState{sign: 1} },
	},
	{
		Name:      "VAR_POP",
		Signature: "VAR_POP(x numeric) double",
		Doc: "Population variance Σ(x−x̄)²/n of the non-NULL values (Welford's algorithm, merged with Chan et al.'s " +
			"formula); NULL when there are none.",
		Examples: []AggExample{{Call: "VAR_POP(x)", Input: []Value{Int(2), Int(4), Int(4), Int(4), Int(5), Int(5), Int(7), Int(9)}, Want: "4"}},
		New:      func([]Value) AggState { return &momentState{kind: varPop} },
	},
	{
		Name:      "VAR_SAMP",
		Signature: "VAR_SAMP(x numeric) double",
		Doc:       "Sample variance Σ(x−x̄)²/(n−1) of the non-NULL values; NULL when there are fewer than two.",
		Examples: []AggExample{
			{Call: "VAR_SAMP(x)", Input: []Value{Int(1), Int(2), Int(3), Int(4)}, Want: "1.6666666666666667"},
			{Call: "VAR_SAMP(x)", Input: []Value{Int(1)}, Want: "NULL"},
		},
		New: func([]Value) AggState { return &momentState{kind: varSamp} },
	},
	{
		Name:      "STDDEV_POP",
		Signature: "STDDEV_POP(x numeric) double",
		Doc:       "Population standard deviation: the square root of VAR_POP.",
		Examples:  []AggExample{{Call: "STDDEV_POP(x)", Input: []Value{Int(2), Int(4), Int(4), Int(4), Int(5), Int(5), Int(7), Int(9)}, Want: "2"}},
		New:       func([]Value) AggState { return &momentState{kind: stddevPop} },
	},
	{
		Name:      "STDDEV_SAMP",
		Signature: "STDDEV_SAMP(x numeric) double",
		Doc:       "Sample standard deviation: the square root of VAR_SAMP; NULL for fewer than two values. STDDEV is not an alias: say which one you mean.",
		Examples:  []AggExample{{Call: "STDDEV_SAMP(x)", Input: []Value{Int(1), Int(3)}, Want: "1.4142135623730951"}},
		New:       func([]Value) AggState { return &momentState{kind: stddevSamp} },
	},
	{
		Name:      "FIRST_VALUE",
		Signature: "FIRST_VALUE(x T) T",
		Doc: "The non-NULL value of x with the earliest event time (ties: the one added first). It orders by " +
			"event time, not arrival, so the result does not depend on out-of-order delivery.",
		Examples: []AggExample{{Call: "FIRST_VALUE(x)", Input: []Value{Str("b"), Str("a"), Null}, Times: []int64{20, 10, 5}, Want: `"a"`}},
		Check:    checkPassThrough,
		New:      func([]Value) AggState { return &edgeState{last: false} },
	},
	{
		Name:      "LAST_VALUE",
		Signature: "LAST_VALUE(x T) T",
		Doc:       "The non-NULL value of x with the latest event time (ties: the one added last).",
		Examples:  []AggExample{{Call: "LAST_VALUE(x)", Input: []Value{Str("b"), Str("a"), Null}, Times: []int64{20, 10, 30}, Want: `"b"`}},
		Check:     checkPassThrough,
		New:       func([]Value) AggState { return &edgeState{last: true} },
	},
	{
		Name:      "APPROX_PERCENTILE",
		Signature: "APPROX_PERCENTILE(x numeric, p double) double",
		Doc: "An estimate of the p-quantile (0 <= p <= 1; p must be a constant) of the non-NULL values, from a " +
			"DDSketch (Masson et al., VLDB 2019): the value of rank ⌊p·(n−1)⌋ is returned within ±1% relative " +
			"error (zero is exact), clamped to the exact minimum and maximum, so p = 0 and p = 1 are exact. The sketch " +
			"is deterministic and merging is exact (bucket counts add), so results do not depend on partitioning. " +
			"It keeps at most 2048 buckets per sign (about 40 KB); beyond that (values spanning more than ~1e17:1) " +
			"the smallest-magnitude buckets collapse and only their accuracy degrades.",
		ErrorBound: "±1% relative error of the returned value",
		Examples: []AggExample{
			{Call: "APPROX_PERCENTILE(x, 0.5)", Input: seq(1, 100), Want: "49.90296094906597", Note: "exact: 50"},
			{Call: "APPROX_PERCENTILE(x, 1.0)", Input: seq(1, 100), Want: "100"},
			{Call: "APPROX_PERCENTILE(x, 0.25)", Input: []Value{Int(-5), Float(0), Float(2.5), Int(9)}, Want: "-5", Note: "rank ⌊0.25·3⌋ = 0"},
		},
		SQLForms:       []string{"APPROX_PERCENTILE(x, 0.95)"},
		ValidateConsts: validatePercentile,
		New:            newPercentile,
	},
	{
		Name:      "APPROX_COUNT_DISTINCT",
		Signature: "APPROX_COUNT_DISTINCT(x any) bigint",
		Doc: "An estimate of the number of distinct non-NULL values of x. Up to 256 distinct values the count is " +
			"exact (the state keeps their 64-bit hashes); beyond, a HyperLogLog with 2^14 registers (16 KB; " +
			"Flajolet et al. 2007, with linear counting for small ranges) has a standard error of 1.04/√16384 ≈ 0.8%. " +
			"Deterministic; merging is exact (register maxima).",
		ErrorBound: "exact up to 256 distinct values, then ≈0.8% standard error",
		Examples: []AggExample{
			{Call: "APPROX_COUNT_DISTINCT(x)", Input: []Value{Str("a"), Str("b"), Str("a"), Null}, Want: "2"},
			{Call: "APPROX_COUNT_DISTINCT(x)", Input: seq(1, 10000), Want: "10008", Note: "exact: 10000"},
		},
		New: func([]Value) AggState { return &hllState{} },
	},
	{
		Name:      "COLLECT_VECTOR",
		Signature: "COLLECT_VECTOR(v vector [, mode string]) vector",
		Doc: "The component-wise mean (mode 'avg', the default) or sum (mode 'sum'; a constant) of the non-NULL " +
			"vectors v, e.g. a user's mean embedding. NULL when there are none, and NULL when the vectors differ " +
			"in length (the state remembers the mismatch, so a wrong input is never averaged away).",
		Examples: []AggExample{
			{Call: "COLLECT_VECTOR(v)", Input: []Value{Vec([]float64{1, 2}), Vec([]float64{3, 4}), Null}, Want: "[2,3]"},
			{Call: "COLLECT_VECTOR(v, 'sum')", Input: []Value{Vec([]float64{1, 2}), Vec([]float64{3, 4})}, Want: "[4,6]"},
			{Call: "COLLECT_VECTOR(v)", Input: []Value{Vec([]float64{1, 2}), Vec([]float64{3})}, Want: "NULL"},
		},
		SQLForms:       []string{"COLLECT_VECTOR(v)", "COLLECT_VECTOR(v, 'sum')"},
		ValidateConsts: validateCollectMode,
		New:            newCollectVector,
	},
}

// seq returns the bigints from..to, for examples.
func seq(from, to int64) []Value {
	out := make([]Value, 0, to-from+1)
	for i := from; i <= to; i++ {
		out = append(out, Int(i))
	}
	return out
}
