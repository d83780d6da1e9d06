package udf

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/bits"
	"slices"
)

// ---- APPROX_PERCENTILE: DDSketch ----

// DDSketch (Masson, Rim, Lee: "DDSketch: A Fast and Fully-Mergeable
// Quantile Sketch with Relative-Error Guarantees", VLDB 2019). A positive x
// falls in bucket i = ⌈log_γ x⌉ with γ = (1+α)/(1−α); the bucket's value
// 2γ^i/(γ+1) is within relative error α of every x in it. Negative values
// use a mirrored store, zero a counter.
const (
	ddAlpha      = 0.01
	ddMaxBuckets = 2048
)

var (
	ddGamma    = (1 + ddAlpha) / (1 - ddAlpha)
	ddLogGamma = math.Log(ddGamma)
)

func ddKey(x float64) int32 { return int32(math.Ceil(math.Log(x) / ddLogGamma)) }

func ddValue(k int32) float64 { return 2 * math.Pow(ddGamma, float64(k)) / (ddGamma + 1) }

func validatePercentile(consts []Value) error {
	if len(consts) != 1 {
		return fmt.Errorf("%w: APPROX_PERCENTILE takes a constant p: APPROX_PERCENTILE(x, 0.95)", ErrArgs)
	}
	p, ok := consts[0].AsFloat()
	if !ok || !consts[0].K.Numeric() || !(p >= 0 && p <= 1) {
		return fmt.Errorf("%w: APPROX_PERCENTILE p must be a number in [0, 1], got %s", ErrArgs, consts[0])
	}
	return nil
}

func newPercentile(consts []Value) AggState {
	p := 0.5
	if len(consts) > 0 {
		if f, ok := consts[0].AsFloat(); ok && f >= 0 && f <= 1 {
			p = f
		}
	}
	return &percentileState{p: p, pos: map[int32]uint64{}, neg: map[int32]uint64{}}
}

type percentileState struct {
	p        float64
	pos, neg map[int32]uint64 // bucket counts of x > 0 and of −x for x < 0
	zero     uint64
	n        uint64
	min, max float64
}

func (s *percentileState) Add(v Value, _ int64) {
	x, ok := v.AsFloat()
	if !ok || !v.K.Numeric() || math.IsNaN(x) {
		return
	}
	x = math.Max(-math.MaxFloat64, math.Min(math.MaxFloat64, x)) // ±Inf to the largest double
	s.addN(x, 1)
	if s.n == 1 || x < s.min {
		s.min = x
	}
	if s.n == 1 || x > s.max {
		s.max = x
	}
}

func (s *percentileState) addN(x float64, c uint64) {
	s.n += c
	switch {
	case x > 0:
		s.pos[ddKey(x)] += c
		collapse(s.pos)
	case x < 0:
		s.neg[ddKey(-x)] += c
		collapse(s.neg)
	default:
		s.zero += c
	}
}

// collapse folds the lowest buckets of a store into one when it holds more
// than ddMaxBuckets: values of the smallest magnitude lose accuracy first.
func collapse(m map[int32]uint64) {
	if len(m) <= ddMaxBuckets {
		return
	}
	keys := sortedKeys(m)
	excess := len(keys) - ddMaxBuckets
	into := keys[excess]
	for _, k := range keys[:excess] {
		m[into] += m[k]
		delete(m, k)
	}
}

func sortedKeys(m map[int32]uint64) []int32 {
	keys := make([]int32, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (s *percentileState) Merge(o AggState) {
	x := o.(*percentileState)
	if x.n == 0 {
		return
	}
	if s.n == 0 || x.min < s.min {
		s.min = x.min
	}
	if s.n == 0 || x.max > s.max {
		s.max = x.max
	}
	for k, c := range x.pos {
		s.pos[k] += c
	}
	for k, c := range x.neg {
		s.neg[k] += c
	}
	collapse(s.pos)
	collapse(s.neg)
	s.zero += x.zero
	s.n += x.n
}

func (s *percentileState) Result() Value {
	if s.n == 0 {
		return Null
	}
	rank := s.p * float64(s.n-1)
	var cum float64
	est := s.max
	found := false
	neg := sortedKeys(s.neg)
	for i := len(neg) - 1; i >= 0 && !found; i-- {
		if cum += float64(s.neg[neg[i]]); cum > rank {
			est, found = -ddValue(neg[i]), true
		}
	}
	if !found {
		if cum += float64(s.zero); cum > rank {
			est, found = 0, true
		}
	}
	if !found {
		for _, k := range sortedKeys(s.pos) {
			if cum += float64(s.pos[k]); cum > rank {
				est = ddValue(k)
				break
			}
		}
	}
	return Float(math.Max(s.min, math.Min(s.max, est)))
}

func (s *percentileState) MarshalBinary() ([]byte, error) {
	e := newEnc(tagPercentile)
	e.f(s.p)
	e.u(s.n)
	e.u(s.zero)
	e.f(s.min)
	e.f(s.max)
	for _, m := range []map[int32]uint64{s.pos, s.neg} {
		keys := sortedKeys(m)
		e.u(uint64(len(keys)))
		for _, k := range keys {
			e.i(int64(k))
			e.u(m[k])
		}
	}
	return e.done()
}

func (s *percentileState) UnmarshalBinary(b []byte) error {
	d := newDec(b, tagPercentile)
	p := d.f()
	s.n, s.zero, s.min, s.max = d.u(), d.u(), d.f(), d.f()
	s.pos, s.neg = map[int32]uint64{}, map[int32]uint64{}
	for _, m := range []map[int32]uint64{s.pos, s.neg} {
		n := d.u()
		if n > ddMaxBuckets+1 {
			d.fail()
		}
		for i := uint64(0); i < n && d.err == nil; i++ {
			k := d.i()
			m[int32(k)] = d.u()
		}
	}
	if d.err == nil && p != s.p {
		d.fail()
	}
	return d.end()
}

// ---- APPROX_COUNT_DISTINCT: HyperLogLog ----

const (
	hllP         = 14
	hllM         = 1 << hllP
	hllSparseMax = 256
)

// hllState counts distinct 64-bit hashes: exactly while it has at most
// hllSparseMax of them, then in 2^14 HyperLogLog registers.
type hllState struct {
	sparse map[uint64]struct{}
	regs   []uint8 // nil while sparse
	key    []byte
}

// hashValue is FNV-1a over the value's canonical encoding, finished with
// the MurmurHash3 fmix64 mixer so that every bit is usable by HyperLogLog.
func hashValue(key []byte) uint64 {
	h := fnv.New64a()
	h.Write(key)
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

func (s *hllState) Add(v Value, _ int64) {
	if v.K == TypeNull {
		return
	}
	s.key = AppendKey(s.key[:0], v)
	s.addHash(hashValue(s.key))
}

func (s *hllState) addHash(h uint64) {
	if s.regs != nil {
		idx := h >> (64 - hllP)
		w := h<<hllP | 1<<(hllP-1)
		if r := uint8(bits.LeadingZeros64(w) + 1); r > s.regs[idx] {
			s.regs[idx] = r
		}
		return
	}
	if s.sparse == nil {
		s.sparse = map[uint64]struct{}{}
	}
	s.sparse[h] = struct{}{}
	if len(s.sparse) > hllSparseMax {
		s.regs = make([]uint8, hllM)
		for h := range s.sparse {
			s.addHash(h)
		}
		s.sparse = nil
	}
}

func (s *hllState) Merge(o AggState) {
	x := o.(*hllState)
	if x.regs == nil {
		for h := range x.sparse {
			s.addHash(h)
		}
		return
	}
	if s.regs == nil {
		old := s.sparse
		s.regs, s.sparse = slices.Clone(x.regs), nil
		for h := range old {
			s.addHash(h)
		}
		return
	}
	for i, r := range x.regs {
		if r > s.regs[i] {
			s.regs[i] = r
		}
	}
}

func (s *hllState) Result() Value {
	if s.regs == nil {
		return Int(int64(len(s.sparse)))
	}
	sum, zeros := 0.0, 0
	for _, r := range s.regs {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	m := float64(hllM)
	est := 0.7213 / (1 + 1.079/m) * m * m / sum
	if est <= 2.5*m && zeros > 0 {
		est = m * math.Log(m/float64(zeros)) // linear counting
	}
	return Int(int64(math.Round(est)))
}

func (s *hllState) MarshalBinary() ([]byte, error) {
	e := newEnc(tagHLL)
	if s.regs != nil {
		e.bool(true)
		e.b = append(e.b, s.regs...)
		return e.done()
	}
	e.bool(false)
	hs := make([]uint64, 0, len(s.sparse))
	for h := range s.sparse {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	e.u(uint64(len(hs)))
	for _, h := range hs {
		e.f(math.Float64frombits(h))
	}
	return e.done()
}

func (s *hllState) UnmarshalBinary(b []byte) error {
	d := newDec(b, tagHLL)
	dense := d.bool()
	s.regs, s.sparse = nil, nil
	if d.err != nil {
		return d.err
	}
	if dense {
		if len(d.b) != hllM {
			return ErrState
		}
		s.regs = slices.Clone(d.b)
		return nil
	}
	n := d.u()
	if n > hllSparseMax || n > uint64(len(d.b))/8 {
		return ErrState
	}
	s.sparse = make(map[uint64]struct{}, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		s.sparse[math.Float64bits(d.f())] = struct{}{}
	}
	return d.end()
}

var (
	_ AggState = (*percentileState)(nil)
	_ AggState = (*hllState)(nil)
)
