package jetstream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	jsapi "github.com/nats-io/nats.go/jetstream"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/jstest"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

func testConn(t *testing.T) *Conn { return testConnB(t) }

func testConnB(t testing.TB) *Conn { return testConnMax(t, 0) }

// testConnMax connects to a fresh embedded server with at most
// maxPending outstanding publishes (0: the default).
func testConnMax(t testing.TB, maxPending int) *Conn {
	t.Helper()
	srv := jstest.RunServer(t)
	nc, err := nats.Connect("", nats.InProcessServer(srv))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	c, err := NewConn(nc, maxPending)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sourceNode(op *planner.SourceOp) *planner.Node {
	cols := make([]planner.Column, len(op.Columns))
	et := -1
	for j, ci := range op.Columns {
		d := op.Decl[ci]
		cols[j] = planner.Column{Name: d.Name, Type: d.Type, Nullable: d.Nullable}
		if d.Type == udf.TypeTimestamp && et < 0 {
			et = j
		}
	}
	return &planner.Node{ID: 0, Stage: op.Source, Op: op, Parallelism: 1, Schema: planner.Schema{Columns: cols, EventTime: et}}
}

// drain runs src to end-of-input and returns what it emitted.
func drain(t *testing.T, src *Source) (rows []udf.Row, ids []uint64, wms []int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	eoi := false
	err := src.Run(ctx, func(m executor.Message) error {
		switch m.Kind {
		case executor.MsgData:
			rows = append(rows, m.Batch.Rows...)
			ids = append(ids, m.Batch.IDs...)
		case executor.MsgWatermark:
			wms = append(wms, m.Watermark)
		case executor.MsgEndOfInput:
			eoi = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !eoi {
		t.Fatal("no end-of-input")
	}
	return rows, ids, wms
}

type dlqMsg struct {
	class, reason, stage, subject, seq, data string
}

// readDLQ reads every message of FLOWRUN_DLQ.
func readDLQ(t *testing.T, c *Conn, want int) []dlqMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cons, err := c.JS.OrderedConsumer(ctx, DLQStream, jsapi.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out []dlqMsg
	for len(out) < want {
		m, err := cons.Next(jsapi.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatalf("after %d dead letters: %v", len(out), err)
		}
		h := m.Headers()
		out = append(out, dlqMsg{h.Get(HeaderClass), h.Get(HeaderReason), h.Get(HeaderStage), h.Get(HeaderSubject), h.Get(HeaderSeq), string(m.Data())})
	}
	info, err := c.JS.Stream(ctx, DLQStream)
	if err != nil {
		t.Fatal(err)
	}
	if n := info.CachedInfo().State.Msgs; n != uint64(want) {
		t.Fatalf("DLQ holds %d messages, want %d", n, want)
	}
	return out
}

func TestSourceDecodeDLQ(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	good := func(i int) string {
		return fmt.Sprintf(`{"id":%d,"name":"n%d","amount":%d.5,"ts":%d}`, i, i, i, 1000*i)
	}
	bad := map[int]struct {
		rec, class, reason string
	}{
		3:  {`{"id":3,"name":"b",`, "decode", "invalid JSON at byte 19: want object key"},
		5:  {`{"id":"five","name":"x","amount":1,"ts":5000}`, "type", `column "id": want bigint, got string`},
		8:  {`{"id":8,"amount":1,"ts":8000}`, "type", `column "name": missing (not nullable)`},
		11: {`{"id":1e30,"name":"x","amount":1,"ts":11000}`, "type", `column "id": 1e30 out of range for bigint`},
		13: {"{\"id\":13,\"name\":\"\xc3\x28\",\"amount\":1,\"ts\":13000}", "decode", "invalid UTF-8"},
		17: {`{"id":17,"name":"` + strings.Repeat("y", 600) + `","amount":1,"ts":17000}`, "oversize", "record is 641 bytes, more than the limit of 512"},
	}
	const n = 1200
	var recs []string
	for i := 1; i <= n; i++ {
		if b, ok := bad[i]; ok {
			recs = append(recs, b.rec)
		} else {
			recs = append(recs, good(i))
		}
	}
	op := testSourceOp("json")
	op.Columns = []int{0, 1, 2, 4}
	node := sourceNode(op)
	if _, err := c.EnsureStream(ctx, "ORDERS", op.Subjects, true); err != nil {
		t.Fatal(err)
	}
	if k, err := c.PublishLines(ctx, "orders.in", strings.NewReader(strings.Join(recs, "\n")+"\n"), 0); err != nil || k != n {
		t.Fatalf("published %d, %v", k, err)
	}
	dlq, err := NewDLQ(ctx, c, "job1", true)
	if err != nil {
		t.Fatal(err)
	}
	var tapped []DeadLetter
	dlq.SetTap(func(d DeadLetter) { tapped = append(tapped, d) })
	stats := executor.NewStats("orders")
	src, err := NewSource(ctx, c, "job1", node, SourceOptions{Bounded: true, DLQ: dlq, MaxRecord: 512, Batch: 100, Stats: stats})
	if err != nil {
		t.Fatal(err)
	}
	rows, ids, wms := drain(t, src)

	// Good rows unchanged, in order; nothing lost.
	if len(rows)+len(bad) != n {
		t.Fatalf("rows %d + dead letters %d != %d records", len(rows), len(bad), n)
	}
	k := 0
	for i := 1; i <= n; i++ {
		if _, ok := bad[i]; ok {
			continue
		}
		want := udf.Row{udf.Int(int64(i)), udf.Str(fmt.Sprintf("n%d", i)), udf.Float(float64(i) + 0.5), udf.Time(int64(1000 * i))}
		for j := range want {
			if !udf.Equal(rows[k][j], want[j]) {
				t.Fatalf("row %d col %d = %v, want %v", k, j, rows[k][j], want[j])
			}
		}
		if ids[k] != RowID("ORDERS", uint64(i)) {
			t.Fatalf("row %d id %x", k, ids[k])
		}
		k++
	}
	if !slices.IsSorted(wms) || wms[len(wms)-1] != 1000*n {
		t.Fatalf("watermarks %v", wms)
	}
	if stats.In.Load() != n || stats.EventTime.Load() != executor.MaxWatermark {
		t.Fatalf("stats in %d, event time %d", stats.In.Load(), stats.EventTime.Load())
	}

	// Exact DLQ contents, in stream order.
	got := readDLQ(t, c, len(bad))
	var seqs []int
	for s := range bad {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	for i, s := range seqs {
		b := bad[s]
		want := dlqMsg{b.class, b.reason, "orders", "orders.in", fmt.Sprint(s), b.rec}
		if got[i] != want {
			t.Errorf("dead letter %d:\n got %+v\nwant %+v", i, got[i], want)
		}
	}
	if len(tapped) != len(bad) || dlq.Count("orders", "") != int64(len(bad)) || dlq.Count("orders", executor.ClassType) != 3 {
		t.Fatalf("tap %d, counts %v", len(tapped), dlq.Counts())
	}

	// A second bounded run of the same durable finds nothing new.
	src2, err := NewSource(ctx, c, "job1", node, SourceOptions{Bounded: true, DLQ: dlq})
	if err != nil {
		t.Fatal(err)
	}
	if rows, _, _ := drain(t, src2); len(rows) != 0 {
		t.Fatalf("second run read %d rows", len(rows))
	}
}

func TestSourceLateAndCSV(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	op := &planner.SourceOp{Source: "ev", Stream: "EV", Format: "csv",
		Decl:              []spec.Column{{Name: "k", Type: udf.TypeString}, {Name: "ts", Type: udf.TypeTimestamp}},
		Columns:           []int{0, 1},
		MaxOutOfOrderness: spec.Duration(2 * time.Second)}
	node := sourceNode(op)
	if _, err := c.EnsureStream(ctx, "EV", nil, true); err != nil {
		t.Fatal(err)
	}
	in := "k,ts\na,10000\nb,5000\nc,7000\nd,20000\ne,17999\nf,18000\n"
	if _, err := c.PublishLines(ctx, InputSubject("EV", nil), strings.NewReader(in), 1); err != nil {
		t.Fatal(err)
	}
	dlq, err := NewDLQ(ctx, c, "j", true)
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewSource(ctx, c, "j", node, SourceOptions{Bounded: true, DLQ: dlq, CreateStreams: true})
	if err != nil {
		t.Fatal(err)
	}
	rows, _, _ := drain(t, src)
	var keys []string
	for _, r := range rows {
		keys = append(keys, r[0].S)
	}
	// Watermark after a = 8000: b (5000) is late, c (7000) too; after d it
	// is 18000: e is late, f is not.
	if strings.Join(keys, "") != "adf" {
		t.Fatalf("kept %v", keys)
	}
	got := readDLQ(t, c, 3)
	if got[0].class != "late" || got[0].data != "b,5000" || !strings.Contains(got[0].reason, "before the watermark 1970-01-01T00:00:08.000Z") {
		t.Fatalf("first late: %+v", got[0])
	}
}

func TestSourceMissingStream(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	dlq, err := NewDLQ(ctx, c, "j", true)
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewSource(ctx, c, "j", sourceNode(testSourceOp("json")), SourceOptions{DLQ: dlq})
	if !errors.Is(err, ErrNoStream) {
		t.Fatalf("err = %v, want ErrNoStream", err)
	}
}

func TestSinkDedup(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	node := &planner.Node{ID: 3, Stage: "out", Op: &planner.SinkOp{Sink: "out", Stream: "OUT", Subject: "out.rows"}}
	in := planner.Schema{Columns: []planner.Column{{Name: "k", Type: udf.TypeString}, {Name: "n", Type: udf.TypeBigint}}, EventTime: -1}
	var tapped int
	sink, err := NewSink(ctx, c, "job1", node, in, SinkOptions{CreateStreams: true, Tap: func(_ string, _ []planner.Column, rows []udf.Row) { tapped += len(rows) }})
	if err != nil {
		t.Fatal(err)
	}
	batch := func() *executor.Batch {
		b := &executor.Batch{}
		for i := range 300 {
			b.Append(udf.Row{udf.Str(fmt.Sprint("k", i)), udf.Int(int64(i))}, uint64(1000+i))
		}
		return b
	}
	for range 2 { // the same batch twice: a replay
		if err := sink.Process(0, batch(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(nil); err != nil {
		t.Fatal(err)
	}
	st, err := c.JS.Stream(ctx, "OUT")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 300 {
		t.Fatalf("stream holds %d messages, want 300", info.State.Msgs)
	}
	m, err := st.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if id := m.Header.Get(nats.MsgIdHdr); id != "job1.out.00000000000003e8" || string(m.Data) != `{"k":"k0","n":0}` {
		t.Fatalf("first message %q %s", id, m.Data)
	}
	if tapped != 600 {
		t.Fatalf("tapped %d", tapped)
	}
}

func TestSinkKV(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	node := &planner.Node{ID: 3, Stage: "totals", Op: &planner.SinkOp{Sink: "totals", Bucket: "totals", Key: []int{0}}}
	in := planner.Schema{Columns: []planner.Column{{Name: "k", Type: udf.TypeString}, {Name: "n", Type: udf.TypeBigint}}, EventTime: -1}
	sink, err := NewSink(ctx, c, "job1", node, in, SinkOptions{CreateStreams: true})
	if err != nil {
		t.Fatal(err)
	}
	b := &executor.Batch{}
	b.Append(udf.Row{udf.Str("a.b c"), udf.Int(1)}, 1)
	b.Append(udf.Row{udf.Str("a.b c"), udf.Int(2)}, 2)
	if err := sink.Process(0, b, nil); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(nil); err != nil {
		t.Fatal(err)
	}
	kv, err := c.JS.KeyValue(ctx, "totals")
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, "a_b_c")
	if err != nil {
		t.Fatal(err)
	}
	if string(e.Value()) != `{"k":"a.b c","n":2}` {
		t.Fatalf("kv value %s", e.Value())
	}
}
