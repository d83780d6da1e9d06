package ml

import (
	"math"
	"math/rand/v2"
)

var kmeansAlgorithm = &Algorithm{
	Name:  "kmeans",
	Kind:  KindClusterer,
	Modes: []string{ModeOnline, ModeBatch, ModeWindowed},
	Doc: "k-means clustering. Batch: Lloyd's algorithm (or mini-batch k-means with batch_size) from " +
		"k-means++ seeds (best of n_init runs by inertia). Online: sequential (mini-batch of one) k-means, each centre moving towards its " +
		"points with step 1/count, counts decayed by decay per example. Predict returns the cluster id.",
	Params: []Param{
		{Name: "k", Type: TypeInt, Default: 3, Min: ptr(1), Max: ptr(100000), Doc: "Number of clusters."},
		{Name: "init", Type: TypeString, Default: "kmeans++", Enum: []string{"kmeans++", "random"},
			Doc: "Seeding of the batch algorithm."},
		{Name: "n_init", Type: TypeInt, Default: 4, Min: ptr(1), Max: ptr(1000),
			Doc: "Batch runs from different seeds; the one with the lowest inertia is kept."},
		{Name: "max_iter", Type: TypeInt, Default: 300, Min: ptr(1), Max: ptr(1000000),
			Doc: "Maximum Lloyd iterations per run."},
		{Name: "tol", Type: TypeFloat, Default: 1e-6, Min: ptr(0),
			Doc: "Lloyd stops when no centre moves by more than tol (squared distance)."},
		{Name: "batch_size", Type: TypeInt, Default: 0, Min: ptr(0), Max: ptr(10000000),
			Doc: "Fit with mini-batch k-means (Sculley 2010) on max_iter random batches of this size; 0 = Lloyd on all data."},
		{Name: "decay", Type: TypeFloat, Default: 1.0, Min: ptr(0.5), Max: ptr(1),
			Doc: "Online forgetting factor of the per-cluster counts (1 = no forgetting)."},
	},
	build: newKMeans,
}

// kmeansState is the state of a kmeans model: {"centers": [[...]], "counts": [...]}.
type kmeansState struct {
	Centers [][]float64 `json:"centers"`
	Counts  []float64   `json:"counts"`
}

// KMeans is the kmeans model. Lloyd's algorithm alternates
//
//	label_i = argmin_c ‖x_i − μ_c‖²,   μ_c = mean{x_i : label_i = c}
//
// from k-means++ seeds (Arthur and Vassilvitskii 2007: each next seed is
// drawn with probability ∝ D(x)², its squared distance to the nearest seed).
// Online, the nearest centre c moves as μ_c ← μ_c + (x − μ_c)/n_c after
// n_c ← decay·n_c + 1 (MacQueen 1967; Sculley 2010 with batches of one).
type KMeans struct {
	base
	st      kmeansState
	k       int
	init    string
	nInit   int
	maxIter int
	tol     float64
	decay   float64
	batch   int
}

var _ Model = (*KMeans)(nil)

func newKMeans(b base) (Model, error) {
	p := b.p
	return &KMeans{
		base: b, k: p.Int("k"), init: p.String("init"),
		nInit: p.Int("n_init"), maxIter: p.Int("max_iter"), tol: p.Float("tol"), decay: p.Float("decay"),
		batch: p.Int("batch_size"),
	}, nil
}

func (m *KMeans) state() any { return &m.st }

// Centers returns the cluster centres (not copied).
func (m *KMeans) Centers() [][]float64 { return m.st.Centers }

func nearest(x Vector, centers [][]float64) (int, float64) {
	best, bestD := 0, math.Inf(1)
	for c, mu := range centers {
		if d := sqDist(x, mu); d < bestD {
			best, bestD = c, d
		}
	}
	return best, bestD
}

// Predict returns the id of the nearest centre (0 before any learning).
func (m *KMeans) Predict(x Vector) float64 {
	if len(m.st.Centers) == 0 {
		return 0
	}
	c, _ := nearest(x, m.st.Centers)
	return float64(c)
}

// Learn updates the nearest centre with x; the first k examples become the
// initial centres.
func (m *KMeans) Learn(x Vector, _ float64) {
	if !finite(x, 0) {
		return
	}
	d := x.Len()
	if len(m.st.Centers) < m.k {
		m.st.Centers = append(m.st.Centers, x.AppendDense(nil, d))
		m.st.Counts = append(m.st.Counts, 1)
		return
	}
	c, _ := nearest(x, m.st.Centers)
	if m.decay < 1 {
		for i := range m.st.Counts {
			m.st.Counts[i] *= m.decay
		}
	}
	m.st.Counts[c]++
	mu := m.st.Centers[c]
	for len(mu) < d {
		mu = append(mu, 0)
	}
	m.st.Centers[c] = mu
	eta := 1 / m.st.Counts[c]
	if x.Idx == nil {
		for i, v := range x.Val {
			mu[i] += eta * (v - mu[i])
		}
		for i := len(x.Val); i < len(mu); i++ {
			mu[i] -= eta * mu[i]
		}
		return
	}
	for i := range mu {
		mu[i] -= eta * mu[i]
	}
	for k, i := range x.Idx {
		mu[i] += eta * x.Val[k]
	}
}

// Fit replaces the centres by the best of n_init Lloyd runs on X (y is
// ignored).
func (m *KMeans) Fit(X []Vector, _ []float64) error {
	if len(X) == 0 {
		return checkXY(X, nil)
	}
	d := 0
	for _, x := range X {
		d = max(d, x.Len())
	}
	rng := rand.New(rand.NewPCG(uint64(m.seed), 0x6b6d65616e73))
	best := math.Inf(1)
	labels := make([]int, len(X))
	for range m.nInit {
		centers := m.seed0(X, d, rng)
		counts := make([]float64, len(centers))
		var inertia float64
		if m.batch > 0 {
			m.miniBatch(X, centers, counts, rng)
		}
		for it := 0; it < m.maxIter && m.batch == 0; it++ {
			inertia = 0
			for i, x := range X {
				c, dist := nearest(x, centers)
				labels[i] = c
				inertia += dist
			}
			next := make([][]float64, len(centers))
			for c := range next {
				next[c] = make([]float64, d)
				counts[c] = 0
			}
			for i, x := range X {
				c := labels[i]
				counts[c]++
				mu := next[c]
				if x.Idx == nil {
					for j, v := range x.Val {
						mu[j] += v
					}
				} else {
					for k, j := range x.Idx {
						mu[j] += x.Val[k]
					}
				}
			}
			var shift float64
			for c := range next {
				if counts[c] == 0 { // empty cluster: keep the old centre
					copy(next[c], centers[c])
					continue
				}
				for j := range next[c] {
					next[c][j] /= counts[c]
				}
				var s float64
				for j := range next[c] {
					dd := next[c][j] - centers[c][j]
					s += dd * dd
				}
				shift = max(shift, s)
			}
			centers = next
			if shift <= m.tol {
				break
			}
		}
		inertia = 0
		for i, x := range X {
			c, dist := nearest(x, centers)
			labels[i] = c
			inertia += dist
		}
		if inertia < best {
			best = inertia
			for c := range counts {
				counts[c] = 0
			}
			for _, l := range labels {
				counts[l]++
			}
			m.st = kmeansState{Centers: centers, Counts: counts}
		}
	}
	return nil
}

// seed0 picks the initial centres.
func (m *KMeans) seed0(X []Vector, d int, rng *rand.Rand) [][]float64 {
	k := min(m.k, len(X))
	centers := make([][]float64, 0, k)
	if m.init == "random" {
		for _, i := range rng.Perm(len(X))[:k] {
			centers = append(centers, X[i].AppendDense(nil, d))
		}
		return centers
	}
	centers = append(centers, X[rng.IntN(len(X))].AppendDense(nil, d))
	dist := make([]float64, len(X))
	for i, x := range X {
		dist[i] = sqDist(x, centers[0])
	}
	for len(centers) < k {
		var sum float64
		for _, v := range dist {
			sum += v
		}
		r := rng.Float64() * sum
		pick := len(X) - 1
		for i, v := range dist {
			r -= v
			if r < 0 {
				pick = i
				break
			}
		}
		c := X[pick].AppendDense(nil, d)
		centers = append(centers, c)
		for i, x := range X {
			dist[i] = min(dist[i], sqDist(x, c))
		}
	}
	return centers
}

// miniBatch runs max_iter mini-batch steps (Sculley 2010): each batch is
// assigned to the current centres, then every point moves its centre by
// (x − μ_c)/n_c with n_c the centre's running count.
func (m *KMeans) miniBatch(X []Vector, centers [][]float64, counts []float64, rng *rand.Rand) {
	batch := make([]int, min(m.batch, len(X)))
	assign := make([]int, len(batch))
	for range m.maxIter {
		for j := range batch {
			batch[j] = rng.IntN(len(X))
		}
		for j, i := range batch {
			assign[j], _ = nearest(X[i], centers)
		}
		for j, i := range batch {
			c := assign[j]
			counts[c]++
			eta := 1 / counts[c]
			mu := centers[c]
			x := X[i]
			if x.Idx == nil {
				for f, v := range x.Val {
					mu[f] += eta * (v - mu[f])
				}
				for f := len(x.Val); f < len(mu); f++ {
					mu[f] -= eta * mu[f]
				}
				continue
			}
			for f := range mu {
				mu[f] -= eta * mu[f]
			}
			for k, f := range x.Idx {
				mu[f] += eta * x.Val[k]
			}
		}
	}
}
