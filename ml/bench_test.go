package ml

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

func benchData(n, d int) ([]Vector, []float64) { return synthetic(n, d, 42) }

func benchLearn(b *testing.B, name string, params map[string]any, X []Vector, y []float64) {
	m := mustNew(b, name, params, 1)
	for i, x := range X { // warm up: grow state outside the timed loop
		m.Learn(x, y[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := range b.N {
		k := i % len(X)
		m.Learn(X[k], y[k])
	}
	reportCPU(b, c0)
}

// reportCPU reports the process CPU time per op since c0.
func reportCPU(b *testing.B, c0 time.Duration) {
	if c := cpuTime() - c0; c > 0 {
		b.ReportMetric(float64(c.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func benchPredict(b *testing.B, name string, params map[string]any, X []Vector, y []float64) {
	m := mustNew(b, name, params, 1)
	for i, x := range X {
		m.Learn(x, y[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	var s float64
	c0 := cpuTime()
	for i := range b.N {
		s += m.Predict(X[i%len(X)])
	}
	reportCPU(b, c0)
	_ = s
}

func BenchmarkLogisticFTRLLearn10(b *testing.B) {
	X, y := benchData(1024, 10)
	benchLearn(b, "logistic_regression", nil, X, y)
}

func BenchmarkLogisticFTRLPredict10(b *testing.B) {
	X, y := benchData(1024, 10)
	benchPredict(b, "logistic_regression", nil, X, y)
}

func BenchmarkLogisticAdagradLearn10(b *testing.B) {
	X, y := benchData(1024, 10)
	benchLearn(b, "logistic_regression", map[string]any{"optimizer": "adagrad"}, X, y)
}

func BenchmarkLogisticSGDLearn10(b *testing.B) {
	X, y := benchData(1024, 10)
	benchLearn(b, "logistic_regression", map[string]any{"optimizer": "sgd"}, X, y)
}

func BenchmarkLogisticFTRLLearnRaw10(b *testing.B) {
	X, y := benchData(1024, 10)
	benchLearn(b, "logistic_regression", map[string]any{"standardize": false}, X, y)
}

func BenchmarkLinearRegressionLearn10(b *testing.B) {
	X, y := benchData(1024, 10)
	benchLearn(b, "linear_regression", nil, X, y)
}

func BenchmarkLinearSVMLearn10(b *testing.B) {
	X, y := benchData(1024, 10)
	benchLearn(b, "linear_svm", nil, X, y)
}

// sparseBench returns TF-IDF-like sparse vectors over 2^16 dimensions with
// 30 non-zeros each.
func sparseBench(n int) ([]Vector, []float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	X := make([]Vector, n)
	y := make([]float64, n)
	for i := range X {
		var sb SparseBuilder
		for range 30 {
			sb.Add(rng.IntN(1<<16), rng.Float64())
		}
		X[i] = sb.Vector()
		y[i] = b2f(X[i].Idx[0]%2 == 0)
	}
	return X, y
}

func BenchmarkLogisticFTRLLearnSparse64k(b *testing.B) {
	X, y := sparseBench(1024)
	benchLearn(b, "logistic_regression", nil, X, y)
}

func BenchmarkLogisticFTRLPredictSparse64k(b *testing.B) {
	X, y := sparseBench(1024)
	benchPredict(b, "logistic_regression", nil, X, y)
}

func BenchmarkLinearSVMLearnSparse64k(b *testing.B) {
	X, y := sparseBench(1024)
	benchLearn(b, "linear_svm", nil, X, y)
}

func BenchmarkLogisticLBFGSFit(b *testing.B) {
	X, y := benchData(2000, 10)
	m := mustNew(b, "logistic_regression", map[string]any{"optimizer": "lbfgs"}, 1)
	b.ReportAllocs()
	c0 := cpuTime()
	for b.Loop() {
		if err := m.Fit(X, y); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, c0)
}

func BenchmarkDecisionTreeFit(b *testing.B) {
	X, y := benchData(2000, 10)
	m := mustNew(b, "decision_tree", map[string]any{"max_depth": 5}, 1)
	b.ReportAllocs()
	c0 := cpuTime()
	for b.Loop() {
		if err := m.Fit(X, y); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, c0)
}

func BenchmarkDecisionTreePredict(b *testing.B) {
	X, y := benchData(2000, 10)
	m := mustNew(b, "decision_tree", map[string]any{"max_depth": 8}, 1)
	if err := m.Fit(X, y); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := range b.N {
		m.Predict(X[i%len(X)])
	}
	reportCPU(b, c0)
}

func BenchmarkHoeffdingTreeLearn(b *testing.B) {
	X, y := benchData(1024, 10)
	benchLearn(b, "hoeffding_tree", nil, X, y)
}

func BenchmarkNaiveBayesLearn(b *testing.B) {
	X, y := benchData(1024, 10)
	benchLearn(b, "naive_bayes", nil, X, y)
}

func BenchmarkKMeansLearn(b *testing.B) {
	X, y := benchData(1024, 10)
	benchLearn(b, "kmeans", map[string]any{"k": 8}, X, y)
}

func BenchmarkKMeansPredict(b *testing.B) {
	X, y := benchData(1024, 10)
	benchPredict(b, "kmeans", map[string]any{"k": 8}, X, y)
}

func BenchmarkZScoreLearnPredict(b *testing.B) {
	X, _ := benchData(1024, 1)
	m := mustNew(b, "zscore_anomaly", nil, 1)
	b.ReportAllocs()
	c0 := cpuTime()
	for i := range b.N {
		x := X[i%len(X)]
		m.Predict(x)
		m.Learn(x, 0)
	}
	reportCPU(b, c0)
}

func BenchmarkHalfSpaceTreesLearnPredict(b *testing.B) {
	X, _ := benchData(1024, 3)
	m := mustNew(b, "half_space_trees", nil, 1)
	for _, x := range X {
		m.Learn(x, 0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := range b.N {
		x := X[i%len(X)]
		m.Predict(x)
		m.Learn(x, 0)
	}
	reportCPU(b, c0)
}

func BenchmarkADWINUpdate(b *testing.B) {
	m := mustNew(b, "adwin", nil, 1).(DriftDetector)
	rng := rand.New(rand.NewPCG(1, 1))
	b.ReportAllocs()
	c0 := cpuTime()
	for range b.N {
		m.Update(rng.Float64())
	}
	reportCPU(b, c0)
}

func BenchmarkMatrixFactorizationLearn(b *testing.B) {
	m := mustNew(b, "matrix_factorization", nil, 1).(*MatrixFactorization)
	users := make([]string, 1000)
	items := make([]string, 2000)
	for i := range users {
		users[i] = "u" + strconv.Itoa(i)
	}
	for i := range items {
		items[i] = "i" + strconv.Itoa(i)
	}
	for i := range 5000 {
		m.LearnRating(users[i%1000], items[i%2000], float64(1+i%5))
	}
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := range b.N {
		m.LearnRating(users[i%1000], items[(i*7)%2000], float64(1+i%5))
	}
	reportCPU(b, c0)
}

func BenchmarkTFIDFTransform(b *testing.B) {
	tf := NewTFIDF(1<<16, 2)
	docs := []string{"Free entry in 2 a wkly comp to win FA Cup final tkts 21st May 2005",
		"Ok lar... Joking wif u oni...", "Go until jurong point, crazy.. Available only in bugis n great world"}
	tf.Fit(docs)
	b.ReportAllocs()
	c0 := cpuTime()
	var v Vector
	for i := range b.N {
		v = tf.AppendTransform(v, docs[i%3])
	}
	reportCPU(b, c0)
}

func BenchmarkWindowFeaturesFFT(b *testing.B) {
	w, _ := NewWindow(64, []string{"mean", "std", "min", "max", "slope"}, 4, 8)
	dst := make([]float64, w.Dim())
	b.ReportAllocs()
	c0 := cpuTime()
	for i := range b.N {
		w.Push(float64(i % 17))
		dst = w.Features(dst)
	}
	reportCPU(b, c0)
}

// TestHotPathAllocations checks the zero-allocation contract of the
// online linear models (no timing: speed is measured by the benchmarks).
func TestHotPathAllocations(t *testing.T) {
	X, y := benchData(256, 10)
	for _, name := range []string{"logistic_regression", "linear_regression", "linear_svm", "naive_bayes", "kmeans"} {
		m := mustNew(t, name, nil, 1)
		for i, x := range X {
			m.Learn(x, y[i])
		}
		k := 0
		if a := testing.AllocsPerRun(1000, func() { m.Learn(X[k%256], y[k%256]); k++ }); a != 0 {
			t.Errorf("%s Learn: %v allocs per call", name, a)
		}
		if a := testing.AllocsPerRun(1000, func() { m.Predict(X[k%256]); k++ }); a != 0 {
			t.Errorf("%s Predict: %v allocs per call", name, a)
		}
	}
}
