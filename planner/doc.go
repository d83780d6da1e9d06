// Package planner turns a job (spec.Pipeline) into the physical plan the
// executor runs.
//
// Binding (bind*.go, stages.go) parses each SQL stage with
// xwb1989/sqlparser and resolves it against the job's sources, earlier
// stages, functions and models, producing a logical plan: a DAG of
// immutable Rel nodes (Scan, Filter, Project, WindowAgg, GroupAgg, Join,
// Clean, Features, Train, Sink, and Stage markers) whose Schema records the
// event-time and key columns. Problems are spec.Diagnostics at the position
// of the offending identifier in the job file; the package registers its
// check with spec.RegisterCheck, so `flowrun validate` reports them.
//
// The rewrite rules (Rules, rules.go) then fold constants, push filters
// down, prune columns, insert exchanges and chain stateless operators, and
// lower.go turns the result into a Graph: nodes in topological order with
// their Op, parallelism and keyed state, and edges with their routing.
//
// For the stage
//
//	SELECT user_id, TUMBLE_END(ts, INTERVAL 1 MINUTE) AS window_end,
//	       COUNT(*) AS n, SUM(amount) AS total
//	FROM tx
//	GROUP BY user_id, TUMBLE(ts, INTERVAL 1 MINUTE)
//
// read by a sink, Logical(p).String() prints
//
//	Sink out stream=OUT subject=out.per_minute format=json
//	└── Stage per_minute (user_id# string, window_end* timestamp, n bigint, total double?)
//	    └── Project #0:user_id, #2:window_end, #3:n, #4:total
//	        └── WindowAgg TUMBLE(#2:ts, 1m) keys=[#0:user_id] aggs=[COUNT(*) AS n, SUM(#1:amount) AS total]
//	            └── Exchange hash(#0:user_id)
//	                └── Source tx stream=TX subjects=tx.> format=json columns=[user_id, amount, ts*]
//
// (#i:name is input column i; in a schema * marks the event-time column, #
// the key and ? a nullable column), and Plan(p) returns the Graph that
// `flowrun explain --physical` prints:
//
//	#3 Sink out ...                          stage=out p=2
//	└── [forward] #2 Project ...             stage=per_minute p=2
//	    └── [forward] #1 WindowAgg ...       stage=per_minute p=2 state=[windows(#0)]
//	        └── [hash(#0:user_id)] #0 Source tx ...   stage=tx p=1
//
// The golden tests in testdata/ show the plan of every construct and every
// error; go test ./planner -update regenerates them (and the examples of
// docs/sql.md).
package planner
