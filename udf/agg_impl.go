package udf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
)

// ErrState is returned by UnmarshalBinary for bytes that are not a state of
// that aggregate (wrong aggregate, version or truncated data).
var ErrState = errors.New("udf: bad aggregate state encoding")

// State encodings start with a tag byte naming the state type and a
// version byte, so restoring the wrong state fails loudly.
const stateVersion = 1

const (
	tagCount byte = iota + 'a'
	tagSum
	tagAvg
	tagExtreme
	tagMoment
	tagEdge
	tagPercentile
	tagHLL
	tagCollect
	tagDistinct
)

type enc struct{ b []byte }

func newEnc(tag byte) *enc           { return &enc{b: []byte{tag, stateVersion}} }
func (e *enc) u(x uint64)            { e.b = binary.AppendUvarint(e.b, x) }
func (e *enc) i(x int64)             { e.b = binary.AppendVarint(e.b, x) }
func (e *enc) f(x float64)           { e.b = binary.BigEndian.AppendUint64(e.b, math.Float64bits(x)) }
func (e *enc) v(x Value)             { e.b = AppendKey(e.b, x) }
func (e *enc) bytes(p []byte)        { e.u(uint64(len(p))); e.b = append(e.b, p...) }
func (e *enc) done() ([]byte, error) { return e.b, nil }

func (e *enc) bool(x bool) {
	var b byte
	if x {
		b = 1
	}
	e.b = append(e.b, b)
}

func (d *dec) fail() { d.err = ErrState; d.b = nil }

// end reports the first decoding error, or ErrState for trailing bytes.
func (d *dec) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	return d.err
}

type dec struct {
	b   []byte
	err error
}

func newDec(b []byte, tag byte) *dec {
	d := &dec{b: b}
	if len(b) < 2 || b[0] != tag || b[1] != stateVersion {
		d.fail()
		return d
	}
	d.b = b[2:]
	return d
}

func (d *dec) u() uint64 {
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *dec) i() int64 {
	x, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *dec) f() float64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	x := math.Float64frombits(binary.BigEndian.Uint64(d.b))
	d.b = d.b[8:]
	return x
}

func (d *dec) bool() bool {
	if len(d.b) < 1 || d.b[0] > 1 {
		d.fail()
		return false
	}
	x := d.b[0] == 1
	d.b = d.b[1:]
	return x
}

func (d *dec) bytes() []byte {
	n := d.u()
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

// v decodes a value written by AppendKey.
func (d *dec) v() Value {
	if len(d.b) < 1 {
		d.fail()
		return Null
	}
	k := Type(d.b[0])
	d.b = d.b[1:]
	switch k {
	case TypeNull:
		return Null
	case TypeBigint, TypeBool, TypeTimestamp:
		if len(d.b) < 8 {
			d.fail()
			return Null
		}
		x := int64(binary.BigEndian.Uint64(d.b))
		d.b = d.b[8:]
		return Value{K: k, I: x}
	case TypeDouble:
		return Float(d.f())
	case TypeString:
		return Str(string(d.bytes()))
	case TypeVector:
		n := d.u()
		if d.err != nil || n > uint64(len(d.b))/8 {
			d.fail()
			return Null
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = d.f()
		}
		return Vec(v)
	}
	d.fail()
	return Null
}

// ownValue returns v with its vector copied, so a state never aliases a
// buffer the caller may reuse.
func ownValue(v Value) Value {
	if v.K == TypeVector {
		v.V = slices.Clone(v.V)
	}
	return v
}

// ---- checks ----

func checkCount(args []Type) (Type, error) {
	if len(args) > 1 {
		return TypeNull, fmt.Errorf("%w: COUNT takes one argument or *", ErrArgs)
	}
	return TypeBigint, nil
}

func checkOne(name string, args []Type) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: %s takes 1 argument, got %d", ErrArgs, name, len(args))
	}
	return nil
}

func checkOrdered(name string) func([]Type) (Type, error) {
	return func(args []Type) (Type, error) {
		if err := checkOne(name, args); err != nil {
			return TypeNull, err
		}
		if args[0] == TypeVector {
			return TypeNull, fmt.Errorf("%w: %s of a vector: vectors are not ordered", ErrArgs, name)
		}
		return args[0], nil
	}
}

func checkPassThrough(args []Type) (Type, error) {
	if err := checkOne("FIRST_VALUE/LAST_VALUE", args); err != nil {
		return TypeNull, err
	}
	return args[0], nil
}

// ---- COUNT ----

// countState counts non-NULL Adds; with star it counts every Add.
type countState struct {
	n    int64
	star bool
}

// CountStar returns the state of COUNT(*): it counts every Add, NULL or not.
func CountStar() AggState { return &countState{star: true} }

func (s *countState) Add(v Value, _ int64) {
	if s.star || v.K != TypeNull {
		s.n++
	}
}
func (s *countState) Merge(o AggState) { s.n += o.(*countState).n }
func (s *countState) Result() Value    { return Int(s.n) }
func (s *countState) MarshalBinary() ([]byte, error) {
	e := newEnc(tagCount)
	e.bool(s.star)
	e.i(s.n)
	return e.done()
}
func (s *countState) UnmarshalBinary(b []byte) error {
	d := newDec(b, tagCount)
	s.star, s.n = d.bool(), d.i()
	return d.end()
}

// ---- SUM, AVG ----

// neumaier is a compensated sum (Neumaier's improvement of Kahan's).
type neumaier struct{ sum, c float64 }

func (s *neumaier) add(x float64) {
	t := s.sum + x
	if math.Abs(s.sum) >= math.Abs(x) {
		s.c += (s.sum - t) + x
	} else {
		s.c += (x - t) + s.sum
	}
	s.sum = t
}

func (s *neumaier) value() float64 { return s.sum + s.c }

type sumState struct {
	n      int64
	hi     int64 // bigints: a 128-bit two's complement accumulator
	lo     uint64
	f      neumaier // doubles
	double bool
}

func (s *sumState) addInt(x int64) {
	lo, carry := bits.Add64(s.lo, uint64(x), 0)
	s.lo = lo
	s.hi += x>>63 + int64(carry)
}

func (s *sumState) Add(v Value, _ int64) {
	switch v.K {
	case TypeBigint:
		s.addInt(v.I)
	case TypeDouble:
		s.f.add(v.F)
		s.double = true
	default:
		return
	}
	s.n++
}

func (s *sumState) Merge(o AggState) {
	x := o.(*sumState)
	lo, carry := bits.Add64(s.lo, x.lo, 0)
	s.lo, s.hi = lo, s.hi+x.hi+int64(carry)
	s.f.add(x.f.sum)
	s.f.add(x.f.c)
	s.n += x.n
	s.double = s.double || x.double
}

func (s *sumState) Result() Value {
	if s.n == 0 {
		return Null
	}
	fits := s.hi == int64(s.lo)>>63 // the 128-bit integer part fits in an int64
	if s.double {
		ip := float64(int64(s.lo))
		if !fits {
			ip = float64(s.hi)*0x1p64 + float64(s.lo)
		}
		var t neumaier
		t.add(ip)
		t.add(s.f.sum)
		t.add(s.f.c)
		return finite(t.value())
	}
	if !fits {
		return Null // outside the bigint range
	}
	return Int(int64(s.lo))
}

func (s *sumState) MarshalBinary() ([]byte, error) {
	e := newEnc(tagSum)
	e.i(s.n)
	e.i(s.hi)
	e.u(s.lo)
	e.f(s.f.sum)
	e.f(s.f.c)
	e.bool(s.double)
	return e.done()
}

func (s *sumState) UnmarshalBinary(b []byte) error {
	d := newDec(b, tagSum)
	s.n, s.hi, s.lo = d.i(), d.i(), d.u()
	s.f.sum, s.f.c = d.f(), d.f()
	s.double = d.bool()
	return d.end()
}

type avgState struct {
	n int64
	f neumaier
}

func (s *avgState) Add(v Value, _ int64) {
	if x, ok := v.AsFloat(); ok && v.K.Numeric() {
		s.n++
		s.f.add(x)
	}
}

func (s *avgState) Merge(o AggState) {
	x := o.(*avgState)
	s.n += x.n
	s.f.add(x.f.sum)
	s.f.add(x.f.c)
}

func (s *avgState) Result() Value {
	if s.n == 0 {
		return Null
	}
	return finite(s.f.value() / float64(s.n))
}

func (s *avgState) MarshalBinary() ([]byte, error) {
	e := newEnc(tagAvg)
	e.i(s.n)
	e.f(s.f.sum)
	e.f(s.f.c)
	return e.done()
}

func (s *avgState) UnmarshalBinary(b []byte) error {
	d := newDec(b, tagAvg)
	s.n, s.f.sum, s.f.c = d.i(), d.f(), d.f()
	return d.end()
}

// ---- MIN, MAX ----

type extremeState struct {
	sign int // -1 MIN, 1 MAX
	v    Value
}

func (s *extremeState) Add(v Value, _ int64) {
	if v.K == TypeNull {
		return
	}
	if s.v.K == TypeNull {
		s.v = ownValue(v)
		return
	}
	if c, ok := Compare(v, s.v); ok && c*s.sign > 0 {
		s.v = ownValue(v)
	}
}

func (s *extremeState) Merge(o AggState) { s.Add(o.(*extremeState).v, 0) }
func (s *extremeState) Result() Value    { return s.v }

func (s *extremeState) MarshalBinary() ([]byte, error) {
	e := newEnc(tagExtreme)
	e.i(int64(s.sign))
	e.v(s.v)
	return e.done()
}

func (s *extremeState) UnmarshalBinary(b []byte) error {
	d := newDec(b, tagExtreme)
	sign := d.i()
	s.v = d.v()
	if d.err == nil && sign != int64(s.sign) {
		d.fail()
	}
	return d.end()
}

// ---- VAR_*, STDDEV_* ----

type momentKind uint8

const (
	varPop momentKind = iota
	varSamp
	stddevPop
	stddevSamp
)

// momentState keeps n, the mean and M2 = Σ(x−mean)² (Welford); Merge uses
// Chan et al.: M2 = M2a + M2b + δ²·na·nb/n with δ = mean_b − mean_a.
type momentState struct {
	kind     momentKind
	n        int64
	mean, m2 float64
}

func (s *momentState) Add(v Value, _ int64) {
	x, ok := v.AsFloat()
	if !ok || !v.K.Numeric() {
		return
	}
	s.n++
	d := x - s.mean
	s.mean += d / float64(s.n)
	s.m2 += d * (x - s.mean)
}

func (s *momentState) Merge(o AggState) {
	x := o.(*momentState)
	if x.n == 0 {
		return
	}
	if s.n == 0 {
		s.n, s.mean, s.m2 = x.n, x.mean, x.m2
		return
	}
	na, nb := float64(s.n), float64(x.n)
	n := na + nb
	d := x.mean - s.mean
	s.mean += d * nb / n
	s.m2 += x.m2 + d*d*na*nb/n
	s.n += x.n
}

func (s *momentState) Result() Value {
	den := float64(s.n)
	if s.kind == varSamp || s.kind == stddevSamp {
		den--
	}
	if den <= 0 {
		return Null
	}
	r := math.Max(s.m2, 0) / den
	if s.kind == stddevPop || s.kind == stddevSamp {
		r = math.Sqrt(r)
	}
	return finite(r)
}

func (s *momentState) MarshalBinary() ([]byte, error) {
	e := newEnc(tagMoment)
	e.i(s.n)
	e.f(s.mean)
	e.f(s.m2)
	return e.done()
}

func (s *momentState) UnmarshalBinary(b []byte) error {
	d := newDec(b, tagMoment)
	s.n, s.mean, s.m2 = d.i(), d.f(), d.f()
	return d.end()
}

// ---- FIRST_VALUE, LAST_VALUE ----

type edgeState struct {
	last bool
	set  bool
	ts   int64
	v    Value
}

func (s *edgeState) wins(ts int64) bool {
	if !s.set {
		return true
	}
	if s.last {
		return ts >= s.ts
	}
	return ts < s.ts
}

func (s *edgeState) Add(v Value, ts int64) {
	if v.K != TypeNull && s.wins(ts) {
		s.set, s.ts, s.v = true, ts, ownValue(v)
	}
}

func (s *edgeState) Merge(o AggState) {
	x := o.(*edgeState)
	if x.set && s.wins(x.ts) {
		s.set, s.ts, s.v = true, x.ts, x.v
	}
}

func (s *edgeState) Result() Value { return s.v }

func (s *edgeState) MarshalBinary() ([]byte, error) {
	e := newEnc(tagEdge)
	e.bool(s.last)
	e.bool(s.set)
	e.i(s.ts)
	e.v(s.v)
	return e.done()
}

func (s *edgeState) UnmarshalBinary(b []byte) error {
	d := newDec(b, tagEdge)
	last := d.bool()
	s.set, s.ts, s.v = d.bool(), d.i(), d.v()
	if d.err == nil && last != s.last {
		d.fail()
	}
	return d.end()
}

// ---- COLLECT_VECTOR ----

func validateCollectMode(consts []Value) error {
	if len(consts) == 0 {
		return nil
	}
	if m := consts[0]; m.K != TypeString || (m.S != "avg" && m.S != "sum") {
		return fmt.Errorf("%w: COLLECT_VECTOR mode must be 'avg' or 'sum', got %s", ErrArgs, m)
	}
	return nil
}

func newCollectVector(consts []Value) AggState {
	return &collectState{sum: len(consts) > 0 && consts[0].S == "sum"}
}

type collectState struct {
	sum bool
	n   int64
	acc []float64
	bad bool // vectors of different lengths were seen
}

func (s *collectState) addVec(v []float64, n int64) {
	switch {
	case s.bad:
	case s.n == 0:
		s.acc = slices.Clone(v)
	case len(v) != len(s.acc):
		s.bad, s.acc = true, nil
	default:
		for i, x := range v {
			s.acc[i] += x
		}
	}
	s.n += n
}

func (s *collectState) Add(v Value, _ int64) {
	if v.K == TypeVector {
		s.addVec(v.V, 1)
	}
}

func (s *collectState) Merge(o AggState) {
	x := o.(*collectState)
	if x.bad {
		s.bad, s.acc = true, nil
	}
	if x.n > 0 {
		s.addVec(x.acc, x.n)
	}
}

func (s *collectState) Result() Value {
	if s.n == 0 || s.bad {
		return Null
	}
	out := slices.Clone(s.acc)
	if !s.sum {
		for i := range out {
			out[i] /= float64(s.n)
		}
	}
	return Vec(out)
}

func (s *collectState) MarshalBinary() ([]byte, error) {
	e := newEnc(tagCollect)
	e.bool(s.sum)
	e.bool(s.bad)
	e.i(s.n)
	e.v(Vec(s.acc))
	return e.done()
}

func (s *collectState) UnmarshalBinary(b []byte) error {
	d := newDec(b, tagCollect)
	sum := d.bool()
	s.bad, s.n = d.bool(), d.i()
	s.acc = d.v().V
	if d.err == nil && sum != s.sum {
		d.fail()
	}
	return d.end()
}

// ---- DISTINCT ----

// NewDistinct wraps the state of an aggregate so that it sees each distinct
// non-NULL value once (COUNT(DISTINCT x), SUM(DISTINCT x), ...). It keeps
// every distinct value (exact; memory grows with the cardinality). The
// inner state must be fresh; a restored NewDistinct(agg.New(consts))
// unmarshals both.
func NewDistinct(inner AggState) AggState {
	return &distinctState{inner: inner, seen: map[string]Value{}}
}

type distinctState struct {
	inner AggState
	seen  map[string]Value
	key   []byte
}

func (s *distinctState) Add(v Value, ts int64) {
	if v.K == TypeNull {
		return
	}
	s.key = AppendKey(s.key[:0], v)
	if _, ok := s.seen[string(s.key)]; ok {
		return
	}
	s.seen[string(s.key)] = ownValue(v)
	s.inner.Add(v, ts)
}

func (s *distinctState) Merge(o AggState) {
	x := o.(*distinctState)
	keys := make([]string, 0, len(x.seen))
	for k := range x.seen {
		if _, ok := s.seen[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		s.seen[k] = x.seen[k]
		s.inner.Add(x.seen[k], 0)
	}
}

func (s *distinctState) Result() Value { return s.inner.Result() }

func (s *distinctState) MarshalBinary() ([]byte, error) {
	in, err := s.inner.MarshalBinary()
	if err != nil {
		return nil, err
	}
	e := newEnc(tagDistinct)
	e.bytes(in)
	keys := make([]string, 0, len(s.seen))
	for k := range s.seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	e.u(uint64(len(keys)))
	for _, k := range keys {
		e.b = append(e.b, k...) // a key is the value's AppendKey encoding
	}
	return e.done()
}

func (s *distinctState) UnmarshalBinary(b []byte) error {
	d := newDec(b, tagDistinct)
	in := d.bytes()
	if d.err != nil {
		return d.err
	}
	if err := s.inner.UnmarshalBinary(in); err != nil {
		return err
	}
	n := d.u()
	if d.err != nil || n > uint64(len(d.b)) { // every value takes at least a byte
		return ErrState
	}
	s.seen = make(map[string]Value, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		v := d.v()
		s.seen[string(AppendKey(nil, v))] = v
	}
	return d.end()
}

var (
	_ AggState = (*countState)(nil)
	_ AggState = (*sumState)(nil)
	_ AggState = (*avgState)(nil)
	_ AggState = (*extremeState)(nil)
	_ AggState = (*momentState)(nil)
	_ AggState = (*edgeState)(nil)
	_ AggState = (*collectState)(nil)
	_ AggState = (*distinctState)(nil)
)
