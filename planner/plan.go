package planner

import (
	"fmt"
	"strings"

	"github.com/flowrun/flowrun/spec"
)

// Option configures Plan and Logical.
type Option func(*options)

type options struct {
	rules []Rule
}

// WithRules replaces the rewrite rules (Rules by default); pass none to
// see the plan as bound.
func WithRules(rules ...Rule) Option {
	return func(o *options) { o.rules = rules }
}

func newOptions(opts []Option) *options {
	o := &options{rules: Rules}
	for _, f := range opts {
		f(o)
	}
	return o
}

// LogicalPlan is the logical plan of a pipeline: its roots are the sinks
// and the models trained in the pipeline, in job-file order.
type LogicalPlan struct {
	Job   string
	Roots []Rel
}

// String prints the plan as trees, one per root, with the one tree printer.
func (lp *LogicalPlan) String() string { return printLogical(lp.Roots) }

// Plan binds, checks, optimizes and lowers a pipeline to its physical
// plan. The diagnostics are those of spec.Validate (which runs the
// planner's checks too); the Graph is nil when any of them is an error.
func Plan(p *spec.Pipeline, opts ...Option) (*Graph, spec.Diagnostics) {
	lp, ds := Logical(p, opts...)
	if lp == nil {
		return nil, ds
	}
	par := p.Spec.Parallelism
	if par < 1 {
		par = 1
	}
	limits := map[string]*spec.StateLimits{}
	for i := range p.Spec.Stages {
		if l := p.Spec.Stages[i].Limits; l != nil {
			limits[p.Spec.Stages[i].Name] = l
		}
	}
	return lower(lp.Job, par, lp.Roots, limits), ds
}

// Logical binds, checks and optimizes a pipeline to its logical plan.
func Logical(p *spec.Pipeline, opts ...Option) (*LogicalPlan, spec.Diagnostics) {
	o := newOptions(opts)
	ds := spec.Validate(p)
	if ds.HasErrors() {
		return nil, ds
	}
	roots, own := bind(p)
	if own.HasErrors() {
		// Validate ran the same checks; this only happens when the check is
		// not registered (it is, by this package's init).
		ds = append(ds, own...)
		ds.Sort()
		return nil, ds
	}
	roots = optimize(roots, o.rules)
	return &LogicalPlan{Job: p.Metadata.Name, Roots: roots}, ds
}

// bind binds every stage, model and sink and returns the roots.
func bind(p *spec.Pipeline) (roots []Rel, ds spec.Diagnostics) {
	pl := newPlanner(p)
	defer func() { ds = pl.diags }()
	for i := range p.Spec.Stages {
		st := &p.Spec.Stages[i]
		pl.relation(st.Name, st.Pos)
	}
	for i := range p.Spec.Sinks {
		if n := pl.bindSink(i); n != nil {
			roots = append(roots, n)
		}
	}
	for i := range p.Spec.Models {
		if n := pl.bindModel(i); n != nil {
			roots = append(roots, n)
		}
	}
	if pl.diags.HasErrors() {
		return nil, nil
	}
	return roots, nil
}

// Check is the planner's validation of a pipeline, registered with
// spec.RegisterCheck so that `flowrun validate` reports SQL name and type
// errors. It leaves out problems that spec's own checks report at the same
// line (unknown references, syntax errors).
func Check(p *spec.Pipeline) (ds spec.Diagnostics) {
	defer func() {
		// A bug of the planner must not take `flowrun validate` down.
		if r := recover(); r != nil {
			ds = spec.Diagnostics{{Pos: p.Pos, Severity: spec.Error, Err: spec.ErrInvalidJob,
				Msg: fmt.Sprintf("planner: internal error: %v (please report it with the job file)", r)}}
		}
	}()
	_, own := bind(p)
	if len(own) == 0 {
		return nil
	}
	builtin := spec.ValidateBuiltin(p)
	type key struct {
		file string
		line int
	}
	lines := map[key]bool{}
	for _, d := range builtin {
		if d.Severity == spec.Error {
			lines[key{d.Pos.File, d.Pos.Line}] = true
		}
	}
	var out spec.Diagnostics
	for _, d := range own {
		if isKind(d, ErrSyntax) {
			// spec reports the syntax error itself; add what to write
			// instead when the planner knows it.
			if d.Hint != "" {
				d.Msg, d.Hint = "SQL: "+d.Hint, ""
				out = append(out, d)
			}
			continue
		}
		if lines[key{d.Pos.File, d.Pos.Line}] {
			continue
		}
		if isKind(d, spec.ErrLimit) && strings.Contains(d.Msg, "bytes") {
			continue // spec checks the SQL length
		}
		out = append(out, d)
	}
	return out
}

func init() { spec.RegisterCheck(Check) }

// Step is the logical plan after one rewrite rule (Rule "" is the plan as
// bound).
type Step struct {
	Rule string
	Plan *LogicalPlan
}

// Trace binds a pipeline and returns the plan as bound and after each rule
// of Rules, for `flowrun explain --trace`.
func Trace(p *spec.Pipeline) ([]Step, spec.Diagnostics) {
	lp, ds := Logical(p, WithRules())
	if lp == nil {
		return nil, ds
	}
	steps := []Step{{Plan: lp}}
	roots := lp.Roots
	for _, r := range Rules {
		roots = optimize(roots, []Rule{r})
		steps = append(steps, Step{Rule: r.Name, Plan: &LogicalPlan{Job: lp.Job, Roots: roots}})
	}
	return steps, ds
}
