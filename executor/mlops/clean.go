package mlops

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/ml"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

// minOutlierN is the number of values a zscore or iqr detector learns
// before it calls anything an outlier.
const minOutlierN = 30

// Clean runs a clean: stage (planner.CleanOp). Steps run in the order
// dedup, impute, outliers, filter; each row goes through them in its
// operator's goroutine, with statistics learned online from the rows
// before it (so a replay gives the same output):
//
//   - dedup drops a row whose key was kept at event time t0 when its own
//     event time t satisfies t − t0 ≤ within; keys are forgotten when the
//     watermark passes t0 + within.
//   - impute fills NULLs with the column's running mean, median (a
//     quantile sketch), most frequent value, a constant or the previous
//     value, per key of by: when given (falling back to the column's
//     statistics for a key not seen yet). A value fills the row before it
//     is learned.
//   - outliers compares a value with bounds from the values before it: for
//     zscore μ ± threshold·σ (threshold 3 by default), for iqr
//     [Q1 − k·IQR, Q3 + k·IQR] (k 1.5 by default), for bounds [lower,
//     upper]; zscore and iqr say nothing before 30 values. Action drop
//     drops the row, clip replaces the value by the bound, flag sets the
//     bool column <col>_outlier.
//   - filter keeps rows where the expr-lang predicate is true.
//
// Dropped rows are counted in the stage's Counters (dedup_dropped,
// outliers_dropped, filter_dropped; imputed, clipped and flagged count
// changed values) and sent to the dead-letter stream with class clean when
// the stage says deadLetter: true. A row whose filter fails to evaluate is
// dead-lettered with class expr.
type Clean struct {
	in, out planner.Schema
	dl      bool
	et      int

	dedup    *dedupStep
	imputes  []*imputeStep
	outliers []*outlierStep
	filter   *udf.Program

	cnt                                           *Counters
	dedupDrop, imputed, outDrop, clipped, flagged counter
	filterDrop                                    counter
	keyBuf                                        []byte
}

var _ executor.Operator = (*Clean)(nil)

type counter = interface{ Add(int64) int64 }

type dedupStep struct {
	cols   []int
	within int64
	Seen   map[string]int64 `json:"seen"`
	Swept  int64            `json:"swept"`
}

type imputeStep struct {
	col    int
	t      udf.Type
	str    bool
	method string
	konst  udf.Value
	by     []int

	Num    *ml.Imputer                    `json:"num,omitempty"`
	Cat    *ml.CategoryImputer            `json:"cat,omitempty"`
	NumBy  map[string]*ml.Imputer         `json:"num_by,omitempty"`
	CatBy  map[string]*ml.CategoryImputer `json:"cat_by,omitempty"`
	newNum func() *ml.Imputer
	newCat func() *ml.CategoryImputer
}

type outlierStep struct {
	col, flag int
	t         udf.Type
	method    string
	action    string
	thr       float64
	lo, hi    float64

	N      float64            `json:"n"`
	Mean   float64            `json:"mean"`
	M2     float64            `json:"m2"`
	Sketch *ml.QuantileSketch `json:"sketch,omitempty"`
}

// NewClean builds the operator of a CleanOp node whose output schema is
// out (node.Schema). env holds the job's user functions for the filter
// (may be nil); cnt receives the step counters (may be nil).
func NewClean(op *planner.CleanOp, out planner.Schema, env *udf.Env, cnt *Counters) (*Clean, error) {
	c := &op.Spec
	in := op.Input
	if cnt == nil {
		cnt = NewCounters("")
	}
	o := &Clean{in: in, out: out, dl: c.DeadLetter, et: in.EventTime, cnt: cnt,
		dedupDrop: cnt.Counter("dedup_dropped"), imputed: cnt.Counter("imputed"),
		outDrop: cnt.Counter("outliers_dropped"), clipped: cnt.Counter("clipped"),
		flagged: cnt.Counter("flagged"), filterDrop: cnt.Counter("filter_dropped")}
	if len(out.Columns) < len(in.Columns) {
		return nil, fmt.Errorf("mlops: clean: output schema has %d columns, input %d", len(out.Columns), len(in.Columns))
	}
	col := func(name string) (int, error) {
		i := index(in, name)[0]
		if i < 0 {
			return -1, fmt.Errorf("mlops: clean: unknown column %q", name)
		}
		return i, nil
	}
	if d := c.Dedup; d != nil {
		s := &dedupStep{within: d.Within.Std().Milliseconds(), Seen: map[string]int64{}, Swept: executor.MinWatermark}
		for _, k := range d.Key {
			i, err := col(k)
			if err != nil {
				return nil, err
			}
			s.cols = append(s.cols, i)
		}
		o.dedup = s
	}
	for _, im := range c.Impute {
		s, err := newImpute(im, in, col)
		if err != nil {
			return nil, err
		}
		o.imputes = append(o.imputes, s)
	}
	for _, ol := range c.Outliers {
		i, err := col(ol.Column)
		if err != nil {
			return nil, err
		}
		s := &outlierStep{col: i, flag: -1, t: in.Columns[i].Type, method: ol.Method, action: ol.Action, thr: ol.Threshold,
			lo: math.Inf(-1), hi: math.Inf(1)}
		if s.action == "" {
			s.action = "drop"
		}
		switch s.method {
		case "zscore":
			if s.thr <= 0 {
				s.thr = 3
			}
		case "iqr":
			if s.thr <= 0 {
				s.thr = 1.5
			}
			s.Sketch = ml.NewQuantileSketch(200)
		case "bounds":
			if ol.Lower != nil {
				s.lo = *ol.Lower
			}
			if ol.Upper != nil {
				s.hi = *ol.Upper
			}
		default:
			return nil, fmt.Errorf("mlops: clean: outliers of %q: unknown method %q (want zscore, iqr or bounds)", ol.Column, ol.Method)
		}
		switch s.action {
		case "drop", "clip":
		case "flag":
			s.flag = index(out, ol.Column+"_outlier")[0]
			if s.flag < 0 {
				return nil, fmt.Errorf("mlops: clean: output schema lacks %s_outlier", ol.Column)
			}
		default:
			return nil, fmt.Errorf("mlops: clean: outliers of %q: unknown action %q (want drop, clip or flag)", ol.Column, ol.Action)
		}
		o.outliers = append(o.outliers, s)
	}
	if c.Filter != nil && c.Filter.Value != "" {
		cols := make([]udf.Column, len(in.Columns))
		for i, x := range in.Columns {
			cols[i] = udf.Column{Name: x.Name, Type: x.Type}
		}
		p, errs := udf.CompilePredicate(c.Filter.Value, cols, env)
		if len(errs) > 0 {
			return nil, fmt.Errorf("mlops: clean filter: %s", errs[0].Msg)
		}
		o.filter = p
	}
	return o, nil
}

func newImpute(im spec.Impute, in planner.Schema, col func(string) (int, error)) (*imputeStep, error) {
	i, err := col(im.Column)
	if err != nil {
		return nil, err
	}
	t := in.Columns[i].Type
	s := &imputeStep{col: i, t: t, method: im.Method, str: t == udf.TypeString}
	for _, k := range im.By {
		j, err := col(k)
		if err != nil {
			return nil, err
		}
		s.by = append(s.by, j)
	}
	if s.str {
		kc := ""
		if im.Value != nil {
			kc = fmt.Sprint(im.Value)
		}
		if _, err := ml.NewCategoryImputer(im.Method, kc); err != nil {
			return nil, fmt.Errorf("mlops: clean: impute %q (a string column): %w", im.Column, err)
		}
		s.newCat = func() *ml.CategoryImputer { m, _ := ml.NewCategoryImputer(im.Method, kc); return m }
		s.Cat = s.newCat()
		s.konst = udf.Str(kc)
	} else {
		var kf float64
		if im.Value != nil {
			f, ok := toFloat(im.Value)
			if !ok {
				return nil, fmt.Errorf("mlops: clean: impute %q: constant %v is not a number", im.Column, im.Value)
			}
			kf = f
		}
		if _, err := ml.NewImputer(im.Method, kf); err != nil {
			return nil, fmt.Errorf("mlops: clean: impute %q: %w", im.Column, err)
		}
		s.newNum = func() *ml.Imputer { m, _ := ml.NewImputer(im.Method, kf); return m }
		s.Num = s.newNum()
		s.konst = fromFloat(kf, t)
	}
	if len(s.by) > 0 {
		s.NumBy, s.CatBy = map[string]*ml.Imputer{}, map[string]*ml.CategoryImputer{}
	}
	return s, nil
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// Process cleans the rows of b.
func (o *Clean) Process(_ int, b *executor.Batch, out executor.Collector) error {
	for i, row := range b.Rows {
		if len(row) < len(o.out.Columns) {
			r := make(udf.Row, len(o.out.Columns))
			copy(r, row)
			row = r
		}
		if reason := o.row(row); reason != "" {
			if o.dl {
				out.DeadLetter(executor.ClassClean, reason, row, nil)
			}
			continue
		}
		if o.filter != nil {
			v, err := o.filter.Eval(row[:len(o.in.Columns)])
			if err != nil {
				out.DeadLetter(executor.ClassExpr, "clean filter: "+err.Error(), row, nil)
				continue
			}
			if !v.AsBool() {
				o.filterDrop.Add(1)
				if o.dl {
					out.DeadLetter(executor.ClassClean, "filter: predicate is false", row, nil)
				}
				continue
			}
		}
		out.Emit(row, b.IDs[i])
	}
	return nil
}

// row runs dedup, impute and outliers on row in place; it returns why the
// row is dropped ("" to keep it).
func (o *Clean) row(row udf.Row) string {
	if d := o.dedup; d != nil {
		o.keyBuf = keyOf(o.keyBuf[:0], row, d.cols)
		var t int64
		if o.et >= 0 {
			t = row[o.et].I
		}
		if t0, ok := d.Seen[string(o.keyBuf)]; ok && abs64(t-t0) <= d.within {
			o.dedupDrop.Add(1)
			return "dedup: key seen within " + fmt.Sprint(d.within) + "ms"
		}
		d.Seen[string(o.keyBuf)] = t
	}
	for _, s := range o.imputes {
		if o.impute(s, row) {
			o.imputed.Add(1)
		}
	}
	for _, s := range o.outliers {
		v := row[s.col]
		if s.flag >= 0 {
			row[s.flag] = udf.Bool(false)
		}
		x := num(v)
		if math.IsNaN(x) {
			continue
		}
		lo, hi := s.bounds()
		s.learn(x)
		if x >= lo && x <= hi {
			continue
		}
		switch s.action {
		case "drop":
			o.outDrop.Add(1)
			return fmt.Sprintf("outliers: %s = %v outside [%g, %g]", o.in.Columns[s.col].Name, v, lo, hi)
		case "clip":
			o.clipped.Add(1)
			row[s.col] = fromFloat(min(max(x, lo), hi), s.t)
		case "flag":
			o.flagged.Add(1)
			row[s.flag] = udf.Bool(true)
		}
	}
	return ""
}

// impute fills row[s.col] when NULL and learns it otherwise; it reports
// whether it filled.
func (o *Clean) impute(s *imputeStep, row udf.Row) bool {
	v := row[s.col]
	var key string
	if len(s.by) > 0 {
		o.keyBuf = keyOf(o.keyBuf[:0], row, s.by)
		key = string(o.keyBuf)
	}
	if s.str {
		byM := s.CatBy[key]
		if len(s.by) > 0 && byM == nil {
			byM = s.newCat()
			s.CatBy[key] = byM
		}
		if v.K != udf.TypeNull {
			s.Cat.Learn(v.S)
			if byM != nil {
				byM.Learn(v.S)
			}
			return false
		}
		m := s.Cat
		if byM != nil && (byM.Last != byM.Constant || len(byM.Counts) > 0) {
			m = byM
		}
		f := m.Value()
		if s.method == "previous" && f == m.Constant && m.Last == m.Constant && len(m.Counts) == 0 {
			return false // nothing seen yet: stays NULL
		}
		row[s.col] = udf.Str(f)
		return true
	}
	byM := s.NumBy[key]
	if len(s.by) > 0 && byM == nil {
		byM = s.newNum()
		s.NumBy[key] = byM
	}
	if x := num(v); !math.IsNaN(x) {
		s.Num.Learn(x)
		if byM != nil {
			byM.Learn(x)
		}
		return false
	}
	m := s.Num
	if byM != nil && byM.N > 0 {
		m = byM
	}
	if s.method == "previous" && m.N == 0 {
		return false
	}
	row[s.col] = fromFloat(m.Value(), s.t)
	return true
}

func (s *outlierStep) bounds() (lo, hi float64) {
	switch s.method {
	case "zscore":
		if s.N < minOutlierN {
			return math.Inf(-1), math.Inf(1)
		}
		sd := math.Sqrt(s.M2 / s.N)
		return s.Mean - s.thr*sd, s.Mean + s.thr*sd
	case "iqr":
		if s.Sketch.Count() < minOutlierN {
			return math.Inf(-1), math.Inf(1)
		}
		q1, q3 := s.Sketch.Quantile(0.25), s.Sketch.Quantile(0.75)
		return q1 - s.thr*(q3-q1), q3 + s.thr*(q3-q1)
	}
	return s.lo, s.hi
}

func (s *outlierStep) learn(x float64) {
	s.N++
	d := x - s.Mean
	s.Mean += d / s.N
	s.M2 += d * (x - s.Mean)
	if s.Sketch != nil {
		s.Sketch.Add(x)
	}
}

// OnWatermark forgets dedup keys older than wm − within.
func (o *Clean) OnWatermark(wm int64, _ executor.Collector) error {
	d := o.dedup
	if d == nil || o.et < 0 || wm == executor.MaxWatermark {
		return nil
	}
	if d.Swept != executor.MinWatermark && wm-d.Swept < max(d.within/4, 1) {
		return nil
	}
	d.Swept = wm
	for k, t := range d.Seen {
		if t+d.within < wm {
			delete(d.Seen, k)
		}
	}
	return nil
}

type cleanState struct {
	Dedup    *dedupStep     `json:"dedup,omitempty"`
	Impute   []*imputeStep  `json:"impute,omitempty"`
	Outliers []*outlierStep `json:"outliers,omitempty"`
}

// Snapshot returns the dedup keys and the learned statistics as JSON.
func (o *Clean) Snapshot() ([]byte, error) {
	return json.Marshal(cleanState{Dedup: o.dedup, Impute: o.imputes, Outliers: o.outliers})
}

// Restore replaces the state with a snapshot of the same stage.
func (o *Clean) Restore(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	st := cleanState{Dedup: o.dedup, Impute: o.imputes, Outliers: o.outliers}
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("mlops: clean: restore: %w", err)
	}
	return nil
}

// Close does nothing: a clean stage holds no rows back.
func (o *Clean) Close(executor.Collector) error { return nil }

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
