package mlops

import (
	"fmt"
	"math"
	"testing"

	"github.com/flowrun/flowrun/ml"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

// featuresOp builds a Features operator whose output schema appends the
// given columns to in (replacing same-named ones), as the planner does.
func featuresOp(t *testing.T, fs []spec.Feature, in planner.Schema, outs ...any) *Features {
	t.Helper()
	out := in
	out.Columns = append([]planner.Column(nil), in.Columns...)
	for i := 0; i < len(outs); i += 2 {
		c := planner.Column{Name: outs[i].(string), Type: outs[i+1].(udf.Type)}
		if j := index(out, c.Name)[0]; j >= 0 {
			out.Columns[j] = c
		} else {
			out.Columns = append(out.Columns, c)
		}
	}
	op, err := NewFeatures(&planner.FeaturesOp{Spec: fs, Input: in}, out)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

func TestFeaturesAgainstML(t *testing.T) {
	in := schema("", "k", udf.TypeString, "x", udf.TypeDouble, "text", udf.TypeString, "c", udf.TypeString)
	var rows []udf.Row
	texts := []string{"free prize call now", "see you at lunch", "call me later", "win a free prize now now", "lunch?"}
	for i := range 300 {
		rows = append(rows, udf.Row{udf.Str(fmt.Sprintf("k%d", i%3)), udf.Float(math.Sin(float64(i)/5)*10 + float64(i%7)),
			udf.Str(texts[i%len(texts)]), udf.Str(fmt.Sprintf("c%d", i%11))})
	}
	op := featuresOp(t, []spec.Feature{
		{TFIDF: &spec.TFIDF{Input: "text", Output: "words", Dims: 64, Ngrams: 2}},
		{Scale: &spec.Scale{Inputs: []string{"x"}, Outputs: []string{"xs"}}},
		{Scale: &spec.Scale{Inputs: []string{"x"}, Method: "minmax", Outputs: []string{"xm"}}},
		{OneHot: &spec.OneHot{Input: "c", Output: "cv", MaxCategories: 8}},
		{Hash: &spec.HashFeature{Inputs: []string{"k", "c"}, Dims: 32, Output: "h"}},
		{Window: &spec.WindowFeature{Key: []string{"k"}, Input: "x", Size: 16, Stats: []string{"mean", "std", "slope"}, Lags: 2, FFT: 4, Output: "w"}},
	}, in, "words", udf.TypeVector, "xs", udf.TypeDouble, "xm", udf.TypeDouble, "cv", udf.TypeVector, "h", udf.TypeVector, "w", udf.TypeVector)
	src := make([]udf.Row, len(rows))
	for i, r := range rows {
		src[i] = append(udf.Row(nil), r...)
	}
	got := run(t, op, src).rows

	tf := ml.NewTFIDF(64, 2)
	var std ml.StandardScaler
	var mm ml.MinMaxScaler
	oh := ml.NewOneHot(8)
	hs := ml.NewHasher(32, false)
	wins := map[string]*ml.Window{}
	for i, r := range rows {
		g := got[i]
		if len(g) != 10 {
			t.Fatalf("row %d has %d columns", i, len(g))
		}
		tf.Learn(r[2].S)
		same(t, i, "tfidf", g[4].V, tf.Transform(r[2].S).AppendDense(nil, 64))
		std.Learn([]float64{r[1].F})
		same(t, i, "scale", []float64{g[5].F}, std.Transform(nil, []float64{r[1].F}))
		mm.Learn([]float64{r[1].F})
		same(t, i, "minmax", []float64{g[6].F}, mm.Transform(nil, []float64{r[1].F}))
		oh.Learn(r[3].S)
		same(t, i, "onehot", g[7].V, oh.Transform(r[3].S).AppendDense(nil, oh.Dim()))
		same(t, i, "hash", g[8].V, hs.Transform([]string{"k", "c"}, []string{r[0].S, r[3].S}).AppendDense(nil, 32))
		w := wins[r[0].S]
		if w == nil {
			w, _ = ml.NewWindow(16, []string{"mean", "std", "slope"}, 2, 4)
			wins[r[0].S] = w
		}
		w.Push(r[1].F)
		same(t, i, "window", g[9].V, w.Features(nil))
	}
	// More than 8 categories: c8, c9 and c10 go to the "other" slot.
	if rows[10][3].S != "c10" || got[10][7].V[8] != 1 {
		t.Error("category beyond maxCategories not in the other slot")
	}
}

func same(t *testing.T, row int, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("row %d %s: %d values, want %d", row, what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("row %d %s[%d] = %v, want %v", row, what, i, got[i], want[i])
		}
	}
}

func TestFeaturesSnapshotRestore(t *testing.T) {
	in := schema("", "x", udf.TypeDouble, "c", udf.TypeString)
	fs := []spec.Feature{{Scale: &spec.Scale{Inputs: []string{"x"}}}, {OneHot: &spec.OneHot{Input: "c", Output: "cv"}}}
	op := featuresOp(t, fs, in, "cv", udf.TypeVector)
	var rows []udf.Row
	for i := range 50 {
		rows = append(rows, udf.Row{udf.Float(float64(i)), udf.Str(fmt.Sprint(i % 4))})
	}
	run(t, op, rows[:25])
	snap, err := op.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	op2 := featuresOp(t, fs, in, "cv", udf.TypeVector)
	if err := op2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	a, b := run(t, op, clone(rows[25:])).rows, run(t, op2, clone(rows[25:])).rows
	for i := range a {
		same(t, i, "scale", []float64{a[i][0].F}, []float64{b[i][0].F})
		same(t, i, "onehot", a[i][2].V, b[i][2].V)
	}
}

func clone(rows []udf.Row) []udf.Row {
	out := make([]udf.Row, len(rows))
	for i, r := range rows {
		out[i] = append(udf.Row(nil), r...)
	}
	return out
}

// TestFeaturesWindowDuration: a window over the last 10 s of event time
// holds only the points of those 10 s (at most size of them).
func TestFeaturesWindowDuration(t *testing.T) {
	in := schema("ts", "ts", udf.TypeTimestamp, "x", udf.TypeDouble)
	op := featuresOp(t, []spec.Feature{{Window: &spec.WindowFeature{Input: "x", Size: 8, Duration: spec.Duration(10e9),
		Stats: []string{"count", "mean", "min"}, Output: "w"}}}, in, "w", udf.TypeVector)
	var rows []udf.Row
	for i := range 40 {
		rows = append(rows, udf.Row{udf.Time(int64(i) * 3000), udf.Float(float64(i))}) // a point every 3 s
	}
	got := run(t, op, rows).rows
	for i, r := range got {
		// Points in (t−10 s, t]: i, i−1, i−2, i−3 (9 s ago) — 4 once warm.
		n := min(i+1, 4)
		lo := float64(i - n + 1)
		want := []float64{float64(n), lo + float64(n-1)/2, lo}
		same(t, i, "duration window", r[2].V, want)
	}
	if _, err := NewFeatures(&planner.FeaturesOp{Input: schema("", "x", udf.TypeDouble), Spec: []spec.Feature{{Window: &spec.WindowFeature{
		Input: "x", Duration: spec.Duration(1e9), Output: "w"}}}}, schema("", "x", udf.TypeDouble, "w", udf.TypeVector)); err == nil {
		t.Fatal("a duration window without event time was accepted")
	}
}
