package ml

var linearSVMAlgorithm = &Algorithm{
	Name:  "linear_svm",
	Kind:  KindClassifier,
	Modes: []string{ModeOnline, ModeBatch, ModeWindowed},
	Doc: "Linear support vector machine minimizing λ/2‖w‖² + mean hinge loss max(0, 1 − y·(w·x + b)) " +
		"with Pegasos: one step per example online, epochs shuffled passes in batch. " +
		"Predict returns σ(margin), an uncalibrated score in (0, 1). Multiclass by one-vs-rest.",
	Params: []Param{
		{Name: "l2", Type: TypeFloat, Default: 1e-4, Min: ptr(1e-12), Max: ptr(100),
			Doc: "Regularization λ of the Pegasos objective (per example)."},
		{Name: "classes", Type: TypeInt, Default: 2, Min: ptr(2), Max: ptr(10000),
			Doc: "Number of classes; labels are 0..classes−1 (binary: y > 0.5 is class 1)."},
		{Name: "epochs", Type: TypeInt, Default: 10, Min: ptr(1), Max: ptr(10000),
			Doc: "Passes over the data for Fit with the pegasos solver."},
		{Name: "solver", Type: TypeString, Default: "pegasos", Enum: []string{"pegasos", "lbfgs"},
			Doc: "Fit: Pegasos passes (hinge loss) or L-BFGS on the squared hinge loss λ/2‖w‖² + mean max(0, 1 − y·s)² (as LinearSVC, C = 1/(λn))."},
		{Name: "max_iter", Type: TypeInt, Default: 1000, Min: ptr(1), Max: ptr(1000000),
			Doc: "Maximum L-BFGS iterations (solver lbfgs)."},
		paramStandardize(),
	},
	build: newLinearSVM,
}

// LinearSVM is the linear_svm model (Pegasos, Shalev-Shwartz, Singer and
// Srebro 2007). For label y ∈ {−1, +1} each step is
//
//	η_t = 1/(λ(t+1)),  w ← (1 − η_t λ) w,  and if y(w·x + b) < 1: w ← w + η_t y x
//
// (the intercept is treated as a weight on a constant 1).
type LinearSVM struct{ linear }

var _ Classifier = (*LinearSVM)(nil)

func newLinearSVM(b base) (Model, error) {
	p := b.p
	m := &LinearSVM{linear{
		base:    b,
		classes: p.Int("classes"), link: linkHinge, opt: optPegasos,
		std: p.Bool("standardize"), l2: p.Float("l2"), epochs: p.Int("epochs"),
		maxIter: p.Int("max_iter"), tol: 1e-8,
	}}
	m.rows = 1
	if m.classes > 2 {
		m.rows = m.classes
	}
	m.init()
	return m, nil
}

// Learn takes one Pegasos step.
func (m *LinearSVM) Learn(x Vector, y float64) { m.learnOne(x, y, true) }

// Predict returns σ(margin) for binary models and σ of the best margin for
// multiclass ones.
func (m *LinearSVM) Predict(x Vector) float64 {
	if m.rows == 1 {
		return sigmoid(m.rawScore(0, x))
	}
	return sigmoid(m.rawScore(int(m.label(x)), x))
}

// Margin returns the decision value w·x + b of a binary model.
func (m *LinearSVM) Margin(x Vector) float64 { return m.rawScore(0, x) }

// PredictLabel returns the class with the largest margin.
func (m *LinearSVM) PredictLabel(x Vector) float64 { return m.label(x) }

// PredictProba returns σ of the margins, normalized to sum to one.
func (m *LinearSVM) PredictProba(dst []float64, x Vector) []float64 {
	return m.proba(dst, x)
}

// Fit replaces the model by one trained with epochs Pegasos passes, or
// with L-BFGS on the squared hinge loss (solver lbfgs).
func (m *LinearSVM) Fit(X []Vector, y []float64) error {
	if err := checkXY(X, y); err != nil {
		return err
	}
	if m.p.String("solver") == "lbfgs" {
		return m.fitLBFGS(X, y)
	}
	m.fitEpochs(X, y)
	return nil
}
