// Package join runs the joins of a plan (planner.JoinOp): stream–stream
// interval joins, window joins of two windowed stages, and stream–table
// joins against a stage declared with table:, each in inner and LEFT form.
//
//	-- interval join: a payment within 10 minutes after its order
//	SELECT o.id, p.amount FROM orders AS o JOIN payments AS p
//	  ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL 10 MINUTE
//
//	Join interval [0, 10m] keys=[#0]=[#1]
//
// Output rows are left ++ right; a LEFT join emits an unmatched left row
// with NULLs on the right once no match is possible any more. Row ids are
// Mix(left id, right id) (Mix(left id, 0) for an unmatched left row), so a
// replay emits the same ids.
package join
