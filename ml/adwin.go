package ml

import "math"

// driftValue returns the monitored value of an example: x's first element,
// or y when x is empty.
func driftValue(x Vector, y float64) float64 {
	if x.NNZ() == 0 && x.Len() == 0 {
		return y
	}
	return x.At(0)
}

var adwinAlgorithm = &Algorithm{
	Name:  "adwin",
	Kind:  KindDrift,
	Modes: []string{ModeOnline},
	Doc: "ADWIN adaptive windowing (Bifet and Gavaldà 2007): keeps a window of recent values in an " +
		"exponential histogram and drops its older part whenever two sub-windows have significantly " +
		"different means; each drop is a drift. Predict returns the window mean.",
	Params: []Param{
		{Name: "delta", Type: TypeFloat, Default: 0.002, Min: ptr(1e-12), Max: ptr(1),
			Doc: "Confidence δ of the cut test (smaller: fewer false alarms)."},
		{Name: "clock", Type: TypeInt, Default: 32, Min: ptr(1), Max: ptr(100000),
			Doc: "Check for drift every clock values."},
		{Name: "max_buckets", Type: TypeInt, Default: 5, Min: ptr(2), Max: ptr(100),
			Doc: "Buckets of each size kept by the exponential histogram."},
		{Name: "min_window", Type: TypeInt, Default: 5, Min: ptr(1), Max: ptr(100000),
			Doc: "Minimum length of each sub-window compared."},
	},
	build: newADWIN,
}

// adwinBucket summarizes N consecutive values: their sum and the sum of
// squared deviations from their mean.
type adwinBucket struct {
	N   float64 `json:"n"`
	Sum float64 `json:"sum"`
	Var float64 `json:"var"`
}

// adwinState is {"buckets": [...oldest first], "t": n, "detections": k}.
type adwinState struct {
	Buckets    []adwinBucket `json:"buckets"`
	T          int           `json:"t"`
	Detections int           `json:"detections"`
	Width      float64       `json:"width"`
	Total      float64       `json:"total"`
	Variance   float64       `json:"variance"`
}

// ADWIN is the adwin drift detector. For a split of the window W into an
// older W₀ and a newer W₁ (n₀, n₁ values, means μ₀, μ₁), with
//
//	m = 1/(n₀ − L + 1) + 1/(n₁ − L + 1),  δ' = ln(2 ln|W| / δ),
//	ε = sqrt(2 m σ²_W δ') + (2/3) m δ'
//
// the older part is dropped when |μ₀ − μ₁| > ε (L = min_window).
type ADWIN struct {
	base
	st       adwinState
	delta    float64
	clock    int
	maxB     int
	minWin   int
	detected bool
}

var _ DriftDetector = (*ADWIN)(nil)

func newADWIN(b base) (Model, error) {
	p := b.p
	return &ADWIN{base: b, delta: p.Float("delta"),
		clock: p.Int("clock"), maxB: p.Int("max_buckets"), minWin: p.Int("min_window")}, nil
}

func (m *ADWIN) state() any { return &m.st }

// Learn adds the monitored value of x (see DriftDetector).
func (m *ADWIN) Learn(x Vector, y float64) { m.Update(driftValue(x, y)) }

// Fit feeds X (or y) in order.
func (m *ADWIN) Fit(X []Vector, y []float64) error {
	m.st = adwinState{}
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

// Predict returns the mean of the current window.
func (m *ADWIN) Predict(Vector) float64 {
	if m.st.Width == 0 {
		return 0
	}
	return m.st.Total / m.st.Width
}

// Detections returns the number of drifts detected.
func (m *ADWIN) Detections() int { return m.st.Detections }

// Width returns the current window length.
func (m *ADWIN) Width() int { return int(m.st.Width) }

// Update adds v and reports whether a drift was detected.
func (m *ADWIN) Update(v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	// Insert as a new bucket and update the window totals.
	if m.st.Width > 0 {
		mean := m.st.Total / m.st.Width
		m.st.Variance += m.st.Width * (v - mean) * (v - mean) / (m.st.Width + 1)
	}
	m.st.Width++
	m.st.Total += v
	m.st.Buckets = append(m.st.Buckets, adwinBucket{N: 1, Sum: v})
	m.compress()
	m.st.T++
	drift := false
	if m.st.T%m.clock == 0 && m.st.Width > float64(2*m.minWin) {
		for m.cut() {
			drift = true
		}
	}
	if drift {
		m.st.Detections++
	}
	return drift
}

func mergeBuckets(a, b adwinBucket) adwinBucket {
	n := a.N + b.N
	d := a.Sum/a.N - b.Sum/b.N
	return adwinBucket{N: n, Sum: a.Sum + b.Sum, Var: a.Var + b.Var + a.N*b.N*d*d/n}
}

// compress keeps at most max_buckets buckets of each size, merging the two
// oldest of a size into one of twice the size.
func (m *ADWIN) compress() {
	bs := m.st.Buckets
	end := len(bs)
	for end > 0 {
		size := bs[end-1].N
		start := end - 1
		for start > 0 && bs[start-1].N == size {
			start--
		}
		if end-start <= m.maxB {
			end = start
			continue
		}
		bs[start] = mergeBuckets(bs[start], bs[start+1])
		bs = append(bs[:start+1], bs[start+2:]...)
		end = start + 1
	}
	m.st.Buckets = bs
}

// cut drops the oldest bucket if some split shows a change.
func (m *ADWIN) cut() bool {
	n := m.st.Width
	if n < 2 {
		return false
	}
	sigma2 := m.st.Variance / n
	dd := math.Log(2 * math.Log(n) / m.delta)
	var n0, s0 float64
	L := float64(m.minWin)
	for i := 0; i < len(m.st.Buckets)-1; i++ {
		b := m.st.Buckets[i]
		n0 += b.N
		s0 += b.Sum
		n1 := n - n0
		if n0 < L || n1 < L {
			continue
		}
		u0, u1 := s0/n0, (m.st.Total-s0)/n1
		mm := 1/(n0-L+1) + 1/(n1-L+1)
		eps := math.Sqrt(2*mm*sigma2*dd) + 2.0/3*dd*mm
		if math.Abs(u0-u1) > eps {
			b0 := m.st.Buckets[0]
			m.st.Buckets = m.st.Buckets[1:]
			rest := m.st.Width - b0.N
			if rest > 0 {
				u := (m.st.Total - b0.Sum) / rest
				d := b0.Sum/b0.N - u
				m.st.Variance -= b0.Var + b0.N*rest*d*d/m.st.Width
				m.st.Variance = max(m.st.Variance, 0)
			}
			m.st.Width = rest
			m.st.Total -= b0.Sum
			return true
		}
	}
	return false
}
