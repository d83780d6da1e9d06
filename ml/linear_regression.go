package ml

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

var linearRegressionAlgorithm = &Algorithm{
	Name:  "linear_regression",
	Kind:  KindRegressor,
	Modes: []string{ModeOnline, ModeBatch, ModeWindowed},
	Doc: "Linear regression ŷ = w·x + b. Batch: closed-form ordinary least squares " +
		"(QR) or ridge (l2 > 0, Cholesky of XᵀX + λI), intercept not penalized. " +
		"Online: SGD or Adagrad on the squared loss.",
	Params: []Param{
		{Name: "l2", Type: TypeFloat, Default: 0.0, Min: ptr(0),
			Doc: "Ridge penalty λ on ‖w‖² (0 = ordinary least squares); online, λ/t per step."},
		{Name: "optimizer", Type: TypeString, Default: "sgd", Enum: []string{"sgd", "adagrad"},
			Doc: "Online update rule used by Learn."},
		{Name: "learning_rate", Type: TypeFloat, Default: 0.01, Min: ptr(1e-12), Max: ptr(1000),
			Doc: "Online step size η₀ (SGD uses η₀/t^¼)."},
		paramStandardize(),
	},
	build: newLinearRegression,
}

// LinearRegression is the linear_regression model.
//
// Fit solves, on (standardized) inputs Z and centred targets,
//
//	min_w ‖y − Zw − b‖² + λ‖w‖²
//
// in closed form: with λ = 0 by QR least squares (gonum mat.QR), otherwise
// by the normal equations (ZᵀZ + λI)w = Zᵀy (Cholesky), b = ȳ − z̄·w.
// Learn takes one SGD/Adagrad step on ½(ŷ − y)².
type LinearRegression struct{ linear }

var _ Model = (*LinearRegression)(nil)

func newLinearRegression(b base) (Model, error) {
	p := b.p
	m := &LinearRegression{linear{
		base: b,
		rows: 1, link: linkIdentity, opt: parseOptimizer(p.String("optimizer")),
		std: p.Bool("standardize"), lr: p.Float("learning_rate"), l2: p.Float("l2"),
	}}
	m.init()
	return m, nil
}

// Learn takes one online step.
func (m *LinearRegression) Learn(x Vector, y float64) { m.learnOne(x, y, true) }

// Predict returns w·x + b.
func (m *LinearRegression) Predict(x Vector) float64 { return m.rawScore(0, x) }

// maxClosedFormDims bounds the dimension of closed-form fits.
const maxClosedFormDims = 4096

// Fit replaces the model by the closed-form least-squares (or ridge)
// solution on X, y.
func (m *LinearRegression) Fit(X []Vector, y []float64) error {
	if err := checkXY(X, y); err != nil {
		return err
	}
	m.init()
	m.fitScaler(X)
	Z, d := m.transformed(X)
	if d > maxClosedFormDims {
		return fmt.Errorf("ml: linear_regression closed form supports at most %d features, got %d (use online learning)", maxClosedFormDims, d)
	}
	n := len(Z)
	// Centre Z and y so that the intercept is not penalized.
	zbar := make([]float64, d)
	var ybar float64
	A := mat.NewDense(n, d, nil)
	for i, z := range Z {
		row := A.RawRowView(i)
		z.AppendDense(row[:0], d)
		for j, v := range row {
			zbar[j] += v
		}
		ybar += y[i]
	}
	for j := range zbar {
		zbar[j] /= float64(n)
	}
	ybar /= float64(n)
	yc := mat.NewVecDense(n, nil)
	for i := range n {
		row := A.RawRowView(i)
		for j := range row {
			row[j] -= zbar[j]
		}
		yc.SetVec(i, y[i]-ybar)
	}
	w := mat.NewVecDense(d, nil)
	if m.l2 == 0 && n >= d {
		var qr mat.QR
		qr.Factorize(A)
		if err := qr.SolveVecTo(w, false, yc); err != nil {
			return fmt.Errorf("ml: linear_regression least squares: %w", err)
		}
	} else {
		lam := max(m.l2, 1e-10)
		var ata mat.SymDense
		ata.SymOuterK(1, A.T())
		for j := range d {
			ata.SetSym(j, j, ata.At(j, j)+lam)
		}
		var ch mat.Cholesky
		if !ch.Factorize(&ata) {
			return fmt.Errorf("ml: linear_regression ridge: normal equations not positive definite")
		}
		aty := mat.NewVecDense(d, nil)
		aty.MulVec(A.T(), yc)
		if err := ch.SolveVecTo(w, aty); err != nil {
			return fmt.Errorf("ml: linear_regression ridge: %w", err)
		}
	}
	m.grow(d)
	b := ybar
	for j := range d {
		m.st.W[0][j] = w.AtVec(j)
		b -= zbar[j] * w.AtVec(j)
	}
	m.st.B[0] = b
	m.st.T = float64(n)
	return nil
}
