package mlops

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/eval"
	"github.com/flowrun/flowrun/executor/jetstream"
	"github.com/flowrun/flowrun/executor/registry"
	"github.com/flowrun/flowrun/executor/stateless"
	"github.com/flowrun/flowrun/ml"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

// Errors of batch training, checked with errors.Is.
var (
	ErrNoModel   = errors.New("mlops: no such model")
	ErrNoInput   = errors.New("mlops: missing input")
	ErrBatchPath = errors.New("mlops: cannot replay the model's input in batch")
	ErrNoRows    = errors.New("mlops: no training rows")
)

// BatchOptions configure TrainBatch.
type BatchOptions struct {
	// Inputs maps a source name to a file of its records (JSON lines or
	// CSV as the source's format says; .gz files are decompressed).
	Inputs map[string]string
	// Registry receives the trained version (nil: train and report only).
	Registry *registry.Registry
	// Funcs holds the job's user functions (clean filters, SQL stages).
	Funcs *udf.Env
	// NoPromote keeps the champion alias where it is.
	NoPromote bool
}

// BatchResult is the outcome of TrainBatch.
type BatchResult struct {
	Model      string             `json:"model"`
	Algorithm  string             `json:"algorithm"`
	Rows       int                `json:"rows"`
	Skipped    int                `json:"skipped"` // records that failed to decode or clean, rows without label
	Metric     string             `json:"metric,omitempty"`
	Validation string             `json:"validation,omitempty"`
	Trials     []TrialResult      `json:"trials,omitempty"`
	Best       int                `json:"best"`
	Params     map[string]any     `json:"params"`
	Metrics    map[string]float64 `json:"metrics"` // the winner's validation metrics
	Version    int                `json:"version,omitempty"`
	Promoted   bool               `json:"promoted,omitempty"`
}

// TrialResult is one configuration tried by tuning.
type TrialResult struct {
	Params     map[string]any `json:"params"`
	Score      float64        `json:"score"`
	FoldScores []float64      `json:"fold_scores,omitempty"`
	Err        string         `json:"error,omitempty"`
}

// TrainBatch trains model name of pipeline p on a bounded replay of its
// from: relation, decoded from files: the records of the source go
// through the same decoder and the same Clean, Features and stateless SQL
// operators as in a run (other operators, such as windows and joins, are
// refused with ErrBatchPath). With tuning:, the search (grid or random,
// k-fold or holdout, ml.Tune) picks the parameters; the winner's metrics
// are measured on a holdout (the last tuning.validation.holdout fraction,
// default 0.2, of the rows in file order), then it is fitted on every row,
// published to the registry and promoted to champion.
func TrainBatch(ctx context.Context, p *spec.Pipeline, name string, opts BatchOptions) (*BatchResult, error) {
	var m *spec.Model
	for i := range p.Spec.Models {
		if p.Spec.Models[i].Name == name {
			m = &p.Spec.Models[i]
		}
	}
	if m == nil {
		var names []string
		for _, x := range p.Spec.Models {
			names = append(names, x.Name)
		}
		return nil, fmt.Errorf("%w %q in job %s (models: %s)", ErrNoModel, name, p.Metadata.Name, strings.Join(names, ", "))
	}
	algo, ok := ml.Lookup(m.Algorithm)
	if !ok {
		return nil, fmt.Errorf("model %s: %w %q", name, ml.ErrUnknownAlgorithm, m.Algorithm)
	}
	g, train, err := batchGraph(p, m, algo)
	if err != nil {
		return nil, err
	}
	rows, skipped, err := replay(ctx, g, train, opts)
	if err != nil {
		return nil, err
	}
	op := train.Op.(*planner.TrainOp)
	jm, err := newJobModel(m)
	if err != nil {
		return nil, err
	}
	var (
		X     []ml.Vector
		y     []float64
		z     vectorizer
		args  []udf.Value
		names []string
	)
	for _, r := range rows {
		args = args[:0]
		for _, f := range op.Features {
			args = append(args, r[f])
		}
		if names == nil {
			names = featureNames(m.Features, args)
		}
		var yy float64
		if op.Label >= 0 {
			var ok bool
			if yy, ok = jm.label(r[op.Label]); !ok {
				skipped++
				continue
			}
		}
		X = append(X, z.vector(args).Clone()) // sparse when mostly zero, as in online training
		y = append(y, yy)
	}
	if len(X) == 0 {
		return nil, fmt.Errorf("%w: model %s: 0 rows with features and label (%d skipped)", ErrNoRows, name, skipped)
	}
	res := &BatchResult{Model: name, Algorithm: m.Algorithm, Rows: len(X), Skipped: skipped, Best: -1, Metric: jm.primary}
	params := map[string]any{}
	for k, v := range m.Params {
		params[k] = v
	}
	holdout := 0.2
	if t := m.Tuning; t != nil {
		ts := ml.TuneSpec{Algorithm: m.Algorithm, Params: params, Space: map[string]ml.Distribution{}, Method: t.Method,
			Trials: t.Trials, Seed: t.Seed, Metric: t.Metric}
		if ts.Metric == "" {
			ts.Metric = jm.primary
		}
		if ts.Method == "" {
			ts.Method = "grid"
		}
		res.Metric = ts.Metric
		if v := t.Validation; v != nil {
			ts.KFold, ts.Holdout = v.KFold, v.Holdout
			if v.Holdout > 0 {
				holdout = v.Holdout
			}
		}
		if ts.KFold > 1 {
			res.Validation = fmt.Sprintf("kfold %d", ts.KFold)
		} else {
			res.Validation = fmt.Sprintf("holdout %g", max(ts.Holdout, 0.2))
		}
		for _, k := range sortedKeys(t.Params) {
			d, err := distribution(algo, k, t.Params[k])
			if err != nil {
				return nil, fmt.Errorf("model %s: tuning %s: %w", name, k, err)
			}
			ts.Space[k] = d
		}
		tr, err := ml.Tune(ctx, ts, X, y)
		if err != nil {
			return nil, fmt.Errorf("model %s: tuning: %w", name, err)
		}
		for _, trial := range tr.Trials {
			r := TrialResult{Params: trial.Params, Score: trial.Score, FoldScores: trial.FoldScores}
			if trial.Err != nil {
				r.Err = trial.Err.Error()
			}
			res.Trials = append(res.Trials, r)
		}
		if tr.Best < 0 {
			return res, fmt.Errorf("model %s: every tuning trial failed", name)
		}
		res.Best = tr.Best
		params = tr.BestParams(ts)
	}
	res.Params = params
	// Validation metrics of the winner on the holdout.
	cut := len(X) - int(math.Round(holdout*float64(len(X))))
	if cut > 0 && cut < len(X) {
		mv, err := algo.New(params, m.Seed)
		if err != nil {
			return nil, err
		}
		var yt []float64
		if jm.supervised() {
			yt = y[:cut]
		}
		if err := mv.Fit(X[:cut], yt); err != nil {
			return nil, fmt.Errorf("model %s: fit: %w", name, err)
		}
		var acc evalAcc
		for i := cut; i < len(X); i++ {
			p := mv.Predict(X[i])
			acc.add(y[i], p, decision(mv, X[i], p))
		}
		res.Metrics = acc.compute(jm.metrics)
	}
	final, err := algo.New(params, m.Seed)
	if err != nil {
		return nil, err
	}
	var yall []float64
	if jm.supervised() {
		yall = y
	}
	if err := final.Fit(X, yall); err != nil {
		return nil, fmt.Errorf("model %s: fit: %w", name, err)
	}
	if opts.Registry != nil {
		var files []string
		for _, k := range sortedKeys(opts.Inputs) {
			files = append(files, opts.Inputs[k])
		}
		meta := registry.VersionMeta{Features: names, Label: m.Label, Labels: jm.classes.Clone(), Metrics: res.Metrics, Params: params, Job: p.Metadata.Name,
			Source:      &registry.Source{File: strings.Join(files, ",")},
			Description: fmt.Sprintf("batch training of %d rows (flowrun train)", len(X))}
		v, err := opts.Registry.Publish(ctx, name, final, meta)
		if err != nil {
			return res, err
		}
		res.Version = v
		if !opts.NoPromote {
			if err := opts.Registry.Promote(ctx, name, v); err != nil {
				return res, err
			}
			res.Promoted = true
		}
	}
	return res, nil
}

// distribution turns a tuning entry (a list of values, or {min, max,
// log}) into an ml.Distribution.
func distribution(a *ml.Algorithm, name string, v any) (ml.Distribution, error) {
	switch x := v.(type) {
	case []any:
		return ml.Choice(x...), nil
	case map[string]any:
		lo, ok1 := toFloat(x["min"])
		hi, ok2 := toFloat(x["max"])
		if !ok1 || !ok2 {
			return ml.Distribution{}, fmt.Errorf("want a list of values or {min, max, log}")
		}
		if p, ok := a.Param(name); ok && p.Type == ml.TypeInt {
			return ml.IntUniform(int(lo), int(hi)), nil
		}
		if l, _ := x["log"].(bool); l {
			return ml.LogUniform(lo, hi), nil
		}
		return ml.Uniform(lo, hi), nil
	}
	return ml.Choice(v), nil
}

// batchGraph plans p with model m trained in the job, so that the plan
// holds a Train node whose input is m's from: relation.
func batchGraph(p *spec.Pipeline, m *spec.Model, algo *ml.Algorithm) (*planner.Graph, *planner.Node, error) {
	cp := *p
	cp.Spec.Models = append([]spec.Model(nil), p.Spec.Models...)
	for i := range cp.Spec.Models {
		mm := &cp.Spec.Models[i]
		if mm.Name != m.Name {
			continue
		}
		mm.Tuning, mm.Candidates = nil, nil
		tr := spec.Training{Mode: ml.ModeOnline}
		if !algo.SupportsMode(ml.ModeOnline) {
			tr = spec.Training{Mode: ml.ModeWindowed, Window: spec.Duration(24 * 3600e9)}
		}
		mm.Training = &tr
	}
	g, ds := planner.Plan(&cp)
	if g == nil || ds.HasErrors() {
		return nil, nil, fmt.Errorf("plan job %s: %v", p.Metadata.Name, ds)
	}
	for _, n := range g.Nodes {
		if t, ok := n.Op.(*planner.TrainOp); ok && t.Model.Name == m.Name {
			return g, n, nil
		}
	}
	return nil, nil, fmt.Errorf("%w: the plan has no node training %s", ErrBatchPath, m.Name)
}

// replay decodes the input file of the source under train and runs it
// through the nodes between; it returns the rows train would receive.
func replay(ctx context.Context, g *planner.Graph, train *planner.Node, opts BatchOptions) ([]udf.Row, int, error) {
	byID := map[int]*planner.Node{}
	for _, n := range g.Nodes {
		byID[n.ID] = n
	}
	var chain []*planner.Node // source first
	id := train.ID
	for {
		var from []int
		for _, e := range g.Edges {
			if e.To == id {
				from = append(from, e.From)
			}
		}
		if len(from) == 0 {
			break
		}
		if len(from) > 1 {
			return nil, 0, fmt.Errorf("%w: node %d (%s) has %d inputs", ErrBatchPath, id, byID[id].Op.Name(), len(from))
		}
		id = from[0]
		chain = append([]*planner.Node{byID[id]}, chain...)
	}
	src, ok := chain[0].Op.(*planner.SourceOp)
	if !ok {
		return nil, 0, fmt.Errorf("%w: the input does not start at a source", ErrBatchPath)
	}
	file := opts.Inputs[src.Source]
	if file == "" {
		return nil, 0, fmt.Errorf("%w: give --input %s=FILE", ErrNoInput, src.Source)
	}
	dec, err := jetstream.NewDecoder(src, 0)
	if err != nil {
		return nil, 0, err
	}
	rt, _ := New(nil, Options{Funcs: opts.Funcs})
	var ops []executor.Operator
	for i, n := range chain[1:] {
		in := []planner.Schema{chain[i].Schema}
		var op executor.Operator
		var err error
		switch n.Op.(type) {
		case *planner.CleanOp, *planner.FeaturesOp:
			op, err = rt.Build(n, in)
		case *planner.FilterOp, *planner.ProjectOp, *planner.ChainOp:
			op, err = stateless.New(n, in, &eval.Env{Funcs: opts.Funcs})
		default:
			err = fmt.Errorf("%w: stage %s runs %s; train from a source or from clean, features or stateless SQL stages",
				ErrBatchPath, n.Stage, n.Op.Name())
		}
		if err != nil {
			return nil, 0, err
		}
		ops = append(ops, op)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrNoInput, err)
	}
	defer f.Close()
	var r io.Reader = bufio.NewReaderSize(f, 1<<20)
	if strings.HasSuffix(file, ".gz") {
		if r, err = gzip.NewReader(r); err != nil {
			return nil, 0, err
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), jetstream.DefaultMaxRecord)
	skipped := 0
	var out collector
	batch := &executor.Batch{}
	flush := func() error {
		cur := batch
		for i, op := range ops {
			next := &collector{}
			if err := op.Process(0, cur, next); err != nil {
				return fmt.Errorf("stage %s: %w", chain[i+1].Stage, err)
			}
			skipped += next.dead
			cur = &next.b
		}
		out.b.Rows = append(out.b.Rows, cur.Rows...)
		batch = &executor.Batch{}
		return ctx.Err()
	}
	first := true
	var seq uint64
	for sc.Scan() {
		line := sc.Bytes()
		if first && src.Format == "csv" && src.CSV.Header {
			first = false
			continue
		}
		first = false
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		row := make(udf.Row, dec.Width())
		if derr := dec.Decode(append([]byte(nil), line...), row); derr != nil {
			skipped++
			continue
		}
		seq++
		batch.Append(row, seq)
		if batch.Len() >= 1024 {
			if err := flush(); err != nil {
				return nil, 0, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, 0, err
	}
	if err := flush(); err != nil {
		return nil, 0, err
	}
	for _, op := range ops {
		if err := op.OnWatermark(executor.MaxWatermark, &collector{}); err == nil {
			_ = op.Close(&collector{})
		}
	}
	return out.b.Rows, skipped, nil
}

// collector gathers emitted rows and counts dead letters.
type collector struct {
	b    executor.Batch
	dead int
}

func (c *collector) Emit(r udf.Row, id uint64)                          { c.b.Append(r, id) }
func (c *collector) DeadLetter(executor.Class, string, udf.Row, []byte) { c.dead++ }
