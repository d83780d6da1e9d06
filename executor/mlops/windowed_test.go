package mlops

import (
	"strings"
	"testing"
	"time"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

// TestWindowedRetrain: mode windowed fits a new model on each tumbling
// window; PREDICT is NULL until the first window closes, then scores with
// the model of the last closed window, which follows a concept that flips
// between windows.
func TestWindowedRetrain(t *testing.T) {
	in := schema("ts", "ts", udf.TypeTimestamp, "x", udf.TypeDouble, "y", udf.TypeBool)
	model := spec.Model{Name: "flip", Algorithm: "logistic_regression", Features: []string{"x"}, Label: "y",
		Params:   map[string]any{"optimizer": "lbfgs"},
		Training: &spec.Training{Mode: "windowed", Window: spec.Duration(time.Minute)}}
	g := &planner.Graph{Job: "w", Nodes: []*planner.Node{{ID: 0, Op: &planner.TrainOp{Model: model, Features: []int{1}, Label: 2}}}}
	rt, err := New(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	op, err := rt.Build(g.Nodes[0], []planner.Schema{in})
	if err != nil {
		t.Fatal(err)
	}
	c := &collect{}
	score := func(x float64) udf.Value {
		v, err := rt.Predict(planner.PredictLabel, "flip", []udf.Value{udf.Float(x)})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for w := range 3 {
		b := &executor.Batch{}
		for i := range 200 {
			x := float64(i%20) - 10
			y := x > 0
			if w == 1 {
				y = !y // the concept flips in the second minute
			}
			b.Append(udf.Row{udf.Time(int64(w)*60000 + int64(i)*250), udf.Float(x), udf.Bool(y)}, uint64(i))
		}
		if w == 0 && !score(5).IsNull() {
			t.Fatal("PREDICT before the first window closed is not NULL")
		}
		if err := op.Process(0, b, c); err != nil {
			t.Fatal(err)
		}
		if err := op.OnWatermark(int64(w+1)*60000, c); err != nil {
			t.Fatal(err)
		}
		// Now the model of window w scores.
		want := w != 1
		if got := score(5); got.K != udf.TypeBool || got.AsBool() != want {
			t.Fatalf("after window %d: PREDICT_LABEL(5) = %v, want %v", w, got, want)
		}
	}
	if err := op.Close(c); err != nil {
		t.Fatal(err)
	}
	if s := rt.Summary().Models[0]; s.Learned != 600 {
		t.Fatalf("learned %d rows, want 600", s.Learned)
	}
}

// TestDriftAndOnlineTuning: a Page-Hinkley detector trained in the job
// flags the row where the level jumps (PREDICT_LABEL true there only) and
// publishes a drift event; tuning: on an online model becomes candidates.
func TestDriftAndOnlineTuning(t *testing.T) {
	in := schema("ts", "ts", udf.TypeTimestamp, "v", udf.TypeDouble)
	model := spec.Model{Name: "level", Algorithm: "page_hinkley", Features: []string{"v"}}
	g := &planner.Graph{Job: "d", Nodes: []*planner.Node{{ID: 0, Op: &planner.TrainOp{Model: model, Features: []int{1}, Label: -1}}}}
	var events []string
	rt, err := New(g, Options{Publish: func(s string, b []byte) error { events = append(events, s+" "+string(b)); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	op, err := rt.Build(g.Nodes[0], []planner.Schema{in})
	if err != nil {
		t.Fatal(err)
	}
	first := -1
	for i := range 2000 {
		v := 10.0 + float64(i%3)*0.1
		if i >= 1000 {
			v += 50
		}
		b := &executor.Batch{}
		b.Append(udf.Row{udf.Time(int64(i) * 1000), udf.Float(v)}, uint64(i))
		if err := op.Process(0, b, &collect{}); err != nil {
			t.Fatal(err)
		}
		if l, _ := rt.Predict(planner.PredictLabel, "level", []udf.Value{udf.Float(v)}); l.AsBool() && first < 0 {
			first = i
		}
	}
	if first < 1000 || first > 1100 {
		t.Fatalf("first drift at row %d, want soon after 1000", first)
	}
	if len(events) == 0 || !strings.HasPrefix(events[0], "flowrun.drift.d.level ") {
		t.Fatalf("drift events %v", events)
	}
	if n := rt.Counters("level").Snapshot()["drifts"]; n < 1 {
		t.Fatalf("drifts counter %d", n)
	}

	tuned := spec.Model{Name: "tuned", Algorithm: "logistic_regression", Features: []string{"v"}, Label: "y",
		Tuning: &spec.Tuning{Method: "grid", Params: map[string]any{"alpha": []any{0.1, 1.0, 5.0}}, Metric: "logloss"}}
	jm, err := newJobModel(&tuned)
	if err != nil {
		t.Fatal(err)
	}
	if len(jm.cands) != 3 || jm.primary != "logloss" || jm.cands[2].params["alpha"] != 5.0 {
		t.Fatalf("candidates %d, primary %s, %v", len(jm.cands), jm.primary, jm.cands[2].params)
	}
}
