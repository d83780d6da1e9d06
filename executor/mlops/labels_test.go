package mlops_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowrun/flowrun/executor/engine"
	fjs "github.com/flowrun/flowrun/executor/jetstream"
	"github.com/flowrun/flowrun/executor/jstest"
	"github.com/flowrun/flowrun/executor/mlops"
	"github.com/flowrun/flowrun/executor/registry"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

// levelSource is the source of the string-label jobs: a reading x and its
// level, "low" (x near 0), "mid" (near 10) or "high" (near 20).
const levelSource = `apiVersion: flowrun.dev/v1
kind: Pipeline
metadata:
  name: %s
spec:
  sources:
    - name: readings
      jetstream: {stream: READINGS, subjects: ["readings.>"]}
      schema: {ts: timestamp, x: double, level: string}
      eventTime: {column: ts}
`

// levelTrainJob trains a naive Bayes classifier on the string label level
// and scores the same rows with PREDICT_LABEL (paired: each row before it
// is learned).
const levelTrainJob = levelSource + `  stages:
    - name: scored
      sql: SELECT ts, level, PREDICT_LABEL(levels, x) AS guess FROM readings
  models:
    - name: levels
      algorithm: naive_bayes
      from: readings
      features: [x]
      label: level
      training: {mode: online, warmup: 10}
  sinks:
    - name: out
      from: scored
      jetstream: {stream: SCORED_%[1]s, subject: scored.%[1]s}
`

// levelScoreJob only scores the registry's version of the model.
const levelScoreJob = levelSource + `  stages:
    - name: scored
      sql: SELECT ts, level, PREDICT_LABEL(levels, x) AS guess, MODEL_VERSION(levels) AS v FROM readings
  models:
    - name: levels
      algorithm: naive_bayes
      from: readings
      features: [x]
      label: level
      training: {mode: batch}
  sinks:
    - name: out
      from: scored
      jetstream: {stream: SCORED_%[1]s, subject: scored.%[1]s}
`

// levelRows are n readings: level i%3, x = 10·level + a small offset.
func levelRows(n int) string {
	var b strings.Builder
	names := []string{"low", "mid", "high"}
	for i := range n {
		fmt.Fprintf(&b, `{"ts":%d,"x":%g,"level":%q}`+"\n", 1_700_000_000_000+int64(i)*1000, float64(10*(i%3))+float64(i%7)*0.1, names[i%3])
	}
	return b.String()
}

// runLevelJob plans and runs one job over the READINGS stream and returns
// the scored rows by ts.
func runLevelJob(t *testing.T, ctx context.Context, c *fjs.Conn, src string) map[int64]udf.Row {
	t.Helper()
	ps, ds := spec.Parse("job.yaml", []byte(src))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	g, ds := planner.Plan(ps[0])
	if g == nil {
		t.Fatal(ds)
	}
	dlq, err := fjs.NewDLQ(ctx, c, g.Job, true)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[int64]udf.Row{}
	e, err := engine.New(ctx, g, engine.Options{Conn: c, DLQ: dlq, Bounded: true, CreateStreams: true,
		Tap: func(_ string, cols []planner.Column, rs []udf.Row) {
			mu.Lock()
			defer mu.Unlock()
			if cols[2].Type != udf.TypeString {
				t.Errorf("PREDICT_LABEL column %s is %s, want string", cols[2].Name, cols[2].Type)
			}
			for _, r := range rs {
				got[r[0].I] = append(udf.Row(nil), r...)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestStringLabelsAcrossJobs trains a classifier on string labels in one
// job and scores its registry version in another: PREDICT_LABEL returns
// the label strings in both (the same for the same rows), the version
// records the labels, and a version published without labels (as before
// they were recorded) still loads and returns class numbers.
func TestStringLabelsAcrossJobs(t *testing.T) {
	srv := jstest.RunServer(t)
	nc := jstest.Connect(t, srv)
	c, err := fjs.NewConn(nc, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	const n = 300
	if _, err := c.EnsureStream(ctx, "READINGS", []string{"readings.>"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PublishLines(ctx, "readings.in", strings.NewReader(levelRows(n)), 0); err != nil {
		t.Fatal(err)
	}

	// (a) In the training job, PREDICT_LABEL returns the labels (NULL
	// during the warmup), right once the classes were seen a few times.
	trained := runLevelJob(t, ctx, c, fmt.Sprintf(levelTrainJob, "train"))
	if len(trained) != n {
		t.Fatalf("training job scored %d rows, want %d", len(trained), n)
	}
	right := 0
	for ts, r := range trained {
		if r[2].K == udf.TypeNull {
			continue
		}
		if r[2].K != udf.TypeString {
			t.Fatalf("row %d: PREDICT_LABEL = %v (%s), want a string", ts, r[2], r[2].K)
		}
		if r[2].S == r[1].S {
			right++
		}
	}
	if right < n-20 {
		t.Fatalf("training job: %d of %d labels right", right, n)
	}

	reg, err := registry.Open(ctx, c.JS)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	l, err := reg.LoadCurrent(ctx, "levels")
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Meta.Labels.String(); got != "low, mid, high (string)" {
		t.Fatalf("version %d labels %q, want low, mid, high (string)", l.Version, got)
	}

	// (b) A job that only scores the registry version returns the same
	// strings for the same rows (every row, the model being final).
	scored := runLevelJob(t, ctx, c, fmt.Sprintf(levelScoreJob, "score"))
	if len(scored) != n {
		t.Fatalf("scoring job scored %d rows, want %d", len(scored), n)
	}
	for ts, r := range scored {
		if r[2].K != udf.TypeString || r[2].S != r[1].S || r[3].I != int64(l.Version) {
			t.Fatalf("scoring job row %d: level %v, PREDICT_LABEL %v (%s) by version %v", ts, r[1], r[2], r[2].K, r[3])
		}
		if tr := trained[ts]; ts >= 1_700_000_000_000+30_000 && (tr[2].K != r[2].K || tr[2].S != r[2].S) {
			t.Fatalf("row %d: training job says %v, scoring job %v", ts, tr[2], r[2])
		}
	}

	// (c) A version without labels loads and PREDICT_LABEL returns its
	// class numbers (classes in order of appearance: low 0, mid 1, high 2),
	// as the plan's type (string) in a job and as numbers without a plan.
	v, err := reg.Publish(ctx, "levels", l.Model, registry.VersionMeta{Features: l.Meta.Features, Label: "level"})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Promote(ctx, "levels", v); err != nil {
		t.Fatal(err)
	}
	old := runLevelJob(t, ctx, c, fmt.Sprintf(levelScoreJob, "old"))
	class := map[string]string{"low": "0", "mid": "1", "high": "2"}
	for ts, r := range old {
		if r[2].K != udf.TypeString || r[2].S != class[r[1].S] || r[3].I != int64(v) {
			t.Fatalf("old-version row %d: level %v, PREDICT_LABEL %v by version %v; want class %s by %d", ts, r[1], r[2], r[3], class[r[1].S], v)
		}
	}
	rt, err := mlops.New(nil, mlops.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if got, err := rt.Predict(planner.PredictLabel, "levels", []udf.Value{udf.Float(20)}); err != nil || got.K != udf.TypeDouble || got.F != 2 {
		t.Fatalf("PREDICT_LABEL of the version without labels = %v (%s), %v; want 2", got, got.K, err)
	}
	if err := reg.Promote(ctx, "levels", l.Version); err != nil {
		t.Fatal(err)
	}
	jstest.Eventually(t, 10*time.Second, "the labelled version never served", func() bool {
		got, _ := rt.Predict(planner.PredictLabel, "levels", []udf.Value{udf.Float(20)})
		return got.K == udf.TypeString && got.S == "high"
	})
}
