package ml

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// OneHot encodes a categorical value as a one-hot sparse vector. Categories
// get indices 0, 1, ... in order of first appearance (Learn); at most
// MaxCategories are kept, and any other value (unknown or beyond the cap)
// maps to the "other" index MaxCategories. Dim is MaxCategories+1, fixed, so
// that a model's input width never changes. It marshals to JSON.
type OneHot struct {
	MaxCategories int      `json:"max_categories"`
	Categories    []string `json:"categories"`

	index map[string]int
}

// NewOneHot returns an encoder for at most maxCategories categories.
func NewOneHot(maxCategories int) *OneHot {
	return &OneHot{MaxCategories: max(maxCategories, 1), index: map[string]int{}}
}

// Restore rebuilds the index after unmarshalling.
func (o *OneHot) Restore() {
	o.index = make(map[string]int, len(o.Categories))
	for i, c := range o.Categories {
		o.index[c] = i
	}
}

// Dim returns the output dimension.
func (o *OneHot) Dim() int { return o.MaxCategories + 1 }

// Learn adds category c if there is room.
func (o *OneHot) Learn(c string) {
	if o.index == nil {
		o.Restore()
	}
	if _, ok := o.index[c]; !ok && len(o.Categories) < o.MaxCategories {
		o.index[c] = len(o.Categories)
		o.Categories = append(o.Categories, c)
	}
}

// Fit replaces the categories by those of cats, in order of first
// appearance (up to MaxCategories).
func (o *OneHot) Fit(cats []string) {
	o.Categories = nil
	o.index = map[string]int{}
	for _, c := range cats {
		o.Learn(c)
	}
}

// Index returns c's index (MaxCategories for "other").
func (o *OneHot) Index(c string) int {
	if o.index == nil {
		o.Restore()
	}
	if i, ok := o.index[c]; ok {
		return i
	}
	return o.MaxCategories
}

// Transform returns the one-hot vector of c.
func (o *OneHot) Transform(c string) Vector {
	return Sparse([]int32{int32(o.Index(c))}, []float64{1})
}

// Hash64 is the 64-bit FNV-1a hash of s, used by feature hashing.
func Hash64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix64(h) // avalanche so that low bits are well mixed
}

// SparseBuilder accumulates (index, value) pairs and builds a sparse
// vector with sorted, merged indices. Reuse one builder to avoid
// allocations.
type SparseBuilder struct {
	pairs []sparsePair
}

type sparsePair struct {
	i int32
	v float64
}

// Reset empties the builder.
func (b *SparseBuilder) Reset() { b.pairs = b.pairs[:0] }

// Add adds v at index i.
func (b *SparseBuilder) Add(i int, v float64) {
	b.pairs = append(b.pairs, sparsePair{int32(i), v})
}

// Vector sorts and merges the pairs and returns a new sparse vector
// (zero entries dropped).
func (b *SparseBuilder) Vector() Vector { return b.AppendVector(Vector{}) }

// AppendVector is Vector writing into dst's slices (reused when large
// enough; dst must not alias a vector still in use).
func (b *SparseBuilder) AppendVector(dst Vector) Vector {
	slices.SortFunc(b.pairs, func(x, y sparsePair) int { return cmp.Compare(x.i, y.i) })
	idx, val := dst.Idx[:0], dst.Val[:0]
	if idx == nil {
		idx = make([]int32, 0, len(b.pairs))
	}
	for _, p := range b.pairs {
		if k := len(idx); k > 0 && idx[k-1] == p.i {
			val[k-1] += p.v
			continue
		}
		idx = append(idx, p.i)
		val = append(val, p.v)
	}
	k := 0
	for j := range idx {
		if val[j] != 0 {
			idx[k], val[k] = idx[j], val[j]
			k++
		}
	}
	return Vector{Idx: idx[:k], Val: val[:k]}
}

// Hasher maps named features to a sparse vector of Dims dimensions with
// the hashing trick (Weinberger et al. 2009): feature "name=value" (or
// "name" for numeric features) goes to index h mod Dims with sign ±1 from
// another bit of h (when Signed), so that collisions cancel in expectation.
type Hasher struct {
	Dims   int  `json:"dims"`
	Signed bool `json:"signed"`
	b      SparseBuilder
}

// NewHasher returns a hasher to dims dimensions.
func NewHasher(dims int, signed bool) *Hasher { return &Hasher{Dims: max(dims, 1), Signed: signed} }

func (h *Hasher) slot(token string) (int, float64) {
	x := Hash64(token)
	sign := 1.0
	if h.Signed && x>>63 == 1 {
		sign = -1
	}
	return int(x % uint64(h.Dims)), sign
}

// Transform hashes categorical features (names[i] = values[i]) into a
// sparse vector.
func (h *Hasher) Transform(names, values []string) Vector {
	h.b.Reset()
	for i, n := range names {
		j, s := h.slot(n + "=" + values[i])
		h.b.Add(j, s)
	}
	return h.b.Vector()
}

// TransformNumeric hashes numeric features (name → value) into a sparse
// vector.
func (h *Hasher) TransformNumeric(names []string, values []float64) Vector {
	h.b.Reset()
	for i, n := range names {
		j, s := h.slot(n)
		h.b.Add(j, s*values[i])
	}
	return h.b.Vector()
}

// Tokenize lower-cases text and splits it into words of at least two
// letters or digits (scikit-learn's default token pattern \b\w\w+\b).
func Tokenize(text string) []string {
	return appendTokens(nil, text)
}

func appendTokens(dst []string, text string) []string {
	start := -1
	flush := func(end int) {
		if start >= 0 {
			w := text[start:end]
			if n := len([]rune(w)); n >= 2 {
				dst = append(dst, strings.ToLower(w))
			}
			start = -1
		}
	}
	for i, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(text))
	return dst
}

// TFIDF turns text into L2-normalized TF-IDF vectors over Dims hashed
// dimensions (the hashing trick: no vocabulary to store). Terms are the
// word n-grams of lengths 1..NGrams. Document frequencies are learned online
// (Learn) or from a batch (Fit). The weight of term t in document d is
//
//	w = tf(t,d) · idf(t),  idf(t) = ln((1 + n) / (1 + df(t))) + 1
//
// with tf replaced by 1 + ln tf when Sublinear, as scikit-learn's
// TfidfVectorizer(smooth_idf=True). Terms never seen by Learn or Fit are
// dropped, as a vocabulary would (otherwise their large idf would dominate
// the norm). It marshals to JSON.
type TFIDF struct {
	Dims      int       `json:"dims"`
	NGrams    int       `json:"ngrams"`
	Sublinear bool      `json:"sublinear"`
	Docs      float64   `json:"docs"`
	DF        []float64 `json:"df"`

	hashes []uint64
	terms  []int
	b      SparseBuilder
	seen   map[int]struct{}
}

// NewTFIDF returns a vectorizer with dims dimensions and n-grams up to
// ngrams.
func NewTFIDF(dims, ngrams int) *TFIDF {
	return &TFIDF{Dims: max(dims, 1), NGrams: max(ngrams, 1), DF: make([]float64, max(dims, 1))}
}

// hashTerms fills t.terms with the hashed term indices of text: each
// token's lower-cased FNV-1a hash (no string is built), and for n-grams a
// mix of the token hashes.
func (t *TFIDF) hashTerms(text string) []int {
	t.hashes = tokenHashes(t.hashes[:0], text)
	t.terms = t.terms[:0]
	dims := uint64(t.Dims)
	for i, h := range t.hashes {
		t.terms = append(t.terms, int(mix64(h)%dims))
		g := h
		for n := 2; n <= t.NGrams && i+n <= len(t.hashes); n++ {
			g = g*0x9e3779b97f4a7c15 ^ t.hashes[i+n-1]
			t.terms = append(t.terms, int(mix64(g^uint64(n))%dims))
		}
	}
	return t.terms
}

// tokenHashes appends the FNV-1a hash (before mixing) of every token of
// text, as Tokenize would split and lower-case it.
func tokenHashes(dst []uint64, text string) []uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h, n := uint64(offset), 0
	var buf [utf8.UTFMax]byte
	for _, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' {
			r = unicode.ToLower(r)
			if r < utf8.RuneSelf {
				h = (h ^ uint64(r)) * prime
			} else {
				for _, c := range buf[:utf8.EncodeRune(buf[:], r)] {
					h = (h ^ uint64(c)) * prime
				}
			}
			n++
			continue
		}
		if n >= 2 {
			dst = append(dst, h)
		}
		h, n = offset, 0
	}
	if n >= 2 {
		dst = append(dst, h)
	}
	return dst
}

// mix64 is the splitmix64 finalizer.
func mix64(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// Learn counts text's terms in the document frequencies.
func (t *TFIDF) Learn(text string) {
	if len(t.DF) != t.Dims {
		t.DF = make([]float64, t.Dims)
	}
	if t.seen == nil {
		t.seen = map[int]struct{}{}
	}
	clear(t.seen)
	for _, j := range t.hashTerms(text) {
		if _, ok := t.seen[j]; !ok {
			t.seen[j] = struct{}{}
			t.DF[j]++
		}
	}
	t.Docs++
}

// Fit replaces the document frequencies by those of docs.
func (t *TFIDF) Fit(docs []string) {
	t.Docs = 0
	t.DF = make([]float64, t.Dims)
	for _, d := range docs {
		t.Learn(d)
	}
}

// IDF returns the inverse document frequency of dimension j.
func (t *TFIDF) IDF(j int) float64 {
	return math.Log((1+t.Docs)/(1+t.DF[j])) + 1
}

// Transform returns the L2-normalized TF-IDF vector of text (a new sparse
// vector).
func (t *TFIDF) Transform(text string) Vector { return t.AppendTransform(Vector{}, text) }

// AppendTransform is Transform writing into dst's slices (reused when
// large enough), so that a caller that is done with the previous vector
// transforms without allocating.
func (t *TFIDF) AppendTransform(dst Vector, text string) Vector {
	if len(t.DF) != t.Dims {
		t.DF = make([]float64, t.Dims)
	}
	t.b.Reset()
	for _, j := range t.hashTerms(text) {
		if t.Docs == 0 || t.DF[j] > 0 {
			t.b.Add(j, 1)
		}
	}
	v := t.b.AppendVector(dst)
	var norm float64
	for k, j := range v.Idx {
		tf := v.Val[k]
		if t.Sublinear {
			tf = 1 + math.Log(tf)
		}
		w := tf * t.IDF(int(j))
		v.Val[k] = w
		norm += w * w
	}
	if norm > 0 {
		norm = 1 / math.Sqrt(norm)
		for k := range v.Val {
			v.Val[k] *= norm
		}
	}
	return v
}
