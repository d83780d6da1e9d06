package ml

import (
	"math"
	"sort"
	"strings"
	"unicode"
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
	// Final avalanche (from splitmix64) so that low bits are well mixed.
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// SparseBuilder accumulates (index, value) pairs and builds a sparse
// vector with sorted, merged indices. Reuse one builder to avoid
// allocations.
type SparseBuilder struct {
	idx []int32
	val []float64
	ord []int
}

// Reset empties the builder.
func (b *SparseBuilder) Reset() { b.idx, b.val = b.idx[:0], b.val[:0] }

// Add adds v at index i.
func (b *SparseBuilder) Add(i int, v float64) {
	b.idx = append(b.idx, int32(i))
	b.val = append(b.val, v)
}

// Vector sorts and merges the pairs and returns a new sparse vector
// (zero entries dropped).
func (b *SparseBuilder) Vector() Vector {
	n := len(b.idx)
	b.ord = b.ord[:0]
	for i := range n {
		b.ord = append(b.ord, i)
	}
	sort.Slice(b.ord, func(x, y int) bool { return b.idx[b.ord[x]] < b.idx[b.ord[y]] })
	idx := make([]int32, 0, n)
	val := make([]float64, 0, n)
	for _, o := range b.ord {
		i := b.idx[o]
		if k := len(idx); k > 0 && idx[k-1] == i {
			val[k-1] += b.val[o]
			continue
		}
		idx = append(idx, i)
		val = append(val, b.val[o])
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

	toks  []string
	terms []int
	b     SparseBuilder
	seen  map[int]struct{}
}

// NewTFIDF returns a vectorizer with dims dimensions and n-grams up to
// ngrams.
func NewTFIDF(dims, ngrams int) *TFIDF {
	return &TFIDF{Dims: max(dims, 1), NGrams: max(ngrams, 1), DF: make([]float64, max(dims, 1))}
}

// hashTerms fills t.terms with the hashed term indices of text.
func (t *TFIDF) hashTerms(text string) []int {
	t.toks = appendTokens(t.toks[:0], text)
	t.terms = t.terms[:0]
	for i := range t.toks {
		h := Hash64(t.toks[i])
		t.terms = append(t.terms, int(h%uint64(t.Dims)))
		key := t.toks[i]
		for n := 2; n <= t.NGrams && i+n <= len(t.toks); n++ {
			key += " " + t.toks[i+n-1]
			t.terms = append(t.terms, int(Hash64(key)%uint64(t.Dims)))
		}
	}
	return t.terms
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
func (t *TFIDF) Transform(text string) Vector {
	if len(t.DF) != t.Dims {
		t.DF = make([]float64, t.Dims)
	}
	t.b.Reset()
	for _, j := range t.hashTerms(text) {
		if t.Docs == 0 || t.DF[j] > 0 {
			t.b.Add(j, 1)
		}
	}
	v := t.b.Vector()
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
