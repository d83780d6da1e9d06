package engine

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/jetstream"
	"github.com/flowrun/flowrun/executor/jstest"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

// tumbleOp is a test stand-in for a keyed TUMBLE count: planner.Op and
// executor.Operator at once.
type tumbleOp struct {
	size   int64
	counts map[string]map[int64]int64
	wm     int64
}

func (*tumbleOp) Name() string { return "TestTumble" }

func (o *tumbleOp) Process(_ int, b *executor.Batch, out executor.Collector) error {
	for _, r := range b.Rows {
		ts := r[1].I
		if ts < o.wm {
			out.DeadLetter(executor.ClassLate, "late", r, nil)
			continue
		}
		ws := ts - ts%o.size
		m := o.counts[r[0].S]
		if m == nil {
			m = map[int64]int64{}
			o.counts[r[0].S] = m
		}
		m[ws]++
	}
	return nil
}

func (o *tumbleOp) OnWatermark(wm int64, out executor.Collector) error {
	o.wm = wm
	keys := make([]string, 0, len(o.counts))
	for k := range o.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for ws, n := range o.counts[k] {
			if ws+o.size <= wm {
				out.Emit(udf.Row{udf.Str(k), udf.Time(ws), udf.Int(n)}, HashKey(udf.Row{udf.Str(k), udf.Time(ws)}, []int{0, 1}))
				delete(o.counts[k], ws)
			}
		}
	}
	return nil
}

func (o *tumbleOp) Snapshot() ([]byte, error)      { return nil, nil }
func (o *tumbleOp) Restore([]byte) error           { return nil }
func (o *tumbleOp) Close(executor.Collector) error { return nil }
func (o *tumbleOp) clone() executor.Operator {
	return &tumbleOp{size: o.size, counts: map[string]map[int64]int64{}, wm: executor.MinWatermark}
}
func testBuild(n *planner.Node, _ []planner.Schema) (executor.Operator, error) {
	if op, ok := n.Op.(*tumbleOp); ok {
		return op.clone(), nil
	}
	return nil, ErrUnsupported
}

func testConn(t *testing.T) *jetstream.Conn { return testConnB(t) }

func testConnB(t testing.TB) *jetstream.Conn {
	t.Helper()
	srv := jstest.RunServer(t)
	nc, err := nats.Connect("", nats.InProcessServer(srv))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	c, err := jetstream.NewConn(nc, 0)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var evDecl = []spec.Column{{Name: "k", Type: udf.TypeString}, {Name: "ts", Type: udf.TypeTimestamp}, {Name: "v", Type: udf.TypeBigint}}

func evSource(id int, name, stream string, ooo, idle time.Duration) *planner.Node {
	return &planner.Node{ID: id, Stage: name, Parallelism: 1,
		Op: &planner.SourceOp{Source: name, Stream: stream, Format: "json", Decl: evDecl, Columns: []int{0, 1, 2},
			MaxOutOfOrderness: spec.Duration(ooo), IdleTimeout: spec.Duration(idle)},
		Schema: planner.Schema{Columns: jetstream.DeclColumns(evDecl), EventTime: 1}}
}

var countSchema = planner.Schema{Columns: []planner.Column{{Name: "k", Type: udf.TypeString}, {Name: "window_start", Type: udf.TypeTimestamp}, {Name: "n", Type: udf.TypeBigint}}, EventTime: 1}

// tumbleGraph is source -> (hash k) -> count per k and 1s window (par p) -> sink.
func tumbleGraph(p int) *planner.Graph {
	return &planner.Graph{Job: "tj", Parallelism: p,
		Nodes: []*planner.Node{
			evSource(0, "ev", "EV", 500*time.Millisecond, 0),
			{ID: 1, Stage: "counts", Parallelism: p, Op: &tumbleOp{size: 1000}, Schema: countSchema},
			{ID: 2, Stage: "out", Parallelism: 1, Op: &planner.SinkOp{Sink: "out", Stream: "OUT", Subject: "out.counts"}, Schema: countSchema},
		},
		Edges: []planner.Edge{{From: 0, To: 1, Routing: planner.Hash, Keys: []int{0}}, {From: 1, To: 2}},
	}
}

type tap struct {
	mu   sync.Mutex
	rows []string
}

func (tp *tap) fn(_ string, cols []planner.Column, rows []udf.Row) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	for _, r := range rows {
		tp.rows = append(tp.rows, string(jetstream.AppendJSON(nil, cols, r)))
	}
}

func (tp *tap) sorted() []string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	out := slices.Clone(tp.rows)
	slices.Sort(out)
	return out
}

func (tp *tap) len() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return len(tp.rows)
}

// events returns n records over 100 keys, slightly out of order, and the
// oracle: the count per key and 1s window of the rows that are not late.
func events(n int) (recs string, want []string, late int) {
	var b strings.Builder
	counts := map[[2]int64]int64{}
	maxTs := int64(-1 << 62)
	for i := range n {
		ts := int64(i * 10)
		if i%7 == 3 {
			ts -= 300 // out of order, within 500ms
		}
		if i%101 == 50 {
			ts -= 5000 // late
		}
		k := i % 100
		fmt.Fprintf(&b, "{\"k\":\"k%03d\",\"ts\":%d,\"v\":%d}\n", k, ts, i)
		if maxTs > -1<<61 && ts < maxTs-500 {
			late++
			continue
		}
		maxTs = max(maxTs, ts)
		counts[[2]int64{int64(k), ts - ts%1000}]++
	}
	for kw, c := range counts {
		want = append(want, fmt.Sprintf(`{"k":"k%03d","window_start":"%s","n":%d}`, kw[0], udf.FormatTime(kw[1]), c))
	}
	slices.Sort(want)
	return b.String(), want, late
}

func runBounded(t *testing.T, c *jetstream.Conn, g *planner.Graph, tp *tap) *Engine {
	t.Helper()
	// The deadline is generous: a loaded 2-core machine is slow, and a run
	// cut short by it must fail loudly rather than look like missing rows.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dlq, err := jetstream.NewDLQ(ctx, c, g.Job, true)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(ctx, g, Options{Conn: c, DLQ: dlq, Bounded: true, CreateStreams: true, Build: testBuild, Tap: tp.fn, Batch: 128})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatalf("the bounded run did not finish before the test deadline: %v", ctx.Err())
	}
	return e
}

func TestTumbleParallelism(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	recs, want, late := events(5000)
	if _, err := c.EnsureStream(ctx, "EV", nil, true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PublishLines(ctx, "ev.input", strings.NewReader(recs), 0); err != nil {
		t.Fatal(err)
	}
	var results [][]string
	for _, p := range []int{1, 4} {
		g := tumbleGraph(p)
		g.Job = fmt.Sprintf("tj%d", p) // own durable consumer and Msg-Ids
		g.Nodes[2].Op.(*planner.SinkOp).Subject = fmt.Sprintf("out.p%d", p)
		g.Nodes[2].Op.(*planner.SinkOp).Stream = fmt.Sprintf("OUT%d", p)
		tp := &tap{}
		e := runBounded(t, c, g, tp)
		got := tp.sorted()
		if !slices.Equal(got, want) {
			for _, w := range want {
				if _, ok := slices.BinarySearch(got, w); !ok {
					t.Errorf("missing %s", w)
				}
			}
			for _, w := range got {
				if _, ok := slices.BinarySearch(want, w); !ok {
					t.Errorf("extra %s", w)
				}
			}
			t.Fatalf("parallelism %d: %d rows, want %d; first got %q want %q", p, len(got), len(want), got[:min(3, len(got))], want[:3])
		}
		results = append(results, got)
		st := e.Stats()
		if st[0].Stage != "ev" || st[0].In != 5000 || st[0].Late != int64(late) || st[0].Out != int64(5000-late) {
			t.Fatalf("source stats %+v (late %d)", st[0], late)
		}
		if st[1].In != int64(5000-late) || st[1].Out != int64(len(want)) || st[2].Out != int64(len(want)) {
			t.Fatalf("stats %+v", st)
		}
		if p == 4 && e.Tasks() != 6 {
			t.Fatalf("tasks %d: %v", e.Tasks(), e.Describe())
		}
	}
	if !slices.Equal(results[0], results[1]) {
		t.Fatal("parallelism 1 and 4 differ")
	}
}

// TestChainPassThrough checks chaining (source, union and sink in one
// goroutine) and that the output stream holds every row once.
func TestChainPassThrough(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	recs, _, _ := events(1000)
	if _, err := c.EnsureStream(ctx, "EV", nil, true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PublishLines(ctx, "ev.input", strings.NewReader(recs), 0); err != nil {
		t.Fatal(err)
	}
	src := evSource(0, "ev", "EV", time.Hour, 0) // nothing late
	g := &planner.Graph{Job: "pt", Nodes: []*planner.Node{src,
		{ID: 1, Stage: "u", Op: &planner.UnionOp{}, Schema: src.Schema},
		{ID: 2, Stage: "out", Op: &planner.SinkOp{Sink: "out", Stream: "PT", Subject: "pt.out"}, Schema: src.Schema}},
		Edges: []planner.Edge{{From: 0, To: 1}, {From: 1, To: 2}}}
	tp := &tap{}
	e := runBounded(t, c, g, tp)
	if d := e.Describe(); len(d) != 1 || d[0] != "Source[ev] -> Union[u] -> Sink[out] x1" {
		t.Fatalf("groups %q", d)
	}
	if tp.len() != 1000 {
		t.Fatalf("tapped %d", tp.len())
	}
	st, _ := c.JS.Stream(ctx, "PT")
	info, _ := st.Info(ctx)
	if info.State.Msgs != 1000 {
		t.Fatalf("PT holds %d", info.State.Msgs)
	}
}

// TestIdleAndStop: a second, empty source must not hold the watermark back
// once idle; cancelling an unbounded run drains and returns nil.
func TestIdleAndStop(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	for _, s := range []string{"A", "B"} {
		if _, err := c.EnsureStream(ctx, s, nil, true); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "{\"k\":\"x\",\"ts\":%d,\"v\":1}\n", i*100) // 0 .. 9.9s
	}
	if _, err := c.PublishLines(ctx, "a.input", strings.NewReader(b.String()), 0); err != nil {
		t.Fatal(err)
	}
	g := &planner.Graph{Job: "idle", Nodes: []*planner.Node{
		evSource(0, "a", "A", 0, 100*time.Millisecond),
		evSource(1, "b", "B", 0, 100*time.Millisecond),
		{ID: 2, Stage: "u", Op: &planner.UnionOp{}, Schema: evSource(0, "a", "A", 0, 0).Schema},
		{ID: 3, Stage: "counts", Op: &tumbleOp{size: 1000}, Schema: countSchema},
		{ID: 4, Stage: "out", Op: &planner.SinkOp{Sink: "out", Stream: "OUT", Subject: "out.x"}, Schema: countSchema}},
		Edges: []planner.Edge{{From: 0, To: 2}, {From: 1, To: 2, Port: 1}, {From: 2, To: 3, Routing: planner.Hash, Keys: []int{0}}, {From: 3, To: 4}}}
	dlq, err := jetstream.NewDLQ(ctx, c, g.Job, true)
	if err != nil {
		t.Fatal(err)
	}
	tp := &tap{}
	e, err := New(ctx, g, Options{Conn: c, DLQ: dlq, CreateStreams: true, Build: testBuild, Tap: tp.fn})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- e.Run(rctx) }()
	// Watermark 9.9s: windows 0..8 fire once b is idle; window 9 stays open.
	jstest.Eventually(t, 10*time.Second, "windows did not fire with an idle input", func() bool { return tp.len() == 9 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if tp.len() != 9 {
		t.Fatalf("after stop %d rows (open window must not fire)", tp.len())
	}
}

func TestHashKeyStable(t *testing.T) {
	r := udf.Row{udf.Str("abc"), udf.Int(42), udf.Float(-0.0)}
	if h := HashKey(r, []int{0, 1, 2}); h != HashKey(udf.Row{udf.Str("abc"), udf.Int(42), udf.Float(0)}, []int{0, 1, 2}) {
		t.Fatal("-0 and 0 hash differently")
	}
	if HashKey(udf.Row{udf.Str("ab"), udf.Str("c")}, []int{0, 1}) == HashKey(udf.Row{udf.Str("a"), udf.Str("bc")}, []int{0, 1}) {
		t.Fatal("string boundaries ignored")
	}
	// Spread: 10k keys over 4 partitions, each within 10% of a quarter.
	var parts [4]int
	for i := range 10000 {
		parts[Partition(HashKey(udf.Row{udf.Str(fmt.Sprint("key", i))}, []int{0}), 4)]++
	}
	for _, n := range parts {
		if n < 2250 || n > 2750 {
			t.Fatalf("partitions %v", parts)
		}
	}
}

func BenchmarkHashKey(b *testing.B) {
	r := udf.Row{udf.Str("customer-000123456"), udf.Int(42)}
	b.ReportAllocs()
	for b.Loop() {
		HashKey(r, []int{0, 1})
	}
}
