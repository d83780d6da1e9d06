package ml

import "math"

var popularityAlgorithm = &Algorithm{
	Name:  "popularity",
	Kind:  KindRecommender,
	Modes: []string{ModeOnline},
	Doc: "Item popularity with recency decay: each interaction adds its weight to the item's score, " +
		"and scores halve every half_life interactions (counted over all items).",
	Params: []Param{
		{Name: "half_life", Type: TypeFloat, Default: 10000.0, Min: ptr(1),
			Doc: "Number of interactions after which a past interaction counts half."},
	},
	build: newPopularity,
}

// popularityState holds per item the score as of interaction LastT.
type popularityState struct {
	T     float64   `json:"t"`
	Items []string  `json:"items"`
	Score []float64 `json:"score"`
	LastT []float64 `json:"last_t"`
}

// Popularity is the popularity model. At interaction clock t the score of
// item i is
//
//	s_i(t) = Σ_{interactions j with i} w_j · 2^{−(t − t_j)/half_life}
type Popularity struct {
	base
	st       popularityState
	halfLife float64
	index    map[string]int
}

var _ RatingModel = (*Popularity)(nil)

func newPopularity(b base) (Model, error) {
	p := b.p
	return &Popularity{base: b, halfLife: p.Float("half_life"),
		index: map[string]int{}}, nil
}

func (m *Popularity) state() any { return &m.st }

func (m *Popularity) restore() error {
	if err := m.restoreIDs(); err != nil {
		return err
	}
	m.index = map[string]int{}
	for i, it := range m.st.Items {
		m.index[it] = i
	}
	return nil
}

func (m *Popularity) decayed(i int) float64 {
	return m.st.Score[i] * math.Exp2(-(m.st.T-m.st.LastT[i])/m.halfLife)
}

// LearnRating adds an interaction of weight w with item (user is ignored).
func (m *Popularity) LearnRating(_, item string, w float64) {
	if math.IsNaN(w) || math.IsInf(w, 0) {
		return
	}
	m.st.T++
	i, ok := m.index[item]
	if !ok {
		i = len(m.st.Items)
		m.index[item] = i
		m.st.Items = append(m.st.Items, item)
		m.st.Score = append(m.st.Score, 0)
		m.st.LastT = append(m.st.LastT, m.st.T)
	}
	m.st.Score[i] = m.decayed(i) + w
	m.st.LastT[i] = m.st.T
}

// PredictRating returns the item's decayed score.
func (m *Popularity) PredictRating(_, item string) float64 {
	if i, ok := m.index[item]; ok {
		return m.decayed(i)
	}
	return 0
}

// Recommend returns the k most popular items now.
func (m *Popularity) Recommend(_ string, k int) []ItemScore {
	out := make([]ItemScore, len(m.st.Items))
	for i, it := range m.st.Items {
		out[i] = ItemScore{Item: it, Score: m.decayed(i)}
	}
	return topK(out, k)
}

// Learn adds an interaction of weight y (1 when y is 0) with item x[0].
func (m *Popularity) Learn(x Vector, y float64) {
	if y == 0 {
		y = 1
	}
	m.LearnRating("", idOf(x.At(0)), y)
}

// Predict returns the decayed score of item x[0].
func (m *Popularity) Predict(x Vector) float64 { return m.PredictRating("", idOf(x.At(0))) }

// Fit replaces the model by one that learned X, y in order.
func (m *Popularity) Fit(X []Vector, y []float64) error {
	m.st = popularityState{}
	m.index = map[string]int{}
	for i, x := range X {
		w := 1.0
		if i < len(y) {
			w = y[i]
		}
		m.Learn(x, w)
	}
	return nil
}
