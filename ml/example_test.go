package ml_test

import (
	"fmt"
	"math"

	"github.com/flowrun/flowrun/ml"
)

func ExampleAlgorithm_Validate() {
	alg, _ := ml.Lookup("logistic_regression")
	for _, e := range alg.Validate(map[string]any{"alhpa": 0.05, "optimizer": "adam", "l2": -1}) {
		fmt.Println(e)
	}
	// Output:
	// alhpa: unknown hyper-parameter "alhpa" of logistic_regression (did you mean "alpha"?)
	// l2: must be at least 0, got -1
	// optimizer: must be one of ftrl, adagrad, sgd, lbfgs, got "adam"
}

func ExampleLogisticRegression_online() {
	alg, _ := ml.Lookup("logistic_regression")
	m, _ := alg.New(map[string]any{"optimizer": "ftrl", "alpha": 0.5}, 1)
	acc, _ := ml.NewMetric("accuracy", 100)
	for i := range 2000 {
		a, b := float64(i%7), float64(i%11)
		y := 0.0
		if a+b > 8 {
			y = 1
		}
		x := ml.Dense([]float64{a, b})
		acc.Update(y, m.Predict(x)) // prequential: predict, then learn
		m.Learn(x, y)
	}
	fmt.Printf("accuracy over the last 100: %.2f\n", acc.Value())
	// Output:
	// accuracy over the last 100: 1.00
}

func ExampleLinearRegression_Fit() {
	alg, _ := ml.Lookup("linear_regression")
	m, _ := alg.New(nil, 0)
	X := []ml.Vector{ml.Dense([]float64{0, 1}), ml.Dense([]float64{1, 0}), ml.Dense([]float64{2, 2}), ml.Dense([]float64{3, 1})}
	y := []float64{1 + 2*0 + 3*1, 1 + 2*1, 1 + 2*2 + 3*2, 1 + 2*3 + 3*1}
	if err := m.Fit(X, y); err != nil {
		panic(err)
	}
	w, b := m.(*ml.LinearRegression).Coefficients(0)
	fmt.Printf("w = [%.3f %.3f], b = %.3f\n", w[0], w[1], b)
	// Output:
	// w = [2.000 3.000], b = 1.000
}

func ExampleMarshal() {
	alg, _ := ml.Lookup("kmeans")
	m, _ := alg.New(map[string]any{"k": 2}, 7)
	_ = m.Fit([]ml.Vector{ml.Dense([]float64{0}), ml.Dense([]float64{1}), ml.Dense([]float64{10}), ml.Dense([]float64{11})}, nil)
	b, _ := ml.Marshal(m)
	fmt.Println(string(b))
	m2, _ := ml.Unmarshal(b)
	fmt.Println(m2.Predict(ml.Dense([]float64{0.2})) == m.Predict(ml.Dense([]float64{0.2})))
	// Output:
	// {"format":"flowrun.model/v1","algorithm":"kmeans","seed":7,"params":{"batch_size":0,"decay":1,"init":"kmeans++","k":2,"max_iter":300,"n_init":4,"tol":0.000001},"state":{"centers":[[10.5],[0.5]],"counts":[2,2]}}
	// true
}

func ExampleTFIDF() {
	tf := ml.NewTFIDF(1<<16, 1)
	tf.Fit([]string{"free prize call now", "see you at lunch", "call me at lunch"})
	v := tf.Transform("Call now for a FREE prize!")
	var norm float64
	for _, w := range v.Val {
		norm += w * w
	}
	fmt.Printf("%d terms, norm %.1f\n", v.NNZ(), math.Sqrt(norm))
	// Output:
	// 4 terms, norm 1.0
}

func ExampleWindow() {
	w, _ := ml.NewWindow(8, []string{"mean", "slope"}, 1, 3)
	for i := range 8 {
		w.Push(float64(i % 4)) // 0 1 2 3 0 1 2 3: period 4
	}
	names := w.FeatureNames()
	for i, f := range w.Features(nil) {
		fmt.Printf("%s=%.3f ", names[i], f)
	}
	fmt.Println()
	// Output:
	// mean=1.500 slope=0.238 lag_1=3.000 fft_0=1.500 fft_1=0.000 fft_2=0.707
}

func ExampleADWIN() {
	alg, _ := ml.Lookup("adwin")
	m, _ := alg.New(nil, 0)
	d := m.(ml.DriftDetector)
	for i := range 3000 {
		v := float64(i % 2) // mean 0.5
		if i >= 1500 {
			v = float64(i%2) + 2 // mean 2.5
		}
		if d.Update(v) {
			fmt.Println("drift at", i)
			break
		}
	}
	// Output:
	// drift at 1535
}

func ExampleTune() {
	// See TestTune for a full run; the search space of a random search:
	spec := ml.TuneSpec{
		Algorithm: "logistic_regression",
		Params:    map[string]any{"optimizer": "lbfgs"},
		Space:     map[string]ml.Distribution{"l2": ml.LogUniform(1e-3, 10)},
		Method:    "random", Trials: 20, Seed: 1, Metric: "auc",
		KFold: 5,
	}
	fmt.Println(spec.Method, spec.Trials, spec.Metric)
	// Output:
	// random 20 auc
}
