package mlops

import (
	"testing"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

// TestTrainSnapshotRestore: a model restored from a checkpoint taken
// halfway scores the second half exactly like the uninterrupted one.
func TestTrainSnapshotRestore(t *testing.T) {
	in := schema("ts", "ts", udf.TypeTimestamp, "a", udf.TypeDouble, "c", udf.TypeDouble, "y", udf.TypeString)
	m := spec.Model{Name: "m", Algorithm: "logistic_regression", Features: []string{"a", "c"}, Label: "y",
		Params: map[string]any{"optimizer": "adagrad"}}
	var rows []udf.Row
	for i := range 2000 {
		a, c := float64(i%17)-8, float64(i%5)-2
		lab := "no"
		if a > 2*c {
			lab = "yes"
		}
		rows = append(rows, udf.Row{udf.Time(int64(i)), udf.Float(a), udf.Float(c), udf.Str(lab)})
	}
	build := func() (*Runtime, executor.Operator) {
		g := &planner.Graph{Job: "s", Nodes: []*planner.Node{{ID: 0, Op: &planner.TrainOp{Model: m, Features: []int{1, 2}, Label: 3}}}}
		rt, err := New(g, Options{})
		if err != nil {
			t.Fatal(err)
		}
		op, err := rt.Build(g.Nodes[0], []planner.Schema{in})
		if err != nil {
			t.Fatal(err)
		}
		return rt, op
	}
	feed := func(op executor.Operator, rows []udf.Row) {
		b := &executor.Batch{}
		for i, r := range rows {
			b.Append(r, uint64(i))
		}
		if err := op.Process(0, b, &collect{}); err != nil {
			t.Fatal(err)
		}
	}
	rt1, op1 := build()
	defer rt1.Close()
	feed(op1, rows[:1000])
	snap, err := op1.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	rt2, op2 := build()
	defer rt2.Close()
	if err := op2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	for _, part := range [][]udf.Row{rows[1000:1500], rows[1500:]} {
		feed(op1, part)
		feed(op2, part)
		for _, x := range []float64{-3, 0, 4} {
			args := []udf.Value{udf.Float(x), udf.Float(1)}
			p1, _ := rt1.Predict(planner.Predict, "m", args)
			p2, _ := rt2.Predict(planner.Predict, "m", args)
			l1, _ := rt1.Predict(planner.PredictLabel, "m", args)
			l2, _ := rt2.Predict(planner.PredictLabel, "m", args)
			if p1.F != p2.F || l1.S != l2.S || l1.K != udf.TypeString {
				t.Fatalf("x=%v: uninterrupted %v %v, restored %v %v", x, p1, l1, p2, l2)
			}
		}
	}
	if l, _ := rt2.Predict(planner.PredictLabel, "m", []udf.Value{udf.Float(8), udf.Float(-2)}); l.S != "yes" {
		t.Fatalf("PREDICT_LABEL(8, -2) = %v, want yes", l)
	}
}
