// Package window runs group-window aggregates (planner.WindowAggOp):
// TUMBLE, HOP and SESSION windows over event time, with every aggregate of
// udf (DISTINCT included), emitting each window's result once, when the
// watermark passes its end.
//
//	-- 1-minute tumbling count per user
//	SELECT user_id, TUMBLE_END(ts, INTERVAL 1 MINUTE), COUNT(*)
//	FROM tx GROUP BY user_id, TUMBLE(ts, INTERVAL 1 MINUTE)
//
//	WindowAgg tumble(#4:ts, 1m) keys=[#1:user_id] aggs=[COUNT(*)]
//	  rows out: user_id, window_start, window_end, count
//
// State is keyed by the canonical key bytes (state.AppendKey): each key
// holds its open windows ordered by start; a timer queue of window ends
// fires them. Per input row the operator evaluates the key and aggregate
// arguments, looks the key up without allocating and folds the values into
// the row's window(s); allocation happens per key and window, not per row.
//
// The model is Flink's WindowOperator (processElement / processWatermark)
// and arroyo's tumbling_aggregating_window.rs.
package window
