// Package aggregate runs unwindowed, continuously updating GROUP BY
// (planner.GroupAggOp): every input row updates the aggregates of its key
// and emits the key's new row, an upsert keyed by the group keys.
//
//	-- running totals per user
//	SELECT user_id, COUNT(*), SUM(amount) FROM tx GROUP BY user_id
//
//	GroupAgg keys=[#1:user_id] aggs=[COUNT(*), SUM(#2:amount)]
//	  in:  ("u1", 10), ("u2", 5), ("u1", 7)
//	  out: ("u1", 1, 10), ("u2", 1, 5), ("u1", 2, 17)
//
// A sink writing to a KV bucket keeps the latest row per key.
package aggregate
