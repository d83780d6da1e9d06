package mlops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/eval"
	"github.com/flowrun/flowrun/executor/registry"
	"github.com/flowrun/flowrun/ml"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

// ErrUnsupported is returned by Runtime.Build for nodes that are not ML
// stages; callers fall back to their own operators.
var ErrUnsupported = errors.New("mlops: not an ML operator")

// Options configure a Runtime.
type Options struct {
	// Job is the job name (metrics subjects, registry metadata).
	Job string
	// Registry stores trained versions and serves models not trained in
	// the job; nil: nothing is published and PREDICT of such models is
	// NULL.
	Registry *registry.Registry
	// Models are the job's model declarations (for models scored but not
	// trained in the job: the expected algorithm and feature count).
	Models []spec.Model
	// Funcs holds the job's user functions (clean filters).
	Funcs *udf.Env
	// Publish sends a metrics report (JSON) to subject
	// flowrun.metrics.<job>.<model>; nil keeps reports only in Summary.
	Publish func(subject string, data []byte) error
	// WaitModel is how long the first PREDICT of a registry model waits
	// for a version to load (default 10s); afterwards PREDICT is NULL
	// until one is loaded.
	WaitModel time.Duration
	// PairTimeout is how long PREDICT waits, without progress of the
	// trainer, for the prequential score of its row (default 2s).
	PairTimeout time.Duration
	// Logger (nil: slog.Default()).
	Logger *slog.Logger
}

// Runtime is the ML side of one running job: it builds the Clean, Features
// and Train operators, holds the models trained in the job (shared by the
// Train operator that learns and the PREDICT calls that score), follows
// registry models through Handles, and collects counters and metrics for
// the run summary. It implements eval.Models; Predict is safe for
// concurrent use.
type Runtime struct {
	opts Options
	g    *planner.Graph
	log  *slog.Logger
	ctx  context.Context
	stop context.CancelFunc

	mu       sync.Mutex
	trained  map[string]*jobModel        // models trained in this job
	handles  map[string]*registry.Handle // registry models
	waited   map[string]bool             // first wait done
	warned   map[string]bool             // label mismatches logged, by model/version
	types    map[callKey]udf.Type        // result type of each model call
	counters map[string]*Counters        // by stage
	specs    map[string]*spec.Model      // by name
	reports  map[string][]Report         // by model
	vecPool  sync.Pool
}

var _ eval.Models = (*Runtime)(nil)

type callKey struct {
	model string
	kind  planner.ModelCallKind
}

// New prepares the runtime of graph g. It finds the models trained in the
// job (TrainOp nodes) and whether a PREDICT of such a model reads the same
// rows the model trains on (then PREDICT returns the prequential score:
// see doc.go).
func New(g *planner.Graph, opts Options) (*Runtime, error) {
	if opts.WaitModel <= 0 {
		opts.WaitModel = 10 * time.Second
	}
	if opts.PairTimeout <= 0 {
		opts.PairTimeout = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Job == "" && g != nil {
		opts.Job = g.Job
	}
	ctx, stop := context.WithCancel(context.Background())
	rt := &Runtime{opts: opts, g: g, log: opts.Logger, ctx: ctx, stop: stop,
		trained: map[string]*jobModel{}, handles: map[string]*registry.Handle{}, waited: map[string]bool{}, warned: map[string]bool{},
		types: map[callKey]udf.Type{}, counters: map[string]*Counters{}, specs: map[string]*spec.Model{},
		reports: map[string][]Report{}}
	rt.vecPool.New = func() any { return new(vectorizer) }
	for i := range opts.Models {
		rt.specs[opts.Models[i].Name] = &opts.Models[i]
	}
	if g == nil {
		return rt, nil
	}
	inputs := map[int][]int{} // node → producers
	for _, e := range g.Edges {
		inputs[e.To] = append(inputs[e.To], e.From)
	}
	calls := map[int][]*planner.ModelCall{} // node → model calls
	for _, n := range g.Nodes {
		for _, e := range opExprs(n.Op) {
			planner.WalkExpr(e, func(x planner.Expr) bool {
				if c, ok := x.(*planner.ModelCall); ok {
					calls[n.ID] = append(calls[n.ID], c)
					rt.types[callKey{c.Model, c.Kind}] = c.T
				}
				return true
			})
		}
	}
	for _, n := range g.Nodes {
		op, ok := n.Op.(*planner.TrainOp)
		if !ok {
			continue
		}
		m := op.Model
		if rt.specs[m.Name] == nil {
			rt.specs[m.Name] = &m
		}
		jm, err := newJobModel(&m)
		if err != nil {
			return nil, err
		}
		// Pairing: a node that calls the model and reads the same
		// producer as the Train node sees the same rows in the same order.
		for _, p := range inputs[n.ID] {
			for _, other := range g.Nodes {
				if other.ID == n.ID || !contains(inputs[other.ID], p) {
					continue
				}
				for _, c := range calls[other.ID] {
					if c.Model == m.Name && c.Kind != planner.ModelVersion {
						jm.pairKinds[c.Kind] = true
					}
				}
			}
		}
		jm.paired = len(jm.pairKinds) > 0
		rt.trained[m.Name] = jm
	}
	return rt, nil
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// opExprs returns the expressions of an operator.
func opExprs(op planner.Op) []planner.Expr {
	switch op := op.(type) {
	case *planner.ProjectOp:
		return op.Exprs
	case *planner.FilterOp:
		return []planner.Expr{op.Pred}
	case *planner.ChainOp:
		var out []planner.Expr
		for _, o := range op.Ops {
			out = append(out, opExprs(o)...)
		}
		return out
	case *planner.SourceOp:
		if op.Filter != nil {
			return []planner.Expr{op.Filter}
		}
	case *planner.JoinOp:
		if op.Residual != nil {
			return []planner.Expr{op.Residual}
		}
	case *planner.WindowAggOp:
		out := append([]planner.Expr(nil), op.Keys...)
		for _, a := range op.Aggs {
			out = append(out, a.Args...)
		}
		return out
	case *planner.GroupAggOp:
		out := append([]planner.Expr(nil), op.Keys...)
		for _, a := range op.Aggs {
			out = append(out, a.Args...)
		}
		return out
	}
	return nil
}

// Counters returns the counters of stage, creating them.
func (rt *Runtime) Counters(stage string) *Counters {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	c := rt.counters[stage]
	if c == nil {
		c = NewCounters(stage)
		rt.counters[stage] = c
	}
	return c
}

// Build builds the operator of one task of a CleanOp, FeaturesOp or
// TrainOp node; for other nodes it returns an error wrapping
// ErrUnsupported. It fits engine.Options.Build:
//
//	Build: func(n *planner.Node, in []planner.Schema) (executor.Operator, error) {
//		op, err := rt.Build(n, in)
//		if errors.Is(err, mlops.ErrUnsupported) {
//			err = fmt.Errorf("%w: %v", engine.ErrUnsupported, err)
//		}
//		return op, err
//	}
func (rt *Runtime) Build(node *planner.Node, in []planner.Schema) (executor.Operator, error) {
	switch op := node.Op.(type) {
	case *planner.CleanOp:
		return NewClean(op, node.Schema, rt.opts.Funcs, rt.Counters(node.Stage))
	case *planner.FeaturesOp:
		return NewFeatures(op, node.Schema)
	case *planner.TrainOp:
		var schema planner.Schema
		if len(in) > 0 {
			schema = in[0]
		}
		rt.mu.Lock()
		jm := rt.trained[op.Model.Name]
		key := callKey{op.Model.Name, planner.PredictLabel}
		if _, ok := rt.types[key]; !ok && op.Label >= 0 && op.Label < len(schema.Columns) {
			rt.types[key] = schema.Columns[op.Label].Type
		}
		rt.mu.Unlock()
		if jm == nil {
			var err error
			if jm, err = newJobModel(&op.Model); err != nil {
				return nil, err
			}
			rt.mu.Lock()
			rt.trained[op.Model.Name] = jm
			rt.mu.Unlock()
		}
		t, err := newTrain(rt, jm, op, schema)
		if err == nil {
			t.src = rt.sourceStream(node.ID)
		}
		return t, err
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupported, node.Op.Name())
}

// Predict scores args with model (eval.Models). A model trained in the job
// scores with its in-job state (the prequential score when paired, see
// doc.go); any other model with the registry's current version (champion,
// else latest), which a Handle swaps atomically: one call uses one fully
// loaded version. Before any version exists, or during warmup, the result
// is NULL.
func (rt *Runtime) Predict(kind planner.ModelCallKind, model string, args []udf.Value) (udf.Value, error) {
	rt.mu.Lock()
	jm := rt.trained[model]
	rt.mu.Unlock()
	t := rt.resultType(model, kind)
	z := rt.vecPool.Get().(*vectorizer)
	defer rt.vecPool.Put(z)
	if jm != nil {
		return jm.predict(kind, z, args, t, rt.opts.PairTimeout)
	}
	h, err := rt.handle(model)
	if err != nil {
		return udf.Null, err
	}
	if h == nil {
		return udf.Null, nil
	}
	l := h.Current()
	if l == nil {
		rt.mu.Lock()
		first := !rt.waited[model]
		rt.waited[model] = true
		rt.mu.Unlock()
		if first {
			ctx, cancel := context.WithTimeout(rt.ctx, rt.opts.WaitModel)
			l, _ = h.Wait(ctx)
			cancel()
		}
		if l == nil {
			return udf.Null, nil
		}
	}
	if kind == planner.ModelVersion {
		return udf.Int(int64(l.Version)), nil
	}
	x := z.vector(args)
	var out udf.Value
	var mismatch bool
	l.With(func(m ml.Model) { out, mismatch = score(m, kind, x, t, l.Meta.Labels) })
	if mismatch {
		rt.warnLabels(model, l, t)
	}
	return out, nil
}

// warnLabels logs, once per model version, that the version's labels do
// not convert to the type PREDICT_LABEL was planned with.
func (rt *Runtime) warnLabels(model string, l *registry.Loaded, t udf.Type) {
	key := fmt.Sprintf("%s/%d", model, l.Version)
	rt.mu.Lock()
	first := !rt.warned[key]
	rt.warned[key] = true
	rt.mu.Unlock()
	if first {
		rt.log.Warn("PREDICT_LABEL: the version's labels do not convert to the type of the model's label column; returning NULL for them",
			"model", model, "version", l.Version, "labels", l.Meta.Labels.String(), "type", t.String())
	}
}

// handle returns the Handle of a registry model (nil without registry).
func (rt *Runtime) handle(model string) (*registry.Handle, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if h := rt.handles[model]; h != nil {
		return h, nil
	}
	if rt.opts.Registry == nil {
		return nil, nil
	}
	var opts []registry.HandleOption
	if m := rt.specs[model]; m != nil {
		opts = append(opts, registry.Expect(m.Algorithm, 0))
	}
	h := rt.opts.Registry.Handle(model, opts...)
	rt.handles[model] = h
	return h, nil
}

func (rt *Runtime) resultType(model string, kind planner.ModelCallKind) udf.Type {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if t, ok := rt.types[callKey{model, kind}]; ok {
		return t
	}
	switch kind {
	case planner.ModelVersion:
		return udf.TypeBigint
	case planner.PredictLabel:
		return udf.TypeAny
	}
	return udf.TypeDouble
}

// score computes PREDICT or PREDICT_LABEL of x with m, as a value of type
// t; labels are the classifier's labels in class-number order (nil: the
// class number is the label). mismatch reports a label that does not
// convert to t (the value is then NULL).
func score(m ml.Model, kind planner.ModelCallKind, x ml.Vector, t udf.Type, labels *registry.Labels) (v udf.Value, mismatch bool) {
	kindOf := ml.Kind("")
	if a, ok := ml.Lookup(m.Algorithm()); ok {
		kindOf = a.Kind
	}
	if kind == planner.Predict {
		p := m.Predict(x)
		if math.IsNaN(p) {
			return udf.Null, false
		}
		if kindOf == ml.KindClusterer || t == udf.TypeBigint {
			return udf.Int(int64(p)), false
		}
		return udf.Float(p), false
	}
	var c float64
	switch mm := m.(type) {
	case ml.Classifier:
		c = mm.PredictLabel(x)
	case interface{ IsAnomaly(float64) bool }:
		return udf.Bool(mm.IsAnomaly(m.Predict(x))), false
	default:
		c = m.Predict(x)
		labels = nil
	}
	return labelValue(c, t, labels)
}

// labelValue converts class c to a PREDICT_LABEL value of type t: the
// label of class c when labels list it (converted to t when the model was
// trained on a column of another type; NULL, with mismatch, when that
// fails), NULL for a class without a string label, else the class number
// as a t (as a double when t is not known).
func labelValue(c float64, t udf.Type, labels *registry.Labels) (v udf.Value, mismatch bool) {
	if math.IsNaN(c) {
		return udf.Null, false
	}
	if l, ok := labels.Label(c); ok {
		var lv udf.Value
		switch x := l.(type) {
		case string:
			lv = udf.Str(x)
		case int64:
			lv = udf.Int(x)
		case bool:
			lv = udf.Bool(x)
		default:
			return udf.Null, true
		}
		if t == udf.TypeAny || t == udf.TypeNull || t == lv.K {
			return lv, false
		}
		out, err := eval.Cast(lv, t)
		if err != nil {
			return udf.Null, true
		}
		return out, false
	}
	if labels != nil && labels.Type == registry.LabelString {
		return udf.Null, false // a class no training row named
	}
	switch t {
	case udf.TypeAny, udf.TypeNull:
		return udf.Float(c), false
	}
	return fromFloat(c, t), false
}

// Close stops the registry handles.
func (rt *Runtime) Close() {
	rt.stop()
	rt.mu.Lock()
	hs := rt.handles
	rt.handles = map[string]*registry.Handle{}
	rt.mu.Unlock()
	for _, h := range hs {
		h.Close()
	}
}

// sourceStream returns the stream of the first source upstream of node id
// ("" when there is none or no graph).
func (rt *Runtime) sourceStream(id int) string {
	if rt.g == nil {
		return ""
	}
	seen := map[int]bool{}
	for len(seen) < len(rt.g.Nodes)+1 {
		seen[id] = true
		for _, n := range rt.g.Nodes {
			if n.ID == id {
				if s, ok := n.Op.(*planner.SourceOp); ok {
					return s.Stream
				}
			}
		}
		next := -1
		for _, e := range rt.g.Edges {
			if e.To == id && !seen[e.From] {
				next = e.From
				break
			}
		}
		if next < 0 {
			return ""
		}
		id = next
	}
	return ""
}

// Builder returns Build as an engine builder: errors for nodes that are
// not ML stages wrap unsupported (pass engine.ErrUnsupported), so the
// engine falls back to its own operators:
//
//	engine.Options{Build: rt.Builder(engine.ErrUnsupported), Env: &eval.Env{Funcs: funcs, Models: rt}}
func (rt *Runtime) Builder(unsupported error) func(*planner.Node, []planner.Schema) (executor.Operator, error) {
	return func(n *planner.Node, in []planner.Schema) (executor.Operator, error) {
		op, err := rt.Build(n, in)
		if errors.Is(err, ErrUnsupported) && unsupported != nil {
			err = fmt.Errorf("%w: %w", unsupported, err)
		}
		return op, err
	}
}
