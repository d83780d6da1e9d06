package ml

import "math"

// scaler keeps per-feature running statistics (Welford's algorithm) and
// standardizes dense inputs:
//
//	z_i = (x_i − μ_i) / σ_i,   σ_i = sqrt(M2_i / n)  (σ_i = 1 when it is 0)
//
// It is the internal standardization of linear models ("standardize:
// true"); its statistics are part of the model's state.
type scaler struct {
	N    float64   `json:"n"`
	Mean []float64 `json:"mean"`
	M2   []float64 `json:"m2"`

	inv []float64 // cached 1/σ_i
}

func (s *scaler) grow(d int) {
	for len(s.Mean) < d {
		s.Mean = append(s.Mean, 0)
		s.M2 = append(s.M2, 0)
		s.inv = append(s.inv, 1)
	}
}

// learn updates the statistics with one dense x.
func (s *scaler) learn(x []float64) {
	if len(s.inv) != len(s.Mean) { // after unmarshalling
		s.restore()
	}
	s.grow(len(x))
	s.N++
	rn := 1 / s.N
	mean, m2, inv := s.Mean[:len(x)], s.M2[:len(x)], s.inv[:len(x)]
	for i, xi := range x {
		d := xi - mean[i]
		mean[i] += d * rn
		m2[i] += d * (xi - mean[i])
		if v := m2[i] * rn; v > 1e-24 {
			inv[i] = 1 / math.Sqrt(v)
		} else {
			inv[i] = 1
		}
	}
}

// dot returns Σ_i w_i (x_i − μ_i)/σ_i without materializing z.
func (s *scaler) dot(x, w []float64) float64 {
	n := min(len(x), len(w))
	x, w = x[:n], w[:n]
	m := min(n, len(s.Mean))
	mean, inv := s.Mean[:m], s.inv[:m]
	var sum float64
	for i := range m {
		sum += w[i] * (x[i] - mean[i]) * inv[i]
	}
	for i := m; i < n; i++ {
		sum += w[i] * x[i]
	}
	return sum
}

// fit sets the statistics from a batch of dense vectors (population
// variance, as scikit-learn's StandardScaler).
func (s *scaler) fit(X []Vector, d int) {
	*s = scaler{}
	s.grow(d)
	for _, x := range X {
		s.learn(x.Val)
	}
	s.N = float64(len(X))
	s.restore()
}

func (s *scaler) restore() {
	s.inv = make([]float64, len(s.Mean))
	for i := range s.inv {
		v := s.M2[i] / max(s.N, 1)
		if v > 1e-24 {
			s.inv[i] = 1 / math.Sqrt(v)
		} else {
			s.inv[i] = 1
		}
	}
}

// apply writes the standardized x into dst (grown to len(x)) and returns
// it. Features beyond the learned statistics pass through.
func (s *scaler) apply(dst, x []float64) []float64 {
	if cap(dst) < len(x) {
		dst = make([]float64, len(x))
	}
	dst = dst[:len(x)]
	n := min(len(x), len(s.Mean))
	mean, inv := s.Mean[:n], s.inv[:n]
	for i := range n {
		dst[i] = (x[i] - mean[i]) * inv[i]
	}
	copy(dst[n:], x[n:])
	return dst
}
