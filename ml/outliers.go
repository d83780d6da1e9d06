package ml

import (
	"fmt"
	"math"
)

// Outliers detects outliers of one numeric column with limits learned
// online (for the clean stage's outliers option):
//
//	zscore  [μ − t·σ, μ + t·σ]           running mean and deviation, t = Threshold
//	iqr     [Q1 − k·IQR, Q3 + k·IQR]     quartiles from a QuantileSketch, k = K (Tukey's fences)
//	bounds  [Min, Max]                   fixed
//
// Check reports whether a value is outside the limits and returns it
// clipped to them. Learn ignores NaN. It marshals to JSON.
type Outliers struct {
	Method    string          `json:"method"`
	Threshold float64         `json:"threshold"`
	K         float64         `json:"k"`
	Min       float64         `json:"min"`
	Max       float64         `json:"max"`
	N         float64         `json:"n"`
	Mean      float64         `json:"mean"`
	M2        float64         `json:"m2"`
	Sketch    *QuantileSketch `json:"sketch,omitempty"`
}

// OutlierMethods lists the methods of Outliers.
var OutlierMethods = []string{"zscore", "iqr", "bounds"}

// NewOutliers returns a detector. threshold is the z-score limit, k the
// IQR factor, lo and hi the fixed bounds (used by their method only).
func NewOutliers(method string, threshold, k, lo, hi float64) (*Outliers, error) {
	o := &Outliers{Method: method, Threshold: threshold, K: k, Min: lo, Max: hi}
	switch method {
	case "zscore", "bounds":
	case "iqr":
		o.Sketch = NewQuantileSketch(200)
	default:
		return nil, fmt.Errorf("ml: unknown outlier method %q (want one of %v)", method, OutlierMethods)
	}
	if method == "bounds" && !(lo <= hi) {
		return nil, fmt.Errorf("ml: outlier bounds need min ≤ max, got [%v, %v]", lo, hi)
	}
	return o, nil
}

// Learn updates the statistics with v.
func (o *Outliers) Learn(v float64) {
	if math.IsNaN(v) {
		return
	}
	o.N++
	d := v - o.Mean
	o.Mean += d / o.N
	o.M2 += d * (v - o.Mean)
	if o.Method == "iqr" {
		if o.Sketch == nil {
			o.Sketch = NewQuantileSketch(200)
		}
		o.Sketch.Add(v)
	}
}

// Limits returns the current limits (±Inf before enough data: two values
// for zscore, four for iqr).
func (o *Outliers) Limits() (lo, hi float64) {
	switch o.Method {
	case "bounds":
		return o.Min, o.Max
	case "zscore":
		if o.N < 2 {
			return math.Inf(-1), math.Inf(1)
		}
		s := math.Sqrt(o.M2 / o.N)
		return o.Mean - o.Threshold*s, o.Mean + o.Threshold*s
	}
	if o.N < 4 {
		return math.Inf(-1), math.Inf(1)
	}
	q1, q3 := o.Sketch.Quantile(0.25), o.Sketch.Quantile(0.75)
	return q1 - o.K*(q3-q1), q3 + o.K*(q3-q1)
}

// Check returns v clipped to the limits and whether v was outside them.
func (o *Outliers) Check(v float64) (float64, bool) {
	lo, hi := o.Limits()
	switch {
	case v < lo:
		return lo, true
	case v > hi:
		return hi, true
	}
	return v, false
}
