package ml

import "math"

// StandardScaler standardizes dense vectors with online statistics
// (Welford):
//
//	z_i = (x_i − μ_i) / σ_i,   σ_i = sqrt(M2_i / n)  (σ_i = 1 when it is 0)
//
// It marshals to JSON as {"n":..,"mean":[..],"m2":[..]}; call Restore after
// unmarshalling. Not safe for concurrent use.
type StandardScaler struct {
	scaler
}

// Learn updates the statistics with x.
func (s *StandardScaler) Learn(x []float64) { s.learn(x) }

// Fit replaces the statistics by those of X.
func (s *StandardScaler) Fit(X [][]float64) {
	s.scaler = scaler{}
	for _, x := range X {
		s.learn(x)
	}
}

// Transform writes the standardized x into dst (reused when large enough)
// and returns it.
func (s *StandardScaler) Transform(dst, x []float64) []float64 {
	if len(s.inv) != len(s.Mean) {
		s.restore()
	}
	return s.apply(dst, x)
}

// Restore rebuilds caches after unmarshalling.
func (s *StandardScaler) Restore() { s.restore() }

// Std returns the standard deviation of feature i.
func (s *StandardScaler) Std(i int) float64 {
	if s.N == 0 || i >= len(s.M2) {
		return 0
	}
	return math.Sqrt(s.M2[i] / s.N)
}

// MinMaxScaler maps each feature to [0, 1] with the running minimum and
// maximum: z_i = (x_i − min_i) / (max_i − min_i), 0 when max_i = min_i.
// Values outside the learned range map outside [0, 1] unless Clip is set.
type MinMaxScaler struct {
	N    float64   `json:"n"`
	Min  []float64 `json:"min"`
	Max  []float64 `json:"max"`
	Clip bool      `json:"clip"`
}

// Learn updates the ranges with x.
func (s *MinMaxScaler) Learn(x []float64) {
	for len(s.Min) < len(x) {
		v := x[len(s.Min)]
		s.Min = append(s.Min, v)
		s.Max = append(s.Max, v)
	}
	s.N++
	for i, v := range x {
		s.Min[i] = min(s.Min[i], v)
		s.Max[i] = max(s.Max[i], v)
	}
}

// Fit replaces the ranges by those of X.
func (s *MinMaxScaler) Fit(X [][]float64) {
	*s = MinMaxScaler{Clip: s.Clip}
	for _, x := range X {
		s.Learn(x)
	}
}

// Transform writes the scaled x into dst and returns it.
func (s *MinMaxScaler) Transform(dst, x []float64) []float64 {
	if cap(dst) < len(x) {
		dst = make([]float64, len(x))
	}
	dst = dst[:len(x)]
	for i, v := range x {
		if i >= len(s.Min) {
			dst[i] = v
			continue
		}
		w := s.Max[i] - s.Min[i]
		if w <= 0 {
			dst[i] = 0
			continue
		}
		z := (v - s.Min[i]) / w
		if s.Clip {
			z = min(max(z, 0), 1)
		}
		dst[i] = z
	}
	return dst
}
