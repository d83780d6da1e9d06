package ml

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"
)

var logisticRegressionAlgorithm = &Algorithm{
	Name:  "logistic_regression",
	Kind:  KindClassifier,
	Modes: []string{ModeOnline, ModeBatch, ModeWindowed},
	Doc: "Logistic regression p = σ(w·x + b). Batch: L-BFGS on the L2-penalized log-loss " +
		"Σ log-loss + λ₂/2‖w‖² (λ₂ = 1 matches scikit-learn's C = 1). Online: SGD, Adagrad or " +
		"FTRL-proximal with L1/L2. Multiclass (classes > 2) by one-vs-rest or softmax.",
	Params: []Param{
		{Name: "optimizer", Type: TypeString, Default: "ftrl", Enum: []string{"ftrl", "adagrad", "sgd", "lbfgs"},
			Doc: "Learn uses ftrl, adagrad or sgd (lbfgs: adagrad); Fit uses L-BFGS for lbfgs, else epochs shuffled passes of the online rule."},
		{Name: "alpha", Type: TypeFloat, Default: 0.1, Min: ptr(1e-9), Max: ptr(100),
			Doc: "FTRL learning rate α."},
		{Name: "beta", Type: TypeFloat, Default: 1.0, Min: ptr(0), Max: ptr(100),
			Doc: "FTRL β (smoothing of the per-coordinate rate)."},
		{Name: "learning_rate", Type: TypeFloat, Default: 0.1, Min: ptr(1e-9), Max: ptr(100),
			Doc: "SGD/Adagrad step size η₀."},
		{Name: "l1", Type: TypeFloat, Default: 0.0, Min: ptr(0),
			Doc: "L1 penalty λ₁ (FTRL only); produces sparse weights."},
		{Name: "l2", Type: TypeFloat, Default: 1.0, Min: ptr(0),
			Doc: "L2 penalty λ₂ on the total loss (λ₂ = 1/C of scikit-learn)."},
		{Name: "classes", Type: TypeInt, Default: 2, Min: ptr(2), Max: ptr(10000),
			Doc: "Number of classes; labels are 0..classes−1 (binary: y > 0.5 is class 1)."},
		{Name: "multiclass", Type: TypeString, Default: "softmax", Enum: []string{"softmax", "ovr"},
			Doc: "Multiclass scheme when classes > 2: multinomial softmax or one-vs-rest."},
		{Name: "epochs", Type: TypeInt, Default: 5, Min: ptr(1), Max: ptr(10000),
			Doc: "Passes over the data for Fit with an online optimizer."},
		{Name: "max_iter", Type: TypeInt, Default: 1000, Min: ptr(1), Max: ptr(1000000),
			Doc: "Maximum L-BFGS iterations."},
		{Name: "tol", Type: TypeFloat, Default: 1e-4, Min: ptr(0),
			Doc: "L-BFGS stops when the gradient's infinity norm falls below tol."},
		paramStandardize(),
	},
	build: newLogisticRegression,
}

// LogisticRegression is the logistic_regression model. Binary models have
// one weight row and predict p = σ(w·x + b); multiclass models have one row
// per class (softmax: p_k ∝ e^{s_k}; ovr: p_k ∝ σ(s_k)).
//
// Fit with optimizer lbfgs minimizes
//
//	f(W, b) = Σ_i ℓ(y_i, s_i) + λ₂/2 ‖W‖²,  ℓ = log(1+e^s) − y s (binary)
//
// with L-BFGS (gonum optimize); ∇_w f = Σ_i (p_i − y_i) x_i + λ₂ w.
type LogisticRegression struct{ linear }

var _ Classifier = (*LogisticRegression)(nil)

func newLogisticRegression(b base) (Model, error) {
	p := b.p
	opt := p.String("optimizer")
	m := &LogisticRegression{linear{
		base:    b,
		classes: p.Int("classes"), link: linkSigmoid, std: p.Bool("standardize"),
		l1: p.Float("l1"), l2: p.Float("l2"), beta: p.Float("beta"),
		epochs: p.Int("epochs"), maxIter: p.Int("max_iter"), tol: p.Float("tol"),
	}}
	m.rows = 1
	if m.classes > 2 {
		m.rows = m.classes
		if p.String("multiclass") == "softmax" {
			m.link = linkSoftmax
		}
	}
	switch opt {
	case "ftrl":
		m.opt, m.lr = optFTRL, p.Float("alpha")
	case "sgd":
		m.opt, m.lr = optSGD, p.Float("learning_rate")
	default:
		m.opt, m.lr = optAdagrad, p.Float("learning_rate")
	}
	m.init()
	return m, nil
}

// Learn takes one online step.
func (m *LogisticRegression) Learn(x Vector, y float64) { m.learnOne(x, y, true) }

// Predict returns the probability of class 1 (binary) or of the predicted
// class (multiclass).
func (m *LogisticRegression) Predict(x Vector) float64 {
	if m.rows == 1 {
		return sigmoid(m.rawScore(0, x))
	}
	var buf [16]float64
	p := m.proba(buf[:0], x)
	return p[argmax(p)]
}

// PredictLabel returns the most probable class.
func (m *LogisticRegression) PredictLabel(x Vector) float64 { return m.label(x) }

// PredictProba returns the class probabilities.
func (m *LogisticRegression) PredictProba(dst []float64, x Vector) []float64 {
	return m.proba(dst, x)
}

// Fit replaces the model by one trained on X, y: with L-BFGS when the
// optimizer is lbfgs, otherwise with epochs passes of the online rule.
func (m *LogisticRegression) Fit(X []Vector, y []float64) error {
	if err := checkXY(X, y); err != nil {
		return err
	}
	if m.p.String("optimizer") != "lbfgs" {
		m.fitEpochs(X, y)
		return nil
	}
	return m.fitLBFGS(X, y)
}

func (m *linear) fitLBFGS(X []Vector, y []float64) error {
	m.init()
	m.fitScaler(X)
	Z, d := m.transformed(X)
	K := m.rows
	stride := d + 1
	scores := make([]float64, K)
	lastX := make([]float64, K*stride)
	lastG := make([]float64, K*stride)
	lastF := math.NaN()
	invN := 1 / float64(len(Z))
	eval := func(theta []float64) {
		if !math.IsNaN(lastF) && floats.Equal(theta, lastX) {
			return
		}
		copy(lastX, theta)
		for i := range lastG {
			lastG[i] = 0
		}
		var f float64
		for i, z := range Z {
			for r := range K {
				row := theta[r*stride : r*stride+d]
				scores[r] = z.Dot(row) + theta[r*stride+d]
			}
			switch {
			case m.link == linkHinge: // squared hinge, averaged: (1/n) Σ max(0, 1 − t s)²
				c := int(y[i])
				for r := range K {
					t := 2*b2f(r == c) - 1
					if K == 1 {
						t = 2*b2f(y[i] > 0.5) - 1
					}
					if mg := 1 - t*scores[r]; mg > 0 {
						f += mg * mg * invN
						m.addGrad(lastG[r*stride:(r+1)*stride], z, -2*t*mg*invN)
					}
				}
			case m.link == linkSoftmax:
				c := int(y[i])
				f += softmaxInPlace(scores) - z.Dot(theta[c*stride:c*stride+d]) - theta[c*stride+d]
				for r := range K {
					m.addGrad(lastG[r*stride:(r+1)*stride], z, scores[r]-b2f(r == c))
				}
			case K == 1:
				t := b2f(y[i] > 0.5)
				f += softplus(scores[0]) - t*scores[0]
				m.addGrad(lastG[:stride], z, sigmoid(scores[0])-t)
			default:
				c := int(y[i])
				for r := range K {
					t := b2f(r == c)
					f += softplus(scores[r]) - t*scores[r]
					m.addGrad(lastG[r*stride:(r+1)*stride], z, sigmoid(scores[r])-t)
				}
			}
		}
		for r := range K {
			row := theta[r*stride : r*stride+d]
			g := lastG[r*stride : r*stride+d]
			for j, w := range row {
				f += m.l2 / 2 * w * w
				g[j] += m.l2 * w
			}
		}
		lastF = f
	}
	problem := optimize.Problem{
		Func: func(theta []float64) float64 { eval(theta); return lastF },
		Grad: func(grad, theta []float64) { eval(theta); copy(grad, lastG) },
	}
	settings := &optimize.Settings{
		GradientThreshold: m.tol,
		MajorIterations:   m.maxIter,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-12, Relative: 1e-12, Iterations: 50},
	}
	res, err := optimize.Minimize(problem, make([]float64, K*stride), settings, &optimize.LBFGS{})
	if res == nil || res.X == nil {
		return fmt.Errorf("ml: %s L-BFGS: %w", m.algo, err)
	}
	if err != nil && !isBenignOptimizeErr(err) {
		return fmt.Errorf("ml: %s L-BFGS: %w", m.algo, err)
	}
	m.grow(d)
	for r := range K {
		copy(m.st.W[r], res.X[r*stride:r*stride+d])
		m.st.B[r] = res.X[r*stride+d]
	}
	m.st.T = float64(len(X))
	return nil
}

// isBenignOptimizeErr reports line-search stalls at a point that is as
// good as floating point allows.
func isBenignOptimizeErr(err error) bool {
	return errors.Is(err, optimize.ErrLinesearcherFailure) || errors.Is(err, optimize.ErrNoProgress) ||
		errors.Is(err, optimize.ErrNonDescentDirection)
}

// addGrad adds g·z to the weights part of grad and g to its last element.
func (m *linear) addGrad(grad []float64, z Vector, g float64) {
	d := len(grad) - 1
	for k, v := range z.Val {
		i := k
		if z.Idx != nil {
			i = int(z.Idx[k])
		}
		grad[i] += g * v
	}
	grad[d] += g
}
