package planner

import (
	"fmt"

	"github.com/flowrun/flowrun/udf"
)

// Validate checks the invariants of a physical plan that the executor
// relies on: ids and topological order, one edge per input port, equal
// parallelism on forward edges, and every column index (keys, event time,
// expressions' column references and their types) within the schema it
// indexes. Plan's graphs always pass; it is for tests and for graphs built
// by hand.
func (g *Graph) Validate() error {
	ins := make([][]Edge, len(g.Nodes))
	for i, n := range g.Nodes {
		if n == nil || n.ID != i {
			return fmt.Errorf("planner: node %d has id %v", i, n)
		}
	}
	for _, e := range g.Edges {
		if e.From < 0 || e.To >= len(g.Nodes) || e.From >= e.To {
			return fmt.Errorf("planner: edge %d -> %d is not in topological order", e.From, e.To)
		}
		from, to := g.Nodes[e.From], g.Nodes[e.To]
		if e.Routing == Forward && from.Parallelism != to.Parallelism {
			return fmt.Errorf("planner: forward edge %d -> %d joins parallelism %d and %d", e.From, e.To, from.Parallelism, to.Parallelism)
		}
		if e.Routing == Hash && len(e.Keys) == 0 && to.Parallelism != 1 {
			return fmt.Errorf("planner: keyless hash edge %d -> %d into parallelism %d", e.From, e.To, to.Parallelism)
		}
		if err := inRange(e.Keys, from.Schema, "edge keys"); err != nil {
			return fmt.Errorf("planner: edge %d -> %d: %w", e.From, e.To, err)
		}
		ins[e.To] = append(ins[e.To], e)
	}
	for _, n := range g.Nodes {
		in := make([]Schema, len(ins[n.ID]))
		seen := make([]bool, len(ins[n.ID]))
		for _, e := range ins[n.ID] {
			if e.Port < 0 || e.Port >= len(in) || seen[e.Port] {
				return fmt.Errorf("planner: node %d has a bad or repeated input port %d", n.ID, e.Port)
			}
			seen[e.Port] = true
			in[e.Port] = g.Nodes[e.From].Schema
		}
		if err := n.validate(in); err != nil {
			return fmt.Errorf("planner: node %d (%s of %s): %w", n.ID, n.Op.Name(), n.Stage, err)
		}
	}
	return nil
}

func inRange(idx []int, s Schema, what string) error {
	for _, i := range idx {
		if i < 0 || i >= len(s.Columns) {
			return fmt.Errorf("%s: column %d of %d", what, i, len(s.Columns))
		}
	}
	return nil
}

// checkExprs verifies that every column reference of es reads a column of
// s with its type.
func checkExprs(s Schema, es ...Expr) error {
	var err error
	for _, e := range es {
		WalkExpr(e, func(x Expr) bool {
			c, ok := x.(*ColumnRef)
			if !ok || err != nil {
				return err == nil
			}
			switch {
			case c.Index < 0 || c.Index >= len(s.Columns):
				err = fmt.Errorf("%s reads column %d of %d", c, c.Index, len(s.Columns))
			case c.T != s.Columns[c.Index].Type && c.T != udf.TypeAny:
				err = fmt.Errorf("%s is %s, the column is %s", c, c.T, s.Columns[c.Index].Type)
			}
			return err == nil
		})
	}
	return err
}

func (n *Node) validate(in []Schema) error {
	s := n.Schema
	if s.EventTime < -1 || s.EventTime >= len(s.Columns) {
		return fmt.Errorf("event time %d of %d columns", s.EventTime, len(s.Columns))
	}
	if err := inRange(s.Key, s, "key"); err != nil {
		return err
	}
	want := map[string]int{"Source": 0, "Join": 2}[n.Op.Name()]
	if n.Op.Name() != "Union" && n.Op.Name() != "Source" && n.Op.Name() != "Join" {
		want = 1
	}
	if n.Op.Name() == "Union" {
		want = max(len(in), 1)
	}
	if len(in) != want {
		return fmt.Errorf("%d inputs, want %d", len(in), want)
	}
	switch op := n.Op.(type) {
	case *SourceOp:
		if len(op.Columns) != len(s.Columns) {
			return fmt.Errorf("decodes %d columns into %d", len(op.Columns), len(s.Columns))
		}
		for _, c := range op.Columns {
			if c < 0 || c >= len(op.Decl) {
				return fmt.Errorf("decodes column %d of %d declared", c, len(op.Decl))
			}
		}
		if op.Filter != nil {
			return checkExprs(s, op.Filter)
		}
	case *FilterOp:
		return checkExprs(in[0], op.Pred)
	case *ProjectOp:
		if len(op.Exprs) != len(s.Columns) {
			return fmt.Errorf("%d expressions for %d columns", len(op.Exprs), len(s.Columns))
		}
		return checkExprs(in[0], op.Exprs...)
	case *ChainOp:
		cur := in[0]
		for i, o := range op.Ops {
			switch o := o.(type) {
			case *FilterOp:
				if err := checkExprs(cur, o.Pred); err != nil {
					return err
				}
			case *ProjectOp:
				if err := checkExprs(cur, o.Exprs...); err != nil {
					return err
				}
				next := Schema{EventTime: -1}
				for _, e := range o.Exprs {
					next.Columns = append(next.Columns, Column{Type: e.Type()})
				}
				cur = next
			default:
				return fmt.Errorf("chain op %d is %s", i, o.Name())
			}
		}
		if len(cur.Columns) != len(s.Columns) {
			return fmt.Errorf("chain ends with %d columns, schema has %d", len(cur.Columns), len(s.Columns))
		}
	case *WindowAggOp:
		if len(s.Columns) != len(op.Keys)+2+len(op.Aggs) {
			return fmt.Errorf("%d columns for %d keys, window and %d aggregates", len(s.Columns), len(op.Keys), len(op.Aggs))
		}
		if op.Window.TimeCol < 0 || op.Window.TimeCol >= len(in[0].Columns) || in[0].Columns[op.Window.TimeCol].Type != udf.TypeTimestamp {
			return fmt.Errorf("window time column %d is not a timestamp of the input", op.Window.TimeCol)
		}
		return checkAggs(in[0], op.Keys, op.Aggs)
	case *GroupAggOp:
		if len(s.Columns) != len(op.Keys)+len(op.Aggs) {
			return fmt.Errorf("%d columns for %d keys and %d aggregates", len(s.Columns), len(op.Keys), len(op.Aggs))
		}
		return checkAggs(in[0], op.Keys, op.Aggs)
	case *JoinOp:
		l, r := in[0], in[1]
		if len(op.LeftKeys) != len(op.RightKeys) {
			return fmt.Errorf("%d left keys, %d right keys", len(op.LeftKeys), len(op.RightKeys))
		}
		if err := inRange(op.LeftKeys, l, "left keys"); err != nil {
			return err
		}
		if err := inRange(op.RightKeys, r, "right keys"); err != nil {
			return err
		}
		for i := range op.LeftKeys {
			if lt, rt := l.Columns[op.LeftKeys[i]].Type, r.Columns[op.RightKeys[i]].Type; lt != rt {
				return fmt.Errorf("key %d is %s on the left and %s on the right", i, lt, rt)
			}
		}
		if len(s.Columns) != len(l.Columns)+len(r.Columns) {
			return fmt.Errorf("%d columns, inputs have %d + %d", len(s.Columns), len(l.Columns), len(r.Columns))
		}
		if op.Kind != TableJoin && (l.EventTime < 0 || r.EventTime < 0) {
			return fmt.Errorf("a %s join needs event time on both inputs", joinKindNames[op.Kind])
		}
		if op.Residual != nil {
			return checkExprs(concat(l, r, op.Left), op.Residual)
		}
	case *UnionOp:
		for i, x := range in {
			if len(x.Columns) != len(s.Columns) {
				return fmt.Errorf("input %d has %d columns, want %d", i, len(x.Columns), len(s.Columns))
			}
			for j, c := range x.Columns {
				if c.Type != s.Columns[j].Type {
					return fmt.Errorf("input %d column %d is %s, want %s", i, j, c.Type, s.Columns[j].Type)
				}
			}
		}
	case *TrainOp:
		if err := inRange(op.Features, in[0], "features"); err != nil {
			return err
		}
		if op.Label >= len(in[0].Columns) || op.Label < -1 {
			return fmt.Errorf("label column %d of %d", op.Label, len(in[0].Columns))
		}
	case *SinkOp:
		return inRange(op.Key, in[0], "sink key")
	}
	return nil
}

func checkAggs(in Schema, keys []Expr, aggs []AggCall) error {
	if err := checkExprs(in, keys...); err != nil {
		return err
	}
	for _, a := range aggs {
		if a.Func == nil {
			return fmt.Errorf("aggregate without a function")
		}
		if err := checkExprs(in, a.Args...); err != nil {
			return err
		}
	}
	return nil
}
