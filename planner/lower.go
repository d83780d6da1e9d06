package planner

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/flowrun/flowrun/spec"
)

// lowerer turns an optimized logical plan into a Graph.
type lowerer struct {
	g      *Graph
	memo   map[Rel]int
	limits map[string]*spec.StateLimits
}

// lower builds the physical plan of roots: one node per operator in
// topological order, Stage markers becoming node labels and Exchanges edge
// routings.
func lower(job string, par int, roots []Rel, limits map[string]*spec.StateLimits) *Graph {
	lw := &lowerer{g: &Graph{Job: job, Parallelism: par, Nodes: []*Node{}, Edges: []Edge{}}, memo: map[Rel]int{}, limits: limits}
	for _, r := range roots {
		lw.node(r, "")
	}
	return lw.g
}

type input struct {
	id       int
	exchange bool
	keys     []int
}

func (lw *lowerer) input(c Rel, stage string) input {
	if x, ok := c.(*Exchange); ok {
		return input{id: lw.node(x.Input, stage), exchange: true, keys: x.Keys}
	}
	return input{id: lw.node(c, stage)}
}

// node returns the id of the physical node that produces the rows of n.
func (lw *lowerer) node(n Rel, stage string) int {
	if id, ok := lw.memo[n]; ok {
		return id
	}
	switch x := n.(type) {
	case *Stage:
		id := lw.node(x.Input, x.Name)
		lw.memo[n] = id
		return id
	case *Exchange:
		// An exchange as a root input cannot be routed; plan its input.
		id := lw.node(x.Input, stage)
		lw.memo[n] = id
		return id
	case *Scan:
		stage = x.Src.Source
	case *Sink:
		stage = x.Op.Sink
	case *Train:
		stage = x.Model.Name
	}
	var ins []input
	for _, c := range n.Children() {
		ins = append(ins, lw.input(c, stage))
	}
	par := 1
	switch n.(type) {
	case *Scan:
	case *Train:
		par = 1
	case *Union:
		for _, in := range ins {
			par = max(par, lw.g.Nodes[in.id].Parallelism)
		}
	default:
		decided := false
		for _, in := range ins {
			if in.exchange {
				if len(in.keys) > 0 {
					par = lw.g.Parallelism
				}
				decided = true
				break
			}
		}
		if !decided && len(ins) > 0 {
			par = lw.g.Nodes[ins[0].id].Parallelism
		}
	}
	sch := n.Schema()
	if sch.Columns == nil {
		sch.Columns = []Column{}
	}
	nd := &Node{ID: len(lw.g.Nodes), Stage: stage, Op: physOp(n), Parallelism: par, Schema: sch, State: lw.state(n, stage)}
	lw.g.Nodes = append(lw.g.Nodes, nd)
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%v\n", nd.Stage, describe(nd.Op, nil, nd.Schema), nd.Schema, nd.State)
	for _, in := range ins {
		fmt.Fprintf(h, "%s %v %v\n", lw.g.Nodes[in.id].Fingerprint, in.exchange, in.keys)
	}
	nd.Fingerprint = hex.EncodeToString(h.Sum(nil)[:8])
	for port, in := range ins {
		e := Edge{From: in.id, To: nd.ID, Port: port, Routing: Forward}
		from := lw.g.Nodes[in.id]
		switch {
		case in.exchange && len(in.keys) > 0:
			e.Routing, e.Keys = Hash, in.keys
		case from.Parallelism != par && par > 1:
			// A union of inputs of different parallelism: spread the rows
			// of the narrower ones by all their columns.
			e.Routing = Hash
			for i := range from.Schema.Columns {
				e.Keys = append(e.Keys, i)
			}
		case from.Parallelism != par:
			e.Routing = Hash // no keys: every row to task 0
		}
		lw.g.Edges = append(lw.g.Edges, e)
	}
	lw.memo[n] = nd.ID
	return nd.ID
}

// state describes the keyed state a node keeps.
func (lw *lowerer) state(n Rel, stage string) []State {
	lim := lw.limits[stage]
	with := func(s State) State {
		if lim != nil {
			if s.TTL == 0 {
				s.TTL = lim.TTL
			}
			s.MaxKeys = lim.MaxKeys
		}
		return s
	}
	switch n := n.(type) {
	case *WindowAgg:
		return []State{with(State{Name: "windows", Key: columnKeys(n.Keys)})}
	case *GroupAgg:
		return []State{with(State{Name: "groups", Key: columnKeys(n.Keys)})}
	case *Join:
		switch n.Spec.Kind {
		case TableJoin:
			s := State{Name: "table", Key: n.Spec.RightKeys}
			if t := tableOf(n.R); t != nil {
				s.TTL = t.TTL
			}
			return []State{with(s)}
		default:
			return []State{with(State{Name: "left", Key: n.Spec.LeftKeys}), with(State{Name: "right", Key: n.Spec.RightKeys})}
		}
	case *Clean:
		var out []State
		if d := n.Spec.Dedup; d != nil {
			out = append(out, with(State{Name: "dedup", Key: namesToIdx(d.Key, n.Input.Schema()), TTL: d.Within}))
		}
		if len(n.Spec.Impute) > 0 || len(n.Spec.Outliers) > 0 {
			out = append(out, State{Name: "stats"})
		}
		return out
	case *Features:
		var out []State
		for _, f := range n.Spec {
			if f.Window != nil {
				out = append(out, with(State{Name: "window:" + or(f.Window.Output, f.Window.Input), Key: namesToIdx(f.Window.Key, n.Input.Schema())}))
			} else if f.Scale != nil || f.OneHot != nil || f.TFIDF != nil {
				if len(out) == 0 || out[0].Name != "stats" {
					out = append([]State{{Name: "stats"}}, out...)
				}
			}
		}
		return out
	case *Train:
		return []State{{Name: "model"}}
	}
	return nil
}

// tableOf returns the table declaration of the stage that n reads, through
// exchanges and filters.
func tableOf(n Rel) *spec.Table {
	for {
		switch x := n.(type) {
		case *Stage:
			return x.Table
		case *Exchange:
			n = x.Input
		case *Filter:
			n = x.Input
		default:
			return nil
		}
	}
}
