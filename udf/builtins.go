package udf

// builtins is the table of built-in scalar functions. Each row is the whole
// truth about a function: its signature (from which the type checker is
// derived), NULL rule, documentation, examples (run as tests and printed in
// docs/functions.md and `flowrun functions`) and implementation.
var builtins = []*Func{
	// ---- String ----
	{
		Name: "LOWER", Category: catString,
		Signature: "LOWER(s string) string",
		Doc:       "Returns s with all Unicode letters mapped to lower case.",
		Examples:  []Example{{"LOWER('FlowRun')", `"flowrun"`}},
		Eval:      func(a []Value) (Value, error) { return Str(toLower(a[0].S)), nil },
	},
	{
		Name: "UPPER", Category: catString,
		Signature: "UPPER(s string) string",
		Doc:       "Returns s with all Unicode letters mapped to upper case.",
		Examples:  []Example{{"UPPER('FlowRun')", `"FLOWRUN"`}},
		Eval:      func(a []Value) (Value, error) { return Str(toUpper(a[0].S)), nil },
	},
	// ---- Math ----
	{
		Name: "ABS", Category: catMath,
		Signature: "ABS(x numeric) numeric",
		Doc:       "Returns the absolute value of x. ABS of the smallest bigint is an error (it has no positive counterpart).",
		Examples:  []Example{{"ABS(-3)", "3"}, {"ABS(-2.5)", "2.5"}},
		Eval:      evalAbs,
	},
	// ---- Conditional ----
	{
		Name: "COALESCE", Category: catCond, Nulls: NullCustom,
		Signature: "COALESCE(x T...) T",
		Doc:       "Returns the first argument that is not NULL, or NULL if all are NULL.",
		Examples:  []Example{{"COALESCE(NULL, 2, 3)", "2"}, {"COALESCE(NULL, NULL)", "NULL"}},
		Eval:      evalCoalesce,
	},
}

// Categories of the reference, in the order it prints them.
const (
	catString = "String"
	catMath   = "Math"
	catTime   = "Time"
	catCond   = "Conditional"
	catHash   = "Hashing"
	catJSON   = "JSON"
	catVector = "Vector"
)

// Categories lists the categories of Funcs in reference order.
var Categories = []string{catString, catMath, catTime, catCond, catHash, catJSON, catVector}
