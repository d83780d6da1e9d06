package ml

import "math"

var pageHinkleyAlgorithm = &Algorithm{
	Name:  "page_hinkley",
	Kind:  KindDrift,
	Modes: []string{ModeOnline},
	Doc: "Page-Hinkley test (Page 1954): accumulates deviations of values from their running mean " +
		"and signals a drift when the cumulative sum rises (or falls) more than threshold above its " +
		"extreme; the detector then restarts. Predict returns the running mean.",
	Params: []Param{
		{Name: "delta", Type: TypeFloat, Default: 0.005, Min: ptr(0), Doc: "Magnitude of changes tolerated."},
		{Name: "threshold", Type: TypeFloat, Default: 50.0, Min: ptr(0), Doc: "Detection threshold λ."},
		{Name: "alpha", Type: TypeFloat, Default: 0.9999, Min: ptr(0), Max: ptr(1),
			Doc: "Forgetting factor of the cumulative sum."},
		{Name: "min_instances", Type: TypeInt, Default: 30, Min: ptr(1), Doc: "Values before detection starts."},
		{Name: "direction", Type: TypeString, Default: "both", Enum: []string{"up", "down", "both"},
			Doc: "Detect increases, decreases or both."},
	},
	build: newPageHinkley,
}

// pageHinkleyState is the running state of page_hinkley.
type pageHinkleyState struct {
	N          float64 `json:"n"`
	Mean       float64 `json:"mean"`
	SumUp      float64 `json:"sum_up"`
	MinUp      float64 `json:"min_up"`
	SumDown    float64 `json:"sum_down"`
	MaxDown    float64 `json:"max_down"`
	Detections int     `json:"detections"`
}

// PageHinkley is the page_hinkley detector. With running mean x̄_t,
//
//	m_t = α m_{t−1} + (x_t − x̄_t − δ),  M_t = min_{s≤t} m_s,  drift up if m_t − M_t > λ
//
// and symmetrically for decreases.
type PageHinkley struct {
	base
	st        pageHinkleyState
	delta     float64
	threshold float64
	alpha     float64
	minN      int
	up, down  bool
}

var _ DriftDetector = (*PageHinkley)(nil)

func newPageHinkley(b base) (Model, error) {
	p := b.p
	dir := p.String("direction")
	return &PageHinkley{base: b, delta: p.Float("delta"),
		threshold: p.Float("threshold"), alpha: p.Float("alpha"), minN: p.Int("min_instances"),
		up: dir != "down", down: dir != "up"}, nil
}

func (m *PageHinkley) state() any { return &m.st }

// Learn adds the monitored value of x.
func (m *PageHinkley) Learn(x Vector, y float64) { m.Update(driftValue(x, y)) }

// Fit feeds X (or y) in order.
func (m *PageHinkley) Fit(X []Vector, y []float64) error {
	m.st = pageHinkleyState{}
	for i := range max(len(X), len(y)) {
		var x Vector
		var v float64
		if i < len(X) {
			x = X[i]
		}
		if i < len(y) {
			v = y[i]
		}
		m.Learn(x, v)
	}
	return nil
}

// Predict returns the running mean.
func (m *PageHinkley) Predict(Vector) float64 { return m.st.Mean }

// Detections returns the number of drifts detected.
func (m *PageHinkley) Detections() int { return m.st.Detections }

// Update adds v and reports whether a drift was detected.
func (m *PageHinkley) Update(v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	s := &m.st
	s.N++
	s.Mean += (v - s.Mean) / s.N
	s.SumUp = m.alpha*s.SumUp + (v - s.Mean - m.delta)
	s.MinUp = min(s.MinUp, s.SumUp)
	s.SumDown = m.alpha*s.SumDown + (v - s.Mean + m.delta)
	s.MaxDown = max(s.MaxDown, s.SumDown)
	if s.N < float64(m.minN) {
		return false
	}
	if (m.up && s.SumUp-s.MinUp > m.threshold) || (m.down && s.MaxDown-s.SumDown > m.threshold) {
		*s = pageHinkleyState{Detections: s.Detections + 1}
		return true
	}
	return false
}
