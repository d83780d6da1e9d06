package engine

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

// windowGraph is the plan of
//
//	SELECT k, window_start, COUNT(*) AS n, SUM(v) AS total
//	FROM ev WHERE v % 3 <> 0 GROUP BY k, TUMBLE(ts, INTERVAL '1' SECOND)
//
// built by hand: Source -> Filter -> (hash k) -> WindowAgg -> Project -> Sink.
func windowGraph(p int) *planner.Graph {
	src := evSource(0, "ev", "EV", 500*time.Millisecond, 0)
	col := func(i int, name string, t udf.Type) *planner.ColumnRef {
		return &planner.ColumnRef{Index: i, Name: name, T: t}
	}
	count, _ := udf.LookupAggregate("count")
	sum, _ := udf.LookupAggregate("sum")
	aggOut := planner.Schema{Columns: []planner.Column{{Name: "k", Type: udf.TypeString}, {Name: "window_start", Type: udf.TypeTimestamp},
		{Name: "window_end", Type: udf.TypeTimestamp}, {Name: "n", Type: udf.TypeBigint}, {Name: "total", Type: udf.TypeBigint}}, EventTime: 2}
	out := planner.Schema{Columns: []planner.Column{aggOut.Columns[0], aggOut.Columns[1], aggOut.Columns[3], aggOut.Columns[4]}, EventTime: 1}
	return &planner.Graph{Job: fmt.Sprintf("win%d", p), Parallelism: p,
		Nodes: []*planner.Node{src,
			{ID: 1, Stage: "ev", Parallelism: 1, Schema: src.Schema, Op: &planner.FilterOp{Pred: &planner.BinaryOp{Op: "!=", T: udf.TypeBool,
				L: &planner.BinaryOp{Op: "%", L: col(2, "v", udf.TypeBigint), R: &planner.Literal{Value: udf.Int(3)}, T: udf.TypeBigint},
				R: &planner.Literal{Value: udf.Int(0)}}}},
			{ID: 2, Stage: "totals", Parallelism: p, Schema: aggOut, Op: &planner.WindowAggOp{
				Window: planner.Window{Kind: planner.Tumble, TimeCol: 1, Size: 1000},
				Keys:   []planner.Expr{col(0, "k", udf.TypeString)},
				Aggs: []planner.AggCall{{Func: count, T: udf.TypeBigint},
					{Func: sum, Args: []planner.Expr{col(2, "v", udf.TypeBigint)}, T: udf.TypeBigint}}}},
			{ID: 3, Stage: "totals", Parallelism: p, Schema: out, Op: &planner.ProjectOp{Exprs: []planner.Expr{
				col(0, "k", udf.TypeString), col(1, "window_start", udf.TypeTimestamp), col(3, "n", udf.TypeBigint), col(4, "total", udf.TypeBigint)}}},
			{ID: 4, Stage: "out", Parallelism: 1, Schema: out, Op: &planner.SinkOp{Sink: "out", Stream: fmt.Sprintf("WOUT%d", p), Subject: fmt.Sprintf("wout.%d", p)}},
		},
		Edges: []planner.Edge{{From: 0, To: 1}, {From: 1, To: 2, Routing: planner.Hash, Keys: []int{0}}, {From: 2, To: 3}, {From: 3, To: 4}},
	}
}

func TestWindowOperatorsParallelism(t *testing.T) {
	c := testConn(t)
	ctx := t.Context()
	if _, err := c.EnsureStream(ctx, "EV", nil, true); err != nil {
		t.Fatal(err)
	}
	// Oracle: in order (no late rows), count and sum per key and second.
	var b strings.Builder
	type kw struct {
		k  string
		ws int64
	}
	n, sums := map[kw]int64{}, map[kw]int64{}
	for i := range 6000 {
		k, ts, v := fmt.Sprintf("k%d", i%37), int64(i*7), int64(i)
		fmt.Fprintf(&b, "{\"k\":%q,\"ts\":%d,\"v\":%d}\n", k, ts, v)
		if v%3 != 0 {
			n[kw{k, ts / 1000 * 1000}]++
			sums[kw{k, ts / 1000 * 1000}] += v
		}
	}
	var want []string
	for key, c := range n {
		want = append(want, fmt.Sprintf(`{"k":%q,"window_start":"%s","n":%d,"total":%d}`, key.k, udf.FormatTime(key.ws), c, sums[key]))
	}
	slices.Sort(want)
	if _, err := c.PublishLines(ctx, "ev.input", strings.NewReader(b.String()), 0); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int{1, 4} {
		tp := &tap{}
		e := runBounded(t, c, windowGraph(p), tp)
		if got := tp.sorted(); !slices.Equal(got, want) {
			t.Fatalf("parallelism %d: %d rows, want %d\n got %q\nwant %q", p, len(got), len(want), got[:min(2, len(got))], want[:2])
		}
		st := e.Stats()
		if st[0].In != 6000 || st[0].Out != 4000 || st[1].In != 4000 || st[1].Out != int64(len(want)) {
			t.Fatalf("parallelism %d: stats %+v", p, st)
		}
	}
}
