package ml

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
)

// idOf formats a numeric id taken from a feature vector.
func idOf(v float64) string { return strconv.FormatInt(int64(v), 10) }

var matrixFactorizationAlgorithm = &Algorithm{
	Name:  "matrix_factorization",
	Kind:  KindRecommender,
	Modes: []string{ModeOnline, ModeBatch, ModeWindowed},
	Doc: "Biased matrix factorization (Koren, Bell and Volinsky 2009) for user–item ratings, " +
		"r̂ = μ + b_u + b_i + p_u·q_i, learned by SGD one rating at a time; Fit runs epochs " +
		"shuffled passes. Users and items are strings (numeric ids in x[0], x[1] for Learn/Predict).",
	Params: []Param{
		{Name: "factors", Type: TypeInt, Default: 16, Min: ptr(1), Max: ptr(1024), Doc: "Latent dimension."},
		{Name: "learning_rate", Type: TypeFloat, Default: 0.03, Min: ptr(1e-9), Max: ptr(10), Doc: "SGD step size."},
		{Name: "l2", Type: TypeFloat, Default: 0.1, Min: ptr(0), Doc: "L2 penalty on biases and factors."},
		{Name: "epochs", Type: TypeInt, Default: 20, Min: ptr(1), Max: ptr(10000), Doc: "Passes over the data for Fit."},
		{Name: "init_std", Type: TypeFloat, Default: 0.1, Min: ptr(0), Max: ptr(10),
			Doc: "Standard deviation of the initial factors."},
	},
	build: newMatrixFactorization,
}

// mfState is the state of matrix_factorization: ids, biases and factors
// (row-major, factors values per id), the global mean and the rating range.
type mfState struct {
	Mu    float64   `json:"mu"`
	N     float64   `json:"n"`
	Lo    float64   `json:"lo"`
	Hi    float64   `json:"hi"`
	Users []string  `json:"users"`
	Items []string  `json:"items"`
	BU    []float64 `json:"bu"`
	BI    []float64 `json:"bi"`
	P     []float64 `json:"p"`
	Q     []float64 `json:"q"`
}

// MatrixFactorization is the matrix_factorization model. For a rating r
// with error e = r − r̂, one SGD step (rate η, penalty λ) is
//
//	b_u += η(e − λ b_u),  b_i += η(e − λ b_i),
//	p_u += η(e q_i − λ p_u),  q_i += η(e p_u − λ q_i)
//
// New users and items start with factors drawn from N(0, init_std²),
// seeded by the model seed and the id, so learning is deterministic.
// Predictions are clipped to the range of ratings seen.
type MatrixFactorization struct {
	base
	st      mfState
	k       int
	lr, l2  float64
	epochs  int
	initStd float64
	users   map[string]int
	items   map[string]int
}

var _ RatingModel = (*MatrixFactorization)(nil)

func newMatrixFactorization(b base) (Model, error) {
	p := b.p
	m := &MatrixFactorization{base: b, k: p.Int("factors"),
		lr: p.Float("learning_rate"), l2: p.Float("l2"), epochs: p.Int("epochs"), initStd: p.Float("init_std")}
	m.reset()
	return m, nil
}

func (m *MatrixFactorization) reset() {
	m.st = mfState{}
	m.users, m.items = map[string]int{}, map[string]int{}
}

func (m *MatrixFactorization) state() any { return &m.st }

func (m *MatrixFactorization) restore() error {
	if err := m.restoreIDs(); err != nil {
		return err
	}
	m.users, m.items = map[string]int{}, map[string]int{}
	for i, u := range m.st.Users {
		m.users[u] = i
	}
	for i, it := range m.st.Items {
		m.items[it] = i
	}
	return nil
}

func (m *MatrixFactorization) initFactors(dst []float64, kind byte, id string) []float64 {
	h := fnv.New64a()
	h.Write([]byte{kind})
	h.Write([]byte(id))
	rng := rand.New(rand.NewPCG(uint64(m.seed), h.Sum64()))
	for range m.k {
		dst = append(dst, rng.NormFloat64()*m.initStd)
	}
	return dst
}

func (m *MatrixFactorization) user(u string) int {
	if i, ok := m.users[u]; ok {
		return i
	}
	i := len(m.st.Users)
	m.users[u] = i
	m.st.Users = append(m.st.Users, u)
	m.st.BU = append(m.st.BU, 0)
	m.st.P = m.initFactors(m.st.P, 'u', u)
	return i
}

func (m *MatrixFactorization) item(it string) int {
	if i, ok := m.items[it]; ok {
		return i
	}
	i := len(m.st.Items)
	m.items[it] = i
	m.st.Items = append(m.st.Items, it)
	m.st.BI = append(m.st.BI, 0)
	m.st.Q = m.initFactors(m.st.Q, 'i', it)
	return i
}

// LearnRating takes one SGD step on (user, item, rating); the global mean
// is the running mean of all ratings learned.
func (m *MatrixFactorization) LearnRating(user, item string, r float64) {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return
	}
	if m.st.N == 0 {
		m.st.Lo, m.st.Hi = r, r
	}
	m.st.N++
	m.st.Mu += (r - m.st.Mu) / m.st.N
	m.st.Lo, m.st.Hi = min(m.st.Lo, r), max(m.st.Hi, r)
	m.step(m.user(user), m.item(item), r)
}

func (m *MatrixFactorization) step(u, i int, r float64) {
	k := m.k
	p, q := m.st.P[u*k:(u+1)*k], m.st.Q[i*k:(i+1)*k]
	var dot float64
	for f := range p {
		dot += p[f] * q[f]
	}
	e := r - (m.st.Mu + m.st.BU[u] + m.st.BI[i] + dot)
	lr, l2 := m.lr, m.l2
	m.st.BU[u] += lr * (e - l2*m.st.BU[u])
	m.st.BI[i] += lr * (e - l2*m.st.BI[i])
	for f := range p {
		pf, qf := p[f], q[f]
		p[f] += lr * (e*qf - l2*pf)
		q[f] += lr * (e*pf - l2*qf)
	}
}

// PredictRating returns μ + b_u + b_i + p_u·q_i clipped to the rating
// range; unknown users or items contribute nothing.
func (m *MatrixFactorization) PredictRating(user, item string) float64 {
	if m.st.N == 0 {
		return 0
	}
	r := m.st.Mu
	u, uok := m.users[user]
	i, iok := m.items[item]
	if uok {
		r += m.st.BU[u]
	}
	if iok {
		r += m.st.BI[i]
	}
	if uok && iok {
		k := m.k
		p, q := m.st.P[u*k:(u+1)*k], m.st.Q[i*k:(i+1)*k]
		for f := range p {
			r += p[f] * q[f]
		}
	}
	return min(max(r, m.st.Lo), m.st.Hi)
}

// Recommend returns the k items with the highest predicted rating for
// user (items the user rated are not filtered out).
func (m *MatrixFactorization) Recommend(user string, k int) []ItemScore {
	out := make([]ItemScore, 0, len(m.st.Items))
	for _, it := range m.st.Items {
		out = append(out, ItemScore{Item: it, Score: m.PredictRating(user, it)})
	}
	return topK(out, k)
}

func topK(s []ItemScore, k int) []ItemScore {
	sort.SliceStable(s, func(a, b int) bool { return s[a].Score > s[b].Score })
	if len(s) > k {
		s = s[:k]
	}
	return s
}

// Learn learns the rating y of user x[0] for item x[1] (numeric ids).
func (m *MatrixFactorization) Learn(x Vector, y float64) {
	m.LearnRating(idOf(x.At(0)), idOf(x.At(1)), y)
}

// Predict predicts the rating of user x[0] for item x[1].
func (m *MatrixFactorization) Predict(x Vector) float64 {
	return m.PredictRating(idOf(x.At(0)), idOf(x.At(1)))
}

// Fit replaces the model by one trained with epochs shuffled SGD passes
// over (x[0], x[1], y); μ is the mean rating.
func (m *MatrixFactorization) Fit(X []Vector, y []float64) error {
	if err := checkXY(X, y); err != nil {
		return err
	}
	users := make([]string, len(X))
	items := make([]string, len(X))
	for i, x := range X {
		users[i], items[i] = idOf(x.At(0)), idOf(x.At(1))
	}
	return m.FitRatings(users, items, y)
}

// FitRatings is Fit for string ids.
func (m *MatrixFactorization) FitRatings(users, items []string, r []float64) error {
	if len(users) != len(r) || len(items) != len(r) {
		return checkXY(make([]Vector, len(users)), r)
	}
	m.reset()
	ui := make([]int, len(r))
	ii := make([]int, len(r))
	for j := range r {
		if m.st.N == 0 {
			m.st.Lo, m.st.Hi = r[j], r[j]
		}
		m.st.N++
		m.st.Mu += (r[j] - m.st.Mu) / m.st.N
		m.st.Lo, m.st.Hi = min(m.st.Lo, r[j]), max(m.st.Hi, r[j])
		ui[j], ii[j] = m.user(users[j]), m.item(items[j])
	}
	rng := rand.New(rand.NewPCG(uint64(m.seed), 0x6d66))
	order := rng.Perm(len(r))
	for range m.epochs {
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for _, j := range order {
			m.step(ui[j], ii[j], r[j])
		}
	}
	return nil
}
