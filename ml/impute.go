package ml

import (
	"fmt"
	"math"
	"sort"
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

// QuantileSketch is a deterministic mergeable quantile summary in the
// style of KLL/MRL: level h holds up to K values each standing for 2^h
// inputs; a full level is sorted and every other value (alternating offset)
// is promoted to the next level. Memory is O(K log(n/K)); the rank error is
// about log₂(n/K)/K. It marshals to JSON.
type QuantileSketch struct {
	K      int         `json:"k"`
	N      int64       `json:"n"`
	Levels [][]float64 `json:"levels"`
	Flip   uint64      `json:"flip"`
}

// NewQuantileSketch returns a sketch with level capacity k (≥ 8).
func NewQuantileSketch(k int) *QuantileSketch {
	return &QuantileSketch{K: max(k, 8)}
}

// Add adds one value (NaN is ignored).
func (s *QuantileSketch) Add(v float64) {
	if math.IsNaN(v) {
		return
	}
	if len(s.Levels) == 0 {
		s.Levels = [][]float64{nil}
	}
	s.N++
	s.Levels[0] = append(s.Levels[0], v)
	for h := 0; h < len(s.Levels); h++ {
		if len(s.Levels[h]) < s.K {
			break
		}
		s.compact(h)
	}
}

func (s *QuantileSketch) compact(h int) {
	l := s.Levels[h]
	sort.Float64s(l)
	s.Flip++
	off := int(s.Flip & 1)
	if h+1 == len(s.Levels) {
		s.Levels = append(s.Levels, nil)
	}
	keep := len(l) % 2 // an odd element stays at this level
	var rest float64
	if keep == 1 {
		rest = l[len(l)-1]
		l = l[:len(l)-1]
	}
	for i := off; i < len(l); i += 2 {
		s.Levels[h+1] = append(s.Levels[h+1], l[i])
	}
	s.Levels[h] = s.Levels[h][:0]
	if keep == 1 {
		s.Levels[h] = append(s.Levels[h], rest)
	}
}

// Quantile returns an approximate q-quantile (q in [0,1]); NaN when
// empty.
func (s *QuantileSketch) Quantile(q float64) float64 {
	type wv struct {
		v float64
		w float64
	}
	var all []wv
	var total float64
	for h, l := range s.Levels {
		w := math.Ldexp(1, h)
		for _, v := range l {
			all = append(all, wv{v, w})
			total += w
		}
	}
	if len(all) == 0 {
		return math.NaN()
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	target := q * total
	var c float64
	for _, x := range all {
		c += x.w
		if c >= target {
			return x.v
		}
	}
	return all[len(all)-1].v
}

// Merge adds the contents of o (a sketch of other values) to s; o is not
// changed. Merging sketches of parallel partitions gives a sketch of the
// union with the same error bound.
func (s *QuantileSketch) Merge(o *QuantileSketch) {
	for len(s.Levels) < len(o.Levels) {
		s.Levels = append(s.Levels, nil)
	}
	for h, l := range o.Levels {
		s.Levels[h] = append(s.Levels[h], l...)
	}
	s.N += o.N
	for h := 0; h < len(s.Levels); h++ {
		for len(s.Levels[h]) >= s.K {
			s.compact(h)
		}
	}
}

// Count returns the number of values added.
func (s *QuantileSketch) Count() int64 { return s.N }
