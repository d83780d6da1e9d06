package ml

import (
	"fmt"
	"math"
	"strconv"
)

// ImputeStrategies lists the strategies of Imputer.
var ImputeStrategies = []string{"mean", "median", "most_frequent", "constant", "previous"}

// Imputer fills missing numeric values (NaN) of one column with a
// statistic learned online from the values present:
//
//	mean           running mean
//	median         median of a QuantileSketch (approximate, rank error ≈ 1/K per level)
//	most_frequent  most frequent value (ties: the smallest)
//	constant       Constant
//	previous       the last value present (Constant before any)
//
// It marshals to JSON; not safe for concurrent use.
type Imputer struct {
	Strategy string             `json:"strategy"`
	Constant float64            `json:"constant"`
	N        float64            `json:"n"`
	Mean     float64            `json:"mean"`
	Last     float64            `json:"last"`
	Counts   map[string]float64 `json:"counts,omitempty"` // value (strconv 'g' format) → count
	Sketch   *QuantileSketch    `json:"sketch,omitempty"`
}

// NewImputer returns an imputer with the given strategy (one of
// ImputeStrategies).
func NewImputer(strategy string, constant float64) (*Imputer, error) {
	m := &Imputer{Strategy: strategy, Constant: constant, Last: constant}
	switch strategy {
	case "mean", "constant", "previous":
	case "median":
		m.Sketch = NewQuantileSketch(200)
	case "most_frequent":
		m.Counts = map[string]float64{}
	default:
		return nil, fmt.Errorf("ml: unknown impute strategy %q (want one of %v)", strategy, ImputeStrategies)
	}
	return m, nil
}

// Learn updates the statistics with v; NaN (missing) is ignored.
func (m *Imputer) Learn(v float64) {
	if math.IsNaN(v) {
		return
	}
	m.N++
	m.Mean += (v - m.Mean) / m.N
	m.Last = v
	if m.Strategy == "median" {
		if m.Sketch == nil {
			m.Sketch = NewQuantileSketch(200)
		}
		m.Sketch.Add(v)
	}
	if m.Strategy == "most_frequent" {
		if m.Counts == nil { // after unmarshalling an empty map
			m.Counts = map[string]float64{}
		}
		m.Counts[strconv.FormatFloat(v, 'g', -1, 64)]++
	}
}

// Value returns the current fill value.
func (m *Imputer) Value() float64 {
	if m.N == 0 {
		return m.Constant
	}
	switch m.Strategy {
	case "mean":
		return m.Mean
	case "median":
		return m.Sketch.Quantile(0.5)
	case "most_frequent":
		best, bestC := 0.0, -1.0
		for k, c := range m.Counts {
			v, _ := strconv.ParseFloat(k, 64)
			if c > bestC || (c == bestC && v < best) {
				best, bestC = v, c
			}
		}
		return best
	case "previous":
		return m.Last
	}
	return m.Constant
}

// Transform returns v, or the fill value when v is NaN.
func (m *Imputer) Transform(v float64) float64 {
	if math.IsNaN(v) {
		return m.Value()
	}
	return v
}

// CategoryImputer fills missing string values ("") with the most frequent
// value, a constant or the previous value.
type CategoryImputer struct {
	Strategy string             `json:"strategy"`
	Constant string             `json:"constant"`
	Last     string             `json:"last"`
	Counts   map[string]float64 `json:"counts,omitempty"`
}

// NewCategoryImputer returns an imputer with strategy most_frequent,
// constant or previous.
func NewCategoryImputer(strategy, constant string) (*CategoryImputer, error) {
	switch strategy {
	case "most_frequent", "constant", "previous":
	default:
		return nil, fmt.Errorf("ml: unknown category impute strategy %q (want most_frequent, constant or previous)", strategy)
	}
	return &CategoryImputer{Strategy: strategy, Constant: constant, Last: constant, Counts: map[string]float64{}}, nil
}

// Learn updates the statistics with s ("" is missing and ignored).
func (m *CategoryImputer) Learn(s string) {
	if s == "" {
		return
	}
	m.Last = s
	if m.Strategy == "most_frequent" {
		if m.Counts == nil {
			m.Counts = map[string]float64{}
		}
		m.Counts[s]++
	}
}

// Value returns the current fill value.
func (m *CategoryImputer) Value() string {
	switch m.Strategy {
	case "previous":
		return m.Last
	case "most_frequent":
		best, bestC := m.Constant, 0.0
		for v, c := range m.Counts {
			if c > bestC || (c == bestC && v < best) {
				best, bestC = v, c
			}
		}
		return best
	}
	return m.Constant
}

// Transform returns s, or the fill value when s is "".
func (m *CategoryImputer) Transform(s string) string {
	if s == "" {
		return m.Value()
	}
	return s
}
