package ml

import (
	"math"
	"sort"
)

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
