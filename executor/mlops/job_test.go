package mlops_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flowrun/flowrun/executor/engine"
	fjs "github.com/flowrun/flowrun/executor/jetstream"
	"github.com/flowrun/flowrun/executor/jstest"
	"github.com/flowrun/flowrun/executor/mlops"
	"github.com/flowrun/flowrun/executor/registry"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

const spamJob = `apiVersion: flowrun.dev/v1
kind: Pipeline
metadata:
  name: spam
spec:
  sources:
    - name: sms
      jetstream: {stream: SMS, subjects: ["sms.>"]}
      schema:
        ts: timestamp
        is_spam: bool
        text: string
      eventTime: {column: ts}
  stages:
    - name: messages
      from: sms
      clean:
        dedup: {key: [text], within: 10s}
        filter: len(text) > 0
    - name: vecs
      from: messages
      features:
        - tfidf: {input: text, output: words, dims: 8192}
    - name: scored
      sql: SELECT ts, is_spam, PREDICT_LABEL(spam, words) AS guess, MODEL_VERSION(spam) AS v FROM vecs
  models:
    - name: spam
      algorithm: logistic_regression
      from: vecs
      features: [words]
      label: is_spam
      params: {optimizer: ftrl, alpha: 5.0, l2: 0.0}
      training: {mode: online, warmup: 50, publishEvery: "2000"}
      evaluation: {metrics: [accuracy, auc], window: 10m}
  sinks:
    - name: out
      from: scored
      jetstream: {stream: SCORED, subject: scored.out}
`

// TestSpamJob runs the spam job end to end with the engine's own ML
// hooks (executor/engine/ml_hooks.go): planner, engine on an embedded
// JetStream, clean, features, online training with publication to the
// registry and a SQL stage whose PREDICT_LABEL is paired with the trainer.
func TestSpamJob(t *testing.T) {
	rows := mlops.SMSRows(t)
	ps, ds := spec.Parse("spam.yaml", []byte(spamJob))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	g, ds := planner.Plan(ps[0])
	if g == nil {
		t.Fatal(ds)
	}
	srv := jstest.RunServer(t)
	nc, err := nats.Connect("", nats.InProcessServer(srv))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c, err := fjs.NewConn(nc, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var in strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&in, `{"ts":%d,"is_spam":%v,"text":%q}`+"\n", r[0].I, r[1].AsBool(), r[2].S)
	}
	if _, err := c.EnsureStream(ctx, "SMS", []string{"sms.>"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PublishLines(ctx, "sms.input", strings.NewReader(in.String()), 0); err != nil {
		t.Fatal(err)
	}
	dlq, err := fjs.NewDLQ(ctx, c, g.Job, true)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[int64]bool{}
	var versions []int64
	t0 := time.Now()
	e, err := engine.New(ctx, g, engine.Options{Conn: c, DLQ: dlq, Bounded: true, CreateStreams: true,
		Tap: func(_ string, cols []planner.Column, rs []udf.Row) {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range rs {
				got[r[0].I] = r[2].AsBool() == r[1].AsBool() && r[2].K == udf.TypeBool
				versions = append(versions, r[3].I)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	took := time.Since(t0)
	half := rows[len(rows)/2][0].I
	var ok, n int
	for ts, good := range got {
		if ts >= half {
			n++
			if good {
				ok++
			}
		}
	}
	acc := float64(ok) / float64(n)
	s := e.MLSummary()
	if s == nil {
		t.Fatal("no ML summary")
	}
	t.Logf("%d rows in %v (%.0f rows/s); scored %d, second half accuracy %.4f over %d; counters %v; model %+v",
		len(rows), took.Round(time.Millisecond), float64(len(rows))/took.Seconds(), len(got), acc, n, s.Stages, s.Models[0].Candidates)
	var sum strings.Builder
	s.WriteText(&sum)
	t.Logf("summary:\n%s", sum.String())
	if acc < 0.975 {
		t.Errorf("second-half accuracy %.4f < 0.975", acc)
	}
	reg, err := registry.Open(ctx, c.JS)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	entry, err := reg.Get(ctx, "spam")
	if err != nil {
		t.Fatal(err)
	}
	if src := entry.Latest().Source; src == nil || src.Stream != "SMS" || src.FirstSeq != 1 || src.LastSeq < 5500 {
		t.Errorf("version source %+v, want SMS 1..~5574", src)
	} else {
		t.Logf("version %d learned SMS sequences %d..%d", entry.Latest().Version, src.FirstSeq, src.LastSeq)
	}
	if e.MLSummary().Models[0].Version != 3 {
		t.Errorf("last version %d, want 3", e.MLSummary().Models[0].Version)
	}
	if len(versions) == 0 || versions[len(versions)-1] < 1 {
		t.Errorf("MODEL_VERSION never moved: last %v", versions[len(versions)-1:])
	}
}

func describeGraph(g *planner.Graph) string {
	var b strings.Builder
	for _, n := range g.Nodes {
		fmt.Fprintf(&b, "%d %s %s\n", n.ID, n.Stage, n.Op.Name())
	}
	for _, e := range g.Edges {
		fmt.Fprintf(&b, "%d -> %d\n", e.From, e.To)
	}
	return b.String()
}
