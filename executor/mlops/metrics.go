package mlops

import (
	"math"
	"sort"

	"github.com/flowrun/flowrun/ml"
)

// maxKept bounds the (label, score) pairs kept for cumulative metrics:
// past it the older half is dropped, so "cumulative" metrics (and the
// champion choice) cover the most recent 64k–128k rows of a long run.
const maxKept = 1 << 17

// evalAcc accumulates prequential (label, score, decision) triples.
type evalAcc struct {
	y, p, d []float64
}

func (a *evalAcc) add(y, p, d float64) {
	if len(a.y) >= maxKept {
		h := len(a.y) / 2
		a.y = append(a.y[:0], a.y[h:]...)
		a.p = append(a.p[:0], a.p[h:]...)
		a.d = append(a.d[:0], a.d[h:]...)
	}
	a.y = append(a.y, y)
	a.p = append(a.p, p)
	a.d = append(a.d, d)
}

func (a *evalAcc) reset() { a.y, a.p, a.d = a.y[:0], a.p[:0], a.d[:0] }

// metricNames are the metrics computed for each kind of model when the
// evaluation lists none.
var metricNames = map[ml.Kind][]string{
	ml.KindClassifier: {"accuracy", "auc", "logloss", "precision", "recall", "f1"},
	ml.KindRegressor:  {"rmse", "mae", "r2"},
	ml.KindAnomaly:    {"auc", "precision", "recall", "f1"},
}

// lowerIsBetter lists metrics to minimize.
var lowerIsBetter = map[string]bool{"logloss": true, "rmse": true, "mae": true}

// compute returns the named metrics of the pairs (NaN ones are left out).
func (a *evalAcc) compute(names []string) map[string]float64 {
	out := map[string]float64{}
	if len(a.y) == 0 {
		return out
	}
	for _, n := range names {
		var v float64
		switch n {
		case "accuracy":
			v = ml.Accuracy(a.y, a.d)
		case "auc":
			v = ml.ROCAUC(a.y, a.p)
		case "logloss":
			v = ml.LogLoss(a.y, a.p)
		case "precision":
			v = ml.Precision(a.y, a.d)
		case "recall":
			v = ml.Recall(a.y, a.d)
		case "f1":
			v = ml.F1(a.y, a.d)
		case "rmse":
			v = ml.RMSE(a.y, a.p)
		case "mae":
			v = ml.MAE(a.y, a.p)
		case "r2":
			v = ml.R2(a.y, a.p)
		default:
			continue
		}
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out[n] = v
		}
	}
	return out
}

// better reports whether metric value a beats b.
func better(metric string, a, b float64) bool {
	if math.IsNaN(b) {
		return !math.IsNaN(a)
	}
	if info, ok := ml.LookupMetric(metric); ok && !info.HigherIsBetter || lowerIsBetter[metric] {
		return a < b
	}
	return a > b
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
