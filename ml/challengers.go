package ml

import (
	"fmt"
	"math"
	"sort"
)

// Configurations returns the hyper-parameter sets a TuneSpec would try
// (fixed Params merged with each grid point or random sample), in order.
// Online tuning uses them to build the candidates of a Challengers.
func Configurations(spec TuneSpec) ([]map[string]any, error) {
	a, ok := Lookup(spec.Algorithm)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownAlgorithm, spec.Algorithm)
	}
	keys := make([]string, 0, len(spec.Space))
	for k, d := range spec.Space {
		if _, ok := a.Param(k); !ok {
			return nil, fmt.Errorf("%w: %s: unknown hyper-parameter of %s", ErrInvalidTuning, k, a.Name)
		}
		if err := d.validate(); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalidTuning, k, err)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if spec.Method != "grid" && (spec.Method != "random" || spec.Trials <= 0) {
		return nil, fmt.Errorf("%w: method %q with %d trials", ErrInvalidTuning, spec.Method, spec.Trials)
	}
	var out []map[string]any
	for _, c := range candidates(spec, keys) {
		m := map[string]any{}
		for k, v := range spec.Params {
			m[k] = v
		}
		for k, v := range c {
			m[k] = v
		}
		out = append(out, m)
	}
	return out, nil
}

// Challengers learns several models side by side on one stream and scores
// each prequentially (predict, then learn) with a streaming metric, for
// online tuning and champion/challenger promotion. Not safe for concurrent
// use.
type Challengers struct {
	Models  []Model
	Metrics []Metric
	higher  bool
	label   bool
}

// NewChallengers scores models with the named metric over a sliding
// window of window examples (0 = all).
func NewChallengers(models []Model, metric string, window int) (*Challengers, error) {
	info, ok := LookupMetric(metric)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownMetric, metric)
	}
	c := &Challengers{Models: models, higher: info.HigherIsBetter,
		label: metric == "accuracy" || metric == "f1" || metric == "precision" || metric == "recall"}
	for range models {
		m, err := NewMetric(metric, window)
		if err != nil {
			return nil, err
		}
		c.Metrics = append(c.Metrics, m)
	}
	return c, nil
}

// Learn scores every model on (x, y), then lets it learn the example.
func (c *Challengers) Learn(x Vector, y float64) {
	for i, m := range c.Models {
		var p float64
		if cl, ok := m.(Classifier); ok && c.label {
			p = cl.PredictLabel(x)
		} else {
			p = m.Predict(x)
		}
		c.Metrics[i].Update(y, p)
		m.Learn(x, y)
	}
}

// Scores returns each model's current metric value.
func (c *Challengers) Scores() []float64 {
	out := make([]float64, len(c.Metrics))
	for i, m := range c.Metrics {
		out[i] = m.Value()
	}
	return out
}

// Best returns the index and score of the best model so far (−1 and NaN
// before any example). Ties go to the lower index, so the champion (index
// 0 by convention) keeps its place until a challenger is strictly better.
func (c *Challengers) Best() (int, float64) {
	best, bestS := -1, math.NaN()
	for i, s := range c.Scores() {
		if math.IsNaN(s) {
			continue
		}
		if best < 0 || (c.higher && s > bestS) || (!c.higher && s < bestS) {
			best, bestS = i, s
		}
	}
	return best, bestS
}
