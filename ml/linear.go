package ml

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// link is the output function of a linear model.
type link uint8

const (
	linkIdentity link = iota // regression: ŷ = s
	linkSigmoid              // binary or one-vs-rest: p = 1/(1+e^−s)
	linkSoftmax              // multinomial: p_k = e^{s_k} / Σ_j e^{s_j}
	linkHinge                // SVM: margin s, label sign(s)
)

// optimizer is the online update rule of a linear model.
type optimizer uint8

const (
	optSGD optimizer = iota
	optAdagrad
	optFTRL
	optPegasos
)

func parseOptimizer(s string) optimizer {
	switch s {
	case "adagrad":
		return optAdagrad
	case "ftrl":
		return optFTRL
	case "pegasos":
		return optPegasos
	}
	return optSGD
}

// linearState is the serialized state of linear models (linear_regression,
// logistic_regression, linear_svm):
//
//	{
//	  "scaler": {"n": 1000, "mean": [...], "m2": [...]}, // standardize: true (dense inputs)
//	  "w": [[...]],     // one weight row per output, in standardized space
//	  "b": [...],       // one intercept per row
//	  "g": [[...]],     // adagrad Σg², or FTRL √n (per coordinate)
//	  "z": [[...]],     // FTRL z (per coordinate)
//	  "gb": [...], "zb": [...], // the same for the intercepts
//	  "s": [...],       // Pegasos scale: the weights are s·w
//	  "t": 1000         // examples learned
//	}
//
// Rows: 1 for regression and binary classification, K for multiclass.
type linearState struct {
	Scaler *scaler     `json:"scaler,omitempty"`
	W      [][]float64 `json:"w"`
	B      []float64   `json:"b"`
	G      [][]float64 `json:"g,omitempty"`
	Z      [][]float64 `json:"z,omitempty"`
	GB     []float64   `json:"gb,omitempty"`
	ZB     []float64   `json:"zb,omitempty"`
	S      []float64   `json:"s,omitempty"`
	T      float64     `json:"t"`
}

// linear is the engine shared by the linear models.
type linear struct {
	base
	st linearState

	rows    int
	classes int
	link    link
	opt     optimizer
	std     bool
	lr      float64 // sgd/adagrad learning rate; FTRL α
	beta    float64 // FTRL β
	l1, l2  float64
	epochs  int
	maxIter int
	tol     float64

	buf    []float64 // scratch: standardized input
	scores []float64 // scratch: per-row scores
}

func (m *linear) state() any { return &m.st }

func (m *linear) init() {
	m.st = linearState{}
	if m.std {
		m.st.Scaler = &scaler{}
	}
	m.st.W = make([][]float64, m.rows)
	m.st.B = make([]float64, m.rows)
	switch m.opt {
	case optAdagrad:
		m.st.G = make([][]float64, m.rows)
		m.st.GB = make([]float64, m.rows)
	case optFTRL:
		m.st.G = make([][]float64, m.rows)
		m.st.Z = make([][]float64, m.rows)
		m.st.GB = make([]float64, m.rows)
		m.st.ZB = make([]float64, m.rows)
	case optPegasos:
		m.st.S = make([]float64, m.rows)
		for r := range m.st.S {
			m.st.S[r] = 1
		}
	}
	m.scores = make([]float64, m.rows)
}

func (m *linear) restore() error {
	if len(m.st.W) != m.rows || len(m.st.B) != m.rows {
		return stateErr("%d weight rows, want %d", len(m.st.W), m.rows)
	}
	d := len(m.st.W[0])
	for r := range m.rows {
		if len(m.st.W[r]) != d {
			return stateErr("weight rows of different lengths")
		}
	}
	var aux int
	switch m.opt {
	case optAdagrad:
		aux = 1
	case optFTRL:
		aux = 2
	}
	if (aux >= 1 && (len(m.st.G) != m.rows || len(m.st.GB) != m.rows)) ||
		(aux == 2 && (len(m.st.Z) != m.rows || len(m.st.ZB) != m.rows)) ||
		(m.opt == optPegasos && len(m.st.S) != m.rows) {
		return stateErr("optimizer accumulators missing for %d rows", m.rows)
	}
	for r := range m.rows {
		if (aux >= 1 && len(m.st.G[r]) != d) || (aux == 2 && len(m.st.Z[r]) != d) {
			return stateErr("optimizer accumulators of row %d differ in length from the weights", r)
		}
	}
	if m.st.Scaler != nil {
		if len(m.st.Scaler.M2) != len(m.st.Scaler.Mean) {
			return fmt.Errorf("scaler mean and m2 lengths differ")
		}
		m.st.Scaler.restore()
	} else if m.std {
		m.st.Scaler = &scaler{}
	}
	m.scores = make([]float64, m.rows)
	return nil
}

// grow makes every row span at least d coordinates.
func (m *linear) grow(d int) {
	if len(m.st.W[0]) >= d {
		return
	}
	ext := func(a []float64) []float64 {
		if cap(a) >= d {
			return a[:d]
		}
		n := make([]float64, d, max(d, 2*cap(a)))
		copy(n, a)
		return n
	}
	for r := range m.rows {
		m.st.W[r] = ext(m.st.W[r])
		if m.st.G != nil {
			m.st.G[r] = ext(m.st.G[r])
		}
		if m.st.Z != nil {
			m.st.Z[r] = ext(m.st.Z[r])
		}
	}
}

// input returns x as the model sees it: standardized when x is dense and
// standardize is on. The result may alias m.buf.
func (m *linear) input(x Vector) Vector {
	if m.st.Scaler == nil || x.Idx != nil {
		return x
	}
	m.buf = m.st.Scaler.apply(m.buf, x.Val)
	return Vector{Val: m.buf}
}

// rawScore returns row r's score for an untransformed x, standardizing
// dense inputs on the fly (no scratch writes).
func (m *linear) rawScore(r int, x Vector) float64 {
	if m.st.Scaler == nil || x.Idx != nil {
		return m.score(r, x)
	}
	s := m.st.Scaler.dot(x.Val, m.st.W[r]) + m.st.B[r]
	if m.st.S != nil {
		s *= m.st.S[r]
	}
	return s
}

// score returns row r's raw score w_r·x + b_r for a transformed x.
func (m *linear) score(r int, x Vector) float64 {
	s := x.Dot(m.st.W[r]) + m.st.B[r]
	if m.st.S != nil {
		s *= m.st.S[r]
	}
	return s
}

func (m *linear) allScores(x Vector) []float64 {
	for r := range m.rows {
		m.scores[r] = m.score(r, x)
	}
	return m.scores
}

func sigmoid(s float64) float64 {
	if s >= 0 {
		return 1 / (1 + math.Exp(-s))
	}
	e := math.Exp(s)
	return e / (1 + e)
}

// softplus returns log(1+e^s) without overflow.
func softplus(s float64) float64 {
	if s > 0 {
		return s + math.Log1p(math.Exp(-s))
	}
	return math.Log1p(math.Exp(s))
}

// softmaxInPlace replaces s by softmax(s) and returns log Σ e^{s}.
func softmaxInPlace(s []float64) float64 {
	mx := math.Inf(-1)
	for _, v := range s {
		mx = max(mx, v)
	}
	var sum float64
	for i, v := range s {
		e := math.Exp(v - mx)
		s[i] = e
		sum += e
	}
	for i := range s {
		s[i] /= sum
	}
	return mx + math.Log(sum)
}

// learnOne performs one online step. If updateScaler, the
// standardization statistics learn x first.
func (m *linear) learnOne(x Vector, y float64, updateScaler bool) {
	if !finite(x, y) {
		return
	}
	m.st.T++
	if updateScaler && m.st.Scaler != nil && x.Idx == nil {
		m.st.Scaler.learn(x.Val)
	}
	z := m.input(x)
	m.grow(z.Len())
	switch m.link {
	case linkIdentity:
		m.update(0, z, m.score(0, z)-y)
	case linkSigmoid:
		if m.rows == 1 {
			m.update(0, z, sigmoid(m.score(0, z))-b2f(y > 0.5))
			return
		}
		c := int(y)
		for r := range m.rows {
			m.update(r, z, sigmoid(m.score(r, z))-b2f(r == c))
		}
	case linkSoftmax:
		s := m.allScores(z)
		softmaxInPlace(s)
		c := int(y)
		for r := range m.rows {
			m.update(r, z, s[r]-b2f(r == c))
		}
	case linkHinge:
		if m.rows == 1 {
			m.pegasos(0, z, 2*b2f(y > 0.5)-1)
			return
		}
		c := int(y)
		for r := range m.rows {
			m.pegasos(r, z, 2*b2f(r == c)-1)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// update applies the gradient g·x (+ regularization) of one example to
// row r:
//
//	sgd:     w ← w − η_t (g x + (λ₂/t) w),  η_t = η₀ / t^¼
//	adagrad: G ← G + g_i²,  w ← w − η₀ g_i / (√G + 1e−8),  g_i = g x_i + (λ₂/t) w_i
//	ftrl:    σ = (√(n+g_i²) − √n)/α,  z ← z + g_i − σ w,  n ← n + g_i²  (√n is stored),
//	         w = 0 if |z| ≤ λ₁ else −(z − sgn(z) λ₁) / ((β + √n)/α + λ₂)
//
// (McMahan et al., "Ad Click Prediction: a View from the Trenches", 2013).
// The regularization of sgd and adagrad touches only the coordinates of x,
// and λ₂/t spreads the total-loss penalty λ₂/2‖w‖² over the examples seen.
// The intercept is never regularized.
func (m *linear) update(r int, x Vector, g float64) {
	w := m.st.W[r]
	t := m.st.T
	decay := m.l2 / t
	switch m.opt {
	case optSGD:
		eta := m.lr / math.Sqrt(math.Sqrt(t))
		for k, xi := range x.Val {
			i := k
			if x.Idx != nil {
				i = int(x.Idx[k])
			}
			w[i] -= eta * (g*xi + decay*w[i])
		}
		m.st.B[r] -= eta * g
	case optAdagrad:
		G := m.st.G[r]
		for k, xi := range x.Val {
			i := k
			if x.Idx != nil {
				i = int(x.Idx[k])
			}
			gi := g*xi + decay*w[i]
			G[i] += gi * gi
			w[i] -= m.lr * gi / (math.Sqrt(G[i]) + 1e-8)
		}
		m.st.GB[r] += g * g
		m.st.B[r] -= m.lr * g / (math.Sqrt(m.st.GB[r]) + 1e-8)
	case optFTRL:
		// G holds √n, so that each coordinate costs one sqrt and one division.
		sqn, zz := m.st.G[r], m.st.Z[r]
		ra, l1, l2, beta := 1/m.lr, m.l1, m.l2, m.beta
		for k, xi := range x.Val {
			i := k
			if x.Idx != nil {
				i = int(x.Idx[k])
			}
			gi := g * xi
			sq := sqn[i]
			s := math.Sqrt(sq*sq + gi*gi)
			sqn[i] = s
			zz[i] += gi - (s-sq)*ra*w[i]
			zi := zz[i]
			switch {
			case zi > l1:
				w[i] = -(zi - l1) / ((beta+s)*ra + l2)
			case zi < -l1:
				w[i] = -(zi + l1) / ((beta+s)*ra + l2)
			default:
				w[i] = 0
			}
		}
		sq := m.st.GB[r]
		s := math.Sqrt(sq*sq + g*g)
		m.st.GB[r] = s
		m.st.ZB[r] += g - (s-sq)*ra*m.st.B[r]
		m.st.B[r] = -m.st.ZB[r] / ((beta + s) * ra)
	}
}

// pegasos applies one Pegasos step (Shalev-Shwartz et al. 2007) for label
// y ∈ {−1, +1} to row r, minimizing λ/2‖w‖² + mean hinge(1 − y·s):
//
//	η = 1/(λ(t+1)),  w ← (1 − ηλ) w,  and if y·s < 1: w ← w + η y x
//
// The weights are kept as s·v so that the shrink step is O(1) for sparse x.
func (m *linear) pegasos(r int, x Vector, y float64) {
	lambda := m.l2
	eta := 1 / (lambda * (m.st.T + 1))
	margin := y * m.score(r, x)
	m.st.S[r] *= 1 - eta*lambda
	if margin < 1 {
		c := eta * y / m.st.S[r]
		w := m.st.W[r]
		for k, xi := range x.Val {
			i := k
			if x.Idx != nil {
				i = int(x.Idx[k])
			}
			w[i] += c * xi
		}
		m.st.B[r] += c
	}
	if m.st.S[r] < 1e-9 {
		s := m.st.S[r]
		w := m.st.W[r]
		for i := range w {
			w[i] *= s
		}
		m.st.B[r] *= s
		m.st.S[r] = 1
	}
}

// fitEpochs resets the model, standardizes with the batch statistics and
// runs epochs passes of the online rule over a seeded shuffle of the data.
func (m *linear) fitEpochs(X []Vector, y []float64) {
	m.init()
	m.fitScaler(X)
	rng := rand.New(rand.NewPCG(uint64(m.seed), 0x6c696e6561720a))
	order := make([]int, len(X))
	for i := range order {
		order[i] = i
	}
	for range m.epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			m.learnOne(X[i], y[i], false)
		}
	}
}

func (m *linear) fitScaler(X []Vector) {
	if m.st.Scaler == nil {
		return
	}
	d := 0
	var dense []Vector
	for _, x := range X {
		if x.Idx == nil {
			d = max(d, len(x.Val))
			dense = append(dense, x)
		}
	}
	m.st.Scaler.fit(dense, d)
}

// transformed returns the batch as the model sees it and its dimension.
func (m *linear) transformed(X []Vector) ([]Vector, int) {
	Z := make([]Vector, len(X))
	d := 0
	for i, x := range X {
		if m.st.Scaler != nil && x.Idx == nil {
			Z[i] = Dense(m.st.Scaler.apply(nil, x.Val))
		} else {
			Z[i] = x
		}
		d = max(d, Z[i].Len())
	}
	return Z, d
}

// proba writes class probabilities of x into dst. Like every prediction
// path it only reads the model.
func (m *linear) proba(dst []float64, x Vector) []float64 {
	k := max(m.classes, 2)
	if cap(dst) < k {
		dst = make([]float64, k)
	}
	dst = dst[:k]
	switch {
	case m.rows == 1:
		p := sigmoid(m.rawScore(0, x))
		dst[0], dst[1] = 1-p, p
	case m.link == linkSoftmax:
		for r := range m.rows {
			dst[r] = m.rawScore(r, x)
		}
		softmaxInPlace(dst)
	default: // one-vs-rest: normalize the per-class sigmoids
		var sum float64
		for r := range m.rows {
			dst[r] = sigmoid(m.rawScore(r, x))
			sum += dst[r]
		}
		for r := range dst {
			dst[r] /= sum
		}
	}
	return dst
}

// label returns the class with the largest score (read-only).
func (m *linear) label(x Vector) float64 {
	if m.rows == 1 {
		return b2f(m.rawScore(0, x) > 0)
	}
	best, bestS := 0, math.Inf(-1)
	for r := range m.rows {
		if s := m.rawScore(r, x); s > bestS {
			best, bestS = r, s
		}
	}
	return float64(best)
}

// Coefficients returns row r's weights and intercept in the space of the
// original inputs (undoing the standardization): w_i/σ_i and
// b − Σ_i w_i μ_i/σ_i.
func (m *linear) Coefficients(r int) ([]float64, float64) {
	w := append([]float64(nil), m.st.W[r]...)
	b := m.st.B[r]
	if m.st.S != nil {
		for i := range w {
			w[i] *= m.st.S[r]
		}
		b *= m.st.S[r]
	}
	if sc := m.st.Scaler; sc != nil {
		for i := range min(len(w), len(sc.Mean)) {
			w[i] *= sc.inv[i]
			b -= w[i] * sc.Mean[i]
		}
	}
	return w, b
}
