package ml

import (
	"fmt"
	"math"
	"sort"
)

var decisionTreeAlgorithm = &Algorithm{
	Name:  "decision_tree",
	Kind:  KindClassifier,
	Modes: []string{ModeBatch, ModeWindowed},
	Doc: "CART decision tree (Breiman et al. 1984): binary splits x_f ≤ t chosen greedily to " +
		"minimize the weighted impurity of the children. Classification with gini or entropy " +
		"(Predict: the leaf's fraction of class 1), regression with variance (Predict: the leaf mean). " +
		"Batch only; for online learning use hoeffding_tree.",
	Params: []Param{
		{Name: "criterion", Type: TypeString, Default: "gini", Enum: []string{"gini", "entropy", "variance"},
			Doc: "Impurity: gini or entropy (classification), variance (regression)."},
		{Name: "max_depth", Type: TypeInt, Default: 8, Min: ptr(1), Max: ptr(64),
			Doc: "Maximum depth of the tree (the root has depth 0)."},
		{Name: "min_samples_leaf", Type: TypeInt, Default: 1, Min: ptr(1),
			Doc: "Minimum number of examples in a leaf."},
		{Name: "min_samples_split", Type: TypeInt, Default: 2, Min: ptr(2),
			Doc: "Minimum number of examples in a node to split it."},
	},
	build: newDecisionTree,
}

// treeNode is one node of a serialized tree. A leaf has F = −1. Internal
// nodes send x with x[F] ≤ T to L and the others to R. V holds the class
// probabilities (classification) or [mean] (regression); N the number of
// training examples that reached the node.
type treeNode struct {
	F int       `json:"f"`
	T float64   `json:"t,omitempty"`
	L int       `json:"l,omitempty"`
	R int       `json:"r,omitempty"`
	V []float64 `json:"v"`
	N int       `json:"n"`
}

// treeState is the state of a decision_tree: {"classes": K, "nodes": [...]}
// with nodes[0] the root.
type treeState struct {
	Classes int        `json:"classes"`
	Nodes   []treeNode `json:"nodes"`
}

// DecisionTree is the decision_tree model. The impurity of a node with
// class fractions p_k is
//
//	gini: 1 − Σ_k p_k²,   entropy: −Σ_k p_k log₂ p_k,   variance: (1/n) Σ (y − ȳ)²
//
// and a split minimizes n_L·I(L) + n_R·I(R). Thresholds are midpoints
// between consecutive distinct values.
type DecisionTree struct {
	base
	st         treeState
	criterion  string
	maxDepth   int
	minLeaf    int
	minSplit   int
	regression bool
}

var _ Classifier = (*DecisionTree)(nil)

func newDecisionTree(b base) (Model, error) {
	p := b.p
	c := p.String("criterion")
	return &DecisionTree{
		base: b, criterion: c,
		maxDepth: p.Int("max_depth"), minLeaf: p.Int("min_samples_leaf"),
		minSplit: p.Int("min_samples_split"), regression: c == "variance",
	}, nil
}

func (m *DecisionTree) state() any { return &m.st }

// Learn panics: CART trains in batch only (the planner rejects online mode
// through Modes).
func (m *DecisionTree) Learn(Vector, float64) {
	panic("ml: decision_tree does not learn online; use Fit or hoeffding_tree")
}

func (m *DecisionTree) leaf(x Vector) *treeNode {
	if len(m.st.Nodes) == 0 {
		return nil
	}
	n := &m.st.Nodes[0]
	for n.F >= 0 {
		if x.At(n.F) <= n.T {
			n = &m.st.Nodes[n.L]
		} else {
			n = &m.st.Nodes[n.R]
		}
	}
	return n
}

// Predict returns the leaf's probability of class 1 (binary), of the
// predicted class (multiclass), or its mean (regression).
func (m *DecisionTree) Predict(x Vector) float64 {
	l := m.leaf(x)
	if l == nil {
		return 0
	}
	if m.regression {
		return l.V[0]
	}
	if m.st.Classes <= 2 {
		return l.V[1]
	}
	return l.V[argmax(l.V)]
}

// PredictLabel returns the leaf's majority class (or mean for
// regression).
func (m *DecisionTree) PredictLabel(x Vector) float64 {
	l := m.leaf(x)
	if l == nil {
		return 0
	}
	if m.regression {
		return l.V[0]
	}
	return float64(argmax(l.V))
}

// PredictProba returns the leaf's class fractions.
func (m *DecisionTree) PredictProba(dst []float64, x Vector) []float64 {
	l := m.leaf(x)
	if l == nil {
		return dst[:0]
	}
	return append(dst[:0], l.V...)
}

// Depth returns the depth of the tree.
func (m *DecisionTree) Depth() int {
	var walk func(i, d int) int
	walk = func(i, d int) int {
		n := m.st.Nodes[i]
		if n.F < 0 {
			return d
		}
		return max(walk(n.L, d+1), walk(n.R, d+1))
	}
	if len(m.st.Nodes) == 0 {
		return 0
	}
	return walk(0, 0)
}

func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

type cartBuilder struct {
	m    *DecisionTree
	X    [][]float64
	y    []float64
	k    int
	d    int
	tmp  []int
	cntL []float64
	cntR []float64
}

// Fit replaces the tree by one grown on X, y.
func (m *DecisionTree) Fit(X []Vector, y []float64) error {
	if err := checkXY(X, y); err != nil {
		return err
	}
	b := &cartBuilder{m: m, y: y}
	for _, x := range X {
		b.d = max(b.d, x.Len())
	}
	b.X = make([][]float64, len(X))
	for i, x := range X {
		b.X[i] = x.AppendDense(nil, b.d)
	}
	if !m.regression {
		for i, v := range y {
			if v < 0 || v != math.Trunc(v) || v > 1e6 {
				return fmt.Errorf("ml: decision_tree: label %v of example %d is not a class 0..K−1 (use criterion variance for regression)", v, i)
			}
			b.k = max(b.k, int(v)+1)
		}
		b.k = max(b.k, 2)
	}
	b.cntL = make([]float64, b.k)
	b.cntR = make([]float64, b.k)
	m.st = treeState{Classes: b.k}
	idx := make([]int, len(X))
	for i := range idx {
		idx[i] = i
	}
	b.tmp = make([]int, len(X))
	b.grow(idx, 0)
	return nil
}

func (b *cartBuilder) value(idx []int) []float64 {
	if b.m.regression {
		var s float64
		for _, i := range idx {
			s += b.y[i]
		}
		return []float64{s / float64(len(idx))}
	}
	v := make([]float64, b.k)
	for _, i := range idx {
		v[int(b.y[i])]++
	}
	for c := range v {
		v[c] /= float64(len(idx))
	}
	return v
}

// impurity returns n·I for class counts cnt summing to n.
func (b *cartBuilder) impurity(cnt []float64, n float64) float64 {
	if n == 0 {
		return 0
	}
	var s float64
	if b.m.criterion == "entropy" {
		for _, c := range cnt {
			if c > 0 {
				p := c / n
				s -= p * math.Log2(p)
			}
		}
		return n * s
	}
	for _, c := range cnt {
		p := c / n
		s += p * p
	}
	return n * (1 - s)
}

func (b *cartBuilder) grow(idx []int, depth int) int {
	m := b.m
	id := len(m.st.Nodes)
	m.st.Nodes = append(m.st.Nodes, treeNode{F: -1, V: b.value(idx), N: len(idx)})
	if depth >= m.maxDepth || len(idx) < m.minSplit || len(idx) < 2*m.minLeaf {
		return id
	}
	f, t, ok := b.bestSplit(idx)
	if !ok {
		return id
	}
	var left, right []int
	for _, i := range idx {
		if b.X[i][f] <= t {
			left = append(left, i)
		} else {
			right = append(right, i)
		}
	}
	l := b.grow(left, depth+1)
	r := b.grow(right, depth+1)
	m.st.Nodes[id].F, m.st.Nodes[id].T, m.st.Nodes[id].L, m.st.Nodes[id].R = f, t, l, r
	return id
}

func (b *cartBuilder) bestSplit(idx []int) (int, float64, bool) {
	n := float64(len(idx))
	minLeaf := b.m.minLeaf
	bestF, bestT, best := -1, 0.0, math.Inf(1)
	var parent float64
	var sumAll, sqAll float64
	if b.m.regression {
		for _, i := range idx {
			sumAll += b.y[i]
			sqAll += b.y[i] * b.y[i]
		}
		parent = sqAll - sumAll*sumAll/n
	} else {
		for c := range b.cntR {
			b.cntR[c] = 0
		}
		for _, i := range idx {
			b.cntR[int(b.y[i])]++
		}
		parent = b.impurity(b.cntR, n)
	}
	if parent <= 1e-12 {
		return 0, 0, false
	}
	s := b.tmp[:len(idx)]
	for f := range b.d {
		copy(s, idx)
		X := b.X
		sort.Slice(s, func(a, c int) bool { return X[s[a]][f] < X[s[c]][f] })
		if X[s[0]][f] == X[s[len(s)-1]][f] {
			continue
		}
		var sumL, sqL float64
		if !b.m.regression {
			for c := range b.cntL {
				b.cntL[c] = 0
			}
			for c := range b.cntR {
				b.cntR[c] = 0
			}
			for _, i := range s {
				b.cntR[int(b.y[i])]++
			}
		}
		for j := 0; j < len(s)-1; j++ {
			yi := b.y[s[j]]
			if b.m.regression {
				sumL += yi
				sqL += yi * yi
			} else {
				b.cntL[int(yi)]++
				b.cntR[int(yi)]--
			}
			nl := float64(j + 1)
			if j+1 < minLeaf || len(s)-j-1 < minLeaf {
				continue
			}
			xa, xb := X[s[j]][f], X[s[j+1]][f]
			if xa == xb {
				continue
			}
			var imp float64
			if b.m.regression {
				nr := n - nl
				sumR, sqR := sumAll-sumL, sqAll-sqL
				imp = (sqL - sumL*sumL/nl) + (sqR - sumR*sumR/nr)
			} else {
				imp = b.impurity(b.cntL, nl) + b.impurity(b.cntR, n-nl)
			}
			if imp < best-1e-12 {
				best, bestF, bestT = imp, f, xa+(xb-xa)/2
			}
		}
	}
	if bestF < 0 || best >= parent-1e-12 {
		return 0, 0, false
	}
	return bestF, bestT, true
}
