// Package engine runs a physical plan (*planner.Graph): it turns each node
// into operators (one switch, in build.go), groups nodes into tasks and
// moves executor.Messages between them.
//
// Tasks. Every node runs as max(1, node.Parallelism) tasks (sources as
// one). A node whose only input is a Forward edge from a node with the same
// parallelism and no other consumer is chained into its producer's task:
// one goroutine runs source → filter → project → sink without channels.
// Across task boundaries rows travel in batches on channels of
// executor.Message, in order with watermarks, barriers and end-of-input;
// rows on a Hash edge go to task HashKey(row, edge.Keys) mod parallelism
// (FNV-1a over the key values, stable across runs), so a keyed operator
// sees every row of its keys and the output is the same multiset for any
// parallelism.
//
// Time. A task's watermark is the minimum over its inputs (one input per
// sending task and edge). An input whose source saw no data for its
// idleTimeout is idle and does not hold the minimum back until it sends
// again. End-of-input on every input delivers watermark +inf and Close to
// each operator in chain order, then end-of-input downstream.
//
// For the job
//
//	SELECT k, COUNT(*) FROM ev GROUP BY k, TUMBLE(ts, INTERVAL '1' SECOND)
//
// with parallelism 4 the graph Source[ev] -hash(k)-> WindowAgg[counts] ->
// Project[counts] -> Sink[out] runs as (Engine.Describe):
//
//	Source[ev] x1
//	WindowAgg[counts] -> Project[counts] x4
//	Sink[out] x1
//
// Stopping. In bounded mode Run returns when every source reached the end
// of its stream as of the start. Otherwise, when ctx ends, sources stop,
// queued messages are processed, sinks wait for their publish acks, and
// Run returns nil; open windows do not fire (their rows are acked only as
// far as they were handed on; exactly-once resumption comes with
// checkpoints).
package engine
