// Package udf holds flowrun's functions: the built-in scalar functions, the
// aggregate functions and the job's own expr-lang functions and predicates.
// It is a leaf library: it imports no other flowrun package.
//
// # Values
//
// Every function works on [Value] (value.go): K is the [Type], K ==
// TypeNull is SQL NULL, timestamps are epoch milliseconds UTC in I.
//
// # Built-in scalar functions
//
// The table builtins (builtins.go) has one [Func] per function: name,
// signature, NULL rule, doc, examples and implementation. The planner's
// binder finds a function with [Lookup] (case-insensitive), type-checks a
// call with Func.Check and the executor calls Func.Eval with the evaluated
// arguments; Eval applies the NULL rule itself:
//
//	f, _ := udf.Lookup("substring")
//	t, err := f.Check([]udf.Type{udf.TypeString, udf.TypeBigint, udf.TypeBigint}) // string, nil
//	v, err := f.Eval([]udf.Value{udf.Str("flowrun"), udf.Int(1), udf.Int(4)})      // "flow", nil
//
// When an argument is a literal, the binder also calls Func.ConstCheck (if
// set) so that a bad unit, regular expression or JSON path is a validation
// error with a position rather than a runtime error on every row.
//
// SQL forms whose first argument is a keyword are passed by the planner as a
// string literal argument: EXTRACT(HOUR FROM ts) is EXTRACT('HOUR', ts),
// TIMESTAMP_DIFF(MINUTE, a, b) is TIMESTAMP_DIFF('MINUTE', a, b), and
// DATE_TRUNC('hour', ts) is already in that form. CASE is syntax the
// planner evaluates itself; it is documented with the conditionals.
//
// Runtime failures (ABS of the smallest bigint, a malformed regular
// expression) are errors wrapping [ErrExpr]: the executor dead-letters the
// row with class "expr" and the job goes on. Division by zero and MOD by
// zero give NULL, as in MySQL; bigint overflow is an error; math functions
// never return NaN or ±Inf: such results (LN(0), SQRT(-1), EXP(1000)) are
// NULL.
//
// # Aggregates
//
// The table aggregates (aggregates.go) has one [Aggregate] per function.
// Each New gives an [AggState] that is mergeable (partitions, panes,
// restores) and serializable (checkpoints):
//
//	a, _ := udf.LookupAggregate("avg")
//	s := a.New(nil)
//	s.Add(udf.Int(2), ts); s.Add(udf.Null, ts); s.Add(udf.Int(4), ts)
//	s.Result() // 3
//	b, _ := s.MarshalBinary() // into the checkpoint; a.New(nil).UnmarshalBinary(b) restores it
//
// COUNT(*) is [CountStar]; COUNT(DISTINCT x) and any other aggregate over
// DISTINCT values is [NewDistinct] around the plain state.
//
// # User functions and predicates
//
// A job's functions are compiled once with [CompileUserFuncs]:
//
//	functions:
//	  - name: risk_bucket
//	    params: [amount]            # type inferred: compared with numbers, so double
//	    expr: 'amount > 1000 ? "high" : (amount > 100 ? "mid" : "low")'
//
//	env, errs := udf.CompileUserFuncs([]udf.UserFunc{{
//		Name:   "risk_bucket",
//		Params: []udf.Param{{Name: "amount", Type: udf.TypeAny}},
//		Expr:   `amount > 1000 ? "high" : (amount > 100 ? "mid" : "low")`,
//	}})
//	f, _ := env.Lookup("RISK_BUCKET")           // f.Params[0].Type == TypeDouble, f.Returns == TypeString
//	v, _ := f.Call([]udf.Value{udf.Float(250)}) // "mid"
//
// Parameters given by name only get their type from how the expression
// uses them (arithmetic: double; string operators: string; logic: bool;
// an argument of a function whose signature takes one type: that type).
// When that is ambiguous the error asks to declare it: params: [{name: x,
// type: double}]. Each [CompileError] carries the byte offset and the
// 1-based line and column inside the expression text, so the spec layer
// maps it into the YAML file. A function may call the built-ins (in lower
// or upper case: lower(s) or LOWER(s)) and the user functions declared
// above it.
//
// Row predicates (a sink's where:, a clean stage's filter) are compiled
// with [CompilePredicate] over the row's columns and evaluated per row:
//
//	p, errs := udf.CompilePredicate("fraud_score > 0.9 && bucket != \"low\"",
//		[]udf.Column{{"fraud_score", udf.TypeDouble}, {"bucket", udf.TypeString}}, env)
//	ok, err := p.Eval(row) // udf.Bool(true) or udf.Bool(false); err wraps ErrExpr
//
// # The typed subset and SQL semantics
//
// Expressions made of literals, variables, arithmetic (+ - * / % **),
// comparisons, and/or/not, ?:, ??, in [...], contains, startsWith,
// endsWith, matches (with a literal pattern), vector indexing v[i] and
// function calls are compiled to a typed evaluator that follows SQL NULL
// rules (NULL in arithmetic or comparison gives NULL, and/or are
// three-valued, x == nil tests for NULL, a NULL condition takes the else
// branch) and does not allocate for numeric arguments. Integer division
// by zero and % by zero give NULL; bigint overflow is an error. Any other
// expr-lang construct (closures such as all/filter/map over a vector, maps)
// runs on expr-lang's VM, where NULL is nil and an operation on nil is a
// runtime error of class expr.
//
// # Sandbox
//
// Expressions see only their parameters (or the row's columns) as plain
// values, the built-ins and the job's functions. now(), date(), duration()
// and timezone() are disabled: results depend only on the row, so replays
// are deterministic. let, ranges (a..b), reduce and repeat are rejected:
// they build values whose size the VM's memory budget (which counts
// elements) cannot see. Limits: [MaxExprLen], [MaxExprNodes] (expr.MaxNodes),
// [MemoryBudget] (the VM's memory budget per evaluation).
//
// # Reference
//
// docs/functions.md is generated from the tables (go generate ./udf, run by
// make generate; a test fails when it is stale) and `flowrun functions
// [NAME]` prints the same text.
package udf
