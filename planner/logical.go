package planner

import (
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

// Rel is a logical plan node. Nodes are immutable values: rewrite rules
// build new nodes with WithChildren or the NewXxx constructors and never
// change a node in place. A logical plan is a DAG: a stage read by several
// consumers is one shared node.
type Rel interface {
	// Schema is the layout of the rows the node emits, with event-time and
	// key columns.
	Schema() Schema
	// Children returns the inputs (port order).
	Children() []Rel
	// WithChildren returns a copy of the node with new inputs; it panics if
	// the number of children is wrong.
	WithChildren(children ...Rel) Rel
	// String describes the node on one line for EXPLAIN.
	String() string
}

// Scan reads a source: it lowers to a SourceOp.
type Scan struct {
	Src    *SourceOp // settings; Columns and Filter are the pushed-down projection and filter
	schema Schema
}

// Filter keeps rows where Pred is true.
type Filter struct {
	Pred  Expr
	Input Rel
}

// Project computes one named column per expression.
type Project struct {
	Exprs  []Expr
	Names  []string
	Input  Rel
	schema Schema
	// helper marks a projection the planner added (to compute join or
	// group keys, or to cast UNION ALL inputs): its pass-through columns
	// that nothing reads may be pruned.
	helper bool
}

// newHelperProject returns a projection added by the planner.
func newHelperProject(exprs []Expr, names []string, input Rel) *Project {
	p := NewProject(exprs, names, input)
	p.helper = true
	return p
}

// rebuild returns a projection like n with new expressions and input.
func (n *Project) rebuild(exprs []Expr, names []string, input Rel) *Project {
	p := NewProject(exprs, names, input)
	p.helper = n.helper
	return p
}

// WindowAgg is a GROUP BY with a group window.
type WindowAgg struct {
	Window Window
	Keys   []Expr
	Aggs   []AggCall
	Names  []string // keys, then aggregates
	Input  Rel
	schema Schema
}

// GroupAgg is an unwindowed, continuously updating GROUP BY.
type GroupAgg struct {
	Keys   []Expr
	Aggs   []AggCall
	Names  []string // keys, then aggregates
	Input  Rel
	schema Schema
}

// Join joins two inputs; Spec holds kind, keys, bounds and residual.
type Join struct {
	Spec JoinOp
	L, R Rel
}

// Union merges its inputs, whose columns match by position (UNION ALL).
type Union struct {
	Inputs []Rel
	schema Schema
}

// NewUnion returns the union of inputs with equal column types: names come
// from the first input; a column is nullable when it is in any input; the
// event time is kept when every input has it at the same position.
func NewUnion(inputs []Rel) *Union {
	s := inputs[0].Schema().clone()
	s.Key, s.Window = nil, nil
	for _, in := range inputs[1:] {
		is := in.Schema()
		for i := range s.Columns {
			if i < len(is.Columns) && is.Columns[i].Nullable {
				s.Columns[i].Nullable = true
			}
		}
		if is.EventTime != s.EventTime {
			s.EventTime = -1
		}
	}
	return &Union{Inputs: inputs, schema: s}
}

// Clean is a clean: stage.
type Clean struct {
	Spec   *spec.Clean
	Input  Rel
	schema Schema
}

// Features is a features: stage.
type Features struct {
	Spec   []spec.Feature
	Input  Rel
	schema Schema
}

// Train trains a model on its input.
type Train struct {
	Model    *spec.Model
	Features []int
	Label    int
	Input    Rel
}

// Sink writes its input to JetStream.
type Sink struct {
	Op    *SinkOp
	Input Rel
}

// Stage marks the output of a named stage. It has no operator of its own:
// the nodes under it (down to the next Stage or Scan) belong to the stage.
type Stage struct {
	Name   string
	Table  *spec.Table
	Limits *spec.StateLimits
	Input  Rel
}

// Exchange repartitions its input by hash of Keys (an edge with Hash routing
// in the physical plan).
type Exchange struct {
	Keys  []int
	Input Rel
}

// Chain is stateless operators (FilterOp, ProjectOp) run one after the
// other in one goroutine.
type Chain struct {
	Ops    []Op
	Input  Rel
	schema Schema
}

// NewScan returns a Scan of the columns src.Columns of the source's
// declared schema.
func NewScan(src *SourceOp, eventTimeCol string) *Scan {
	s := Schema{EventTime: -1}
	for j, i := range src.Columns {
		d := src.Decl[i]
		s.Columns = append(s.Columns, Column{Name: d.Name, Type: d.Type, Nullable: d.Nullable})
		if d.Name == eventTimeCol && eventTimeCol != "" {
			s.EventTime = j
		}
	}
	return &Scan{Src: src, schema: s}
}

// NewProject returns a projection; its schema keeps event time, key and
// window columns that are passed through unchanged.
func NewProject(exprs []Expr, names []string, input Rel) *Project {
	in := input.Schema()
	idx := make([]int, len(exprs))
	for j, e := range exprs {
		idx[j] = -1
		if c, ok := e.(*ColumnRef); ok {
			idx[j] = c.Index
		}
	}
	s := fixSchema(Schema{Columns: make([]Column, len(exprs))}, idx, in)
	for j, e := range exprs {
		s.Columns[j] = Column{Name: names[j], Type: e.Type(), Nullable: exprNullable(e, in)}
	}
	return &Project{Exprs: exprs, Names: names, Input: input, schema: s}
}

// fixSchema re-derives event time and key of a projection whose slots idx
// are input columns (or -1 for computed ones).
func fixSchema(s Schema, idx []int, in Schema) Schema {
	s.EventTime = -1
	for j, i := range idx {
		if i >= 0 && i == in.EventTime {
			s.EventTime = j
			break
		}
	}
	var key []int
	for _, k := range in.Key {
		found := -1
		for j, i := range idx {
			if i == k {
				found = j
				break
			}
		}
		if found < 0 {
			key = nil
			break
		}
		key = append(key, found)
	}
	s.Key = key
	if in.Window != nil {
		w := *in.Window
		w.Start, w.End = -1, -1
		for j, i := range idx {
			if i >= 0 && i == in.Window.Start && w.Start < 0 {
				w.Start = j
			}
			if i >= 0 && i == in.Window.End && w.End < 0 {
				w.End = j
			}
		}
		if w.Start >= 0 || w.End >= 0 {
			s.Window = &w
		}
	}
	return s
}

// NewWindowAgg returns a windowed aggregate. Output: keys, window_start,
// window_end, aggregates; event time is window_end.
func NewWindowAgg(w Window, keys []Expr, aggs []AggCall, names []string, input Rel) *WindowAgg {
	in := input.Schema()
	s := Schema{}
	for i, k := range keys {
		s.Columns = append(s.Columns, Column{Name: names[i], Type: k.Type(), Nullable: exprNullable(k, in)})
		s.Key = append(s.Key, i)
	}
	nk := len(keys)
	s.Columns = append(s.Columns,
		Column{Name: "window_start", Type: udf.TypeTimestamp},
		Column{Name: "window_end", Type: udf.TypeTimestamp})
	for i, a := range aggs {
		s.Columns = append(s.Columns, Column{Name: names[nk+i], Type: a.T, Nullable: aggNullable(a)})
	}
	s.EventTime = nk + 1
	s.Window = &WindowCols{Window: w, Start: nk, End: nk + 1}
	return &WindowAgg{Window: w, Keys: keys, Aggs: aggs, Names: names, Input: input, schema: s}
}

// NewGroupAgg returns an unwindowed aggregate. Output: keys, aggregates.
func NewGroupAgg(keys []Expr, aggs []AggCall, names []string, input Rel) *GroupAgg {
	in := input.Schema()
	s := Schema{EventTime: -1}
	for i, k := range keys {
		s.Columns = append(s.Columns, Column{Name: names[i], Type: k.Type(), Nullable: exprNullable(k, in)})
		s.Key = append(s.Key, i)
		// Grouped by the event time itself (e.g. a window_end): every row
		// of the group has that time, and so has the group's row.
		if c, ok := k.(*ColumnRef); ok && c.Index == in.EventTime && in.EventTime >= 0 && s.EventTime < 0 {
			s.EventTime = i
		}
	}
	for i, a := range aggs {
		s.Columns = append(s.Columns, Column{Name: names[len(keys)+i], Type: a.T, Nullable: aggNullable(a)})
	}
	return &GroupAgg{Keys: keys, Aggs: aggs, Names: names, Input: input, schema: s}
}

func aggNullable(a AggCall) bool {
	if a.Func == nil {
		return true
	}
	switch a.Func.Name {
	case "COUNT", "APPROX_COUNT_DISTINCT":
		return false
	}
	return true
}

// NewClean returns a clean stage node.
func NewClean(c *spec.Clean, input Rel) *Clean {
	return &Clean{Spec: c, Input: input, schema: cleanSchema(c, input.Schema())}
}

// NewFeatures returns a features stage node.
func NewFeatures(fs []spec.Feature, input Rel) *Features {
	return &Features{Spec: fs, Input: input, schema: featuresSchema(fs, input.Schema())}
}

// NewChain returns a chain of stateless ops whose output schema is out.
func NewChain(ops []Op, input Rel, out Schema) *Chain {
	return &Chain{Ops: ops, Input: input, schema: out}
}

// Schema implementations.

func (n *Scan) Schema() Schema      { return n.schema }
func (n *Filter) Schema() Schema    { return n.Input.Schema() }
func (n *Project) Schema() Schema   { return n.schema }
func (n *WindowAgg) Schema() Schema { return n.schema }
func (n *GroupAgg) Schema() Schema  { return n.schema }
func (n *Join) Schema() Schema {
	s := concat(n.L.Schema(), n.R.Schema(), n.Spec.Left)
	s.Key = append([]int(nil), n.Spec.LeftKeys...)
	if n.Spec.Kind != WindowJoin {
		s.Window = nil
	}
	return s
}
func (n *Clean) Schema() Schema    { return n.schema }
func (n *Union) Schema() Schema    { return n.schema }
func (n *Features) Schema() Schema { return n.schema }
func (n *Train) Schema() Schema    { return Schema{EventTime: -1} }
func (n *Sink) Schema() Schema     { return n.Input.Schema() }
func (n *Stage) Schema() Schema    { return n.Input.Schema() }
func (n *Exchange) Schema() Schema {
	s := n.Input.Schema()
	s.Key = append([]int(nil), n.Keys...)
	return s
}
func (n *Chain) Schema() Schema { return n.schema }

// Children implementations.

func (n *Scan) Children() []Rel      { return nil }
func (n *Filter) Children() []Rel    { return []Rel{n.Input} }
func (n *Project) Children() []Rel   { return []Rel{n.Input} }
func (n *WindowAgg) Children() []Rel { return []Rel{n.Input} }
func (n *GroupAgg) Children() []Rel  { return []Rel{n.Input} }
func (n *Join) Children() []Rel      { return []Rel{n.L, n.R} }
func (n *Clean) Children() []Rel     { return []Rel{n.Input} }
func (n *Union) Children() []Rel     { return append([]Rel(nil), n.Inputs...) }
func (n *Features) Children() []Rel  { return []Rel{n.Input} }
func (n *Train) Children() []Rel     { return []Rel{n.Input} }
func (n *Sink) Children() []Rel      { return []Rel{n.Input} }
func (n *Stage) Children() []Rel     { return []Rel{n.Input} }
func (n *Exchange) Children() []Rel  { return []Rel{n.Input} }
func (n *Chain) Children() []Rel     { return []Rel{n.Input} }

func one(n Rel, cs []Rel) Rel {
	if len(cs) != 1 {
		panic("planner: " + n.String() + ": WithChildren wants 1 child")
	}
	return cs[0]
}

// WithChildren implementations.

func (n *Scan) WithChildren(cs ...Rel) Rel {
	if len(cs) != 0 {
		panic("planner: Scan has no children")
	}
	return n
}
func (n *Filter) WithChildren(cs ...Rel) Rel {
	return &Filter{Pred: n.Pred, Input: one(n, cs)}
}
func (n *Project) WithChildren(cs ...Rel) Rel {
	return n.rebuild(n.Exprs, n.Names, one(n, cs))
}
func (n *WindowAgg) WithChildren(cs ...Rel) Rel {
	return NewWindowAgg(n.Window, n.Keys, n.Aggs, n.Names, one(n, cs))
}
func (n *GroupAgg) WithChildren(cs ...Rel) Rel {
	return NewGroupAgg(n.Keys, n.Aggs, n.Names, one(n, cs))
}
func (n *Join) WithChildren(cs ...Rel) Rel {
	if len(cs) != 2 {
		panic("planner: Join wants 2 children")
	}
	return &Join{Spec: n.Spec, L: cs[0], R: cs[1]}
}
func (n *Clean) WithChildren(cs ...Rel) Rel { return NewClean(n.Spec, one(n, cs)) }
func (n *Union) WithChildren(cs ...Rel) Rel {
	if len(cs) != len(n.Inputs) {
		panic("planner: Union: WithChildren with a different number of inputs")
	}
	return NewUnion(cs)
}
func (n *Features) WithChildren(cs ...Rel) Rel { return NewFeatures(n.Spec, one(n, cs)) }
func (n *Train) WithChildren(cs ...Rel) Rel {
	c := *n
	c.Input = one(n, cs)
	return &c
}
func (n *Sink) WithChildren(cs ...Rel) Rel { return &Sink{Op: n.Op, Input: one(n, cs)} }
func (n *Stage) WithChildren(cs ...Rel) Rel {
	c := *n
	c.Input = one(n, cs)
	return &c
}
func (n *Exchange) WithChildren(cs ...Rel) Rel { return &Exchange{Keys: n.Keys, Input: one(n, cs)} }
func (n *Chain) WithChildren(cs ...Rel) Rel {
	return &Chain{Ops: n.Ops, Input: one(n, cs), schema: n.schema}
}

// physOp returns the physical operator a node lowers to (nil for Stage and
// Exchange, which become node labels and edge routings).
func physOp(n Rel) Op {
	switch n := n.(type) {
	case *Scan:
		return n.Src
	case *Filter:
		return &FilterOp{Pred: n.Pred}
	case *Project:
		return &ProjectOp{Exprs: n.Exprs}
	case *WindowAgg:
		return &WindowAggOp{Window: n.Window, Keys: n.Keys, Aggs: n.Aggs}
	case *GroupAgg:
		return &GroupAggOp{Keys: n.Keys, Aggs: n.Aggs}
	case *Join:
		j := n.Spec
		return &j
	case *Union:
		return &UnionOp{}
	case *Clean:
		return &CleanOp{Spec: *n.Spec, Input: n.Input.Schema()}
	case *Features:
		return &FeaturesOp{Spec: n.Spec, Input: n.Input.Schema()}
	case *Train:
		return &TrainOp{Model: *n.Model, Features: n.Features, Label: n.Label}
	case *Sink:
		return n.Op
	case *Chain:
		return &ChainOp{Ops: n.Ops}
	}
	return nil
}

// String implementations: one line each, shared with the physical printer.

func (n *Scan) String() string    { return describe(physOp(n), nil, n.schema) }
func (n *Filter) String() string  { return describe(physOp(n), nil, n.Schema()) }
func (n *Project) String() string { return describeProject(n.Exprs, n.Names) }
func (n *WindowAgg) String() string {
	return describeAggIn("WindowAgg", &n.Window, n.Keys, n.Aggs, n.Names, n.Input.Schema())
}
func (n *GroupAgg) String() string { return describeAgg("GroupAgg", nil, n.Keys, n.Aggs, n.Names) }
func (n *Join) String() string {
	return describe(physOp(n), []Schema{n.L.Schema(), n.R.Schema()}, n.Schema())
}
func (n *Clean) String() string    { return describe(physOp(n), nil, n.schema) }
func (n *Union) String() string    { return "Union" }
func (n *Features) String() string { return describe(physOp(n), nil, n.schema) }
func (n *Train) String() string {
	return describe(physOp(n), []Schema{n.Input.Schema()}, Schema{})
}
func (n *Sink) String() string { return describe(n.Op, []Schema{n.Input.Schema()}, n.Schema()) }
func (n *Stage) String() string {
	s := "Stage " + n.Name
	if n.Table != nil {
		s += " table key=" + bracketNames(n.Table.Key)
		if n.Table.TTL > 0 {
			s += " ttl=" + fmtDuration(n.Table.TTL)
		}
	}
	return s
}
func (n *Exchange) String() string {
	return "Exchange " + routingString(Hash, n.Keys, n.Input.Schema())
}
func (n *Chain) String() string { return describe(physOp(n), nil, n.schema) }
