package ml

import "math"

var zscoreAnomalyAlgorithm = &Algorithm{
	Name:  "zscore_anomaly",
	Kind:  KindAnomaly,
	Modes: []string{ModeOnline},
	Doc: "Rolling z-score: the score of x is max_j |x_j − μ_j| / σ_j over the last window examples " +
		"learned (x itself excluded when predicting before learning). Scores above threshold are anomalies.",
	Params: []Param{
		{Name: "window", Type: TypeInt, Default: 100, Min: ptr(2), Max: ptr(10000000),
			Doc: "Number of most recent examples the mean and deviation are computed over."},
		{Name: "threshold", Type: TypeFloat, Default: 3.0, Min: ptr(0),
			Doc: "Score above which an example is anomalous (see IsAnomaly)."},
		{Name: "min_samples", Type: TypeInt, Default: 10, Min: ptr(2),
			Doc: "Examples needed before any score is non-zero."},
	},
	build: newZScore,
}

// zscoreState is {"ring": [[...]], "pos": i, "count": n, "sum": [...], "sumsq": [...]}.
type zscoreState struct {
	Ring  [][]float64 `json:"ring"`
	Pos   int         `json:"pos"`
	Count int         `json:"count"`
	Sum   []float64   `json:"sum"`
	SumSq []float64   `json:"sumsq"`
}

// ZScore is the zscore_anomaly detector:
//
//	score(x) = max_j |x_j − μ_j| / σ_j,  μ_j, σ_j over the last window examples
//
// (σ_j is the population deviation; a feature with σ_j = 0 scores 0 when
// x_j = μ_j and +1e9 otherwise).
type ZScore struct {
	base
	st        zscoreState
	window    int
	threshold float64
	minN      int
}

var _ Model = (*ZScore)(nil)

func newZScore(b base) (Model, error) {
	p := b.p
	return &ZScore{base: b, window: p.Int("window"),
		threshold: p.Float("threshold"), minN: p.Int("min_samples")}, nil
}

func (m *ZScore) state() any { return &m.st }

// Learn adds x to the window.
func (m *ZScore) Learn(x Vector, _ float64) {
	if !finite(x, 0) {
		return
	}
	d := x.Len()
	for len(m.st.Sum) < d {
		m.st.Sum = append(m.st.Sum, 0)
		m.st.SumSq = append(m.st.SumSq, 0)
	}
	if len(m.st.Ring) < m.window {
		m.st.Ring = append(m.st.Ring, nil)
	}
	old := m.st.Ring[m.st.Pos]
	for j, v := range old {
		m.st.Sum[j] -= v
		m.st.SumSq[j] -= v * v
	}
	if old != nil {
		m.st.Count--
	}
	row := x.AppendDense(old[:0], d)
	for j, v := range row {
		m.st.Sum[j] += v
		m.st.SumSq[j] += v * v
	}
	m.st.Ring[m.st.Pos] = row
	m.st.Count++
	m.st.Pos = (m.st.Pos + 1) % m.window
}

// Fit replaces the window by the last window examples of X.
func (m *ZScore) Fit(X []Vector, _ []float64) error {
	m.st = zscoreState{}
	for _, x := range X {
		m.Learn(x, 0)
	}
	return nil
}

// Predict returns the z-score of x against the window.
func (m *ZScore) Predict(x Vector) float64 {
	n := float64(m.st.Count)
	if m.st.Count < m.minN {
		return 0
	}
	var best float64
	for j := range m.st.Sum {
		mu := m.st.Sum[j] / n
		v := m.st.SumSq[j]/n - mu*mu
		d := math.Abs(x.At(j) - mu)
		var z float64
		switch {
		case v > 1e-12*max(1, mu*mu):
			z = d / math.Sqrt(v)
		case d > 1e-9*max(1, math.Abs(mu)):
			z = 1e9
		}
		best = max(best, z)
	}
	return best
}

// IsAnomaly reports whether score exceeds the threshold.
func (m *ZScore) IsAnomaly(score float64) bool { return score > m.threshold }
