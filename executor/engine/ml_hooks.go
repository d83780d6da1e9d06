package engine

import (
	"context"
	"sync"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/eval"
	"github.com/flowrun/flowrun/executor/mlops"
	"github.com/flowrun/flowrun/executor/registry"
	"github.com/flowrun/flowrun/planner"
)

// mlRuntimes holds the ML runtime of each engine (owned by executor/mlops;
// kept out of Engine so that the hook stays in this file).
var mlRuntimes sync.Map // *Engine → *mlops.Runtime (nil when the job has no ML)

// mlInit creates the engine's ML runtime before the first operator is
// built, when the job has clean, features or train nodes or model calls:
// it opens the model registry on the engine's connection and makes the
// runtime the expression environment's Models (unless the caller set one).
func (e *Engine) mlInit(ctx context.Context) {
	if _, ok := mlRuntimes.Load(e); ok {
		return
	}
	ml, models := hasML(e.g)
	if !ml {
		mlRuntimes.Store(e, (*mlops.Runtime)(nil))
		return
	}
	opts := mlops.Options{Job: e.g.Job, Funcs: e.opts.Funcs, Logger: e.log}
	if c := e.opts.Conn; c != nil {
		if c.JS != nil && models {
			reg, err := registry.Open(ctx, c.JS, registry.WithLogger(e.log))
			if err != nil {
				e.log.Warn("model registry unavailable: models are neither published nor loaded", "err", err)
			} else {
				opts.Registry = reg
			}
		}
		if c.NC != nil {
			opts.Publish = func(subj string, b []byte) error { return c.NC.Publish(subj, b) }
		}
	}
	rt, err := mlops.New(e.g, opts)
	if err != nil {
		e.log.Warn("ML runtime", "err", err)
		mlRuntimes.Store(e, (*mlops.Runtime)(nil))
		return
	}
	if e.opts.Env == nil {
		e.opts.Env = &eval.Env{Funcs: e.opts.Funcs}
	}
	if e.opts.Env.Models == nil {
		e.opts.Env.Models = rt
	}
	mlRuntimes.Store(e, rt)
}

// mlOperator builds a Clean, Features or Train node with the ML runtime.
func (e *Engine) mlOperator(ctx context.Context, node *planner.Node, in []planner.Schema) (executor.Operator, error) {
	e.mlInit(ctx)
	v, _ := mlRuntimes.Load(e)
	rt, _ := v.(*mlops.Runtime)
	if rt == nil {
		var err error
		if rt, err = mlops.New(e.g, mlops.Options{Job: e.g.Job, Funcs: e.opts.Funcs, Logger: e.log}); err != nil {
			return nil, err
		}
		mlRuntimes.Store(e, rt)
	}
	return rt.Build(node, in)
}

// MLSummary returns what the job's ML stages did (clean counters,
// models' prequential metrics and versions), or nil when the job has none.
func (e *Engine) MLSummary() *mlops.Summary {
	v, _ := mlRuntimes.Load(e)
	rt, _ := v.(*mlops.Runtime)
	if rt == nil {
		return nil
	}
	s := rt.Summary()
	return &s
}

// hasML reports whether g has ML nodes or model calls, and whether it
// trains or scores models (then the registry is opened).
func hasML(g *planner.Graph) (ml, models bool) {
	for _, n := range g.Nodes {
		switch op := n.Op.(type) {
		case *planner.TrainOp:
			return true, true
		case *planner.CleanOp, *planner.FeaturesOp:
			ml = true
		case *planner.ProjectOp, *planner.FilterOp, *planner.ChainOp:
			found := false
			for _, x := range chainExprs(op) {
				planner.WalkExpr(x, func(x planner.Expr) bool {
					_, ok := x.(*planner.ModelCall)
					found = found || ok
					return !found
				})
			}
			if found {
				return true, true
			}
		}
	}
	return ml, false
}

func chainExprs(op planner.Op) []planner.Expr {
	switch op := op.(type) {
	case *planner.ProjectOp:
		return op.Exprs
	case *planner.FilterOp:
		return []planner.Expr{op.Pred}
	case *planner.ChainOp:
		var out []planner.Expr
		for _, o := range op.Ops {
			out = append(out, chainExprs(o)...)
		}
		return out
	}
	return nil
}

// MLClose stops the ML runtime's registry handles and forgets it; call it
// after Run (MLSummary is nil afterwards).
func (e *Engine) MLClose() {
	v, ok := mlRuntimes.LoadAndDelete(e)
	if !ok {
		return
	}
	if rt, _ := v.(*mlops.Runtime); rt != nil {
		rt.Close()
	}
}
