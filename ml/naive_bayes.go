package ml

import "math"

var naiveBayesAlgorithm = &Algorithm{
	Name:  "naive_bayes",
	Kind:  KindClassifier,
	Modes: []string{ModeOnline, ModeBatch, ModeWindowed},
	Doc: "Gaussian naive Bayes: per class, each feature is normal with a running mean and variance " +
		"(Welford); classes are discovered from the labels 0..K−1. Online and batch give the same model.",
	Params: []Param{
		{Name: "var_smoothing", Type: TypeFloat, Default: 1e-9, Min: ptr(0), Max: ptr(1),
			Doc: "Added to every variance, as a fraction of the largest feature variance."},
	},
	build: newNaiveBayes,
}

// nbClass holds the running statistics of one class.
type nbClass struct {
	N    float64   `json:"n"`
	Mean []float64 `json:"mean"`
	M2   []float64 `json:"m2"`
}

// naiveBayesState is {"classes": [{"n":..,"mean":[..],"m2":[..]}, ...]}.
type naiveBayesState struct {
	Classes []nbClass `json:"classes"`
}

// NaiveBayes is the naive_bayes model:
//
//	log P(c | x) = log π_c + Σ_j log N(x_j; μ_cj, σ²_cj + ε) + const,
//	ε = var_smoothing · max_j Var(x_j)
type NaiveBayes struct {
	base
	st     naiveBayesState
	smooth float64
}

var _ Classifier = (*NaiveBayes)(nil)

func newNaiveBayes(b base) (Model, error) {
	p := b.p
	return &NaiveBayes{base: b, smooth: p.Float("var_smoothing")}, nil
}

func (m *NaiveBayes) state() any { return &m.st }

// Learn adds one example of class int(y).
func (m *NaiveBayes) Learn(x Vector, y float64) {
	if !finite(x, y) || y < 0 || y > 1e6 {
		return
	}
	c := max(int(y), 0)
	for len(m.st.Classes) <= c {
		m.st.Classes = append(m.st.Classes, nbClass{})
	}
	s := &m.st.Classes[c]
	d := x.Len()
	for len(s.Mean) < d {
		s.Mean = append(s.Mean, 0)
		s.M2 = append(s.M2, 0)
	}
	s.N++
	for j := range s.Mean {
		v := x.At(j)
		if x.Idx == nil {
			v = x.Val[j]
		}
		dl := v - s.Mean[j]
		s.Mean[j] += dl / s.N
		s.M2[j] += dl * (v - s.Mean[j])
	}
}

// Fit replaces the model by one learned from X, y.
func (m *NaiveBayes) Fit(X []Vector, y []float64) error {
	if err := checkXY(X, y); err != nil {
		return err
	}
	m.st = naiveBayesState{}
	for i, x := range X {
		m.Learn(x, y[i])
	}
	return nil
}

func (m *NaiveBayes) logPosterior(dst []float64, x Vector) []float64 {
	k := len(m.st.Classes)
	if cap(dst) < k {
		dst = make([]float64, k)
	}
	lp := dst[:k]
	var total, maxVar float64
	for _, c := range m.st.Classes {
		total += c.N
		for j := range c.M2 {
			if c.N > 0 {
				maxVar = max(maxVar, c.M2[j]/c.N)
			}
		}
	}
	eps := m.smooth*maxVar + 1e-300
	for ci, c := range m.st.Classes {
		if c.N == 0 {
			lp[ci] = math.Inf(-1)
			continue
		}
		s := math.Log(c.N / total)
		for j, mu := range c.Mean {
			v := c.M2[j]/c.N + eps
			d := x.At(j) - mu
			s -= 0.5*math.Log(2*math.Pi*v) + d*d/(2*v)
		}
		lp[ci] = s
	}
	return lp
}

// PredictProba returns the posterior class probabilities.
func (m *NaiveBayes) PredictProba(dst []float64, x Vector) []float64 {
	dst = m.logPosterior(dst, x)
	if len(dst) > 0 {
		softmaxInPlace(dst)
	}
	for len(dst) < 2 {
		dst = append(dst, 0)
	}
	return dst
}

// Predict returns P(class 1 | x) for two classes, else the probability of
// the predicted class.
func (m *NaiveBayes) Predict(x Vector) float64 {
	var buf [8]float64
	p := m.PredictProba(buf[:0], x)
	if len(p) <= 2 {
		return p[1]
	}
	return p[argmax(p)]
}

// PredictLabel returns the most probable class.
func (m *NaiveBayes) PredictLabel(x Vector) float64 {
	if len(m.st.Classes) == 0 {
		return 0
	}
	var buf [8]float64
	return float64(argmax(m.logPosterior(buf[:0], x)))
}
