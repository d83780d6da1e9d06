package ml

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// synthetic returns a linearly separable-ish binary problem.
func synthetic(n, d int, seed uint64) ([]Vector, []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	w := make([]float64, d)
	for i := range w {
		w[i] = rng.NormFloat64()
	}
	X := make([]Vector, n)
	y := make([]float64, n)
	for i := range X {
		x := make([]float64, d)
		var s float64
		for j := range x {
			x[j] = rng.NormFloat64()*3 + 10
			s += w[j] * (x[j] - 10)
		}
		X[i] = Dense(x)
		y[i] = b2f(s+rng.NormFloat64()*0.5 > 0)
	}
	return X, y
}

func TestAlgorithmsTable(t *testing.T) {
	want := []string{"adwin", "decision_tree", "half_space_trees", "hoeffding_tree", "kmeans", "linear_regression",
		"linear_svm", "logistic_regression", "matrix_factorization", "naive_bayes", "page_hinkley", "popularity", "zscore_anomaly"}
	if got := Names(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	for _, a := range Algorithms {
		if a.Doc == "" || len(a.Modes) == 0 {
			t.Errorf("%s: missing doc or modes", a.Name)
		}
		seen := map[string]bool{}
		for _, p := range a.Params {
			if seen[p.Name] {
				t.Errorf("%s: duplicate param %s", a.Name, p.Name)
			}
			seen[p.Name] = true
			if p.Doc == "" {
				t.Errorf("%s.%s: no doc", a.Name, p.Name)
			}
			if _, err := p.normalize(p.Default); err != nil {
				t.Errorf("%s.%s: default %v invalid: %v", a.Name, p.Name, p.Default, err)
			}
		}
		if _, err := a.New(nil, 1); err != nil {
			t.Errorf("%s: New with defaults: %v", a.Name, err)
		}
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("Lookup(nope) found something")
	}
}

func TestValidate(t *testing.T) {
	a, _ := Lookup("logistic_regression")
	errs := a.Validate(map[string]any{
		"optimiser":   "ftrl",     // typo
		"alpha":       "fast",     // wrong type
		"l2":          -1,         // out of range
		"multiclass":  "tree",     // bad enum
		"classes":     3.5,        // not an integer
		"epochs":      float64(3), // JSON number: fine
		"standardize": true,
		"zzz":         1,
	})
	got := map[string]string{}
	for _, e := range errs {
		got[e.Param] = e.Msg
	}
	for param, frag := range map[string]string{
		"optimiser":  `did you mean "optimizer"`,
		"alpha":      "must be a number",
		"l2":         "at least 0",
		"multiclass": "must be one of softmax, ovr",
		"classes":    "must be an integer",
		"zzz":        "known: optimizer",
	} {
		if !strings.Contains(got[param], frag) {
			t.Errorf("error for %s = %q, want it to contain %q", param, got[param], frag)
		}
	}
	if len(errs) != 6 {
		t.Errorf("got %d errors, want 6: %v", len(errs), errs)
	}
	if !sort.SliceIsSorted(errs, func(i, j int) bool { return errs[i].Param < errs[j].Param }) {
		t.Error("errors not sorted by parameter")
	}
	if _, err := a.New(map[string]any{"l2": -1}, 1); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("New with bad params: %v, want ErrInvalidParams", err)
	}
}

// trainSmall trains m on a small data set suited to its kind.
func trainSmall(t *testing.T, m Model) []Vector {
	X, y := synthetic(300, 4, 3)
	a, _ := Lookup(m.Algorithm())
	switch a.Kind {
	case KindRecommender:
		for i := range 200 {
			m.Learn(Dense([]float64{float64(i % 7), float64(i % 11)}), float64(1+i%5))
		}
		return []Vector{Dense([]float64{1, 2}), Dense([]float64{3, 99})}
	case KindRegressor:
		for i, x := range X {
			y[i] = x.Val[0]*2 - x.Val[1]
		}
	}
	if a.SupportsMode(ModeOnline) {
		for i, x := range X {
			m.Learn(x, y[i])
		}
	} else if err := m.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	return X[:20]
}

func TestMarshalRoundTrip(t *testing.T) {
	for _, a := range Algorithms {
		t.Run(a.Name, func(t *testing.T) {
			m, err := a.New(nil, 5)
			if err != nil {
				t.Fatal(err)
			}
			probe := trainSmall(t, m)
			b, err := Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, []byte(`{"format":"flowrun.model/v1","algorithm":"`+a.Name+`"`)) {
				t.Fatalf("envelope starts %s", b[:min(len(b), 80)])
			}
			m2, err := Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range probe {
				p1, p2 := m.Predict(x), m2.Predict(x)
				if p1 != p2 && !(math.IsNaN(p1) && math.IsNaN(p2)) {
					t.Fatalf("prediction %v after round trip, want %v", p2, p1)
				}
			}
			b2, err := Marshal(m2)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, b2) {
				t.Errorf("re-marshalled model differs")
			}
		})
	}
}

func TestUnmarshalRefusesUnknownFormat(t *testing.T) {
	for _, doc := range []string{
		`{"format":"flowrun.model/v2","algorithm":"kmeans","params":{},"state":{}}`,
		`{"algorithm":"kmeans"}`,
	} {
		if _, err := Unmarshal([]byte(doc)); !errors.Is(err, ErrFormat) {
			t.Errorf("Unmarshal(%s) = %v, want ErrFormat", doc, err)
		}
	}
	if _, err := Unmarshal([]byte(`{"format":"flowrun.model/v1","algorithm":"deep_net"}`)); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf("unknown algorithm: %v", err)
	}
	if _, err := Unmarshal([]byte(`{"format":"flowrun.model/v1","algorithm":"kmeans","params":{"k":-2}}`)); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("invalid params: %v", err)
	}
}

func TestDeterministicForSeed(t *testing.T) {
	X, y := synthetic(500, 5, 9)
	for _, name := range []string{"logistic_regression", "linear_svm", "kmeans", "half_space_trees", "matrix_factorization"} {
		var prev []byte
		for range 2 {
			m := mustNew(t, name, nil, 11)
			if err := m.Fit(X, y); err != nil {
				t.Fatal(err)
			}
			b, _ := Marshal(m)
			if prev != nil && !bytes.Equal(prev, b) {
				t.Errorf("%s: two fits with the same seed differ", name)
			}
			prev = b
		}
	}
}

func TestSparseEqualsDense(t *testing.T) {
	X, y := synthetic(400, 6, 4)
	for _, opt := range []string{"ftrl", "adagrad", "sgd"} {
		params := map[string]any{"optimizer": opt, "standardize": false}
		dm := mustNew(t, "logistic_regression", params, 1)
		sm := mustNew(t, "logistic_regression", params, 1)
		for i, x := range X {
			var idx []int32
			var val []float64
			for j, v := range x.Val {
				idx = append(idx, int32(j))
				val = append(val, v)
			}
			dm.Learn(x, y[i])
			sm.Learn(Sparse(idx, val), y[i])
		}
		for _, x := range X[:10] {
			if a, b := dm.Predict(x), sm.Predict(x); math.Abs(a-b) > 1e-12 {
				t.Errorf("%s: dense %v sparse %v", opt, a, b)
			}
		}
	}
}

func TestMulticlassIris(t *testing.T) {
	X, y := loadIris(t)
	for _, tc := range []struct {
		name   string
		params map[string]any
	}{
		{"logistic_regression", map[string]any{"classes": 3, "optimizer": "lbfgs"}},
		{"logistic_regression", map[string]any{"classes": 3, "multiclass": "ovr", "optimizer": "lbfgs"}},
		{"logistic_regression", map[string]any{"classes": 3, "optimizer": "adagrad", "epochs": 20}},
		{"linear_svm", map[string]any{"classes": 3, "epochs": 50, "l2": 1e-3}},
		{"decision_tree", map[string]any{"max_depth": 3}},
		{"naive_bayes", nil},
		{"hoeffding_tree", map[string]any{"grace_period": 20}},
	} {
		m := mustNew(t, tc.name, tc.params, 1)
		if err := m.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		c := m.(Classifier)
		var pred []float64
		for _, x := range X {
			pred = append(pred, c.PredictLabel(x))
		}
		acc := Accuracy(y, pred)
		t.Logf("%s %v: iris training accuracy %.3f", tc.name, tc.params, acc)
		if acc < 0.9 {
			t.Errorf("%s %v: accuracy %.3f < 0.9", tc.name, tc.params, acc)
		}
		p := c.PredictProba(nil, X[0])
		if len(p) != 3 || math.Abs(p[0]+p[1]+p[2]-1) > 1e-9 {
			t.Errorf("%s: PredictProba = %v", tc.name, p)
		}
	}
}

func TestRegressionTreeAndOnlineLinear(t *testing.T) {
	X, y := loadDiabetes(t)
	tr := mustNew(t, "decision_tree", map[string]any{"criterion": "variance", "max_depth": 4, "min_samples_leaf": 5}, 1)
	if err := tr.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	if r2 := R2(y, predictAll(tr, X)); r2 < 0.5 {
		t.Errorf("regression tree R² %.3f", r2)
	}
	for opt, lr := range map[string]float64{"sgd": 0.5, "adagrad": 20} {
		m := mustNew(t, "linear_regression", map[string]any{"optimizer": opt, "learning_rate": lr}, 1)
		for range 20 {
			for i, x := range X {
				m.Learn(x, y[i])
			}
		}
		r2 := R2(y, predictAll(m, X))
		t.Logf("online %s linear regression: R² %.4f", opt, r2)
		if r2 < 0.45 {
			t.Errorf("online %s R² %.3f", opt, r2)
		}
	}
}

func TestDriftDetectors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	stream := make([]float64, 4000)
	for i := range stream {
		mu := 0.2
		if i >= 2000 {
			mu = 0.8
		}
		stream[i] = b2f(rng.Float64() < mu)
	}
	for _, name := range []string{"adwin", "page_hinkley"} {
		d := mustNew(t, name, nil, 1).(DriftDetector)
		first := -1
		for i, v := range stream {
			if d.Update(v) && first < 0 {
				first = i
			}
		}
		t.Logf("%s: first drift at %d, %d detections", name, first, d.Detections())
		if first < 2000 || first > 2300 {
			t.Errorf("%s: first drift at %d, want shortly after 2000", name, first)
		}
	}
	// No drift on a stationary stream.
	a := mustNew(t, "adwin", nil, 1).(DriftDetector)
	for range 5000 {
		a.Update(rng.NormFloat64())
	}
	if a.Detections() != 0 {
		t.Errorf("adwin: %d false detections on a stationary stream", a.Detections())
	}
}

func TestHalfSpaceTreesScoresOutliers(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m := mustNew(t, "half_space_trees", map[string]any{"window": 100}, 1)
	for range 1000 {
		m.Learn(Dense([]float64{rng.NormFloat64(), rng.NormFloat64()}), 0)
	}
	normal := m.Predict(Dense([]float64{0, 0}))
	outlier := m.Predict(Dense([]float64{2.8, -2.8}))
	if !(outlier > normal) {
		t.Errorf("outlier score %v not above normal score %v", outlier, normal)
	}
}

func TestPopularityDecay(t *testing.T) {
	p := mustNew(t, "popularity", map[string]any{"half_life": 10}, 1).(*Popularity)
	for range 20 {
		p.LearnRating("u", "old", 1)
	}
	for range 5 {
		p.LearnRating("u", "new", 1)
	}
	top := p.Recommend("u", 2)
	if top[0].Item != "old" {
		t.Errorf("top = %v", top)
	}
	for range 30 {
		p.LearnRating("u", "new", 1)
	}
	if top = p.Recommend("u", 1); top[0].Item != "new" {
		t.Errorf("after decay top = %v", top)
	}
	if s := p.PredictRating("", "old"); s > 20*math.Exp2(-3) {
		t.Errorf("old score %v not decayed", s)
	}
}

func TestStreamingMetricsMatchBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n, w := 3000, 500
	y := make([]float64, n)
	p := make([]float64, n)
	for i := range y {
		y[i] = b2f(rng.Float64() < 0.3)
		p[i] = min(max(0.3*y[i]+0.7*rng.Float64(), 0), 1)
	}
	for _, mi := range Metrics {
		if mi.Kind == "clustering" {
			continue
		}
		for _, win := range []int{0, w} {
			m, err := NewMetric(mi.Name, win)
			if err != nil {
				t.Fatal(err)
			}
			for i := range y {
				m.Update(y[i], p[i])
			}
			lo := 0
			if win > 0 {
				lo = n - win
			}
			want, _ := Score(mi.Name, y[lo:], p[lo:])
			tol := 1e-9
			if mi.Name == "auc" && win == 0 {
				tol = 2e-3 // histogram approximation
			}
			if got := m.Value(); math.Abs(got-want) > tol {
				t.Errorf("%s window %d: streaming %v, batch %v", mi.Name, win, got, want)
			}
		}
	}
	if _, err := NewMetric("silhouette", 0); !errors.Is(err, ErrUnknownMetric) {
		t.Errorf("NewMetric(silhouette): %v", err)
	}
}

func TestBatchMetrics(t *testing.T) {
	y := []float64{0, 0, 1, 1}
	s := []float64{0.1, 0.4, 0.35, 0.8}
	if got := ROCAUC(y, s); got != 0.75 {
		t.Errorf("AUC = %v, want 0.75", got)
	}
	if got := ROCAUC([]float64{0, 1, 0, 1}, []float64{0.5, 0.5, 0.5, 0.5}); got != 0.5 {
		t.Errorf("AUC with ties = %v", got)
	}
	c := ConfusionMatrix([]float64{0, 1, 2, 2}, []float64{0, 2, 2, 2}, 3)
	if c.Counts[2][2] != 2 || c.Counts[1][2] != 1 || c.Recall(1) != 0 || c.Precision(2) != 2.0/3 {
		t.Errorf("confusion %v", c)
	}
	if ari := AdjustedRandIndex([]int{0, 0, 1, 1}, []int{5, 5, 3, 3}); ari != 1 {
		t.Errorf("ARI of relabelled partition = %v", ari)
	}
	if got := LogLoss([]float64{1, 0}, []float64{0.5, 0.5}); math.Abs(got-math.Ln2) > 1e-12 {
		t.Errorf("logloss = %v", got)
	}
}

func TestTune(t *testing.T) {
	X, y := synthetic(600, 5, 7)
	spec := TuneSpec{
		Algorithm: "logistic_regression",
		Params:    map[string]any{"optimizer": "lbfgs"},
		Space:     map[string]Distribution{"l2": LogUniform(1e-3, 1e3), "standardize": Choice(true, false)},
		Method:    "random", Trials: 8, Seed: 3, Metric: "logloss", KFold: 3,
	}
	r1, err := Tune(context.Background(), spec, X, y)
	if err != nil {
		t.Fatal(err)
	}
	spec.Parallelism = 1
	r2, err := Tune(context.Background(), spec, X, y)
	if err != nil {
		t.Fatal(err)
	}
	if len(r1.Trials) != 8 || r1.Best < 0 {
		t.Fatalf("trials %d best %d", len(r1.Trials), r1.Best)
	}
	for i := range r1.Trials {
		if r1.Trials[i].Score != r2.Trials[i].Score || len(r1.Trials[i].FoldScores) != 3 {
			t.Errorf("trial %d: %v vs %v", i, r1.Trials[i], r2.Trials[i])
		}
		if r1.Trials[i].Score < r1.Trials[r1.Best].Score {
			t.Errorf("best trial %d (%v) is not the lowest logloss (%d: %v)", r1.Best, r1.Trials[r1.Best].Score, i, r1.Trials[i].Score)
		}
	}
	grid := TuneSpec{Algorithm: "decision_tree", Space: map[string]Distribution{
		"max_depth": IntUniform(1, 4), "criterion": Choice("gini", "entropy")},
		Method: "grid", GridPoints: 4, Metric: "auc", Holdout: 0.25}
	r3, err := Tune(context.Background(), grid, X, y)
	if err != nil {
		t.Fatal(err)
	}
	if len(r3.Trials) != 8 {
		t.Errorf("grid trials %d, want 8", len(r3.Trials))
	}
	best := r3.BestParams(grid)
	t.Logf("grid best %v AUC %.3f", best, r3.Trials[r3.Best].Score)
	bad := TuneSpec{Algorithm: "kmeans", Space: map[string]Distribution{"kk": Uniform(1, 2)}, Method: "grid", Metric: "auc"}
	if _, err := Tune(context.Background(), bad, X, y); !errors.Is(err, ErrInvalidTuning) {
		t.Errorf("bad spec: %v", err)
	}
}

func TestTransforms(t *testing.T) {
	// Window features of a ramp and a sine.
	w, err := NewWindow(8, []string{"mean", "std", "min", "max", "slope"}, 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		w.Push(float64(i))
	}
	f := w.Features(nil)
	want := []float64{5.5, math.Sqrt(5.25), 2, 9, 1, 9, 8}
	for i, v := range want {
		if math.Abs(f[i]-v) > 1e-12 {
			t.Errorf("feature %s = %v, want %v", w.FeatureNames()[i], f[i], v)
		}
	}
	if math.Abs(f[7]-5.5) > 1e-12 {
		t.Errorf("fft_0 = %v, want the mean 5.5", f[7])
	}
	s, _ := NewWindow(16, nil, 0, 9)
	for i := range 16 {
		s.Push(math.Sin(2 * math.Pi * 4 * float64(i) / 16))
	}
	g := s.Features(nil)
	if argmax(g) != 4 || math.Abs(g[4]-0.5) > 1e-12 {
		t.Errorf("sine FFT magnitudes %v, want the peak 0.5 at bin 4", g)
	}
	tw, _ := NewWindow(8, []string{"count", "mean"}, 0, 0)
	tw.MaxAge = 10
	for i, v := range []float64{1, 2, 3, 4} {
		tw.PushAt(float64(i*5), v) // t = 0, 5, 10, 15
	}
	if f := tw.Features(nil); f[0] != 3 || f[1] != 3 { // t = 0 expired at 15
		t.Errorf("time window features %v, want count 3 mean 3", f)
	}
	tw.Expire(100)
	if tw.Len() != 0 {
		t.Errorf("time window not empty after expiry: %d", tw.Len())
	}
	if _, err := NewWindow(4, []string{"median"}, 0, 0); err == nil {
		t.Error("unknown statistic accepted")
	}
	// Imputers.
	for strategy, want := range map[string]float64{"mean": 3, "median": 2, "most_frequent": 1, "constant": -1, "previous": 7} {
		im, err := NewImputer(strategy, -1)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []float64{1, 1, math.NaN(), 2, 4, 7} {
			im.Learn(v)
		}
		if strategy == "mean" {
			want = 3
		}
		if got := im.Transform(math.NaN()); got != want {
			t.Errorf("%s imputer fills %v, want %v", strategy, got, want)
		}
		if im.Transform(5) != 5 {
			t.Errorf("%s imputer changed a present value", strategy)
		}
	}
	if _, err := NewImputer("mode", 0); err == nil {
		t.Error("bad strategy accepted")
	}
	ci, _ := NewCategoryImputer("most_frequent", "unknown")
	for _, s := range []string{"a", "b", "b", ""} {
		ci.Learn(s)
	}
	if ci.Transform("") != "b" {
		t.Errorf("category imputer: %q", ci.Transform(""))
	}
	// Scalers.
	var ss StandardScaler
	var mm MinMaxScaler
	for _, x := range [][]float64{{1, 10}, {3, 10}, {5, 10}} {
		ss.Learn(x)
		mm.Learn(x)
	}
	if z := ss.Transform(nil, []float64{5, 10}); math.Abs(z[0]-math.Sqrt(1.5)) > 1e-12 || z[1] != 0 {
		t.Errorf("standard scaler: %v", z)
	}
	if z := mm.Transform(nil, []float64{4, 10}); z[0] != 0.75 || z[1] != 0 {
		t.Errorf("min-max scaler: %v", z)
	}
	// One-hot and hashing.
	oh := NewOneHot(2)
	for _, c := range []string{"x", "y", "z"} {
		oh.Learn(c)
	}
	if oh.Index("x") != 0 || oh.Index("y") != 1 || oh.Index("z") != 2 || oh.Dim() != 3 {
		t.Errorf("one-hot indices %d %d %d", oh.Index("x"), oh.Index("y"), oh.Index("z"))
	}
	h := NewHasher(1<<16, true)
	v := h.Transform([]string{"merchant", "country"}, []string{"acme", "NL"})
	if v.NNZ() != 2 || v.Len() > 1<<16 || !sort.SliceIsSorted(v.Idx, func(i, j int) bool { return v.Idx[i] < v.Idx[j] }) {
		t.Errorf("hashed vector %v", v)
	}
	// TF-IDF: idf and normalization.
	tf := NewTFIDF(1<<16, 2)
	tf.Fit([]string{"the cat sat", "the dog sat", "a cat"})
	x := tf.Transform("the cat the cat")
	var norm float64
	for _, v := range x.Val {
		norm += v * v
	}
	if math.Abs(norm-1) > 1e-12 || x.NNZ() != 3 { // the, cat, "the cat" ("cat the" unseen)
		t.Errorf("tf-idf vector %v (norm² %v)", x, norm)
	}
}

func TestQuantileSketch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	s := NewQuantileSketch(200)
	vals := make([]float64, 100000)
	for i := range vals {
		vals[i] = rng.ExpFloat64()
		s.Add(vals[i])
	}
	sort.Float64s(vals)
	for _, q := range []float64{0.1, 0.5, 0.9, 0.99} {
		got := s.Quantile(q)
		r := float64(sort.SearchFloat64s(vals, got)) / float64(len(vals))
		if math.Abs(r-q) > 0.02 {
			t.Errorf("quantile %v: value %v has rank %v", q, got, r)
		}
	}
	if n := len(s.Levels); n > 12 {
		t.Errorf("%d levels", n)
	}
	// Merging two halves gives the same accuracy.
	a, b := NewQuantileSketch(200), NewQuantileSketch(200)
	for i := range 50000 {
		a.Add(float64(i))
		b.Add(float64(50000 + i))
	}
	a.Merge(b)
	if a.Count() != 100000 {
		t.Errorf("merged count %d", a.Count())
	}
	if m := a.Quantile(0.5); math.Abs(m-50000) > 2000 {
		t.Errorf("merged median %v", m)
	}
}

func TestOutliers(t *testing.T) {
	for _, method := range OutlierMethods {
		o, err := NewOutliers(method, 3, 1.5, -10, 10)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(2, 2))
		for range 5000 {
			o.Learn(rng.NormFloat64())
		}
		if _, out := o.Check(0.5); out {
			t.Errorf("%s: 0.5 flagged", method)
		}
		v, out := o.Check(50)
		if !out || v >= 50 {
			t.Errorf("%s: 50 → %v, %v", method, v, out)
		}
	}
	if _, err := NewOutliers("mad", 3, 1.5, 0, 0); err == nil {
		t.Error("unknown method accepted")
	}
	tr, _ := LookupTransform("window")
	if errs := tr.Validate(map[string]any{"stats": []any{"mean", "median"}, "size": 0}); len(errs) != 2 {
		t.Errorf("window validation: %v", errs)
	}
}

// TestConcurrentPredict runs predictions of every trained model from
// several goroutines (run with -race to check that prediction only reads).
func TestConcurrentPredict(t *testing.T) {
	for _, a := range Algorithms {
		m, _ := a.New(nil, 5)
		probe := trainSmall(t, m)
		want := predictAll(m, probe)
		done := make(chan []float64, 4)
		for range 4 {
			go func() { done <- predictAll(m, probe) }()
		}
		for range 4 {
			if got := <-done; !reflect.DeepEqual(got, want) && !math.IsNaN(want[0]) {
				t.Errorf("%s: concurrent predictions differ", a.Name)
			}
		}
	}
}

// FuzzUnmarshal checks that no document makes Unmarshal or a prediction
// panic. The seeds are snapshots of every algorithm.
func FuzzUnmarshal(f *testing.F) {
	for _, a := range Algorithms {
		m, _ := a.New(nil, 1)
		X, y := synthetic(50, 3, 1)
		for i, x := range X {
			if a.SupportsMode(ModeOnline) {
				m.Learn(x, y[i])
			}
		}
		if !a.SupportsMode(ModeOnline) {
			_ = m.Fit(X, y)
		}
		b, _ := Marshal(m)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Unmarshal(data)
		if err != nil {
			return
		}
		for _, x := range []Vector{Dense([]float64{1, 2, 3}), Dense(nil), Sparse([]int32{0, 7}, []float64{1, 2})} {
			m.Predict(x)
		}
	})
}

func TestDecisionTreeRejectsBadLabels(t *testing.T) {
	m := mustNew(t, "decision_tree", nil, 1)
	if err := m.Fit([]Vector{Dense([]float64{1}), Dense([]float64{2})}, []float64{0, 0.5}); err == nil {
		t.Error("fractional class label accepted")
	}
}

// TestTransformsJSONRoundTrip checks that every transform keeps working
// after a JSON round trip without any explicit Restore call (the executor
// snapshots them as JSON inside its state).
func TestTransformsJSONRoundTrip(t *testing.T) {
	rt := func(v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	ss := &StandardScaler{}
	ss.Learn([]float64{1, 2})
	rt(ss)
	ss.Learn([]float64{3, 4})
	if z := ss.Transform(nil, []float64{2, 3}); z[0] != 0 || z[1] != 0 {
		t.Errorf("scaler after round trip: %v", z)
	}
	for _, s := range ImputeStrategies {
		im, _ := NewImputer(s, 0)
		rt(im)
		im.Learn(4)
		im.Learn(4)
		rt(im)
		if got := im.Transform(math.NaN()); s != "constant" && got != 4 {
			t.Errorf("%s imputer after round trip fills %v", s, got)
		}
	}
	ci, _ := NewCategoryImputer("most_frequent", "")
	rt(ci)
	ci.Learn("a")
	oh := NewOneHot(4)
	oh.Learn("a")
	rt(oh)
	oh.Learn("b")
	if oh.Index("a") != 0 || oh.Index("b") != 1 {
		t.Error("one-hot after round trip")
	}
	tf := NewTFIDF(64, 1)
	tf.Learn("hello world")
	rt(tf)
	tf.Learn("hello there")
	if v := tf.Transform("hello"); v.NNZ() != 1 {
		t.Errorf("tf-idf after round trip: %v", v)
	}
	w, _ := NewWindow(4, []string{"mean"}, 1, 2)
	w.Push(1)
	rt(w)
	w.Push(3)
	if f := w.Features(nil); f[0] != 2 || f[1] != 3 {
		t.Errorf("window after round trip: %v", f)
	}
	o, _ := NewOutliers("iqr", 3, 1.5, 0, 0)
	rt(o)
	for i := range 100 {
		o.Learn(float64(i))
	}
	rt(o)
	if _, out := o.Check(1000); !out {
		t.Error("outliers after round trip")
	}
}

func TestChallengers(t *testing.T) {
	X, y := synthetic(3000, 5, 12)
	spec := TuneSpec{Algorithm: "logistic_regression", Params: map[string]any{"optimizer": "ftrl"},
		Space: map[string]Distribution{"alpha": Choice(1e-4, 0.5)}, Method: "grid", Metric: "logloss"}
	configs, err := Configurations(spec)
	if err != nil {
		t.Fatal(err)
	}
	var models []Model
	for _, c := range configs {
		models = append(models, mustNew(t, "logistic_regression", c, 1))
	}
	ch, err := NewChallengers(models, "logloss", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range X {
		ch.Learn(x, y[i])
	}
	best, score := ch.Best()
	t.Logf("configs %v scores %v", configs, ch.Scores())
	if best != 1 || math.IsNaN(score) {
		t.Errorf("best %d (%v), want the alpha 0.5 candidate", best, score)
	}
}

func TestLearnSkipsNonFinite(t *testing.T) {
	for _, a := range Algorithms {
		if !a.SupportsMode(ModeOnline) {
			continue
		}
		m, _ := a.New(nil, 1)
		probe := trainSmall(t, m)
		before, _ := Marshal(m)
		for _, bad := range []Vector{Dense([]float64{math.NaN(), 1, 2, 3}), Dense([]float64{1, math.Inf(1), 2, 3})} {
			m.Learn(bad, 1)
		}
		if a.Kind == KindClassifier || a.Kind == KindRegressor {
			m.Learn(Dense([]float64{1, 2, 3, 4}), math.NaN())
		}
		after, _ := Marshal(m)
		if a.Kind != KindRecommender && a.Kind != KindDrift && !bytes.Equal(before, after) {
			t.Errorf("%s: state changed by non-finite examples", a.Name)
		}
		for _, x := range probe {
			if p := m.Predict(x); math.IsNaN(p) {
				t.Errorf("%s: NaN prediction after non-finite examples", a.Name)
			}
		}
	}
}
