package mlops

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

const nabFile = "realKnownCause/machine_temperature_system_failure.csv"

// nabWindows returns the labelled anomaly windows of a NAB file.
func nabWindows(t testing.TB, file string) [][2]int64 {
	b, err := os.ReadFile(filepath.Join(dataDir, "nab/labels/combined_windows.json"))
	if err != nil {
		t.Skip("NAB labels not present")
	}
	var all map[string][][2]string
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	var out [][2]int64
	for _, w := range all[file] {
		a, _ := time.Parse("2006-01-02 15:04:05.000000", w[0])
		z, _ := time.Parse("2006-01-02 15:04:05.000000", w[1])
		out = append(out, [2]int64{a.UnixMilli(), z.UnixMilli()})
	}
	return out
}

func nabRows(t testing.TB, file string) []udf.Row {
	var rows []udf.Row
	for i, l := range lines(t, "nab/data/"+file+".gz") {
		if i == 0 {
			continue
		}
		ts, v, _ := strings.Cut(l, ",")
		tm, err := time.Parse("2006-01-02 15:04:05", ts)
		if err != nil {
			t.Fatal(err)
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, udf.Row{udf.Time(tm.UnixMilli()), udf.Float(f)})
	}
	return rows
}

// TestNABMachineTemperature: window features (stats and FFT magnitudes
// over the last 12 readings (one hour)) feed an online anomaly detector; its
// PREDICT_LABEL flags must hit at least 3 of the 4 labelled anomaly
// windows of the machine temperature series, with few flags elsewhere.
func TestNABMachineTemperature(t *testing.T) {
	nabRun(t, "zscore_anomaly", map[string]any{"window": 500, "threshold": 6.0}, []string{"mean", "std", "min", "max", "slope", "last"}, 4, 12, true)
}

func nabRun(t *testing.T, algo string, params map[string]any, stats []string, fft, size int, strict bool) (int, float64) {
	windows := nabWindows(t, nabFile)
	rows := nabRows(t, nabFile)
	in := schema("ts", "ts", udf.TypeTimestamp, "value", udf.TypeDouble)
	out := in
	out.Columns = append(append([]planner.Column(nil), in.Columns...), planner.Column{Name: "w", Type: udf.TypeVector})
	fop := &planner.FeaturesOp{Input: in, Spec: []spec.Feature{{Window: &spec.WindowFeature{Input: "value", Size: size,
		Stats: stats, FFT: fft, Output: "w"}}}}
	model := spec.Model{Name: "temp", Algorithm: algo, Features: []string{"w"},
		Params:   params,
		Training: &spec.Training{Mode: "online", Warmup: 500}}
	call := &planner.ModelCall{Kind: planner.PredictLabel, Model: "temp", T: udf.TypeBool,
		Args: []planner.Expr{&planner.ColumnRef{Index: 2, Name: "w", T: udf.TypeVector}}}
	g := &planner.Graph{Job: "nab", Nodes: []*planner.Node{
		{ID: 0, Stage: "temps", Op: &planner.SourceOp{Source: "temps", Stream: "TEMPS"}, Schema: in},
		{ID: 1, Stage: "feats", Op: fop, Schema: out},
		{ID: 2, Stage: "temp", Op: &planner.TrainOp{Model: model, Features: []int{2}, Label: -1}},
		{ID: 3, Stage: "flags", Op: &planner.ProjectOp{Exprs: []planner.Expr{call}}},
	}, Edges: []planner.Edge{{From: 0, To: 1}, {From: 1, To: 2}, {From: 1, To: 3}}}
	rt, err := New(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	feats, err := rt.Build(g.Nodes[1], []planner.Schema{in})
	if err != nil {
		t.Fatal(err)
	}
	vecs := run(t, feats, rows).rows
	train, err := rt.Build(g.Nodes[2], []planner.Schema{out})
	if err != nil {
		t.Fatal(err)
	}
	flags := make(chan []bool, 1)
	go func() {
		var f []bool
		for _, r := range vecs {
			v, err := rt.Predict(planner.PredictLabel, "temp", []udf.Value{r[2]})
			if err != nil {
				t.Error(err)
			}
			f = append(f, v.AsBool())
		}
		flags <- f
	}()
	run(t, train, vecs)
	flagged := <-flags
	hit := make([]bool, len(windows))
	var outside, total int
	for i, r := range rows {
		ts := r[0].I
		in := false
		for k, w := range windows {
			if ts >= w[0] && ts <= w[1] {
				in = true
				hit[k] = hit[k] || flagged[i]
			}
		}
		if !in {
			total++
			if flagged[i] {
				outside++
			}
		}
	}
	n := 0
	for _, h := range hit {
		if h {
			n++
		}
	}
	rate := float64(outside) / float64(total)
	if !strict {
		return n, rate
	}
	t.Logf("anomaly windows hit: %d of %d %v; flags outside windows: %d of %d (%.2f%%)", n, len(windows), hit, outside, total, 100*rate)
	if n < 3 {
		t.Errorf("hit %d of %d anomaly windows, want ≥ 3", n, len(windows))
	}
	if rate > 0.02 {
		t.Errorf("%.2f%% of the rows outside anomaly windows flagged, want ≤ 2%%", 100*rate)
	}
	return n, rate
}
