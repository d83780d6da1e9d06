// Package stateless runs the stateless operators of a plan: FilterOp,
// ProjectOp and ChainOp (a fused run of them in one goroutine).
//
//	// SELECT user_id, amount * 2 AS a2 FROM tx WHERE amount > 100
//	Chain
//	├─ Filter (#2:amount > 100)
//	└─ Project #1:user_id, (#2:amount * 2)
//
// Each input row keeps its id; a row for which an expression fails goes to
// the dead-letter stream with class expr. Watermarks pass through untouched
// (the operator holds no state and nothing back).
package stateless
