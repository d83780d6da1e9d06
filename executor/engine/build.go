package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/aggregate"
	"github.com/flowrun/flowrun/executor/jetstream"
	"github.com/flowrun/flowrun/executor/join"
	"github.com/flowrun/flowrun/executor/stateless"
	"github.com/flowrun/flowrun/executor/window"
	"github.com/flowrun/flowrun/planner"
)

// operator is the one switch from a physical node to a running operator.
// Sources are not operators: a task reads them (see task.run).
func (e *Engine) operator(ctx context.Context, node *planner.Node, in []planner.Schema) (executor.Operator, error) {
	e.mlInit(ctx) // ML runtime and PREDICT's Models before anything compiles (ml_hooks.go)
	switch node.Op.(type) {
	case *planner.SinkOp:
		var schema planner.Schema
		if len(in) > 0 {
			schema = in[0]
		}
		return jetstream.NewSink(ctx, e.opts.Conn, e.g.Job, node, schema, jetstream.SinkOptions{
			CreateStreams: e.opts.CreateStreams, Env: e.opts.Funcs, Tap: e.opts.Tap, Stats: e.byID[node.ID].stats})
	case *planner.UnionOp:
		return Union{}, nil
	}
	if e.opts.Build != nil {
		if op, err := e.opts.Build(node, in); !errors.Is(err, ErrUnsupported) {
			return op, err
		}
	}
	switch node.Op.(type) {
	case *planner.FilterOp, *planner.ProjectOp, *planner.ChainOp:
		return stateless.New(node, in, e.opts.Env)
	case *planner.WindowAggOp:
		return window.New(node, in, e.opts.Env)
	case *planner.GroupAggOp:
		return aggregate.New(node, in, e.opts.Env)
	case *planner.JoinOp:
		return join.New(node, in, e.opts.Env)
	case *planner.CleanOp, *planner.FeaturesOp, *planner.TrainOp:
		return e.mlOperator(ctx, node, in)
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupported, node.Op.Name())
}

// Union merges its inputs: every row of every port passes unchanged.
type Union struct{}

var _ executor.Operator = Union{}

// Process emits the batch's rows.
func (Union) Process(_ int, b *executor.Batch, out executor.Collector) error {
	for i, r := range b.Rows {
		out.Emit(r, b.IDs[i])
	}
	return nil
}

// OnWatermark does nothing.
func (Union) OnWatermark(int64, executor.Collector) error { return nil }

// Snapshot returns no state.
func (Union) Snapshot() ([]byte, error) { return nil, nil }

// Restore accepts the empty snapshot.
func (Union) Restore([]byte) error { return nil }

// Close does nothing.
func (Union) Close(executor.Collector) error { return nil }
