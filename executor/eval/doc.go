// Package eval compiles the planner's bound expressions (planner.Expr) once
// into Go closures that evaluate over a row.
//
//	// SELECT amount * 2 FROM tx WHERE merchant LIKE 'amz%' AND amount > 100
//	pred, _ := eval.CompilePredicate(&planner.BinaryOp{Op: "AND",
//		L: &planner.Like{X: merchant, Pattern: &planner.Literal{Value: udf.Str("amz%")}},
//		R: &planner.BinaryOp{Op: ">", L: amount, R: hundred, T: udf.TypeBool}}, env)
//	ok, err := pred(row) // true only when the expression is TRUE
//
// Semantics follow SQL:
//   - NULL propagates through arithmetic, comparisons, LIKE, CAST and
//     functions (per their udf NULL rule); AND, OR and NOT are three-valued
//     (FALSE AND NULL is FALSE, TRUE OR NULL is TRUE) and short-circuit.
//   - x IN (list) is TRUE on a match, else NULL if x or an element is
//     NULL, else FALSE; NOT IN negates that. Lists of four or more literals
//     become hash sets.
//   - Comparisons mix bigint and double by value (exactly, without rounding
//     large bigints), timestamps with bigints (epoch ms) and with strings
//     (parsed as by CAST).
//   - Arithmetic: see Arith. Division and modulo by zero are NULL (udf's
//     rule, as MySQL); bigint overflow is an error.
//   - CASE returns the first branch whose condition is TRUE, else ELSE or
//     NULL. CAST: see Cast. LIKE: see Like.
//
// Runtime errors wrap ErrExpr (= udf.ErrExpr): operators dead-letter the row
// with class expr. Compiled closures reuse argument buffers, so the numeric
// paths allocate nothing per row; a closure belongs to one goroutine.
package eval
