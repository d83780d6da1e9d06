package ml

import (
	"math"
	"math/rand/v2"
)

var halfSpaceTreesAlgorithm = &Algorithm{
	Name:  "half_space_trees",
	Kind:  KindAnomaly,
	Modes: []string{ModeOnline},
	Doc: "Streaming half-space trees (Tan, Ting and Liu 2011): random axis-aligned splits of the " +
		"feature space; a point in a region that held little mass in the previous window is anomalous. " +
		"Features are min-max scaled with limits learned from the first window. Score in (0, 1]: " +
		"1 for an empty region, about 0.5 at average density.",
	Params: []Param{
		{Name: "n_trees", Type: TypeInt, Default: 25, Min: ptr(1), Max: ptr(1000), Doc: "Number of trees."},
		{Name: "height", Type: TypeInt, Default: 8, Min: ptr(1), Max: ptr(20), Doc: "Height of each tree."},
		{Name: "window", Type: TypeInt, Default: 250, Min: ptr(2), Max: ptr(10000000),
			Doc: "Examples per window; the reference mass profile is replaced after each window."},
		{Name: "size_limit", Type: TypeFloat, Default: 0.1, Min: ptr(0), Max: ptr(1),
			Doc: "Scoring stops at a node whose reference mass is at most size_limit·window."},
		{Name: "threshold", Type: TypeFloat, Default: 0.9, Min: ptr(0), Max: ptr(1),
			Doc: "Score above which an example is anomalous (see IsAnomaly)."},
	},
	build: newHalfSpaceTrees,
}

// hstState is the state of half_space_trees: per tree, complete binary trees
// in heap order (children of node i are 2i+1 and 2i+2): split dimension,
// split value, reference mass and latest mass; plus the scaling limits.
type hstState struct {
	Dim    [][]int32   `json:"dim"`
	Split  [][]float64 `json:"split"`
	Ref    [][]float64 `json:"ref"`
	Latest [][]float64 `json:"latest"`
	Lo     []float64   `json:"lo"`
	Hi     []float64   `json:"hi"`
	Count  int         `json:"count"`
	First  [][]float64 `json:"first,omitempty"` // the first window, until the trees are built
}

// HalfSpaceTrees is the half_space_trees detector. With reference masses
// r(node) of the previous window, the mass score of x is
//
//	s(x) = Σ_trees r(node*) · 2^depth(node*)
//
// where node* is the first node on x's path with r ≤ size_limit·window
// (or the leaf). A point in a region of average density has
// r·2^depth ≈ window in each tree, so with ŝ = s(x)/(n_trees·window) the
// anomaly score is 1/(1 + ŝ): 1 in a region empty in the last window,
// about 0.5 at average density, towards 0 in dense regions.
type HalfSpaceTrees struct {
	base
	st        hstState
	nTrees    int
	height    int
	window    int
	sizeLimit float64
	threshold float64
	buf       []float64
}

var _ Model = (*HalfSpaceTrees)(nil)

func newHalfSpaceTrees(b base) (Model, error) {
	p := b.p
	return &HalfSpaceTrees{base: b, nTrees: p.Int("n_trees"),
		height: p.Int("height"), window: p.Int("window"), sizeLimit: p.Float("size_limit"),
		threshold: p.Float("threshold")}, nil
}

func (m *HalfSpaceTrees) state() any { return &m.st }

func (m *HalfSpaceTrees) build(d int) {
	rng := rand.New(rand.NewPCG(uint64(m.seed), 0x687374))
	nodes := 1<<(m.height+1) - 1
	m.st.Dim = make([][]int32, m.nTrees)
	m.st.Split = make([][]float64, m.nTrees)
	m.st.Ref = make([][]float64, m.nTrees)
	m.st.Latest = make([][]float64, m.nTrees)
	lo, hi := make([]float64, d), make([]float64, d)
	for t := range m.nTrees {
		dims := make([]int32, nodes)
		split := make([]float64, nodes)
		// Work space: s_q ~ U(0,1), range [s_q − 2·max(s_q, 1−s_q), s_q + 2·max(...)].
		for q := range d {
			s := rng.Float64()
			r := 2 * max(s, 1-s)
			lo[q], hi[q] = s-r, s+r
		}
		var rec func(i, depth int)
		rec = func(i, depth int) {
			if depth == m.height {
				return
			}
			q := rng.IntN(d)
			mid := (lo[q] + hi[q]) / 2
			dims[i], split[i] = int32(q), mid
			old := hi[q]
			hi[q] = mid
			rec(2*i+1, depth+1)
			hi[q] = old
			old = lo[q]
			lo[q] = mid
			rec(2*i+2, depth+1)
			lo[q] = old
		}
		rec(0, 0)
		m.st.Dim[t], m.st.Split[t] = dims, split
		m.st.Ref[t] = make([]float64, nodes)
		m.st.Latest[t] = make([]float64, nodes)
	}
}

// scaled maps x into [0,1] per feature with the learned limits, into dst.
func (m *HalfSpaceTrees) scaled(dst []float64, x Vector) []float64 {
	d := len(m.st.Lo)
	dst = x.AppendDense(dst[:0], max(d, x.Len()))[:d]
	for j := range dst {
		if w := m.st.Hi[j] - m.st.Lo[j]; w > 0 {
			dst[j] = (dst[j] - m.st.Lo[j]) / w
		} else {
			dst[j] = 0.5
		}
	}
	return dst
}

// Learn adds x to the latest mass profile; after each window the latest
// profile becomes the reference.
func (m *HalfSpaceTrees) Learn(x Vector, _ float64) {
	if !finite(x, 0) {
		return
	}
	if m.st.Dim == nil {
		m.st.First = append(m.st.First, x.AppendDense(nil, x.Len()))
		if len(m.st.First) < m.window {
			return
		}
		d := 0
		for _, r := range m.st.First {
			d = max(d, len(r))
		}
		m.st.Lo, m.st.Hi = make([]float64, d), make([]float64, d)
		for j := range d {
			m.st.Lo[j], m.st.Hi[j] = math.Inf(1), math.Inf(-1)
			for _, r := range m.st.First {
				v := 0.0
				if j < len(r) {
					v = r[j]
				}
				m.st.Lo[j], m.st.Hi[j] = min(m.st.Lo[j], v), max(m.st.Hi[j], v)
			}
		}
		m.build(d)
		first := m.st.First
		m.st.First = nil
		for _, r := range first {
			m.add(Dense(r))
		}
		return
	}
	m.add(x)
}

func (m *HalfSpaceTrees) add(x Vector) {
	m.buf = m.scaled(m.buf, x)
	z := m.buf
	for t := range m.nTrees {
		dims, split, lat := m.st.Dim[t], m.st.Split[t], m.st.Latest[t]
		i := 0
		for depth := 0; ; depth++ {
			lat[i]++
			if depth == m.height {
				break
			}
			if z[dims[i]] < split[i] {
				i = 2*i + 1
			} else {
				i = 2*i + 2
			}
		}
	}
	m.st.Count++
	if m.st.Count%m.window == 0 {
		for t := range m.nTrees {
			m.st.Ref[t], m.st.Latest[t] = m.st.Latest[t], m.st.Ref[t]
			clear(m.st.Latest[t])
		}
	}
}

// Fit replaces the model by one that learned X in order.
func (m *HalfSpaceTrees) Fit(X []Vector, _ []float64) error {
	m.st = hstState{}
	for _, x := range X {
		m.Learn(x, 0)
	}
	return nil
}

// Predict returns the anomaly score in [0, 1] (0 until a reference window
// exists).
func (m *HalfSpaceTrees) Predict(x Vector) float64 {
	if m.st.Dim == nil || m.st.Count < m.window {
		return 0
	}
	var buf [16]float64
	z := m.scaled(buf[:0], x)
	limit := m.sizeLimit * float64(m.window)
	var s float64
	for t := range m.nTrees {
		dims, split, ref := m.st.Dim[t], m.st.Split[t], m.st.Ref[t]
		i := 0
		for depth := 0; ; depth++ {
			if depth == m.height || ref[i] <= limit {
				s += ref[i] * math.Ldexp(1, depth)
				break
			}
			if z[dims[i]] < split[i] {
				i = 2*i + 1
			} else {
				i = 2*i + 2
			}
		}
	}
	s /= float64(m.nTrees) * float64(m.window)
	return 1 / (1 + s)
}

// IsAnomaly reports whether score exceeds the threshold.
func (m *HalfSpaceTrees) IsAnomaly(score float64) bool { return score > m.threshold }
