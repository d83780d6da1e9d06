package ml

import (
	"fmt"
	"math"
	"sort"
)

// Vector is a feature vector, dense or sparse. It is a small value (two
// slice headers) and is passed by value; it never owns its slices: the
// caller may reuse them after a call returns, and models never keep them.
//
// A dense vector has Idx == nil and holds element i in Val[i]. A sparse
// vector holds the non-zero elements Val[k] at positions Idx[k]; Idx is
// strictly increasing. The zero Vector is an empty dense vector.
//
//	x := ml.Dense([]float64{1.5, 0, 3})          // 3 elements
//	s := ml.Sparse([]int32{4, 70000}, []float64{0.2, 0.9}) // 2 non-zeros
//
// Sparse vectors make hashed and TF-IDF features with 2^16 or more
// dimensions cheap: linear models touch only the non-zero entries.
type Vector struct {
	Idx []int32
	Val []float64
}

// Dense returns a dense vector over x; x is not copied.
func Dense(x []float64) Vector { return Vector{Val: x} }

// Sparse returns a sparse vector with the given strictly increasing
// indices and values; the slices are not copied. It panics if the lengths
// differ.
func Sparse(idx []int32, val []float64) Vector {
	if len(idx) != len(val) {
		panic("ml: sparse vector index and value lengths differ")
	}
	return Vector{Idx: idx, Val: val}
}

// IsSparse reports whether v is sparse.
func (v Vector) IsSparse() bool { return v.Idx != nil }

// Len returns the dimension that v spans: len(Val) for a dense vector and
// the largest index plus one for a sparse one.
func (v Vector) Len() int {
	if v.Idx == nil {
		return len(v.Val)
	}
	if len(v.Idx) == 0 {
		return 0
	}
	return int(v.Idx[len(v.Idx)-1]) + 1
}

// NNZ returns the number of stored elements.
func (v Vector) NNZ() int { return len(v.Val) }

// At returns element i (zero when it is not stored). For sparse vectors it
// takes O(log nnz).
func (v Vector) At(i int) float64 {
	if v.Idx == nil {
		if i < len(v.Val) {
			return v.Val[i]
		}
		return 0
	}
	k := sort.Search(len(v.Idx), func(k int) bool { return int(v.Idx[k]) >= i })
	if k < len(v.Idx) && int(v.Idx[k]) == i {
		return v.Val[k]
	}
	return 0
}

// Dot returns Σ_i v_i·w_i; elements beyond len(w) count as zero.
func (v Vector) Dot(w []float64) float64 {
	var s float64
	if v.Idx == nil {
		n := min(len(v.Val), len(w))
		x := v.Val[:n]
		w = w[:n]
		for i, xi := range x {
			s += xi * w[i]
		}
		return s
	}
	for k, i := range v.Idx {
		if int(i) < len(w) {
			s += v.Val[k] * w[i]
		}
	}
	return s
}

// AppendDense appends v as a dense slice of length n to dst.
func (v Vector) AppendDense(dst []float64, n int) []float64 {
	start := len(dst)
	for range n {
		dst = append(dst, 0)
	}
	out := dst[start:]
	if v.Idx == nil {
		copy(out, v.Val)
		return dst
	}
	for k, i := range v.Idx {
		if int(i) < n {
			out[i] = v.Val[k]
		}
	}
	return dst
}

// Clone returns a deep copy of v.
func (v Vector) Clone() Vector {
	c := Vector{Val: append([]float64(nil), v.Val...)}
	if v.Idx != nil {
		c.Idx = append([]int32{}, v.Idx...)
	}
	return c
}

// String formats v for debugging.
func (v Vector) String() string {
	if v.Idx == nil {
		return fmt.Sprint(v.Val)
	}
	return fmt.Sprintf("sparse%v:%v", v.Idx, v.Val)
}

// sqDist returns ‖v − c‖² for a dense centre c.
func sqDist(v Vector, c []float64) float64 {
	var s float64
	if v.Idx == nil {
		n := min(len(v.Val), len(c))
		for i := range n {
			d := v.Val[i] - c[i]
			s += d * d
		}
		for _, ci := range c[n:] {
			s += ci * ci
		}
		return s
	}
	for _, ci := range c {
		s += ci * ci
	}
	for k, i := range v.Idx {
		if int(i) < len(c) {
			x := v.Val[k]
			s += x*x - 2*x*c[i]
		} else {
			s += v.Val[k] * v.Val[k]
		}
	}
	if s < 0 {
		s = 0
	}
	return s
}

// finite reports whether every stored element of x and y is finite. Learn
// methods skip examples that are not: one NaN would poison a model's
// state for good.
func finite(x Vector, y float64) bool {
	if math.IsNaN(y) || math.IsInf(y, 0) {
		return false
	}
	for _, v := range x.Val {
		if v-v != 0 { // NaN or ±Inf
			return false
		}
	}
	return true
}
