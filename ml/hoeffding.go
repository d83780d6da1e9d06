package ml

import (
	"math"
)

var hoeffdingTreeAlgorithm = &Algorithm{
	Name:  "hoeffding_tree",
	Kind:  KindClassifier,
	Modes: []string{ModeOnline, ModeBatch, ModeWindowed},
	Doc: "Hoeffding tree (VFDT, Domingos and Hulten 2000) for numeric features: each leaf keeps per " +
		"class a Gaussian of every feature; every grace_period examples it scores candidate thresholds " +
		"by information gain and splits when the best beats the second best by the Hoeffding bound. " +
		"Leaves predict by class fractions, naive Bayes, or adaptively whichever has been more accurate.",
	Params: []Param{
		{Name: "grace_period", Type: TypeInt, Default: 200, Min: ptr(1), Max: ptr(1000000),
			Doc: "Examples a leaf sees between split attempts."},
		{Name: "delta", Type: TypeFloat, Default: 1e-7, Min: ptr(1e-300), Max: ptr(1),
			Doc: "Allowed probability δ of choosing the wrong split."},
		{Name: "tie_threshold", Type: TypeFloat, Default: 0.05, Min: ptr(0), Max: ptr(1),
			Doc: "Split anyway when the Hoeffding bound falls below this (near-ties)."},
		{Name: "max_depth", Type: TypeInt, Default: 20, Min: ptr(1), Max: ptr(64), Doc: "Maximum depth."},
		{Name: "split_points", Type: TypeInt, Default: 10, Min: ptr(1), Max: ptr(1000),
			Doc: "Candidate thresholds per feature, evenly spaced between the leaf's min and max."},
		{Name: "leaf_prediction", Type: TypeString, Default: "nba", Enum: []string{"mc", "nb", "nba"},
			Doc: "Leaf prediction: class fractions (mc), Gaussian naive Bayes (nb), or per leaf whichever of the two has been more accurate (nba)."},
	},
	build: newHoeffdingTree,
}

// gauss is a running Gaussian estimate (Welford).
type gauss struct {
	N    float64 `json:"n"`
	Mean float64 `json:"mean"`
	M2   float64 `json:"m2"`
}

func (g *gauss) add(v float64) {
	g.N++
	d := v - g.Mean
	g.Mean += d / g.N
	g.M2 += d * (v - g.Mean)
}

func (g *gauss) std() float64 {
	if g.N < 2 {
		return 0
	}
	return math.Sqrt(g.M2 / (g.N - 1))
}

// cdf returns the estimated number of values ≤ t.
func (g *gauss) cdf(t float64) float64 {
	if g.N == 0 {
		return 0
	}
	s := g.std()
	if s == 0 {
		if g.Mean <= t {
			return g.N
		}
		return 0
	}
	return g.N * 0.5 * math.Erfc(-(t-g.Mean)/(s*math.Sqrt2))
}

// htNode is a node of a Hoeffding tree; F = −1 marks a leaf. Leaves keep
// class counts, per feature per class Gaussians (Stats[feature][class]) and
// per feature ranges.
type htNode struct {
	F      int       `json:"f"`
	T      float64   `json:"t,omitempty"`
	L      int       `json:"l,omitempty"`
	R      int       `json:"r,omitempty"`
	Depth  int       `json:"depth"`
	Counts []float64 `json:"counts"`
	Stats  [][]gauss `json:"stats,omitempty"`
	Lo     []float64 `json:"lo,omitempty"`
	Hi     []float64 `json:"hi,omitempty"`
	Seen   float64   `json:"seen"`
	// MCHits and NBHits count the examples the leaf's majority class and
	// naive Bayes predictions got right before learning them (nba).
	MCHits float64 `json:"mc_hits,omitempty"`
	NBHits float64 `json:"nb_hits,omitempty"`
}

// hoeffdingState is {"classes": K, "nodes": [...]} with nodes[0] the root.
type hoeffdingState struct {
	Classes int      `json:"classes"`
	Nodes   []htNode `json:"nodes"`
}

// HoeffdingTree is the hoeffding_tree model. A leaf with n examples splits
// on the best candidate when
//
//	G(best) − G(second) > ε  or  ε < τ,   ε = sqrt(R² ln(1/δ) / (2n)),  R = log₂ K
//
// where G is the information gain estimated from the per-class Gaussians.
type HoeffdingTree struct {
	base
	st       hoeffdingState
	grace    float64
	delta    float64
	tau      float64
	maxDepth int
	points   int
	mode     string // mc, nb or nba
}

var _ Classifier = (*HoeffdingTree)(nil)

func newHoeffdingTree(b base) (Model, error) {
	p := b.p
	m := &HoeffdingTree{base: b, grace: float64(p.Int("grace_period")),
		delta: p.Float("delta"), tau: p.Float("tie_threshold"), maxDepth: p.Int("max_depth"),
		points: p.Int("split_points"), mode: p.String("leaf_prediction")}
	m.reset()
	return m, nil
}

func (m *HoeffdingTree) reset() {
	m.st = hoeffdingState{Classes: 2, Nodes: []htNode{{F: -1}}}
}

func (m *HoeffdingTree) state() any { return &m.st }

func (m *HoeffdingTree) leafOf(x Vector) int {
	i := 0
	for m.st.Nodes[i].F >= 0 {
		n := &m.st.Nodes[i]
		if x.At(n.F) <= n.T {
			i = n.L
		} else {
			i = n.R
		}
	}
	return i
}

// Learn adds one example of class int(y).
func (m *HoeffdingTree) Learn(x Vector, y float64) {
	if !finite(x, y) || y < 0 || y > 1e6 {
		return
	}
	c := max(int(y), 0)
	m.st.Classes = max(m.st.Classes, c+1)
	li := m.leafOf(x)
	n := &m.st.Nodes[li]
	if m.mode == "nba" && sum(n.Counts) > 0 {
		var buf [8]float64
		if argmax(m.leafProba(buf[:0], n, x, false)) == c {
			n.MCHits++
		}
		if argmax(m.leafProba(buf[:0], n, x, true)) == c {
			n.NBHits++
		}
	}
	for len(n.Counts) <= c {
		n.Counts = append(n.Counts, 0)
	}
	n.Counts[c]++
	d := x.Len()
	for len(n.Stats) < d {
		n.Stats = append(n.Stats, nil)
		n.Lo = append(n.Lo, math.MaxFloat64)
		n.Hi = append(n.Hi, -math.MaxFloat64)
	}
	for j := range n.Stats {
		v := x.At(j)
		if x.Idx == nil && j < len(x.Val) {
			v = x.Val[j]
		}
		for len(n.Stats[j]) <= c {
			n.Stats[j] = append(n.Stats[j], gauss{})
		}
		n.Stats[j][c].add(v)
		n.Lo[j], n.Hi[j] = min(n.Lo[j], v), max(n.Hi[j], v)
	}
	var total float64
	for _, v := range n.Counts {
		total += v
	}
	if total-n.Seen >= m.grace && n.Depth < m.maxDepth {
		n.Seen = total
		m.trySplit(li, total)
	}
}

func entropy(counts []float64) float64 {
	var n float64
	for _, c := range counts {
		n += c
	}
	if n == 0 {
		return 0
	}
	var h float64
	for _, c := range counts {
		if c > 0 {
			p := c / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

func (m *HoeffdingTree) trySplit(li int, total float64) {
	n := &m.st.Nodes[li]
	nonzero := 0
	for _, c := range n.Counts {
		if c > 0 {
			nonzero++
		}
	}
	if nonzero < 2 {
		return
	}
	h0 := entropy(n.Counts)
	k := len(n.Counts)
	left := make([]float64, k)
	right := make([]float64, k)
	best, second := 0.0, 0.0
	bestF, bestT := -1, 0.0
	for f, stats := range n.Stats {
		if n.Hi[f] <= n.Lo[f] {
			continue
		}
		featBest, featT := 0.0, 0.0
		for s := 1; s <= m.points; s++ {
			t := n.Lo[f] + (n.Hi[f]-n.Lo[f])*float64(s)/float64(m.points+1)
			var nl, nr float64
			for c := range k {
				var l float64
				if c < len(stats) {
					l = min(stats[c].cdf(t), n.Counts[c])
				}
				left[c], right[c] = l, n.Counts[c]-l
				nl += left[c]
				nr += right[c]
			}
			if nl == 0 || nr == 0 {
				continue
			}
			g := h0 - (nl*entropy(left)+nr*entropy(right))/(nl+nr)
			if g > featBest {
				featBest, featT = g, t
			}
		}
		switch {
		case featBest > best:
			second = best
			best, bestF, bestT = featBest, f, featT
		case featBest > second:
			second = featBest
		}
	}
	if bestF < 0 || best <= 0 {
		return
	}
	r := math.Log2(float64(max(k, 2)))
	eps := math.Sqrt(r * r * math.Log(1/m.delta) / (2 * total))
	if best-second <= eps && eps >= m.tau {
		return
	}
	// Split: children start with the estimated class counts.
	stats := n.Stats[bestF]
	lc, rc := make([]float64, k), make([]float64, k)
	for c := range k {
		var l float64
		if c < len(stats) {
			l = min(stats[c].cdf(bestT), n.Counts[c])
		}
		lc[c], rc[c] = l, n.Counts[c]-l
	}
	depth := n.Depth + 1
	l := len(m.st.Nodes)
	m.st.Nodes = append(m.st.Nodes,
		htNode{F: -1, Depth: depth, Counts: lc, Seen: sum(lc)},
		htNode{F: -1, Depth: depth, Counts: rc, Seen: sum(rc)})
	n = &m.st.Nodes[li]
	*n = htNode{F: bestF, T: bestT, L: l, R: l + 1, Depth: n.Depth}
}

func sum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}

// PredictProba returns the leaf's class probabilities.
func (m *HoeffdingTree) PredictProba(dst []float64, x Vector) []float64 {
	n := &m.st.Nodes[m.leafOf(x)]
	useNB := m.mode == "nb" || (m.mode == "nba" && n.NBHits > n.MCHits)
	return m.leafProba(dst, n, x, useNB)
}

func (m *HoeffdingTree) leafProba(dst []float64, n *htNode, x Vector, useNB bool) []float64 {
	k := m.st.Classes
	dst = dst[:0]
	for range k {
		dst = append(dst, 0)
	}
	total := sum(n.Counts)
	if total == 0 {
		for c := range dst {
			dst[c] = 1 / float64(k)
		}
		return dst
	}
	if !useNB || len(n.Stats) == 0 || total < 2 {
		for c, v := range n.Counts {
			dst[c] = v / total
		}
		return dst
	}
	for c := range dst {
		if c >= len(n.Counts) || n.Counts[c] == 0 {
			dst[c] = math.Inf(-1)
			continue
		}
		s := math.Log(n.Counts[c] / total)
		for j, st := range n.Stats {
			if c >= len(st) {
				continue
			}
			g := st[c]
			sd := max(g.std(), 1e-3*max(n.Hi[j]-n.Lo[j], 1e-9))
			z := (x.At(j) - g.Mean) / sd
			s -= math.Log(sd) + z*z/2
		}
		dst[c] = s
	}
	softmaxInPlace(dst)
	return dst
}

// Predict returns P(class 1) for two classes, else the probability of the
// predicted class.
func (m *HoeffdingTree) Predict(x Vector) float64 {
	var buf [8]float64
	p := m.PredictProba(buf[:0], x)
	if len(p) <= 2 {
		return p[1]
	}
	return p[argmax(p)]
}

// PredictLabel returns the most probable class.
func (m *HoeffdingTree) PredictLabel(x Vector) float64 {
	var buf [8]float64
	return float64(argmax(m.PredictProba(buf[:0], x)))
}

// Fit replaces the tree by one that learned X, y in order.
func (m *HoeffdingTree) Fit(X []Vector, y []float64) error {
	if err := checkXY(X, y); err != nil {
		return err
	}
	m.reset()
	for i, x := range X {
		m.Learn(x, y[i])
	}
	return nil
}

// Leaves returns the number of leaves.
func (m *HoeffdingTree) Leaves() int {
	var c int
	for _, n := range m.st.Nodes {
		if n.F < 0 {
			c++
		}
	}
	return c
}
