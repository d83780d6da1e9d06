package planner

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// tree is one line of a printed plan and the lines under it.
type tree struct {
	line     string
	children []*tree
}

// printTree writes t in the one tree format of flowrun: each child on its
// own line under its parent, with box-drawing branches.
func printTree(w *strings.Builder, t *tree) {
	w.WriteString(t.line)
	w.WriteByte('\n')
	printChildren(w, t.children, "")
}

func printChildren(w *strings.Builder, cs []*tree, prefix string) {
	for i, c := range cs {
		branch, next := "├── ", "│   "
		if i == len(cs)-1 {
			branch, next = "└── ", "    "
		}
		lines := strings.Split(c.line, "\n")
		w.WriteString(prefix + branch + lines[0] + "\n")
		for _, l := range lines[1:] {
			w.WriteString(prefix + next + l + "\n")
		}
		printChildren(w, c.children, prefix+next)
	}
}

// printLogical prints a logical plan, one tree per root. A node read by
// several consumers is printed in full once, then as a reference.
func printLogical(roots []Rel) string {
	var b strings.Builder
	seen := map[Rel]int{}
	counts := countParents(roots)
	next := 1
	var build func(n Rel) *tree
	build = func(n Rel) *tree {
		if id, ok := seen[n]; ok {
			return &tree{line: "↑ [" + strconv.Itoa(id) + "] " + firstLine(n)}
		}
		line := n.String()
		if s, ok := n.(*Stage); ok {
			line += " " + s.Schema().String()
		}
		if counts[n] > 1 {
			seen[n] = next
			line = "[" + strconv.Itoa(next) + "] " + line
			next++
		}
		t := &tree{line: line}
		for _, c := range n.Children() {
			t.children = append(t.children, build(c))
		}
		return t
	}
	for _, r := range roots {
		printTree(&b, build(r))
	}
	return b.String()
}

func firstLine(n Rel) string {
	if s, ok := n.(*Stage); ok {
		return "Stage " + s.Name
	}
	if s, ok := n.(*Scan); ok {
		return "Source " + s.Src.Source
	}
	return strings.SplitN(n.String(), " ", 2)[0]
}

// inputs returns the edges into node id, by port.
func (g *Graph) inputs(id int) []Edge {
	var out []Edge
	for _, e := range g.Edges {
		if e.To == id {
			out = append(out, e)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Port < out[j-1].Port; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// consumers counts the edges out of each node.
func (g *Graph) consumers() map[int]int {
	out := map[int]int{}
	for _, e := range g.Edges {
		out[e.From]++
	}
	return out
}

// describeNode prints one physical node on one line.
func (g *Graph) describeNode(n *Node) string {
	var in []Schema
	for _, e := range g.inputs(n.ID) {
		in = append(in, g.Nodes[e.From].Schema)
	}
	s := fmt.Sprintf("#%d %s", n.ID, describe(n.Op, in, n.Schema))
	meta := "stage=" + n.Stage + " p=" + strconv.Itoa(n.Parallelism)
	if len(n.State) > 0 {
		var st []string
		for _, x := range n.State {
			d := x.Name
			if len(x.Key) > 0 {
				d += "(" + intList(x.Key) + ")"
			}
			if x.TTL > 0 {
				d += " ttl=" + fmtDuration(x.TTL)
			}
			if x.MaxKeys > 0 {
				d += " maxKeys=" + strconv.Itoa(x.MaxKeys)
			}
			st = append(st, d)
		}
		meta += " state=[" + strings.Join(st, ", ") + "]"
	}
	return s + "\n  " + meta + " out=" + n.Schema.String()
}

func intList(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = "#" + strconv.Itoa(x)
	}
	return strings.Join(parts, ", ")
}

// String prints the physical plan as trees from its sinks and trainers (the
// nodes nothing reads), with each edge's routing; a node read by several
// consumers is printed once and then referenced by its id.
func (g *Graph) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "job %s parallelism=%d\n", g.Job, g.Parallelism)
	cons := g.consumers()
	printed := map[int]bool{}
	var build func(id int, edge string) *tree
	build = func(id int, edge string) *tree {
		n := g.Nodes[id]
		if printed[id] {
			return &tree{line: edge + "↑ #" + strconv.Itoa(id) + " " + n.Op.Name() + " (above)"}
		}
		printed[id] = true
		t := &tree{line: edge + g.describeNode(n)}
		for _, e := range g.inputs(id) {
			r := g.edgeLabel(e)
			t.children = append(t.children, build(e.From, "["+r+"] "))
		}
		return t
	}
	for _, n := range g.Nodes {
		if cons[n.ID] == 0 {
			printTree(&b, build(n.ID, ""))
		}
	}
	return b.String()
}

// WriteDot writes the graph in Graphviz DOT syntax.
func (g *Graph) WriteDot(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n  rankdir=BT;\n  node [shape=box, fontname=\"monospace\"];\n", strconv.Quote(g.Job))
	for _, n := range g.Nodes {
		label := g.describeNode(n)
		fmt.Fprintf(&b, "  n%d [label=%s];\n", n.ID, dotQuote(label))
	}
	for _, e := range g.Edges {
		fmt.Fprintf(&b, "  n%d -> n%d [label=%s];\n", e.From, e.To, dotQuote(g.edgeLabel(e)))
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// dotQuote quotes s for DOT, with \l line ends (left-justified lines).
func dotQuote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	s = strings.ReplaceAll(s, "\n", `\l`)
	return `"` + s + `\l"`
}

// edgeLabel prints an edge's routing, with its port for a node of several
// inputs: left/right for joins, in0, in1, ... otherwise.
func (g *Graph) edgeLabel(e Edge) string {
	r := routingString(e.Routing, e.Keys, g.Nodes[e.From].Schema)
	if len(g.inputs(e.To)) > 1 {
		if _, join := g.Nodes[e.To].Op.(*JoinOp); join {
			r = []string{"left", "right"}[min(e.Port, 1)] + " " + r
		} else {
			r = "in" + strconv.Itoa(e.Port) + " " + r
		}
	}
	return r
}
