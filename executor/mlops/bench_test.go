package mlops

import (
	"fmt"
	"testing"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

type discard struct{}

func (discard) Emit(udf.Row, uint64)                               {}
func (discard) DeadLetter(executor.Class, string, udf.Row, []byte) {}

func benchRows(n int) []udf.Row {
	rows := make([]udf.Row, n)
	for i := range rows {
		x := udf.Float(float64(i%97) * 1.5)
		if i%13 == 0 {
			x = udf.Null
		}
		rows[i] = udf.Row{udf.Str(fmt.Sprintf("k%d", i%500)), udf.Time(int64(i) * 10), x, udf.Str("free prize call now to win")}
	}
	return rows
}

// BenchmarkClean: dedup, median impute and zscore clip per row.
func BenchmarkClean(b *testing.B) {
	in := schema("ts", "k", udf.TypeString, "ts", udf.TypeTimestamp, "x", udf.TypeDouble, "text", udf.TypeString)
	op, err := NewClean(&planner.CleanOp{Input: in, Spec: spec.Clean{Dedup: &spec.Dedup{Key: []string{"k", "ts"}, Within: spec.Duration(1e9)},
		Impute:   []spec.Impute{{Column: "x", Method: "median"}},
		Outliers: []spec.Outlier{{Column: "x", Method: "zscore", Action: "clip"}}}}, in, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	benchOp(b, op, benchRows(1024))
}

// BenchmarkFeaturesTFIDF: a 4096-dim TF-IDF vector per row.
func BenchmarkFeaturesTFIDF(b *testing.B) {
	in := schema("ts", "k", udf.TypeString, "ts", udf.TypeTimestamp, "x", udf.TypeDouble, "text", udf.TypeString)
	out := in
	out.Columns = append(append([]planner.Column(nil), in.Columns...), planner.Column{Name: "w", Type: udf.TypeVector})
	op, err := NewFeatures(&planner.FeaturesOp{Input: in, Spec: []spec.Feature{{TFIDF: &spec.TFIDF{Input: "text", Output: "w", Dims: 4096}}}}, out)
	if err != nil {
		b.Fatal(err)
	}
	benchOp(b, op, benchRows(1024))
}

// BenchmarkFeaturesWindow: per-key window stats with 4 FFT bins.
func BenchmarkFeaturesWindow(b *testing.B) {
	in := schema("ts", "k", udf.TypeString, "ts", udf.TypeTimestamp, "x", udf.TypeDouble, "text", udf.TypeString)
	out := in
	out.Columns = append(append([]planner.Column(nil), in.Columns...), planner.Column{Name: "w", Type: udf.TypeVector})
	op, err := NewFeatures(&planner.FeaturesOp{Input: in, Spec: []spec.Feature{{Window: &spec.WindowFeature{Key: []string{"k"}, Input: "x", Size: 32,
		Stats: []string{"mean", "std", "slope"}, FFT: 4, Output: "w"}}}}, out)
	if err != nil {
		b.Fatal(err)
	}
	benchOp(b, op, benchRows(1024))
}

// BenchmarkTrainOnline: prequential score and learn of a logistic
// regression on 3 numeric features.
func BenchmarkTrainOnline(b *testing.B) {
	in := schema("ts", "ts", udf.TypeTimestamp, "a", udf.TypeDouble, "c", udf.TypeDouble, "y", udf.TypeBool)
	m := spec.Model{Name: "m", Algorithm: "logistic_regression", Features: []string{"a", "c"}, Label: "y"}
	g := &planner.Graph{Job: "b", Nodes: []*planner.Node{{ID: 0, Op: &planner.TrainOp{Model: m, Features: []int{1, 2}, Label: 3}}}}
	rt, err := New(g, Options{})
	if err != nil {
		b.Fatal(err)
	}
	op, err := rt.Build(g.Nodes[0], []planner.Schema{in})
	if err != nil {
		b.Fatal(err)
	}
	rows := make([]udf.Row, 1024)
	for i := range rows {
		a, c := float64(i%17), float64(i%5)
		rows[i] = udf.Row{udf.Time(int64(i)), udf.Float(a), udf.Float(c), udf.Bool(a > 2*c)}
	}
	benchOp(b, op, rows)
}

func benchOp(b *testing.B, op executor.Operator, rows []udf.Row) {
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		batch := &executor.Batch{Rows: make([]udf.Row, len(rows)), IDs: make([]uint64, len(rows))}
		for i, r := range rows {
			batch.Rows[i] = append(udf.Row(nil), r...)
		}
		if err := op.Process(0, batch, discard{}); err != nil {
			b.Fatal(err)
		}
		n += len(rows)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
}
