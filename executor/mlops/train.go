package mlops

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/jetstream"
	"github.com/flowrun/flowrun/executor/registry"
	"github.com/flowrun/flowrun/ml"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

// maxQueue bounds the prequential scores waiting for their PREDICT.
const maxQueue = 1 << 16

// jobModel is a model trained in the job, shared by its Train operator
// (which learns) and the PREDICT calls of the job (which score). Every
// field is guarded by mu.
type jobModel struct {
	spec    *spec.Model
	algo    *ml.Algorithm
	metrics []string
	primary string
	warmup  int64

	mu      sync.Mutex
	cond    *sync.Cond
	cands   []*candidate
	best    int
	rows    int64
	learned int64
	ready   bool     // windowed: a model has been fitted
	labels  []string // string labels in order of appearance (class numbers)
	labelIx map[string]int
	// classes are a classifier's labels in class-number order with the
	// label column's type (published with each version, mapped back by
	// PREDICT_LABEL); nil before the first label, or when the labels are
	// not all strings, all bigints or all bools.
	classes   *registry.Labels
	noClasses bool
	// lastDrift: a drift detector detected a change with the last row.
	lastDrift bool
	reports   []Report

	paired    bool
	pairKinds map[planner.ModelCallKind]bool
	queue     []entry
	base      int64                // position of queue[0]
	next      int64                // position of the next entry
	byHash    map[uint64]*hashList // the entries of each feature hash
	misses    map[planner.ModelCallKind]int
	closed    bool
}

type candidate struct {
	params  map[string]any
	model   ml.Model
	win     evalAcc
	cum     evalAcc
	version int
}

// hashList holds the queue positions of the entries of one feature hash,
// oldest first, and per call kind the index of the first one not taken
// yet (PREDICTs of equal feature values take them in order).
type hashList struct {
	pos  []int64
	next [2]int
}

// entry is the prequential score of one training row, for the PREDICT of
// the same row.
type entry struct {
	hash uint64
	vals [2]udf.Value // by ModelCallKind (Predict, PredictLabel)
	used [2]bool      // taken by a PREDICT of that kind
}

func newJobModel(m *spec.Model) (*jobModel, error) {
	a, ok := ml.Lookup(m.Algorithm)
	if !ok {
		return nil, fmt.Errorf("mlops: model %s: %w %q", m.Name, ml.ErrUnknownAlgorithm, m.Algorithm)
	}
	jm := &jobModel{spec: m, algo: a, pairKinds: map[planner.ModelCallKind]bool{},
		byHash: map[uint64]*hashList{}, misses: map[planner.ModelCallKind]int{}}
	jm.cond = sync.NewCond(&jm.mu)
	if m.Evaluation != nil {
		jm.metrics = m.Evaluation.Metrics
	}
	if len(jm.metrics) == 0 {
		jm.metrics = metricNames[a.Kind]
	}
	if len(jm.metrics) > 0 {
		jm.primary = jm.metrics[0]
	}
	if m.Training != nil {
		jm.warmup = int64(m.Training.Warmup)
	}
	sets := m.Candidates
	online := m.Training == nil || m.Training.Mode == "" || m.Training.Mode == ml.ModeOnline
	if t := m.Tuning; len(sets) == 0 && t != nil && online {
		// Online tuning: the search's configurations learn side by side
		// as champion/challenger candidates.
		ts := ml.TuneSpec{Algorithm: m.Algorithm, Params: m.Params, Space: map[string]ml.Distribution{},
			Method: t.Method, Trials: t.Trials, Seed: t.Seed}
		if ts.Method == "" {
			ts.Method = "grid"
		}
		for _, k := range sortedKeys(t.Params) {
			d, err := distribution(a, k, t.Params[k])
			if err != nil {
				return nil, fmt.Errorf("mlops: model %s: tuning %s: %w", m.Name, k, err)
			}
			ts.Space[k] = d
		}
		cs, err := ml.Configurations(ts)
		if err != nil {
			return nil, fmt.Errorf("mlops: model %s: tuning: %w", m.Name, err)
		}
		sets = cs
		if t.Metric != "" {
			jm.primary = t.Metric
			if !slices.Contains(jm.metrics, t.Metric) {
				jm.metrics = append([]string{t.Metric}, jm.metrics...)
			}
		}
	}
	if len(sets) == 0 {
		sets = []map[string]any{nil}
	}
	for i, c := range sets {
		p := map[string]any{}
		for k, v := range m.Params {
			p[k] = v
		}
		for k, v := range c {
			p[k] = v
		}
		mod, err := a.New(p, m.Seed+int64(i))
		if err != nil {
			return nil, fmt.Errorf("mlops: model %s candidate %d: %w", m.Name, i, err)
		}
		jm.cands = append(jm.cands, &candidate{params: p, model: mod})
	}
	return jm, nil
}

// supervised reports whether the model needs labels.
func (jm *jobModel) supervised() bool {
	return jm.algo.Kind == ml.KindClassifier || jm.algo.Kind == ml.KindRegressor
}

// hashVec hashes the non-zero values (and their positions) of a
// vectorized row.
func hashVec(x []float64) uint64 {
	h := uint64(14695981039346656037)
	for i, f := range x {
		if f == 0 {
			continue
		}
		h = (h ^ uint64(i)) * 1099511628211
		h = (h ^ math.Float64bits(f)) * 1099511628211
	}
	return h ^ uint64(len(x))
}

// predict serves PREDICT, PREDICT_LABEL and MODEL_VERSION of an in-job
// model. Paired calls return the prequential score the trainer computed
// for the same row (same feature values, same order), waiting for the
// trainer while it makes progress; other calls score with the live model.
func (jm *jobModel) predict(kind planner.ModelCallKind, z *vectorizer, args []udf.Value, t udf.Type, timeout time.Duration) (udf.Value, error) {
	x := z.vector(args)
	jm.mu.Lock()
	defer jm.mu.Unlock()
	if kind == planner.ModelVersion {
		return udf.Int(int64(jm.cands[jm.best].version)), nil
	}
	if jm.paired && jm.pairKinds[kind] && jm.misses[kind] < 3 && kind <= planner.PredictLabel {
		h := hashVec(z.dense)
		deadline := time.Now().Add(timeout)
		for {
			if l := jm.byHash[h]; l != nil && l.next[kind] < len(l.pos) {
				e := &jm.queue[l.pos[l.next[kind]]-jm.base]
				l.next[kind]++
				e.used[kind] = true
				jm.misses[kind] = 0
				v := e.vals[kind]
				jm.trim()
				return v, nil
			}
			if jm.closed {
				break
			}
			last := jm.next
			wait := time.Until(deadline)
			if wait <= 0 {
				break // no progress for timeout: this row is not a training row
			}
			timer := time.AfterFunc(wait, func() {
				jm.mu.Lock()
				jm.cond.Broadcast()
				jm.mu.Unlock()
			})
			jm.cond.Wait()
			timer.Stop()
			if jm.next != last {
				deadline = time.Now().Add(timeout) // the trainer progresses: keep waiting
			}
		}
		jm.misses[kind]++
		if jm.misses[kind] == 3 {
			slog.Warn("PREDICT stops pairing with the trainer: three rows in a row were not training rows; scoring with the live model",
				"model", jm.spec.Name, "call", kind.String())
		}
	}
	if !jm.serving() {
		return udf.Null, nil
	}
	if kind == planner.PredictLabel && jm.algo.Kind == ml.KindDrift {
		return udf.Bool(jm.lastDrift), nil
	}
	v, _ := score(jm.cands[jm.best].model, kind, x, t, jm.classes)
	return v, nil
}

// serving reports whether the model scores (past warmup, or fitted).
func (jm *jobModel) serving() bool {
	if jm.spec.Training != nil && jm.spec.Training.Mode == ml.ModeWindowed {
		return jm.ready
	}
	return jm.learned >= jm.warmup && (jm.learned > 0 || !jm.supervised())
}

// trim drops the oldest queue entries taken by every paired kind.
func (jm *jobModel) trim() {
	for len(jm.queue) > 0 {
		e := &jm.queue[0]
		for k := range jm.pairKinds {
			if !e.used[k] && jm.misses[k] < 3 {
				return
			}
		}
		jm.pop()
	}
}

// pop drops the oldest entry.
func (jm *jobModel) pop() {
	h := jm.queue[0].hash
	if l := jm.byHash[h]; len(l.pos) > 1 {
		l.pos = l.pos[1:]
		for k := range l.next {
			l.next[k] = max(l.next[k]-1, 0)
		}
	} else {
		delete(jm.byHash, h)
	}
	jm.queue = jm.queue[1:]
	jm.base++
	if len(jm.queue) == 0 || cap(jm.queue) > 2*len(jm.queue)+1024 {
		jm.queue = append([]entry(nil), jm.queue...)
	}
}

// push adds the entry of the next training row; past maxQueue entries
// the oldest is dropped (its PREDICT falls back to the live model).
func (jm *jobModel) push(e entry) {
	l := jm.byHash[e.hash]
	if l == nil {
		l = &hashList{}
		jm.byHash[e.hash] = l
	}
	l.pos = append(l.pos, jm.next)
	jm.queue = append(jm.queue, e)
	jm.next++
	if len(jm.queue) > maxQueue {
		jm.pop()
	}
}

// label returns the numeric label of v (string labels get class numbers
// in order of appearance); ok is false for NULL. A classifier's labels
// are recorded in jm.classes.
func (jm *jobModel) label(v udf.Value) (float64, bool) {
	switch v.K {
	case udf.TypeNull:
		return 0, false
	case udf.TypeString:
		if jm.labelIx == nil {
			jm.labelIx = map[string]int{}
		}
		i, ok := jm.labelIx[v.S]
		if !ok {
			i = len(jm.labels)
			jm.labelIx[v.S] = i
			jm.labels = append(jm.labels, v.S)
			jm.addClass(registry.LabelString, i, v.S)
		}
		return float64(i), true
	}
	f := num(v)
	if math.IsNaN(f) {
		return f, false
	}
	switch v.K {
	case udf.TypeBool:
		jm.addClass(registry.LabelBool, 1, nil)
	case udf.TypeBigint:
		jm.addClass(registry.LabelBigint, int(v.I), nil)
	default:
		jm.classes, jm.noClasses = nil, true // e.g. double labels: class numbers only
	}
	return f, true
}

// addClass records class i of a classifier's labels of type typ (for
// strings, s is the label of the new class i; bigint and bool labels are
// their own class numbers).
func (jm *jobModel) addClass(typ string, i int, s any) {
	if jm.noClasses || jm.algo.Kind != ml.KindClassifier {
		return
	}
	if jm.classes == nil {
		jm.classes = &registry.Labels{Type: typ}
	}
	c := jm.classes
	if c.Type != typ || i < 0 || i >= registry.MaxLabels {
		jm.classes, jm.noClasses = nil, true
		return
	}
	switch typ {
	case registry.LabelString:
		c.Values = append(c.Values, s)
	case registry.LabelBool:
		if len(c.Values) == 0 {
			c.Values = []any{false, true}
		}
	case registry.LabelBigint:
		for k := len(c.Values); k <= i; k++ {
			c.Values = append(c.Values, int64(k))
		}
	}
}

// Train is the operator of a TrainOp node: it trains the model in mode
// online (learn every row, prequentially: score, then learn) or windowed
// (fit a new model on each tumbling window of training.window), keeps
// prequential metrics per evaluation.window, publishes versions to the
// registry every publishEvery rows (or event-time duration) and at the
// end, and with candidates promotes the best by the first evaluation
// metric. It emits nothing.
type Train struct {
	rt    *Runtime
	jm    *jobModel
	feats []int
	lab   int
	et    int
	names []string // feature names as published (vectors expanded)
	src   string

	mode                 string
	winMs, evalMs        int64
	pubRows, pubMs       int64
	winEnd, evalEnd      int64
	evalStart            int64
	sinceRows, lastPubT  int64
	firstT, lastT        int64
	dirty                bool
	firstSeq, lastSeq    uint64
	bufX                 []ml.Vector
	bufY                 []float64
	z                    vectorizer
	args                 []udf.Value
	rowsC, learnedC, pub counter
	driftC               counter
}

var _ executor.Operator = (*Train)(nil)

func newTrain(rt *Runtime, jm *jobModel, op *planner.TrainOp, in planner.Schema) (*Train, error) {
	m := jm.spec
	o := &Train{rt: rt, jm: jm, feats: op.Features, lab: op.Label, et: in.EventTime, mode: ml.ModeOnline,
		firstT: math.MaxInt64, lastT: math.MinInt64}
	cnt := rt.Counters(m.Name)
	o.rowsC, o.learnedC, o.pub = cnt.Counter("rows"), cnt.Counter("learned"), cnt.Counter("published")
	if jm.algo.Kind == ml.KindDrift {
		o.driftC = cnt.Counter("drifts")
	}
	for _, f := range op.Features {
		if f < 0 || f >= len(in.Columns) {
			return nil, fmt.Errorf("mlops: model %s: feature column %d out of range", m.Name, f)
		}
	}
	if tr := m.Training; tr != nil {
		if tr.Mode != "" {
			o.mode = tr.Mode
		}
		o.winMs = tr.Window.Std().Milliseconds()
		if p := strings.TrimSpace(tr.PublishEvery); p != "" {
			if n, err := strconv.ParseInt(p, 10, 64); err == nil {
				o.pubRows = n
			} else {
				d, err := spec.ParseDuration(p)
				if err != nil {
					return nil, fmt.Errorf("mlops: model %s: publishEvery %q is neither a row count nor a duration", m.Name, p)
				}
				o.pubMs = d.Std().Milliseconds()
			}
		}
	}
	if !jm.algo.SupportsMode(o.mode) {
		return nil, fmt.Errorf("mlops: model %s: %s does not support mode %s", m.Name, m.Algorithm, o.mode)
	}
	if o.mode == ml.ModeWindowed && o.winMs <= 0 {
		return nil, fmt.Errorf("mlops: model %s: mode windowed needs training.window", m.Name)
	}
	if m.Evaluation != nil {
		o.evalMs = m.Evaluation.Window.Std().Milliseconds()
	}
	if o.et < 0 {
		o.evalMs, o.pubMs = 0, 0
	}
	return o, nil
}

// Process trains on the rows of b.
func (o *Train) Process(_ int, b *executor.Batch, _ executor.Collector) error {
	jm := o.jm
	jm.mu.Lock()
	defer jm.mu.Unlock()
	defer jm.cond.Broadcast()
	for i, row := range b.Rows {
		if o.src != "" && i < len(b.IDs) {
			// Rows straight from the source (through clean, features and
			// stateless stages) carry RowID(stream, seq): keep the range.
			if seq := jetstream.SeqOfRowID(o.src, b.IDs[i]); seq >= 1 && seq <= 1<<40 {
				if o.firstSeq == 0 || seq < o.firstSeq {
					o.firstSeq = seq
				}
				o.lastSeq = max(o.lastSeq, seq)
			}
		}
		if err := o.row(row); err != nil {
			return err
		}
	}
	return nil
}

func (o *Train) row(row udf.Row) error {
	jm := o.jm
	var t int64
	if o.et >= 0 {
		t = row[o.et].I
		o.firstT, o.lastT = min(o.firstT, t), max(o.lastT, t)
		if o.evalMs > 0 {
			if t >= o.evalEnd && o.evalEnd != 0 {
				o.closeEval()
			}
			if o.evalEnd == 0 || t >= o.evalEnd {
				o.evalStart = t - mod(t, o.evalMs)
				o.evalEnd = o.evalStart + o.evalMs
			}
		}
		if o.mode == ml.ModeWindowed {
			if o.winEnd != 0 && t >= o.winEnd {
				if err := o.refit(); err != nil {
					return err
				}
			}
			if o.winEnd == 0 || t >= o.winEnd {
				o.winEnd = t - mod(t, o.winMs) + o.winMs
			}
		}
	}
	o.args = o.args[:0]
	for _, f := range o.feats {
		o.args = append(o.args, row[f])
	}
	x := o.z.vector(o.args)
	if o.names == nil {
		o.names = featureNames(jm.spec.Features, o.args)
	}
	var y float64
	hasY := false
	if o.lab >= 0 {
		y, hasY = jm.label(row[o.lab])
	}
	jm.rows++
	o.rowsC.Add(1)
	serving := jm.serving()
	if serving && hasY {
		for _, c := range jm.cands {
			p := c.model.Predict(x)
			d := decision(c.model, x, p)
			c.win.add(y, p, d)
			c.cum.add(y, p, d)
		}
	}
	if jm.paired {
		e := entry{hash: hashVec(o.z.dense)}
		if serving {
			best := jm.cands[jm.best].model
			for k := range jm.pairKinds {
				e.vals[k], _ = score(best, k, x, o.rt.resultType(jm.spec.Name, k), jm.classes)
			}
		}
		jm.push(e)
	}
	if !hasY && jm.supervised() {
		return nil
	}
	if o.mode == ml.ModeWindowed {
		o.bufX = append(o.bufX, x.Clone())
		o.bufY = append(o.bufY, y)
		return nil
	}
	for i, c := range jm.cands {
		d, drift := c.model.(ml.DriftDetector)
		before := 0
		if drift {
			before = d.Detections()
		}
		c.model.Learn(x, y)
		if drift && i == jm.best {
			jm.lastDrift = d.Detections() > before
			if jm.paired && len(jm.queue) > 0 {
				jm.queue[len(jm.queue)-1].vals[planner.PredictLabel] = udf.Bool(jm.lastDrift)
			}
			if jm.lastDrift {
				o.drift(t, d.Detections())
			}
		}
	}
	jm.learned++
	o.learnedC.Add(1)
	o.dirty = true
	o.sinceRows++
	if (o.pubRows > 0 && o.sinceRows >= o.pubRows) || (o.pubMs > 0 && o.et >= 0 && t-o.lastPubT >= o.pubMs && o.lastPubT != 0) {
		if err := o.publish(); err != nil {
			return err
		}
	}
	if o.lastPubT == 0 {
		o.lastPubT = t
	}
	return nil
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// decision is the predicted class (or value) of x for metrics.
func decision(m ml.Model, x ml.Vector, p float64) float64 {
	switch mm := m.(type) {
	case ml.Classifier:
		return mm.PredictLabel(x)
	case interface{ IsAnomaly(float64) bool }:
		if mm.IsAnomaly(p) {
			return 1
		}
		return 0
	}
	return p
}

// featureNames lists the model's inputs in vector order: a vector
// feature f of width n becomes f[0]..f[n-1].
func featureNames(names []string, vals []udf.Value) []string {
	var out []string
	for i, v := range vals {
		n := fmt.Sprintf("f%d", i)
		if i < len(names) {
			n = names[i]
		}
		if v.K == udf.TypeVector {
			for j := range v.V {
				out = append(out, fmt.Sprintf("%s[%d]", n, j))
			}
			continue
		}
		out = append(out, n)
	}
	return out
}

// refit fits a fresh model per candidate on the window's rows (mode
// windowed) and publishes it.
func (o *Train) refit() error {
	jm := o.jm
	if len(o.bufX) == 0 {
		return nil
	}
	X := o.bufX
	for i, c := range jm.cands {
		m, err := jm.algo.New(c.params, jm.spec.Seed+int64(i))
		if err != nil {
			return err
		}
		var y []float64
		if jm.supervised() {
			y = o.bufY
		}
		if err := m.Fit(X, y); err != nil {
			o.rt.log.Warn("windowed fit failed; keeping the previous model", "model", jm.spec.Name, "rows", len(X), "err", err)
			continue
		}
		c.model = m
	}
	jm.learned += int64(len(X))
	o.learnedC.Add(int64(len(X)))
	jm.ready = true
	o.bufX, o.bufY = nil, o.bufY[:0]
	o.dirty = true
	return o.publish()
}

// closeEval reports the metrics of the evaluation window that ends.
func (o *Train) closeEval() {
	jm := o.jm
	for i, c := range jm.cands {
		if len(c.win.y) == 0 {
			continue
		}
		r := Report{Job: o.rt.opts.Job, Model: jm.spec.Name, Candidate: i, WindowStart: o.evalStart, WindowEnd: o.evalEnd,
			Rows: len(c.win.y), Metrics: c.win.compute(jm.metrics), Version: c.version}
		c.win.reset()
		o.report(r)
	}
}

func (o *Train) report(r Report) {
	o.jm.reports = append(o.jm.reports, r)
	if o.rt.opts.Publish != nil {
		b, _ := json.Marshal(r)
		if err := o.rt.opts.Publish(MetricsSubject(r.Job, r.Model), b); err != nil {
			o.rt.log.Warn("publish metrics", "model", r.Model, "err", err)
		}
	}
}

// DriftEvent is published to DriftSubject(job, model) when a drift
// detector trained in the job detects a change.
type DriftEvent struct {
	Job        string `json:"job"`
	Model      string `json:"model"`
	Row        int64  `json:"row"`                  // rows seen by the model so far
	EventTime  int64  `json:"event_time,omitempty"` // epoch ms of the row
	Detections int    `json:"detections"`
}

// DriftSubject is the subject drift events of a model are published to.
func DriftSubject(job, model string) string { return "flowrun.drift." + job + "." + model }

func (o *Train) drift(t int64, n int) {
	o.driftC.Add(1)
	ev := DriftEvent{Job: o.rt.opts.Job, Model: o.jm.spec.Name, Row: o.jm.rows, EventTime: t, Detections: n}
	o.rt.log.Info("drift detected", "model", ev.Model, "row", ev.Row, "event_time", udf.FormatTime(t))
	if o.rt.opts.Publish != nil {
		b, _ := json.Marshal(ev)
		if err := o.rt.opts.Publish(DriftSubject(ev.Job, ev.Model), b); err != nil {
			o.rt.log.Warn("publish drift event", "model", ev.Model, "err", err)
		}
	}
}

// MetricsSubject is the subject prequential metrics of a model are
// published to.
func MetricsSubject(job, model string) string { return "flowrun.metrics." + job + "." + model }

// publish stores a version of every candidate and, with several,
// promotes the best by the primary metric.
func (o *Train) publish() error {
	jm := o.jm
	o.sinceRows = 0
	o.lastPubT = o.lastT
	best := jm.best
	bestV := math.NaN()
	for i, c := range jm.cands {
		v, ok := c.cum.compute([]string{jm.primary})[jm.primary]
		if ok && better(jm.primary, v, bestV) {
			best, bestV = i, v
		}
	}
	jm.best = best
	reg := o.rt.opts.Registry
	if reg == nil || !o.dirty {
		return nil
	}
	o.dirty = false
	ctx, cancel := context.WithTimeout(o.rt.ctx, 30*time.Second)
	defer cancel()
	for i, c := range jm.cands {
		meta := registry.VersionMeta{Features: o.names, Label: jm.spec.Label, Labels: jm.classes.Clone(), Metrics: c.cum.compute(jm.metrics),
			Params: c.params, Job: o.rt.opts.Job,
			Description: fmt.Sprintf("%s training in job %s: %d rows, candidate %d of %d", o.mode, o.rt.opts.Job, jm.rows, i+1, len(jm.cands))}
		if o.firstT <= o.lastT {
			meta.Description += fmt.Sprintf(", event time %s..%s", udf.FormatTime(o.firstT), udf.FormatTime(o.lastT))
		}
		if o.src != "" {
			meta.Source = &registry.Source{Stream: o.src, FirstSeq: o.firstSeq, LastSeq: o.lastSeq}
		}
		v, err := reg.Publish(ctx, jm.spec.Name, c.model, meta)
		if err != nil {
			return fmt.Errorf("mlops: model %s: publish: %w", jm.spec.Name, err)
		}
		c.version = v
		o.pub.Add(1)
	}
	if len(jm.cands) > 1 {
		e, err := reg.Get(ctx, jm.spec.Name)
		if err == nil && e.Aliases[registry.Champion] != jm.cands[best].version {
			if err := reg.Promote(ctx, jm.spec.Name, jm.cands[best].version); err != nil {
				return fmt.Errorf("mlops: model %s: promote: %w", jm.spec.Name, err)
			}
		}
	}
	return nil
}

// OnWatermark closes the evaluation and training windows that ended.
func (o *Train) OnWatermark(wm int64, _ executor.Collector) error {
	if wm == executor.MaxWatermark {
		return nil // Close finishes
	}
	jm := o.jm
	jm.mu.Lock()
	defer jm.mu.Unlock()
	defer jm.cond.Broadcast()
	if o.evalMs > 0 && o.evalEnd != 0 && wm >= o.evalEnd {
		o.closeEval()
		o.evalEnd = 0
	}
	if o.mode == ml.ModeWindowed && o.winEnd != 0 && wm >= o.winEnd {
		o.winEnd = 0
		return o.refit()
	}
	return nil
}

type trainState struct {
	Rows, Learned int64
	Models        []json.RawMessage
	Labels        []string
	Classes       *registry.Labels `json:",omitempty"`
	NoClasses     bool             `json:",omitempty"`
}

// Snapshot saves the candidates' models and counts.
func (o *Train) Snapshot() ([]byte, error) {
	jm := o.jm
	jm.mu.Lock()
	defer jm.mu.Unlock()
	st := trainState{Rows: jm.rows, Learned: jm.learned, Labels: jm.labels, Classes: jm.classes, NoClasses: jm.noClasses}
	for _, c := range jm.cands {
		b, err := ml.Marshal(c.model)
		if err != nil {
			return nil, err
		}
		st.Models = append(st.Models, b)
	}
	return json.Marshal(st)
}

// Restore replaces the models and counts with a snapshot.
func (o *Train) Restore(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	var st trainState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("mlops: train: restore: %w", err)
	}
	jm := o.jm
	jm.mu.Lock()
	defer jm.mu.Unlock()
	if len(st.Models) != len(jm.cands) {
		return fmt.Errorf("mlops: train: restore: %d models, the job has %d candidates", len(st.Models), len(jm.cands))
	}
	for i, raw := range st.Models {
		m, err := ml.Unmarshal(raw)
		if err != nil {
			return fmt.Errorf("mlops: train: restore: %w", err)
		}
		jm.cands[i].model = m
	}
	jm.rows, jm.learned, jm.labels = st.Rows, st.Learned, st.Labels
	jm.labelIx = map[string]int{}
	jm.classes, jm.noClasses = st.Classes, st.NoClasses
	for i, l := range jm.labels {
		jm.labelIx[l] = i
		if st.Classes == nil && !st.NoClasses { // a snapshot from before classes were kept
			jm.addClass(registry.LabelString, i, l)
		}
	}
	jm.ready = jm.learned > 0
	return nil
}

// Close reports the last evaluation window and the run's cumulative
// metrics, fits the last window (mode windowed), publishes the final
// version, and releases PREDICT calls waiting for scores.
func (o *Train) Close(executor.Collector) error {
	jm := o.jm
	jm.mu.Lock()
	defer jm.mu.Unlock()
	defer jm.cond.Broadcast()
	defer func() { jm.closed = true }()
	if o.evalMs > 0 && o.evalEnd != 0 {
		o.closeEval()
	}
	var err error
	if o.mode == ml.ModeWindowed {
		err = o.refit()
	} else {
		err = o.publish()
	}
	for i, c := range jm.cands {
		r := Report{Job: o.rt.opts.Job, Model: jm.spec.Name, Candidate: i, Rows: len(c.cum.y),
			Metrics: c.cum.compute(jm.metrics), Version: c.version, Cumulative: true}
		o.report(r)
	}
	return err
}
