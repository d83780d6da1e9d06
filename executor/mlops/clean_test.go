package mlops

import (
	"math"
	"sort"
	"testing"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

func cleanOp(t *testing.T, c spec.Clean, in planner.Schema) (*Clean, *Counters) {
	t.Helper()
	out := in
	out.Columns = append([]planner.Column(nil), in.Columns...)
	for _, o := range c.Outliers {
		if o.Action == "flag" {
			out.Columns = append(out.Columns, planner.Column{Name: o.Column + "_outlier", Type: udf.TypeBool})
		}
	}
	cnt := NewCounters("clean")
	op, err := NewClean(&planner.CleanOp{Spec: c, Input: in}, out, nil, cnt)
	if err != nil {
		t.Fatal(err)
	}
	return op, cnt
}

func TestCleanDedup(t *testing.T) {
	in := schema("ts", "id", udf.TypeString, "ts", udf.TypeTimestamp)
	op, cnt := cleanOp(t, spec.Clean{Dedup: &spec.Dedup{Key: []string{"id"}, Within: spec.Duration(10e9)}, DeadLetter: true}, in)
	rows := []udf.Row{
		{udf.Str("a"), udf.Time(0)},
		{udf.Str("b"), udf.Time(1000)},
		{udf.Str("a"), udf.Time(5000)},  // dup of a@0 within 10s
		{udf.Str("a"), udf.Time(10000)}, // dup, exactly at the bound
		{udf.Str("b"), udf.Time(12000)}, // 11s after b@1000: kept
		{udf.Str("a"), udf.Time(10001)}, // 10.001s after a@0: kept
		{udf.Str("c"), udf.Time(20000)},
		{udf.Str("c"), udf.Time(20000)},
	}
	c := &collect{}
	b := &executor.Batch{}
	for i, r := range rows[:4] {
		b.Append(r, uint64(i))
	}
	if err := op.Process(0, b, c); err != nil {
		t.Fatal(err)
	}
	// The watermark passes a@0 + 10s: the key is forgotten.
	if err := op.OnWatermark(10500, c); err != nil {
		t.Fatal(err)
	}
	if _, ok := op.dedup.Seen[string(keyOf(nil, rows[0], []int{0}))]; ok {
		t.Error("key a not expired after the watermark passed its bound")
	}
	b = &executor.Batch{}
	for i, r := range rows[4:] {
		b.Append(r, uint64(i+4))
	}
	if err := op.Process(0, b, c); err != nil {
		t.Fatal(err)
	}
	want := []uint64{0, 1, 4, 5, 6}
	if len(c.ids) != len(want) {
		t.Fatalf("kept ids %v, want %v", c.ids, want)
	}
	for i := range want {
		if c.ids[i] != want[i] {
			t.Fatalf("kept ids %v, want %v", c.ids, want)
		}
	}
	if n := cnt.Snapshot()["dedup_dropped"]; n != 3 || len(c.dead) != 3 || c.class[0] != executor.ClassClean {
		t.Errorf("dedup_dropped %d, dead letters %d %v", n, len(c.dead), c.class)
	}
}

func TestCleanImpute(t *testing.T) {
	in := schema("", "k", udf.TypeString, "x", udf.TypeDouble, "n", udf.TypeBigint, "s", udf.TypeString)
	var rows []udf.Row
	for i := range 400 {
		r := udf.Row{udf.Str([]string{"p", "q"}[i%2]), udf.Float(float64(i%37) + float64(i%2)*0.5), udf.Int(int64(i % 5)), udf.Str([]string{"u", "v", "v"}[i%3])}
		if i%7 == 3 {
			r[1], r[2], r[3] = udf.Null, udf.Null, udf.Null
		}
		rows = append(rows, r)
	}
	cases := []struct {
		name   string
		imp    spec.Impute
		col    int
		oracle func(prev []float64, keyPrev []float64) float64
	}{
		{"mean", spec.Impute{Column: "x", Method: "mean"}, 1, func(p, _ []float64) float64 { return mean(p) }},
		{"median", spec.Impute{Column: "x", Method: "median"}, 1, func(p, _ []float64) float64 { return quantile(p, 0.5) }},
		{"mean by k", spec.Impute{Column: "x", Method: "mean", By: []string{"k"}}, 1, func(_, kp []float64) float64 { return mean(kp) }},
		{"previous", spec.Impute{Column: "x", Method: "previous"}, 1, func(p, _ []float64) float64 { return p[len(p)-1] }},
		{"constant", spec.Impute{Column: "n", Method: "constant", Value: 42}, 2, func(_, _ []float64) float64 { return 42 }},
		{"most_frequent", spec.Impute{Column: "n", Method: "most_frequent"}, 2, func(p, _ []float64) float64 { return mode(p) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			op, cnt := cleanOp(t, spec.Clean{Impute: []spec.Impute{tc.imp}}, in)
			src := make([]udf.Row, len(rows))
			for i, r := range rows {
				src[i] = append(udf.Row(nil), r...)
			}
			got := run(t, op, src).rows
			var prev []float64
			byKey := map[string][]float64{}
			filled := 0
			for i, r := range rows {
				v := r[tc.col]
				k := r[0].S
				if v.IsNull() {
					filled++
					want := tc.oracle(prev, byKey[k])
					g, _ := got[i][tc.col].AsFloat()
					tol := 1e-9
					if tc.name == "median" {
						tol = 1.5 // sketch: within one rank step of the exact median on these values
					}
					if math.Abs(g-want) > tol {
						t.Fatalf("row %d: filled %v, want %v", i, g, want)
					}
					if got[i][tc.col].K != in.Columns[tc.col].Type {
						t.Fatalf("row %d: filled with a %s", i, got[i][tc.col].K)
					}
					continue
				}
				f, _ := v.AsFloat()
				prev = append(prev, f)
				byKey[k] = append(byKey[k], f)
			}
			if n := cnt.Snapshot()["imputed"]; n != int64(filled) {
				t.Errorf("imputed %d, want %d", n, filled)
			}
		})
	}
	t.Run("string most_frequent", func(t *testing.T) {
		op, _ := cleanOp(t, spec.Clean{Impute: []spec.Impute{{Column: "s", Method: "most_frequent"}}}, in)
		got := run(t, op, rows).rows
		for i, r := range got {
			if r[3].K != udf.TypeString || r[3].S == "" {
				t.Fatalf("row %d: %v", i, r[3])
			}
			if i > 10 && rows[i][3].IsNull() && r[3].S != "v" {
				t.Fatalf("row %d: filled %q, want v", i, r[3].S)
			}
		}
	})
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func quantile(xs []float64, q float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[int(math.Ceil(q*float64(len(s))))-1]
}

func mode(xs []float64) float64 {
	c := map[float64]int{}
	for _, x := range xs {
		c[x]++
	}
	best, bc := 0.0, -1
	for x, n := range c {
		if n > bc || n == bc && x < best {
			best, bc = x, n
		}
	}
	return best
}

func TestCleanOutliers(t *testing.T) {
	in := schema("", "x", udf.TypeDouble)
	var rows []udf.Row
	for i := range 500 {
		x := math.Sin(float64(i)) * 10
		if i%50 == 49 {
			x = 1000 * float64(1-2*(i%2))
		}
		rows = append(rows, udf.Row{udf.Float(x)})
	}
	// Oracle: running mean and population deviation of the values before.
	type verdict struct {
		out    bool
		lo, hi float64
	}
	var want []verdict
	var n, mu, m2 float64
	for _, r := range rows {
		x := r[0].F
		v := verdict{lo: math.Inf(-1), hi: math.Inf(1)}
		if n >= minOutlierN {
			sd := math.Sqrt(m2 / n)
			v.lo, v.hi = mu-4*sd, mu+4*sd
			v.out = x < v.lo || x > v.hi
		}
		want = append(want, v)
		n++
		d := x - mu
		mu += d / n
		m2 += d * (x - mu)
	}
	nout := 0
	for _, v := range want {
		if v.out {
			nout++
		}
	}
	if nout < 5 {
		t.Fatalf("oracle finds only %d outliers", nout)
	}
	for _, action := range []string{"drop", "clip", "flag"} {
		t.Run(action, func(t *testing.T) {
			op, cnt := cleanOp(t, spec.Clean{Outliers: []spec.Outlier{{Column: "x", Method: "zscore", Threshold: 4, Action: action}}}, in)
			src := make([]udf.Row, len(rows))
			for i, r := range rows {
				src[i] = append(udf.Row(nil), r...)
			}
			c := run(t, op, src)
			switch action {
			case "drop":
				if len(c.rows) != len(rows)-nout || cnt.Snapshot()["outliers_dropped"] != int64(nout) {
					t.Fatalf("kept %d of %d, want %d dropped", len(c.rows), len(rows), nout)
				}
				for j, id := range c.ids {
					if want[id].out {
						t.Fatalf("row %d kept (%v)", id, c.rows[j])
					}
				}
			case "clip":
				for i, r := range c.rows {
					x := rows[i][0].F
					w := x
					if want[i].out {
						w = min(max(x, want[i].lo), want[i].hi)
					}
					if math.Abs(r[0].F-w) > 1e-9 {
						t.Fatalf("row %d: %v, want %v", i, r[0].F, w)
					}
				}
				if cnt.Snapshot()["clipped"] != int64(nout) {
					t.Fatalf("clipped %d, want %d", cnt.Snapshot()["clipped"], nout)
				}
			case "flag":
				for i, r := range c.rows {
					if len(r) != 2 || r[1].AsBool() != want[i].out || r[0].F != rows[i][0].F {
						t.Fatalf("row %d: %v, want flag %v", i, r, want[i].out)
					}
				}
			}
		})
	}
	t.Run("iqr and bounds", func(t *testing.T) {
		lo, hi := -5.0, 5.0
		op, cnt := cleanOp(t, spec.Clean{Outliers: []spec.Outlier{{Column: "x", Method: "bounds", Lower: &lo, Upper: &hi, Action: "clip"}}}, in)
		src := make([]udf.Row, len(rows))
		for i, r := range rows {
			src[i] = append(udf.Row(nil), r...)
		}
		for _, r := range run(t, op, src).rows {
			if r[0].F < lo || r[0].F > hi {
				t.Fatalf("%v not clipped to [-5, 5]", r[0].F)
			}
		}
		if cnt.Snapshot()["clipped"] == 0 {
			t.Fatal("nothing clipped")
		}
		op, cnt = cleanOp(t, spec.Clean{Outliers: []spec.Outlier{{Column: "x", Method: "iqr", Action: "drop"}}}, in)
		kept := run(t, op, rows).rows
		for _, r := range kept {
			if math.Abs(r[0].F) > 100 {
				t.Fatalf("iqr kept %v", r[0].F)
			}
		}
		if d := cnt.Snapshot()["outliers_dropped"]; d < int64(nout) {
			t.Fatalf("iqr dropped %d, want ≥ %d", d, nout)
		}
	})
}

func TestCleanFilterAndSnapshot(t *testing.T) {
	in := schema("", "x", udf.TypeDouble, "s", udf.TypeString)
	op, cnt := cleanOp(t, spec.Clean{Filter: &spec.Text{Value: `x > 2 && s != "skip"`}, Impute: []spec.Impute{{Column: "x", Method: "mean"}},
		DeadLetter: true}, in)
	rows := []udf.Row{{udf.Float(1), udf.Str("a")}, {udf.Float(5), udf.Str("a")}, {udf.Float(9), udf.Str("skip")}, {udf.Null, udf.Str("b")}}
	c := run(t, op, rows)
	// mean of 1, 5, 9 = 5 fills the NULL, which passes x > 2.
	if len(c.rows) != 2 || c.rows[1][0].F != 5 || cnt.Snapshot()["filter_dropped"] != 2 || len(c.dead) != 2 {
		t.Fatalf("rows %v dead %d counters %v", c.rows, len(c.dead), cnt.Snapshot())
	}
	snap, err := op.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	op2, _ := cleanOp(t, spec.Clean{Filter: &spec.Text{Value: `x > 2 && s != "skip"`}, Impute: []spec.Impute{{Column: "x", Method: "mean"}}}, in)
	if err := op2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if got := op2.imputes[0].Num.Value(); got != 5 {
		t.Fatalf("restored mean %v, want 5", got)
	}
}
