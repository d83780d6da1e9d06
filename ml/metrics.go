package ml

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Binary classification metrics treat a label y > 0.5 as the positive
// class 1. A prediction p in [0, 1] is a probability (class 1 when p > 0.5);
// any other value is taken as a predicted label.

func predLabel(p float64) float64 {
	if p >= 0 && p <= 1 {
		return b2f(p > 0.5)
	}
	return p
}

func isPos(y float64) bool { return y > 0.5 }

// Accuracy returns the fraction of predictions equal to the labels:
// (1/n) Σ [label(p_i) = y_i].
func Accuracy(y, p []float64) float64 {
	if len(y) == 0 {
		return math.NaN()
	}
	var c int
	for i := range y {
		if predLabel(p[i]) == y[i] {
			c++
		}
	}
	return float64(c) / float64(len(y))
}

func binaryCounts(y, p []float64) (tp, fp, fn, tn float64) {
	for i := range y {
		pp, py := isPos(predLabel(p[i])), isPos(y[i])
		switch {
		case pp && py:
			tp++
		case pp:
			fp++
		case py:
			fn++
		default:
			tn++
		}
	}
	return
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// Precision returns TP/(TP+FP) for class 1 (0 when nothing is predicted
// positive).
func Precision(y, p []float64) float64 {
	tp, fp, _, _ := binaryCounts(y, p)
	return ratio(tp, tp+fp)
}

// Recall returns TP/(TP+FN) for class 1.
func Recall(y, p []float64) float64 {
	tp, _, fn, _ := binaryCounts(y, p)
	return ratio(tp, tp+fn)
}

// F1 returns 2·TP/(2·TP+FP+FN) for class 1, the harmonic mean of
// precision and recall.
func F1(y, p []float64) float64 {
	tp, fp, fn, _ := binaryCounts(y, p)
	return ratio(2*tp, 2*tp+fp+fn)
}

// ROCAUC returns the area under the ROC curve of scores s for binary
// labels y, the Mann–Whitney statistic
//
//	AUC = (Σ_{i∈pos} rank_i − n₊(n₊+1)/2) / (n₊ n₋)
//
// with average ranks for ties. It is NaN when one class is absent.
func ROCAUC(y, s []float64) float64 {
	n := len(y)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return s[idx[a]] < s[idx[b]] })
	var rankSum, npos float64
	for i := 0; i < n; {
		j := i
		for j < n && s[idx[j]] == s[idx[i]] {
			j++
		}
		r := float64(i+j+1) / 2 // average 1-based rank of the tie group
		for k := i; k < j; k++ {
			if isPos(y[idx[k]]) {
				rankSum += r
				npos++
			}
		}
		i = j
	}
	nneg := float64(n) - npos
	if npos == 0 || nneg == 0 {
		return math.NaN()
	}
	return (rankSum - npos*(npos+1)/2) / (npos * nneg)
}

// LogLoss returns −(1/n) Σ [y log p + (1−y) log(1−p)], with p clipped to
// [1e−15, 1−1e−15].
func LogLoss(y, p []float64) float64 {
	var s float64
	for i := range y {
		s += logLoss1(y[i], p[i])
	}
	return s / float64(len(y))
}

func logLoss1(y, p float64) float64 {
	p = min(max(p, 1e-15), 1-1e-15)
	if isPos(y) {
		return -math.Log(p)
	}
	return -math.Log(1 - p)
}

// RMSE returns sqrt((1/n) Σ (y_i − p_i)²).
func RMSE(y, p []float64) float64 {
	var s float64
	for i := range y {
		d := y[i] - p[i]
		s += d * d
	}
	return math.Sqrt(s / float64(len(y)))
}

// MAE returns (1/n) Σ |y_i − p_i|.
func MAE(y, p []float64) float64 {
	var s float64
	for i := range y {
		s += math.Abs(y[i] - p[i])
	}
	return s / float64(len(y))
}

// R2 returns the coefficient of determination 1 − Σ(y−p)² / Σ(y−ȳ)².
func R2(y, p []float64) float64 {
	var mean float64
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	var ss, st float64
	for i := range y {
		ss += (y[i] - p[i]) * (y[i] - p[i])
		st += (y[i] - mean) * (y[i] - mean)
	}
	if st == 0 {
		return math.NaN()
	}
	return 1 - ss/st
}

// Confusion is a K×K confusion matrix: Counts[i][j] is the number of
// examples of true class i predicted as class j.
type Confusion struct {
	K      int
	Counts [][]int
}

// ConfusionMatrix counts predicted labels (see predLabel) against true
// labels 0..k−1; labels outside the range are ignored.
func ConfusionMatrix(y, p []float64, k int) *Confusion {
	c := &Confusion{K: k, Counts: make([][]int, k)}
	for i := range c.Counts {
		c.Counts[i] = make([]int, k)
	}
	for i := range y {
		t, q := int(y[i]), int(predLabel(p[i]))
		if t >= 0 && t < k && q >= 0 && q < k {
			c.Counts[t][q]++
		}
	}
	return c
}

// Precision returns the precision of class j.
func (c *Confusion) Precision(j int) float64 {
	var col int
	for i := range c.K {
		col += c.Counts[i][j]
	}
	return ratio(float64(c.Counts[j][j]), float64(col))
}

// Recall returns the recall of class i.
func (c *Confusion) Recall(i int) float64 {
	var row int
	for _, v := range c.Counts[i] {
		row += v
	}
	return ratio(float64(c.Counts[i][i]), float64(row))
}

// F1 returns the F1 score of class i.
func (c *Confusion) F1(i int) float64 {
	p, r := c.Precision(i), c.Recall(i)
	return ratio(2*p*r, p+r)
}

// MacroF1 returns the mean F1 over classes.
func (c *Confusion) MacroF1() float64 {
	var s float64
	for i := range c.K {
		s += c.F1(i)
	}
	return s / float64(c.K)
}

// String formats the matrix with true classes as rows.
func (c *Confusion) String() string {
	var b strings.Builder
	for _, row := range c.Counts {
		fmt.Fprintln(&b, row)
	}
	return b.String()
}

// Inertia returns Σ_i ‖x_i − c_{label_i}‖², the within-cluster sum of
// squares.
func Inertia(X []Vector, centers [][]float64, labels []int) float64 {
	var s float64
	for i, x := range X {
		s += sqDist(x, centers[labels[i]])
	}
	return s
}

// Silhouette returns the mean silhouette coefficient
//
//	s_i = (b_i − a_i) / max(a_i, b_i)
//
// where a_i is the mean distance of x_i to its own cluster and b_i the
// smallest mean distance to another cluster (s_i = 0 for singletons). It
// takes O(n²) time.
func Silhouette(X []Vector, labels []int) float64 {
	k := 0
	for _, l := range labels {
		k = max(k, l+1)
	}
	size := make([]float64, k)
	for _, l := range labels {
		size[l]++
	}
	dense := make([][]float64, len(X))
	d := 0
	for _, x := range X {
		d = max(d, x.Len())
	}
	for i, x := range X {
		dense[i] = x.AppendDense(nil, d)
	}
	sum := make([]float64, k)
	var total float64
	for i := range X {
		for c := range sum {
			sum[c] = 0
		}
		for j := range X {
			if i != j {
				sum[labels[j]] += math.Sqrt(sqDist(Dense(dense[i]), dense[j]))
			}
		}
		li := labels[i]
		if size[li] <= 1 {
			continue
		}
		a := sum[li] / (size[li] - 1)
		b := math.Inf(1)
		for c := range k {
			if c != li && size[c] > 0 {
				b = min(b, sum[c]/size[c])
			}
		}
		if math.IsInf(b, 1) {
			continue
		}
		total += (b - a) / max(a, b)
	}
	return total / float64(len(X))
}

// AdjustedRandIndex returns the Rand index of two clusterings adjusted for
// chance (Hubert and Arabie 1985):
//
//	ARI = (Σ_ij C(n_ij,2) − E) / (½(Σ_i C(a_i,2) + Σ_j C(b_j,2)) − E),
//	E = Σ_i C(a_i,2) Σ_j C(b_j,2) / C(n,2)
//
// 1 for identical partitions, about 0 for independent ones.
func AdjustedRandIndex(a, b []int) float64 {
	type pair struct{ i, j int }
	nij := map[pair]float64{}
	ai := map[int]float64{}
	bj := map[int]float64{}
	for k := range a {
		nij[pair{a[k], b[k]}]++
		ai[a[k]]++
		bj[b[k]]++
	}
	c2 := func(n float64) float64 { return n * (n - 1) / 2 }
	var sij, sa, sb float64
	for _, v := range nij {
		sij += c2(v)
	}
	for _, v := range ai {
		sa += c2(v)
	}
	for _, v := range bj {
		sb += c2(v)
	}
	e := sa * sb / c2(float64(len(a)))
	den := (sa+sb)/2 - e
	if den == 0 {
		return 1
	}
	return (sij - e) / den
}
