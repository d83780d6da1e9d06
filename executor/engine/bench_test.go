package engine

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/flowrun/flowrun/executor/jetstream"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

var benchDecl = []spec.Column{
	{Name: "id", Type: udf.TypeBigint}, {Name: "account", Type: udf.TypeString}, {Name: "amount", Type: udf.TypeDouble},
	{Name: "ts", Type: udf.TypeTimestamp}, {Name: "region", Type: udf.TypeString}, {Name: "note", Type: udf.TypeString},
	{Name: "qty", Type: udf.TypeBigint},
}

// benchGraph is SELECT * FROM in (star) or
// SELECT key, COUNT(*), SUM(amount) FROM in WHERE qty > 10 GROUP BY key, TUMBLE(ts, 1s) (tumble).
func benchGraph(kind string, p int) *planner.Graph {
	cols := []int{0, 1, 2, 3, 4, 5, 6}
	if kind == "tumble" {
		cols = []int{1, 2, 3, 6} // projection push-down
	}
	var sc []planner.Column
	for _, c := range cols {
		sc = append(sc, planner.Column{Name: benchDecl[c].Name, Type: benchDecl[c].Type})
	}
	et := 3
	if kind == "tumble" {
		et = 2
	}
	src := &planner.Node{ID: 0, Stage: "in", Parallelism: 1, Schema: planner.Schema{Columns: sc, EventTime: et},
		Op: &planner.SourceOp{Source: "in", Stream: "IN", Subjects: []string{"in.>"}, Format: "json", Decl: benchDecl, Columns: cols}}
	if kind == "star" {
		return &planner.Graph{Job: "star", Nodes: []*planner.Node{src,
			{ID: 1, Stage: "out", Parallelism: 1, Schema: src.Schema, Op: &planner.SinkOp{Sink: "out", Stream: "OUT", Subject: "out.star"}}},
			Edges: []planner.Edge{{From: 0, To: 1}}}
	}
	col := func(i int, t udf.Type) *planner.ColumnRef {
		return &planner.ColumnRef{Index: i, Name: sc[i].Name, T: t}
	}
	count, _ := udf.LookupAggregate("count")
	sum, _ := udf.LookupAggregate("sum")
	aggOut := planner.Schema{Columns: []planner.Column{{Name: "account", Type: udf.TypeString}, {Name: "window_start", Type: udf.TypeTimestamp},
		{Name: "window_end", Type: udf.TypeTimestamp}, {Name: "n", Type: udf.TypeBigint}, {Name: "total", Type: udf.TypeDouble}}, EventTime: 2}
	src.Schema.EventTime = 2
	src.Op.(*planner.SourceOp).Filter = &planner.BinaryOp{Op: ">", T: udf.TypeBool, L: col(3, udf.TypeBigint), R: &planner.Literal{Value: udf.Int(10)}}
	return &planner.Graph{Job: fmt.Sprintf("tumble%d", p), Parallelism: p, Nodes: []*planner.Node{src,
		{ID: 1, Stage: "agg", Parallelism: p, Schema: aggOut, Op: &planner.WindowAggOp{
			Window: planner.Window{Kind: planner.Tumble, TimeCol: 2, Size: 1000},
			Keys:   []planner.Expr{col(0, udf.TypeString)},
			Aggs:   []planner.AggCall{{Func: count, T: udf.TypeBigint}, {Func: sum, Args: []planner.Expr{col(1, udf.TypeDouble)}, T: udf.TypeDouble}}}},
		{ID: 2, Stage: "out", Parallelism: 1, Schema: aggOut, Op: &planner.SinkOp{Sink: "out", Stream: "OUT", Subject: "out.agg"}}},
		Edges: []planner.Edge{{From: 0, To: 1, Routing: planner.Hash, Keys: []int{0}}, {From: 1, To: 2}}}
}

// BenchmarkPipeline runs bounded pipelines over b.N 250-byte records
// already in the stream: ns/op and allocs/op are per input row (allocs
// include the in-process server's).
func BenchmarkPipeline(b *testing.B) {
	for _, bc := range []struct {
		kind string
		p    int
	}{{"star", 1}, {"tumble", 1}, {"tumble", 2}} {
		b.Run(fmt.Sprintf("%s/p%d", bc.kind, bc.p), func(b *testing.B) {
			c := testConnB(b)
			ctx := context.Background()
			if _, err := c.EnsureStream(ctx, "IN", []string{"in.>"}, true); err != nil {
				b.Fatal(err)
			}
			if _, err := c.PublishLines(ctx, "in.x", bytes.NewReader(jetstream.BenchRecords(b.N, 10000)), 0); err != nil {
				b.Fatal(err)
			}
			dlq, err := jetstream.NewDLQ(ctx, c, "bench", true)
			if err != nil {
				b.Fatal(err)
			}
			e, err := New(ctx, benchGraph(bc.kind, bc.p), Options{Conn: c, DLQ: dlq, Bounded: true, CreateStreams: true})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			if err := e.Run(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			if st := e.Stats(); st[0].In != int64(b.N) {
				b.Fatalf("read %d of %d", st[0].In, b.N)
			}
		})
	}
}
