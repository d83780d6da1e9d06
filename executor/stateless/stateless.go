package stateless

import (
	"errors"
	"fmt"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/eval"
	"github.com/flowrun/flowrun/executor/state"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

// Op runs a FilterOp, a ProjectOp or a ChainOp of them: every input row
// goes through the steps in order in the operator's goroutine and comes out
// with its input id (a stateless operator keeps row identity), or is
// dropped by a filter, or is dead-lettered with class expr when an
// expression fails on it. Projected rows are carved out of a shared slab,
// so a projection does not allocate per row.
type Op struct {
	steps []step
	alloc state.RowAlloc
	width int // of the rows entering the next step added; -1 unknown
}

var _ executor.Operator = (*Op)(nil)

// step is one filter (pred != nil) or projection.
type step struct {
	pred  eval.Predicate
	exprs []eval.Fn
}

// New builds the operator of a FilterOp, ProjectOp or ChainOp node.
func New(node *planner.Node, in []planner.Schema, env *eval.Env) (executor.Operator, error) {
	op := &Op{width: -1}
	if len(in) == 1 {
		op.width = len(in[0].Columns)
	}
	if err := op.add(node.Op, env); err != nil {
		return nil, fmt.Errorf("stateless: node %d (%s): %w", node.ID, node.Stage, err)
	}
	return op, nil
}

// NewFilter returns a filter operator over pred.
func NewFilter(pred planner.Expr, env *eval.Env) (*Op, error) {
	op := &Op{width: -1}
	return op, op.add(&planner.FilterOp{Pred: pred}, env)
}

// NewProject returns a projection operator computing exprs.
func NewProject(exprs []planner.Expr, env *eval.Env) (*Op, error) {
	op := &Op{width: -1}
	return op, op.add(&planner.ProjectOp{Exprs: exprs}, env)
}

func (o *Op) add(p planner.Op, env *eval.Env) error {
	switch p := p.(type) {
	case *planner.FilterOp:
		pred, err := eval.CompilePredicate(p.Pred, env)
		if err != nil {
			return err
		}
		o.steps = append(o.steps, step{pred: pred})
	case *planner.ProjectOp:
		// An identity projection (SELECT * and the like) copies nothing.
		identity := len(p.Exprs) == o.width
		for j, e := range p.Exprs {
			if c, ok := e.(*planner.ColumnRef); !ok || c.Index != j {
				identity = false
				break
			}
		}
		o.width = len(p.Exprs)
		if identity {
			return nil
		}
		fns, err := eval.CompileAll(p.Exprs, env)
		if err != nil {
			return err
		}
		o.steps = append(o.steps, step{exprs: fns})
	case *planner.ChainOp:
		for _, sub := range p.Ops {
			if err := o.add(sub, env); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("not a stateless operator: %T", p)
	}
	return nil
}

// Apply runs the steps on one row: the output row, whether it is kept, or
// an error wrapping eval.ErrExpr.
func (o *Op) Apply(row udf.Row) (udf.Row, bool, error) {
	for i := range o.steps {
		s := &o.steps[i]
		if s.pred != nil {
			ok, err := s.pred(row)
			if err != nil || !ok {
				return nil, false, err
			}
			continue
		}
		out := o.alloc.Row(len(s.exprs))
		for j, f := range s.exprs {
			v, err := f(row)
			if err != nil {
				return nil, false, err
			}
			out[j] = v
		}
		row = out
	}
	return row, true, nil
}

// Process implements executor.Operator.
func (o *Op) Process(_ int, b *executor.Batch, out executor.Collector) error {
	for i, row := range b.Rows {
		r, keep, err := o.Apply(row)
		if err != nil {
			if !errors.Is(err, eval.ErrExpr) {
				return err
			}
			out.DeadLetter(executor.ClassExpr, err.Error(), row, nil)
			continue
		}
		if keep {
			out.Emit(r, b.IDs[i])
		}
	}
	return nil
}

// OnWatermark implements executor.Operator; a stateless operator holds
// nothing back.
func (o *Op) OnWatermark(int64, executor.Collector) error { return nil }

// Snapshot implements executor.Operator: there is no state.
func (o *Op) Snapshot() ([]byte, error) { return nil, nil }

// Restore implements executor.Operator.
func (o *Op) Restore([]byte) error { return nil }

// Close implements executor.Operator.
func (o *Op) Close(executor.Collector) error { return nil }
