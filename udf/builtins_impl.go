package udf

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// ---- strings ----

func evalLower(a []Value) (Value, error) { return Str(strings.ToLower(a[0].S)), nil }
func evalUpper(a []Value) (Value, error) { return Str(strings.ToUpper(a[0].S)), nil }

func evalSubstring(a []Value) (Value, error) {
	s := a[0].S
	n := int64(utf8.RuneCountInString(s))
	start := a[1].I
	switch {
	case start == 0 || start > n || start < -n:
		return Str(""), nil
	case start < 0:
		start = n + start + 1
	}
	end := n + 1
	if len(a) > 2 {
		if a[2].I < 1 {
			return Str(""), nil
		}
		if a[2].I < end-start {
			end = start + a[2].I
		}
	}
	return Str(runeSlice(s, int(start-1), int(end-1))), nil
}

// runeSlice returns the runes [from, to) of s.
func runeSlice(s string, from, to int) string {
	i, bFrom, bTo := 0, len(s), len(s)
	for b := range s {
		if i == from {
			bFrom = b
		}
		if i == to {
			bTo = b
			break
		}
		i++
	}
	return s[bFrom:bTo]
}

// text formats v for string concatenation: strings as is, others in their
// Value.String form.
func text(v Value) string {
	if v.K == TypeString {
		return v.S
	}
	return v.String()
}

func evalConcat(a []Value) (Value, error) {
	var b strings.Builder
	for _, v := range a {
		b.WriteString(text(v))
	}
	return Str(b.String()), nil
}

func evalConcatWS(a []Value) (Value, error) {
	if a[0].K == TypeNull {
		return Null, nil
	}
	var b strings.Builder
	first := true
	for _, v := range a[1:] {
		if v.K == TypeNull {
			continue
		}
		if !first {
			b.WriteString(a[0].S)
		}
		first = false
		b.WriteString(text(v))
	}
	return Str(b.String()), nil
}

func evalLength(a []Value) (Value, error) {
	return Int(int64(utf8.RuneCountInString(a[0].S))), nil
}

func evalTrim(a []Value) (Value, error) {
	if len(a) > 1 {
		return Str(strings.Trim(a[0].S, a[1].S)), nil
	}
	return Str(strings.TrimSpace(a[0].S)), nil
}

func evalReplace(a []Value) (Value, error) {
	if a[1].S == "" {
		return a[0], nil
	}
	if n := strings.Count(a[0].S, a[1].S); n > 0 && len(a[0].S)+n*(len(a[2].S)-len(a[1].S)) > MaxString {
		return Null, exprErr("REPLACE", "result longer than %d bytes (udf.MaxString)", MaxString)
	}
	return Str(strings.ReplaceAll(a[0].S, a[1].S, a[2].S)), nil
}

// MaxString is the longest string a function may build, in bytes; longer
// results are runtime errors of class expr.
const MaxString = 1 << 20

// regexpCache holds compiled patterns; patterns are nearly always
// constants, so a small cache avoids compiling per row.
var regexpCache struct {
	sync.RWMutex
	m map[string]*regexp.Regexp
}

func compileRegexp(fn, pattern string) (*regexp.Regexp, error) {
	regexpCache.RLock()
	re, ok := regexpCache.m[pattern]
	regexpCache.RUnlock()
	if ok {
		return re, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, exprErr(fn, "invalid pattern: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	regexpCache.Lock()
	if regexpCache.m == nil || len(regexpCache.m) >= 256 { // computed patterns: start over
		regexpCache.m = map[string]*regexp.Regexp{}
	}
	regexpCache.m[pattern] = re
	regexpCache.Unlock()
	return re, nil
}

// constPattern is the ConstCheck of functions taking a pattern at arg.
func constPattern(fn string, arg int) func(int, Value) error {
	return func(i int, v Value) error {
		if i != arg || v.K != TypeString {
			return nil
		}
		if _, err := compileRegexp(fn, v.S); err != nil {
			return fmt.Errorf("%w: %s", ErrArgs, strings.TrimPrefix(err.Error(), ErrExpr.Error()+": "))
		}
		return nil
	}
}

func evalRegexpLike(a []Value) (Value, error) {
	re, err := compileRegexp("REGEXP_LIKE", a[1].S)
	if err != nil {
		return Null, err
	}
	return Bool(re.MatchString(a[0].S)), nil
}

func evalRegexpExtract(a []Value) (Value, error) {
	re, err := compileRegexp("REGEXP_EXTRACT", a[1].S)
	if err != nil {
		return Null, err
	}
	g := 0
	if len(a) > 2 {
		if a[2].I < 0 || a[2].I > int64(re.NumSubexp()) {
			return Null, exprErr("REGEXP_EXTRACT", "group %d out of range: pattern has %d groups", a[2].I, re.NumSubexp())
		}
		g = int(a[2].I)
	} else if re.NumSubexp() > 0 {
		g = 1
	}
	m := re.FindStringSubmatchIndex(a[0].S)
	if m == nil || m[2*g] < 0 {
		return Null, nil
	}
	return Str(a[0].S[m[2*g]:m[2*g+1]]), nil
}

func evalSplitPart(a []Value) (Value, error) {
	n := a[2].I
	if n == 0 {
		return Null, nil
	}
	var parts []string
	if a[1].S == "" {
		parts = []string{a[0].S}
	} else {
		parts = strings.Split(a[0].S, a[1].S)
	}
	if n < 0 {
		n = int64(len(parts)) + n + 1
	}
	if n < 1 || n > int64(len(parts)) {
		return Str(""), nil
	}
	return Str(parts[n-1]), nil
}

func evalStartsWith(a []Value) (Value, error) { return Bool(strings.HasPrefix(a[0].S, a[1].S)), nil }

// ---- math ----

func evalAbs(a []Value) (Value, error) {
	if a[0].K == TypeBigint {
		if a[0].I == math.MinInt64 {
			return Null, exprErr("ABS", "bigint overflow")
		}
		if a[0].I < 0 {
			return Int(-a[0].I), nil
		}
		return a[0], nil
	}
	return Float(math.Abs(a[0].F)), nil
}

var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

func evalRound(a []Value) (Value, error) {
	d := int64(0)
	if len(a) > 1 {
		d = a[1].I
	}
	if a[0].K == TypeBigint {
		if d >= 0 {
			return a[0], nil
		}
		if d <= -int64(len(pow10)) {
			return Int(0), nil
		}
		p := pow10[-d]
		x := a[0].I
		q, r := x/p, x%p
		if r >= (p+1)/2 {
			q++
		} else if r <= -(p+1)/2 {
			q--
		}
		if q > math.MaxInt64/p || q < math.MinInt64/p {
			return Null, exprErr("ROUND", "bigint overflow")
		}
		return Int(q * p), nil
	}
	x := a[0].F
	if d == 0 {
		return Float(math.Round(x)), nil
	}
	if d > 300 || d < -300 {
		if d > 0 {
			return Float(x), nil
		}
		return Float(0 * x), nil
	}
	if d > 0 {
		p := math.Pow(10, float64(d))
		if !(math.Abs(x*p) < 1<<52) { // x has no digits below 10^-d (or is NaN/Inf)
			return Float(x), nil
		}
		return Float(math.Round(x*p) / p), nil
	}
	p := math.Pow(10, float64(-d))
	return Float(math.Round(x/p) * p), nil
}

func evalFloor(a []Value) (Value, error) {
	if a[0].K == TypeBigint {
		return a[0], nil
	}
	return Float(math.Floor(a[0].F)), nil
}

func evalCeil(a []Value) (Value, error) {
	if a[0].K == TypeBigint {
		return a[0], nil
	}
	return Float(math.Ceil(a[0].F)), nil
}

// finite returns Float(x), or NULL when x is NaN or infinite: flowrun's
// math functions never produce NaN or ±Inf.
func finite(x float64) Value {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return Null
	}
	return Float(x)
}

func mathFn(f func(float64) float64) func([]Value) (Value, error) {
	return func(a []Value) (Value, error) {
		x, _ := a[0].AsFloat()
		return finite(f(x)), nil
	}
}

var (
	nat   = math.Log
	log10 = math.Log10
	exp   = math.Exp
	sqrt  = math.Sqrt
)

func logPositive(f func(float64) float64) func(float64) float64 {
	return func(x float64) float64 {
		if x <= 0 {
			return math.NaN()
		}
		return f(x)
	}
}

func evalPower(a []Value) (Value, error) {
	x, _ := a[0].AsFloat()
	y, _ := a[1].AsFloat()
	return finite(math.Pow(x, y)), nil
}

func evalSign(a []Value) (Value, error) {
	if a[0].K == TypeBigint {
		switch {
		case a[0].I < 0:
			return Int(-1), nil
		case a[0].I > 0:
			return Int(1), nil
		}
		return Int(0), nil
	}
	switch x := a[0].F; {
	case x < 0:
		return Float(-1), nil
	case x > 0:
		return Float(1), nil
	case x == 0:
		return Float(0), nil
	}
	return Null, nil // NaN
}

func evalMod(a []Value) (Value, error) {
	if a[0].K == TypeBigint && a[1].K == TypeBigint {
		if a[1].I == 0 {
			return Null, nil
		}
		return Int(a[0].I % a[1].I), nil
	}
	x, _ := a[0].AsFloat()
	y, _ := a[1].AsFloat()
	if y == 0 {
		return Null, nil
	}
	return finite(math.Mod(x, y)), nil
}

// argsType is the runtime common type of args (bigint and double mix as
// double); T-typed functions convert their result to it.
func argsType(a []Value) Type {
	t := TypeNull
	for _, v := range a {
		switch {
		case v.K == TypeNull || v.K == t:
		case t == TypeNull:
			t = v.K
		case t.Numeric() && v.K.Numeric():
			t = TypeDouble
		}
	}
	return t
}

// Compare orders two non-NULL values of comparable types: numbers (bigint
// and double mixed), strings (bytewise), timestamps, bools (false < true).
// ok is false when they are not comparable. NaN sorts below every number.
func Compare(a, b Value) (c int, ok bool) {
	switch {
	case a.K == TypeBigint && b.K == TypeBigint, a.K == TypeTimestamp && b.K == TypeTimestamp, a.K == TypeBool && b.K == TypeBool:
		return cmp3(a.I, b.I), true
	case a.K == TypeString && b.K == TypeString:
		return strings.Compare(a.S, b.S), true
	case a.K.Numeric() && b.K.Numeric():
		x, _ := a.AsFloat()
		y, _ := b.AsFloat()
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		case x == y:
			return 0, true
		case math.IsNaN(x) && math.IsNaN(y):
			return 0, true
		case math.IsNaN(x):
			return -1, true
		}
		return 1, true
	}
	return 0, false
}

func cmp3[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func extreme(fn string, a []Value, sign int) (Value, error) {
	best := a[0]
	for _, v := range a[1:] {
		c, ok := Compare(v, best)
		if !ok {
			return Null, exprErr(fn, "cannot compare %s with %s", v.K, best.K)
		}
		if c*sign > 0 {
			best = v
		}
	}
	return Coerce(best, argsType(a))
}

// checkOrderedT is the signature's checker, also refusing vectors, which
// have no order.
func checkOrderedT(signature string) func([]Type) (Type, error) {
	sig, err := parseSignature(signature)
	if err != nil {
		panic("udf: " + err.Error())
	}
	return func(args []Type) (Type, error) {
		t, err := sig.check(args)
		if err == nil && t == TypeVector {
			return TypeNull, fmt.Errorf("%w: %s of vectors: vectors are not ordered", ErrArgs, sig.name)
		}
		return t, err
	}
}

func evalGreatest(a []Value) (Value, error) { return extreme("GREATEST", a, 1) }
func evalLeast(a []Value) (Value, error)    { return extreme("LEAST", a, -1) }

// ---- conditional ----

func evalIf(a []Value) (Value, error) {
	r := a[2]
	if a[0].AsBool() {
		r = a[1]
	}
	return Coerce(r, argsType(a[1:]))
}

func evalCoalesce(a []Value) (Value, error) {
	for _, v := range a {
		if v.K != TypeNull {
			return Coerce(v, argsType(a))
		}
	}
	return Null, nil
}

func evalNullif(a []Value) (Value, error) {
	if a[0].K == TypeNull {
		return Null, nil
	}
	if a[1].K != TypeNull {
		if c, ok := Compare(a[0], a[1]); ok && c == 0 {
			return Null, nil
		}
	}
	return Coerce(a[0], argsType(a))
}

// ---- hashing ----

// AppendKey appends a canonical, type-tagged encoding of v to b: equal
// values (by Equal) give equal bytes and different values different bytes.
// HASH hashes it; DISTINCT states key on it.
func AppendKey(b []byte, v Value) []byte {
	b = append(b, byte(v.K))
	switch v.K {
	case TypeBigint, TypeBool, TypeTimestamp:
		b = binary.BigEndian.AppendUint64(b, uint64(v.I))
	case TypeDouble:
		f := v.F
		if f == 0 {
			f = 0 // -0 == 0
		}
		if math.IsNaN(f) {
			f = math.NaN()
		}
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	case TypeString:
		b = binary.AppendUvarint(b, uint64(len(v.S)))
		b = append(b, v.S...)
	case TypeVector:
		b = binary.AppendUvarint(b, uint64(len(v.V)))
		for _, x := range v.V {
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(x))
		}
	}
	return b
}

func evalHash(a []Value) (Value, error) {
	h := fnv.New64a()
	var buf [64]byte
	for _, v := range a {
		h.Write(AppendKey(buf[:0], v))
	}
	return Int(int64(h.Sum64())), nil
}

func evalMD5(a []Value) (Value, error) {
	s := md5.Sum([]byte(a[0].S))
	return Str(hex.EncodeToString(s[:])), nil
}

func evalSHA256(a []Value) (Value, error) {
	s := sha256.Sum256([]byte(a[0].S))
	return Str(hex.EncodeToString(s[:])), nil
}

// ---- vectors ----

func evalVector(a []Value) (Value, error) {
	v := make([]float64, len(a))
	for i, x := range a {
		v[i], _ = x.AsFloat()
	}
	return Vec(v), nil
}

func evalVectorNorm(a []Value) (Value, error) { return finite(norm(a[0].V)), nil }

// norm is the L2 norm, scaled to avoid overflow (as BLAS dnrm2).
func norm(v []float64) float64 {
	scale, ssq := 0.0, 1.0
	for _, x := range v {
		if x == 0 {
			continue
		}
		ax := math.Abs(x)
		if scale < ax {
			ssq = 1 + ssq*(scale/ax)*(scale/ax)
			scale = ax
		} else {
			ssq += (ax / scale) * (ax / scale)
		}
	}
	return scale * math.Sqrt(ssq)
}

func dot(fn string, a, b []float64) (float64, error) {
	if len(a) != len(b) {
		return 0, exprErr(fn, "vector lengths differ: %d and %d", len(a), len(b))
	}
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s, nil
}

func evalDot(a []Value) (Value, error) {
	d, err := dot("DOT", a[0].V, a[1].V)
	if err != nil {
		return Null, err
	}
	return finite(d), nil
}

func evalCosine(a []Value) (Value, error) {
	d, err := dot("COSINE_SIMILARITY", a[0].V, a[1].V)
	if err != nil {
		return Null, err
	}
	var aa, bb float64
	for i := range a[0].V {
		aa += a[0].V[i] * a[0].V[i]
		bb += a[1].V[i] * a[1].V[i]
	}
	var c float64
	if p := aa * bb; p > 0 && !math.IsInf(p, 0) && !math.IsInf(d, 0) {
		c = d / math.Sqrt(p)
	} else {
		na, nb := norm(a[0].V), norm(a[1].V)
		if na == 0 || nb == 0 {
			return Null, nil
		}
		c = d / na / nb
	}
	c = math.Max(-1, math.Min(1, c))
	return finite(c), nil
}
