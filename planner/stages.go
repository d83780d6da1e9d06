package planner

import (
	"fmt"
	"strings"

	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

// input resolves the from: of a clean or features stage, a model or a sink.
func (pl *planner) input(name string, pos spec.Pos, label string) Rel {
	if name == "" {
		return nil // spec reports the missing from:
	}
	n, ok := pl.relation(name, pos)
	if !ok {
		pl.errf(ErrUnknown, pos, didYouMean(name, pl.relNames()), "%s: unknown source or stage %q", label, name)
		return nil
	}
	return n
}

// checkColumn reports a column of a stage spec that its input lacks.
func (pl *planner) checkColumn(s Schema, name string, pos spec.Pos, label string) int {
	i := s.Index(name)
	if i < 0 {
		pl.errf(ErrUnknown, pos, didYouMean(name, s.Names()), "%s: unknown column %q", label, name)
	}
	return i
}

func (pl *planner) bindClean(st *spec.Stage) Rel {
	path := pl.stagePath(st)
	label := "stage " + st.Name
	in := pl.input(st.From, pl.at(st.FromPos, path+".from"), label)
	if in == nil {
		return nil
	}
	s := in.Schema()
	c := st.Clean
	if c.Dedup != nil {
		for j, k := range c.Dedup.Key {
			pl.checkColumn(s, k, pl.p.PosOf(fmt.Sprintf("%s.clean.dedup.key[%d]", path, j)), label)
		}
	}
	for _, im := range c.Impute {
		pl.checkColumn(s, im.Column, im.Pos, label)
		for _, k := range im.By {
			pl.checkColumn(s, k, im.Pos, label)
		}
	}
	for _, o := range c.Outliers {
		if i := pl.checkColumn(s, o.Column, o.Pos, label); i >= 0 && !s.Columns[i].Type.Numeric() {
			pl.errf(ErrType, o.Pos, "", "%s: outliers of %q need a numeric column, it is %s", label, o.Column, s.Columns[i].Type)
		}
	}
	pl.predicate(c.Filter, s, label+" filter")
	// The output schema does not depend on these errors: stages downstream
	// are still checked (the plan is not built while there are errors).
	return NewClean(c, in)
}

// at returns p if known, else the position of path.
func (pl *planner) at(p spec.Pos, path string) spec.Pos {
	if p.Line > 0 {
		return p
	}
	return pl.p.PosOf(path)
}

// predicate type-checks an expr-lang predicate over the columns of s.
func (pl *planner) predicate(t *spec.Text, s Schema, what string) {
	if t == nil || strings.TrimSpace(t.Value) == "" {
		return
	}
	cols := make([]udf.Column, len(s.Columns))
	for i, c := range s.Columns {
		cols[i] = udf.Column{Name: c.Name, Type: c.Type}
	}
	_, errs := compilePredicate(t.Value, cols, pl.env)
	for _, e := range errs {
		pl.errf(ErrExpr, t.PosAt(e.Offset), "", "%s: %s", what, e.Msg)
	}
}

func compilePredicate(src string, cols []udf.Column, env *udf.Env) (p *udf.Program, errs []udf.CompileError) {
	defer func() {
		if r := recover(); r != nil {
			p, errs = nil, []udf.CompileError{{Msg: fmt.Sprintf("internal error compiling expression: %v", r)}}
		}
	}()
	return udf.CompilePredicate(src, cols, env)
}

// cleanSchema is the output of a clean stage: its input, with imputed
// columns not nullable and a <col>_outlier bool per flagged column.
func cleanSchema(c *spec.Clean, in Schema) Schema {
	s := in.clone()
	for _, im := range c.Impute {
		if i := s.Index(im.Column); i >= 0 && im.Method != "previous" {
			s.Columns[i].Nullable = false
		}
	}
	for _, o := range c.Outliers {
		if o.Action == "flag" {
			name := o.Column + "_outlier"
			if s.Index(name) < 0 {
				s.Columns = append(s.Columns, Column{Name: name, Type: udf.TypeBool})
			}
		}
	}
	return s
}

func (pl *planner) bindFeatures(st *spec.Stage) Rel {
	path := pl.stagePath(st)
	label := "stage " + st.Name
	in := pl.input(st.From, pl.at(st.FromPos, path+".from"), label)
	if in == nil {
		return nil
	}
	s := in.Schema()
	for j, f := range st.Features {
		fp := fmt.Sprintf("%s.features[%d]", path, j)
		check := func(name, sub string, want func(udf.Type) bool, wantName string) {
			pos := pl.at(f.Pos, fp)
			if p := pl.p.PosOf(fp + sub); p.Line > 0 {
				pos = p
			}
			i := pl.checkColumn(s, name, pos, label)
			if i >= 0 && want != nil && !want(s.Columns[i].Type) {
				pl.errf(ErrType, pos, "", "%s: column %q is %s, the transform needs %s", label, name, s.Columns[i].Type, wantName)
			}
		}
		numeric := func(t udf.Type) bool { return t.Numeric() || t == udf.TypeBool }
		scalar := func(t udf.Type) bool { return t != udf.TypeVector }
		switch {
		case f.OneHot != nil:
			check(f.OneHot.Input, ".onehot.input", scalar, "a scalar")
		case f.Hash != nil:
			for k, x := range f.Hash.Inputs {
				check(x, fmt.Sprintf(".hash.inputs[%d]", k), scalar, "a scalar")
			}
		case f.Scale != nil:
			for k, x := range f.Scale.Inputs {
				check(x, fmt.Sprintf(".scale.inputs[%d]", k), numeric, "a number")
			}
		case f.TFIDF != nil:
			check(f.TFIDF.Input, ".tfidf.input", func(t udf.Type) bool { return t == udf.TypeString }, "a string")
		case f.Window != nil:
			check(f.Window.Input, ".window.input", numeric, "a number")
			for k, x := range f.Window.Key {
				check(x, fmt.Sprintf(".window.key[%d]", k), scalar, "a scalar")
			}
		}
		// Later transforms see the outputs of earlier ones.
		s = featuresSchema(st.Features[j:j+1], s)
	}
	// The output schema does not depend on these errors: stages downstream
	// are still checked (the plan is not built while there are errors).
	return NewFeatures(st.Features, in)
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func oneHotOutput(o *spec.OneHot) string { return or(o.Output, o.Input) }

func hashDims(h *spec.HashFeature) int {
	if h.Dims > 0 {
		return h.Dims
	}
	return 1024
}

func tfidfDims(t *spec.TFIDF) int {
	if t.Dims > 0 {
		return t.Dims
	}
	return 65536
}

func windowSize(w *spec.WindowFeature) int {
	if w.Size > 0 {
		return w.Size
	}
	return 32
}

func scaleOutputs(s *spec.Scale) []string {
	out := make([]string, len(s.Inputs))
	for i, x := range s.Inputs {
		out[i] = x
		if i < len(s.Outputs) && s.Outputs[i] != "" {
			out[i] = s.Outputs[i]
		}
	}
	return out
}

// featuresSchema is the output of a features stage: its input plus (or
// with replaced) the output columns of each transform: vectors for onehot,
// hash, tfidf and window; doubles for scale.
func featuresSchema(fs []spec.Feature, in Schema) Schema {
	s := in.clone()
	set := func(name string, t udf.Type) {
		if name == "" {
			return
		}
		if i := s.Index(name); i >= 0 {
			nullable := s.Columns[i].Nullable && t != udf.TypeVector
			s.Columns[i] = Column{Name: s.Columns[i].Name, Type: t, Nullable: nullable}
			if i == s.EventTime && t != udf.TypeTimestamp {
				s.EventTime = -1
			}
			return
		}
		s.Columns = append(s.Columns, Column{Name: name, Type: t})
	}
	for _, f := range fs {
		switch {
		case f.OneHot != nil:
			set(oneHotOutput(f.OneHot), udf.TypeVector)
		case f.Hash != nil:
			set(f.Hash.Output, udf.TypeVector)
		case f.TFIDF != nil:
			set(or(f.TFIDF.Output, f.TFIDF.Input), udf.TypeVector)
		case f.Window != nil:
			set(or(f.Window.Output, f.Window.Input), udf.TypeVector)
		case f.Scale != nil:
			for _, o := range scaleOutputs(f.Scale) {
				set(o, udf.TypeDouble)
			}
		}
	}
	return s
}

// bindModel returns the Train node of a model trained in the pipeline
// (training mode online or windowed); nil for batch models, which
// `flowrun train` fits.
func (pl *planner) bindModel(i int) Rel {
	m := &pl.p.Spec.Models[i]
	path := fmt.Sprintf("spec.models[%d]", i)
	label := "model " + m.Name
	mode := "online"
	if m.Training != nil && m.Training.Mode != "" {
		mode = m.Training.Mode
	}
	in := pl.input(m.From, pl.p.PosOf(path+".from"), label)
	if in == nil {
		return nil
	}
	s := in.Schema()
	n := len(pl.diags)
	var feats []int
	for j, f := range m.Features {
		k := pl.checkColumn(s, f, pl.p.PosOf(fmt.Sprintf("%s.features[%d]", path, j)), label)
		if k >= 0 {
			if t := s.Columns[k].Type; !(t.Numeric() || t == udf.TypeBool || t == udf.TypeVector) {
				pl.errf(ErrType, pl.p.PosOf(fmt.Sprintf("%s.features[%d]", path, j)), "encode it in a features: stage (onehot, hash, tfidf)",
					"%s: feature %q is %s; features must be numeric, bool or vector", label, f, t)
			}
		}
		feats = append(feats, k)
	}
	label_ := -1
	if m.Label != "" {
		label_ = pl.checkColumn(s, m.Label, pl.p.PosOf(path+".label"), label)
	}
	if len(pl.diags) > n || mode == "batch" {
		return nil
	}
	return &Train{Model: m, Features: feats, Label: label_, Input: in}
}

// bindSink returns the Sink node of sink i.
func (pl *planner) bindSink(i int) Rel {
	sk := &pl.p.Spec.Sinks[i]
	path := fmt.Sprintf("spec.sinks[%d]", i)
	label := "sink " + sk.Name
	in := pl.input(sk.From, pl.at(sk.FromPos, path+".from"), label)
	if in == nil {
		return nil
	}
	s := in.Schema()
	op := &SinkOp{Sink: sk.Name, Format: or(sk.Format, "json")}
	if sk.JetStream != nil {
		op.Stream, op.Subject, op.DuplicateWindow = sk.JetStream.Stream, sk.JetStream.Subject, sk.JetStream.DuplicateWindow
	}
	n := len(pl.diags)
	if sk.KV != nil {
		op.Bucket = sk.KV.Bucket
		for j, k := range sk.KV.Key {
			op.Key = append(op.Key, pl.checkColumn(s, k, pl.p.PosOf(fmt.Sprintf("%s.kv.key[%d]", path, j)), label))
		}
		if len(sk.KV.Key) == 0 {
			op.Key = append([]int(nil), s.Key...)
			if len(op.Key) == 0 {
				pl.errf(ErrStage, pl.p.PosOf(path+".kv"), "name the key columns: kv: {bucket: ..., key: [col]}",
					"%s: kv needs a key; the rows of %q have none", label, sk.From)
			}
		}
	}
	if sk.Where != nil {
		op.Where = *sk.Where
		pl.predicate(sk.Where, s, label+" where")
	}
	if len(pl.diags) > n {
		return nil
	}
	return &Sink{Op: op, Input: in}
}
