package ml

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// Distribution is the search space of one hyper-parameter.
type Distribution struct {
	// Kind is "uniform", "loguniform", "int" (uniform integers in
	// [Low, High]) or "choice".
	Kind   string
	Low    float64
	High   float64
	Values []any // for choice
}

// Uniform returns a uniform distribution on [lo, hi].
func Uniform(lo, hi float64) Distribution { return Distribution{Kind: "uniform", Low: lo, High: hi} }

// LogUniform returns a distribution whose logarithm is uniform on
// [ln lo, ln hi] (lo > 0).
func LogUniform(lo, hi float64) Distribution {
	return Distribution{Kind: "loguniform", Low: lo, High: hi}
}

// IntUniform returns uniform integers in [lo, hi].
func IntUniform(lo, hi int) Distribution {
	return Distribution{Kind: "int", Low: float64(lo), High: float64(hi)}
}

// Choice returns a uniform choice among values.
func Choice(values ...any) Distribution { return Distribution{Kind: "choice", Values: values} }

func (d Distribution) validate() error {
	switch d.Kind {
	case "uniform", "int":
		if !(d.Low <= d.High) {
			return fmt.Errorf("low %v must not exceed high %v", d.Low, d.High)
		}
	case "loguniform":
		if !(d.Low > 0 && d.Low <= d.High) {
			return fmt.Errorf("loguniform needs 0 < low ≤ high, got [%v, %v]", d.Low, d.High)
		}
	case "choice":
		if len(d.Values) == 0 {
			return errors.New("choice needs at least one value")
		}
	default:
		return fmt.Errorf("unknown distribution %q (want uniform, loguniform, int or choice)", d.Kind)
	}
	return nil
}

func (d Distribution) sample(rng *rand.Rand) any {
	switch d.Kind {
	case "uniform":
		return d.Low + rng.Float64()*(d.High-d.Low)
	case "loguniform":
		return math.Exp(math.Log(d.Low) + rng.Float64()*(math.Log(d.High)-math.Log(d.Low)))
	case "int":
		return int(d.Low) + rng.IntN(int(d.High)-int(d.Low)+1)
	}
	return d.Values[rng.IntN(len(d.Values))]
}

// grid returns n evenly spaced points (log-spaced for loguniform); choice
// returns its values, int the distinct rounded points.
func (d Distribution) grid(n int) []any {
	if d.Kind == "choice" {
		return d.Values
	}
	var out []any
	seen := map[int]bool{}
	for i := range n {
		f := 0.5
		if n > 1 {
			f = float64(i) / float64(n-1)
		}
		switch d.Kind {
		case "uniform":
			out = append(out, d.Low+f*(d.High-d.Low))
		case "loguniform":
			out = append(out, math.Exp(math.Log(d.Low)+f*(math.Log(d.High)-math.Log(d.Low))))
		case "int":
			v := int(math.Round(d.Low + f*(d.High-d.Low)))
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// TuneSpec describes a hyper-parameter search.
type TuneSpec struct {
	Algorithm string
	// Params are fixed hyper-parameters shared by every trial.
	Params map[string]any
	// Space holds the searched hyper-parameters.
	Space map[string]Distribution
	// Method is "grid" or "random".
	Method string
	// Trials is the number of random trials; for grid, a cap on the
	// number of grid points tried (0 = all).
	Trials int
	// GridPoints is the number of points per continuous dimension of a
	// grid (default 5).
	GridPoints int
	// Seed seeds the sampling, the folds and every trial's model.
	Seed int64
	// Metric names the score (see Metrics); higher or lower is better as
	// the table says.
	Metric string
	// KFold > 1 selects k-fold cross-validation over a seeded shuffle;
	// otherwise the last Holdout fraction of the data (in the given order,
	// default 0.2) is the validation set.
	KFold   int
	Holdout float64
	// Parallelism bounds the trials run at once (default GOMAXPROCS).
	Parallelism int
}

// Trial is the outcome of one configuration.
type Trial struct {
	Params     map[string]any // the searched values (fixed ones not repeated)
	Score      float64        // mean over folds
	FoldScores []float64
	Err        error
}

// TuneResult holds every trial, in the order tried, and the best.
type TuneResult struct {
	Metric         string
	HigherIsBetter bool
	Trials         []Trial
	Best           int // index into Trials, −1 when every trial failed
}

// BestParams returns the fixed parameters merged with the best trial's.
func (r *TuneResult) BestParams(spec TuneSpec) map[string]any {
	out := map[string]any{}
	for k, v := range spec.Params {
		out[k] = v
	}
	if r.Best >= 0 {
		for k, v := range r.Trials[r.Best].Params {
			out[k] = v
		}
	}
	return out
}

// ErrInvalidTuning is returned (wrapped) for an invalid TuneSpec.
var ErrInvalidTuning = errors.New("ml: invalid tuning")

// Tune runs the search on X, y and returns every trial's score. Trials run
// in parallel (bounded by Parallelism) and are deterministic for a seed.
// It stops early, returning ctx.Err(), when ctx is cancelled.
func Tune(ctx context.Context, spec TuneSpec, X []Vector, y []float64) (*TuneResult, error) {
	a, ok := Lookup(spec.Algorithm)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownAlgorithm, spec.Algorithm)
	}
	info, ok := LookupMetric(spec.Metric)
	if !ok || info.Kind == "clustering" {
		return nil, fmt.Errorf("%w: %w %q", ErrInvalidTuning, ErrUnknownMetric, spec.Metric)
	}
	keys := make([]string, 0, len(spec.Space))
	for k := range spec.Space {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var problems []string
	for _, k := range keys {
		if _, ok := a.Param(k); !ok {
			problems = append(problems, fmt.Sprintf("%s: unknown hyper-parameter of %s", k, a.Name))
		} else if err := spec.Space[k].validate(); err != nil {
			problems = append(problems, k+": "+err.Error())
		}
	}
	if spec.Method != "grid" && spec.Method != "random" {
		problems = append(problems, fmt.Sprintf("method %q: want grid or random", spec.Method))
	}
	if spec.Method == "random" && spec.Trials <= 0 {
		problems = append(problems, "random search needs trials > 0")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrInvalidTuning, strings.Join(problems, "; "))
	}
	if err := checkXY(X, y); err != nil {
		return nil, err
	}
	configs := candidates(spec, keys)
	folds := splitFolds(spec, len(X))
	res := &TuneResult{Metric: spec.Metric, HigherIsBetter: info.HigherIsBetter, Trials: make([]Trial, len(configs)), Best: -1}
	par := spec.Parallelism
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, c := range configs {
		res.Trials[i].Params = c
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(t *Trial) {
			defer func() { <-sem; wg.Done() }()
			t.Score, t.FoldScores, t.Err = runTrial(ctx, a, spec, t.Params, folds, X, y)
		}(&res.Trials[i])
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return res, err
	}
	for i, t := range res.Trials {
		if t.Err != nil || math.IsNaN(t.Score) {
			continue
		}
		if res.Best < 0 || (info.HigherIsBetter && t.Score > res.Trials[res.Best].Score) ||
			(!info.HigherIsBetter && t.Score < res.Trials[res.Best].Score) {
			res.Best = i
		}
	}
	return res, nil
}

func candidates(spec TuneSpec, keys []string) []map[string]any {
	var out []map[string]any
	if spec.Method == "random" {
		rng := rand.New(rand.NewPCG(uint64(spec.Seed), 0x74756e65))
		for range spec.Trials {
			c := map[string]any{}
			for _, k := range keys {
				c[k] = spec.Space[k].sample(rng)
			}
			out = append(out, c)
		}
		return out
	}
	n := spec.GridPoints
	if n <= 0 {
		n = 5
	}
	out = []map[string]any{{}}
	for _, k := range keys {
		var next []map[string]any
		for _, c := range out {
			for _, v := range spec.Space[k].grid(n) {
				m := map[string]any{k: v}
				for kk, vv := range c {
					m[kk] = vv
				}
				next = append(next, m)
			}
		}
		out = next
	}
	if spec.Trials > 0 && len(out) > spec.Trials {
		out = out[:spec.Trials]
	}
	return out
}

// splitFolds returns, per fold, the validation indices.
func splitFolds(spec TuneSpec, n int) [][]int {
	if spec.KFold > 1 {
		rng := rand.New(rand.NewPCG(uint64(spec.Seed), 0x666f6c64))
		perm := rng.Perm(n)
		k := min(spec.KFold, n)
		folds := make([][]int, k)
		for i, j := range perm {
			folds[i%k] = append(folds[i%k], j)
		}
		for _, f := range folds {
			sort.Ints(f)
		}
		return folds
	}
	h := spec.Holdout
	if h <= 0 || h >= 1 {
		h = 0.2
	}
	start := n - max(int(float64(n)*h), 1)
	val := make([]int, 0, n-start)
	for i := start; i < n; i++ {
		val = append(val, i)
	}
	return [][]int{val}
}

func runTrial(ctx context.Context, a *Algorithm, spec TuneSpec, c map[string]any, folds [][]int, X []Vector, y []float64) (float64, []float64, error) {
	params := map[string]any{}
	for k, v := range spec.Params {
		params[k] = v
	}
	for k, v := range c {
		params[k] = v
	}
	useLabel := spec.Metric == "accuracy" || spec.Metric == "f1" || spec.Metric == "precision" || spec.Metric == "recall"
	var scores []float64
	inVal := make([]bool, len(X))
	for _, val := range folds {
		if err := ctx.Err(); err != nil {
			return math.NaN(), scores, err
		}
		m, err := a.New(params, spec.Seed)
		if err != nil {
			return math.NaN(), nil, err
		}
		for i := range inVal {
			inVal[i] = false
		}
		for _, i := range val {
			inVal[i] = true
		}
		var Xt []Vector
		var yt []float64
		for i := range X {
			if !inVal[i] {
				Xt = append(Xt, X[i])
				yt = append(yt, y[i])
			}
		}
		if err := m.Fit(Xt, yt); err != nil {
			return math.NaN(), scores, err
		}
		yv := make([]float64, len(val))
		pv := make([]float64, len(val))
		cl, isCl := m.(Classifier)
		for j, i := range val {
			yv[j] = y[i]
			if useLabel && isCl {
				pv[j] = cl.PredictLabel(X[i])
			} else {
				pv[j] = m.Predict(X[i])
			}
		}
		s, err := Score(spec.Metric, yv, pv)
		if err != nil {
			return math.NaN(), scores, err
		}
		scores = append(scores, s)
	}
	var mean float64
	for _, s := range scores {
		mean += s
	}
	return mean / float64(len(scores)), scores, nil
}
