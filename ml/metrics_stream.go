package ml

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// MetricInfo describes one metric of the Metrics table.
type MetricInfo struct {
	Name string
	// HigherIsBetter tells tuning and champion/challenger which way to
	// compare.
	HigherIsBetter bool
	// Kind is "classification", "regression" or "clustering".
	Kind string
	Doc  string
}

// Metrics is the table of metrics that a job can name (evaluation,
// tuning), sorted by name. Streaming versions exist for every
// classification and regression metric (NewMetric).
var Metrics = []MetricInfo{
	{"accuracy", true, "classification", "Fraction of correct labels (p > 0.5 is class 1; a p outside [0,1] is a label)."},
	{"auc", true, "classification", "Area under the ROC curve of the scores (Mann–Whitney, ties averaged)."},
	{"f1", true, "classification", "F1 score of class 1: 2·TP / (2·TP + FP + FN)."},
	{"inertia", false, "clustering", "Within-cluster sum of squared distances to the centres (batch only)."},
	{"logloss", false, "classification", "Mean negative log-likelihood of the labels, p clipped to [1e−15, 1−1e−15]."},
	{"mae", false, "regression", "Mean absolute error."},
	{"precision", true, "classification", "TP / (TP + FP) for class 1."},
	{"r2", true, "regression", "Coefficient of determination 1 − SS_res / SS_tot."},
	{"recall", true, "classification", "TP / (TP + FN) for class 1."},
	{"rmse", false, "regression", "Root mean squared error."},
	{"silhouette", true, "clustering", "Mean silhouette coefficient (batch only, O(n²))."},
}

// LookupMetric returns the metric with the given name.
func LookupMetric(name string) (MetricInfo, bool) {
	i := sort.Search(len(Metrics), func(i int) bool { return Metrics[i].Name >= name })
	if i < len(Metrics) && Metrics[i].Name == name {
		return Metrics[i], true
	}
	return MetricInfo{}, false
}

// ErrUnknownMetric is returned (wrapped) for metric names not in Metrics.
var ErrUnknownMetric = fmt.Errorf("ml: unknown metric")

// Score computes the named batch metric of labels y and predictions p.
// Clustering metrics are not supported here (use Inertia, Silhouette).
func Score(name string, y, p []float64) (float64, error) {
	switch name {
	case "accuracy":
		return Accuracy(y, p), nil
	case "auc":
		return ROCAUC(y, p), nil
	case "f1":
		return F1(y, p), nil
	case "logloss":
		return LogLoss(y, p), nil
	case "mae":
		return MAE(y, p), nil
	case "precision":
		return Precision(y, p), nil
	case "r2":
		return R2(y, p), nil
	case "recall":
		return Recall(y, p), nil
	case "rmse":
		return RMSE(y, p), nil
	}
	return math.NaN(), fmt.Errorf("%w %q (want one of %s)", ErrUnknownMetric, name, strings.Join(streamingMetricNames(), ", "))
}

func streamingMetricNames() []string {
	var out []string
	for _, m := range Metrics {
		if m.Kind != "clustering" {
			out = append(out, m.Name)
		}
	}
	return out
}

// Metric is a streaming metric: Update adds one (label, prediction) pair;
// Value returns the metric over the last Window pairs (all pairs when the
// window is 0). Not safe for concurrent use.
type Metric interface {
	Name() string
	Update(y, p float64)
	Value() float64
	// Count returns the number of pairs the value is computed over.
	Count() int
}

// NewMetric returns a streaming metric over a sliding window of the last
// window pairs, or over all pairs when window is 0. Additive metrics cost
// O(1) per update; windowed AUC sorts the window on Value (O(w log w)), and
// unbounded AUC uses 1024-bin score histograms per class (scores in [0, 1];
// approximate).
func NewMetric(name string, window int) (Metric, error) {
	if window < 0 {
		return nil, fmt.Errorf("ml: metric window must be ≥ 0, got %d", window)
	}
	info, ok := LookupMetric(name)
	if !ok || info.Kind == "clustering" {
		return nil, fmt.Errorf("%w %q for streaming (want one of %s)", ErrUnknownMetric, name, strings.Join(streamingMetricNames(), ", "))
	}
	m := &streamMetric{name: name, window: window}
	if window > 0 {
		m.ys = make([]float64, 0, window)
		m.ps = make([]float64, 0, window)
	}
	if name == "auc" && window == 0 {
		m.hist = [2][]float64{make([]float64, aucBins), make([]float64, aucBins)}
	}
	return m, nil
}

const aucBins = 1024

type streamMetric struct {
	name   string
	window int
	ys, ps []float64 // ring buffer when window > 0
	pos    int
	n      int
	// running sums over the pairs in the window
	correct, tp, fp, fn float64
	ll, se, ae          float64
	sy, syy             float64
	hist                [2][]float64
}

func (m *streamMetric) Name() string { return m.name }
func (m *streamMetric) Count() int   { return m.n }

func (m *streamMetric) add(y, p, sign float64) {
	if predLabel(p) == y {
		m.correct += sign
	}
	pp, py := isPos(predLabel(p)), isPos(y)
	switch {
	case pp && py:
		m.tp += sign
	case pp:
		m.fp += sign
	case py:
		m.fn += sign
	}
	switch m.name {
	case "logloss":
		m.ll += sign * logLoss1(y, p)
	case "rmse", "r2":
		m.se += sign * (y - p) * (y - p)
	case "mae":
		m.ae += sign * math.Abs(y-p)
	}
	m.sy += sign * y
	m.syy += sign * y * y
	if m.hist[0] != nil {
		b := int(min(max(p, 0), 1) * (aucBins - 1))
		m.hist[b2i(py)][b] += sign
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (m *streamMetric) Update(y, p float64) {
	if m.window == 0 {
		m.n++
		m.add(y, p, 1)
		return
	}
	if len(m.ys) < m.window {
		m.ys = append(m.ys, y)
		m.ps = append(m.ps, p)
		m.n++
	} else {
		m.add(m.ys[m.pos], m.ps[m.pos], -1)
		m.ys[m.pos], m.ps[m.pos] = y, p
		m.pos = (m.pos + 1) % m.window
	}
	m.add(y, p, 1)
}

func (m *streamMetric) Value() float64 {
	if m.n == 0 {
		return math.NaN()
	}
	n := float64(m.n)
	switch m.name {
	case "accuracy":
		return m.correct / n
	case "precision":
		return ratio(m.tp, m.tp+m.fp)
	case "recall":
		return ratio(m.tp, m.tp+m.fn)
	case "f1":
		return ratio(2*m.tp, 2*m.tp+m.fp+m.fn)
	case "logloss":
		return m.ll / n
	case "rmse":
		return math.Sqrt(max(m.se, 0) / n)
	case "mae":
		return m.ae / n
	case "r2":
		st := m.syy - m.sy*m.sy/n
		if st <= 0 {
			return math.NaN()
		}
		return 1 - m.se/st
	case "auc":
		if m.hist[0] != nil {
			return histAUC(m.hist[0], m.hist[1])
		}
		return ROCAUC(m.ys, m.ps)
	}
	return math.NaN()
}

// histAUC computes the AUC from per-class score histograms (ties within a
// bin count half).
func histAUC(neg, pos []float64) float64 {
	var nNeg, nPos, auc float64
	for b := range neg {
		auc += pos[b] * (nNeg + neg[b]/2)
		nNeg += neg[b]
		nPos += pos[b]
	}
	if nNeg == 0 || nPos == 0 {
		return math.NaN()
	}
	return auc / (nNeg * nPos)
}
