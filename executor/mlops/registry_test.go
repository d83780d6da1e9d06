package mlops

import (
	"encoding/json"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/flowrun/flowrun/executor/jstest"
	"github.com/flowrun/flowrun/executor/registry"
	"github.com/flowrun/flowrun/ml"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

func testRegistry(t *testing.T) (*registry.Registry, *nats.Conn) {
	t.Helper()
	srv := jstest.RunServer(t)
	nc := jstest.Connect(t, srv)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Open(t.Context(), js)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)
	return reg, nc
}

// line fits linear regression on y = k·x.
func line(t *testing.T, k float64) ml.Model {
	a, _ := ml.Lookup("linear_regression")
	m, err := a.New(nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	var X []ml.Vector
	var y []float64
	for i := range 50 {
		X = append(X, ml.Dense([]float64{float64(i)}))
		y = append(y, k*float64(i))
	}
	if err := m.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestHotSwap scores continuously from four goroutines while a new
// version is published and promoted: every score comes from exactly one
// complete version (v1 scores 2·1, v2 scores 2·3), MODEL_VERSION moves from
// 1 to 2, and after the swap only v2 scores.
func TestHotSwap(t *testing.T) {
	reg, _ := testRegistry(t)
	ctx := t.Context()
	meta := registry.VersionMeta{Features: []string{"x"}, Label: "y"}
	if _, err := reg.Publish(ctx, "line", line(t, 1), meta); err != nil {
		t.Fatal(err)
	}
	rt, err := New(nil, Options{Registry: reg, Models: []spec.Model{{Name: "line", Algorithm: "linear_regression", Features: []string{"x"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	args := []udf.Value{udf.Float(2)}
	if v, err := rt.Predict(planner.Predict, "line", args); err != nil || math.Abs(v.F-2) > 1e-6 {
		t.Fatalf("v1 PREDICT = %v, %v", v, err)
	}
	var stop atomic.Bool
	var bad, n1, n2 atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				v, err := rt.Predict(planner.Predict, "line", []udf.Value{udf.Float(2)})
				switch {
				case err != nil:
					bad.Add(1)
				case math.Abs(v.F-2) < 1e-6:
					n1.Add(1)
				case math.Abs(v.F-6) < 1e-6:
					n2.Add(1)
				default:
					bad.Add(1)
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	v2, err := reg.Publish(ctx, "line", line(t, 3), meta)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Promote(ctx, "line", v2); err != nil {
		t.Fatal(err)
	}
	jstest.Eventually(t, 10*time.Second, "version 2 never served", func() bool {
		v, _ := rt.Predict(planner.ModelVersion, "line", nil)
		return v.I == 2
	})
	before := n1.Load()
	time.Sleep(50 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	t.Logf("scores by v1 %d, by v2 %d, other %d", n1.Load(), n2.Load(), bad.Load())
	if bad.Load() != 0 || n2.Load() == 0 || n1.Load() == 0 {
		t.Fatalf("scores by v1 %d, by v2 %d, other %d", n1.Load(), n2.Load(), bad.Load())
	}
	if n1.Load() != before {
		// A call that loaded v1 before the swap may still finish after it,
		// but none may start on v1 once version 2 was seen.
		t.Logf("%d v1 scores finished after the swap was observed", n1.Load()-before)
	}
	if v, _ := rt.Predict(planner.Predict, "line", args); math.Abs(v.F-6) > 1e-6 {
		t.Fatalf("after the swap PREDICT = %v, want 6", v)
	}
}

// TestOnlineCandidatesPublish trains two candidates of an online logistic
// regression on the SMS collection with publishEvery and an evaluation
// window: versions land in the registry with metrics, metrics reports on
// flowrun.metrics.<job>.<model>, and the better candidate is promoted.
func TestOnlineCandidatesPublish(t *testing.T) {
	rows := smsRows(t)[:2000]
	reg, nc := testRegistry(t)
	var reports []Report
	var mu sync.Mutex
	sub, err := nc.Subscribe(MetricsSubject("spam", "spam"), func(m *nats.Msg) {
		var r Report
		if err := json.Unmarshal(m.Data, &r); err == nil {
			mu.Lock()
			reports = append(reports, r)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	model := spec.Model{Name: "spam", Algorithm: "logistic_regression", Features: []string{"words"}, Label: "is_spam",
		Params:     map[string]any{"optimizer": "ftrl", "l2": 0.0},
		Candidates: []map[string]any{{"alpha": 0.01}, {"alpha": 5.0}},
		Training:   &spec.Training{Mode: "online", PublishEvery: "500", Warmup: 20},
		Evaluation: &spec.Evaluation{Metrics: []string{"accuracy", "auc"}, Window: spec.Duration(500 * time.Second)}}
	g, fop, out := spamGraph(model)
	rt, err := New(g, Options{Registry: reg, Publish: func(s string, b []byte) error { return nc.Publish(s, b) }})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	feats, _ := rt.Build(g.Nodes[1], []planner.Schema{fop.Input})
	vecs := run(t, feats, rows).rows
	train, err := rt.Build(g.Nodes[2], []planner.Schema{out})
	if err != nil {
		t.Fatal(err)
	}
	rt.trained["spam"].paired = false // no PREDICT side in this test
	run(t, train, vecs)
	e, err := reg.Get(t.Context(), "spam")
	if err != nil {
		t.Fatal(err)
	}
	// 4 publications (500, 1000, 1500, 2000 rows) × 2 candidates.
	if len(e.Ready()) != 8 {
		t.Fatalf("%d versions, want 8", len(e.Ready()))
	}
	s := rt.Summary().Models[0]
	if s.Best != 1 {
		t.Fatalf("best candidate %d (%v), want 1 (alpha 5)", s.Best, s.Candidates)
	}
	if champ := e.Aliases[registry.Champion]; champ != s.Candidates[1].Version {
		t.Fatalf("champion %d, want candidate 1's version %d", champ, s.Candidates[1].Version)
	}
	promoted := false
	for _, ev := range e.Events {
		promoted = promoted || ev.Action == "promote"
	}
	last := e.Version(s.Candidates[1].Version)
	if !promoted || last.Metrics["accuracy"] < 0.9 || last.Params["alpha"] == nil || len(last.Features) != 8192 {
		t.Fatalf("events %v, version %+v", e.Events, last.VersionMeta.Metrics)
	}
	jstest.Eventually(t, 5*time.Second, "metrics reports", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(reports) >= 2*4+2 // 4 windows of 500 s per candidate, then the run's totals
	})
	t.Logf("summary: %+v", s.Candidates)
}
