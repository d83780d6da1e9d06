package planner

import (
	"slices"
	"sort"
)

// Rule is one rewrite of the logical plan. Apply returns new roots; it
// never changes a node in place.
type Rule struct {
	Name  string
	Doc   string
	Apply func(ctx *ruleCtx, roots []Rel) []Rel
}

// Rules is the ordered list of rewrite rules the planner applies, once
// each, in this order. Every rule keeps shared nodes (a stage or source read
// by several consumers) shared, and does not move work across a stage
// boundary except into a source read by one consumer.
var Rules = []Rule{
	{"fold_constants", "Evaluate constant sub-expressions; drop filters that are always true.", foldConstants},
	{"push_filters", "Move filters below projections, into sources and into the inputs of joins and unions (WHERE conjuncts on one side; ON conjuncts on the right side; never into a table, whose lookup must see the latest version).", pushFilters},
	{"compute_group_keys", "Compute GROUP BY keys that are expressions into columns, so that rows can be hashed by them.", computeGroupKeys},
	{"prune_columns", "Decode and carry only the columns that are used (SourceOp.Columns).", pruneColumns},
	{"insert_exchanges", "Repartition by hash of the key where a keyed operator's input is not partitioned by its key.", insertExchanges},
	{"chain_stateless", "Fuse consecutive filters and projections into one chained operator.", chainStateless},
}

// ruleCtx carries what rules need besides the plan.
type ruleCtx struct {
	parents map[Rel]int
}

// shared reports whether n has more than one consumer.
func (c *ruleCtx) shared(n Rel) bool { return c.parents[n] > 1 }

// countParents counts the consumers of each node of the DAG.
func countParents(roots []Rel) map[Rel]int {
	out := map[Rel]int{}
	seen := map[Rel]bool{}
	var visit func(n Rel)
	visit = func(n Rel) {
		if seen[n] {
			return
		}
		seen[n] = true
		for _, c := range n.Children() {
			out[c]++
			visit(c)
		}
	}
	for _, r := range roots {
		out[r]++
		visit(r)
	}
	return out
}

// optimize applies rules in order.
func optimize(roots []Rel, rules []Rule) []Rel {
	for _, r := range rules {
		ctx := &ruleCtx{parents: countParents(roots)}
		roots = r.Apply(ctx, roots)
	}
	return roots
}

// transformUp rebuilds the DAG bottom-up, calling f once per node with its
// children already rebuilt; shared nodes stay shared. The consumer counts of
// ctx follow the rebuilt nodes.
func transformUp(ctx *ruleCtx, roots []Rel, f func(Rel) Rel) []Rel {
	memo := map[Rel]Rel{}
	var visit func(n Rel) Rel
	visit = func(n Rel) Rel {
		if m, ok := memo[n]; ok {
			return m
		}
		cs := n.Children()
		nc := make([]Rel, len(cs))
		changed := false
		for i, c := range cs {
			nc[i] = visit(c)
			changed = changed || nc[i] != c
		}
		m := n
		if changed {
			m = n.WithChildren(nc...)
		}
		if ctx != nil {
			ctx.parents[m] = ctx.parents[n]
		}
		m = f(m)
		if ctx != nil {
			ctx.parents[m] = ctx.parents[n]
		}
		memo[n] = m
		return m
	}
	out := make([]Rel, len(roots))
	for i, r := range roots {
		out[i] = visit(r)
	}
	return out
}

// --- fold_constants ---

func foldConstants(ctx *ruleCtx, roots []Rel) []Rel {
	return transformUp(ctx, roots, func(n Rel) Rel {
		switch n := n.(type) {
		case *Filter:
			p := foldExpr(n.Pred)
			if isTrue(p) {
				return n.Input
			}
			return &Filter{Pred: p, Input: n.Input}
		case *Project:
			return n.rebuild(mapExprs(n.Exprs, foldNode), n.Names, n.Input)
		case *Join:
			if n.Spec.Residual != nil {
				j := *n
				j.Spec.Residual = foldExpr(n.Spec.Residual)
				if isTrue(j.Spec.Residual) {
					j.Spec.Residual = nil
				}
				return &j
			}
		case *WindowAgg:
			return NewWindowAgg(n.Window, mapExprs(n.Keys, foldNode), foldAggs(n.Aggs), n.Names, n.Input)
		case *GroupAgg:
			return NewGroupAgg(mapExprs(n.Keys, foldNode), foldAggs(n.Aggs), n.Names, n.Input)
		}
		return n
	})
}

func foldAggs(as []AggCall) []AggCall {
	out := make([]AggCall, len(as))
	for i, a := range as {
		out[i] = a
		out[i].Args = mapExprs(a.Args, foldNode)
	}
	return out
}

// --- push_filters ---

func pushFilters(ctx *ruleCtx, roots []Rel) []Rel {
	return transformUp(ctx, roots, func(n Rel) Rel {
		switch n := n.(type) {
		case *Filter:
			return pushFilter(ctx, n.Pred, n.Input)
		case *Join:
			return pushResidual(ctx, n)
		}
		return n
	})
}

// pushFilter places pred (over the rows of n) as deep below n as is
// correct.
func pushFilter(ctx *ruleCtx, pred Expr, n Rel) Rel {
	if pred == nil {
		return n
	}
	if ctx.shared(n) {
		return &Filter{Pred: pred, Input: n}
	}
	switch n := n.(type) {
	case *Filter:
		return pushFilter(ctx, andAll([]Expr{n.Pred, pred}), n.Input)
	case *Project:
		for _, e := range n.Exprs {
			if hasModelCall(e) {
				return &Filter{Pred: pred, Input: n}
			}
		}
		sub := mapExpr(pred, func(x Expr) Expr {
			if c, ok := x.(*ColumnRef); ok && c.Index < len(n.Exprs) {
				return n.Exprs[c.Index]
			}
			return x
		})
		in := pushFilter(ctx, sub, n.Input)
		p := n.rebuild(n.Exprs, n.Names, in)
		ctx.parents[in] = 1
		return p
	case *Union:
		ins := make([]Rel, len(n.Inputs))
		for i, in := range n.Inputs {
			ins[i] = pushFilter(ctx, pred, in)
			ctx.parents[ins[i]] = max(ctx.parents[ins[i]], 1)
		}
		return NewUnion(ins)
	case *Scan:
		src := *n.Src
		src.Filter = andAll(append(conjuncts(src.Filter), conjuncts(pred)...))
		return &Scan{Src: &src, schema: n.schema}
	case *Join:
		nl := len(n.L.Schema().Columns)
		var lp, rp, keep []Expr
		for _, c := range conjuncts(pred) {
			switch sideOf(c, nl) {
			case 0:
				lp = append(lp, c)
			case 1:
				if n.Spec.Left || n.Spec.Kind == TableJoin {
					// A WHERE on the right side of a LEFT JOIN also drops
					// NULL-extended rows; on a table it must see the
					// version the lookup found, not pick an older one.
					keep = append(keep, c)
				} else {
					rp = append(rp, shiftColumns(c, -nl))
				}
			default:
				keep = append(keep, c)
			}
		}
		if lp == nil && rp == nil {
			return &Filter{Pred: pred, Input: n}
		}
		j := &Join{Spec: n.Spec, L: pushFilter(ctx, andAll(lp), n.L), R: pushFilter(ctx, andAll(rp), n.R)}
		ctx.parents[j.L], ctx.parents[j.R] = max(ctx.parents[j.L], 1), max(ctx.parents[j.R], 1)
		if keep != nil {
			return &Filter{Pred: andAll(keep), Input: j}
		}
		return j
	}
	return &Filter{Pred: pred, Input: n}
}

// pushResidual moves ON conjuncts that read only one side into that side:
// right-side ones always (they only decide which right rows can match),
// left-side ones for inner joins.
func pushResidual(ctx *ruleCtx, n *Join) Rel {
	if n.Spec.Residual == nil {
		return n
	}
	nl := len(n.L.Schema().Columns)
	var lp, rp, keep []Expr
	for _, c := range conjuncts(n.Spec.Residual) {
		switch sideOf(c, nl) {
		case 0:
			if n.Spec.Left {
				keep = append(keep, c)
			} else {
				lp = append(lp, c)
			}
		case 1:
			if n.Spec.Kind == TableJoin {
				keep = append(keep, c) // tested on the version found, as of the left row's time
			} else {
				rp = append(rp, shiftColumns(c, -nl))
			}
		default:
			keep = append(keep, c)
		}
	}
	if lp == nil && rp == nil {
		return n
	}
	spec := n.Spec
	spec.Residual = andAll(keep)
	j := &Join{Spec: spec, L: pushFilter(ctx, andAll(lp), n.L), R: pushFilter(ctx, andAll(rp), n.R)}
	return j
}

// sideOf returns 0 when e reads only left columns (< nl), 1 when only right
// ones, -1 when both or none.
func sideOf(e Expr, nl int) int {
	cols := map[int]bool{}
	exprColumns(e, cols)
	s := -1
	for c := range cols {
		cs := 0
		if c >= nl {
			cs = 1
		}
		if s >= 0 && s != cs {
			return -1
		}
		s = cs
	}
	return s
}

// --- prune_columns ---

// pruneColumns computes, top-down, which output columns of each node are
// used, then rebuilds bottom-up with sources decoding only those.
func pruneColumns(ctx *ruleCtx, roots []Rel) []Rel {
	order := topoOrder(roots) // children first
	need := map[Rel]map[int]bool{}
	add := func(n Rel, cols ...int) {
		m := need[n]
		if m == nil {
			m = map[int]bool{}
			need[n] = m
		}
		for _, c := range cols {
			if c >= 0 {
				m[c] = true
			}
		}
	}
	all := func(n Rel) {
		for i := range n.Schema().Columns {
			add(n, i)
		}
	}
	addExpr := func(n Rel, es ...Expr) {
		m := map[int]bool{}
		for _, e := range es {
			exprColumns(e, m)
		}
		for c := range m {
			add(n, c)
		}
	}
	for _, r := range roots {
		all(r)
	}
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		mine := need[n]
		switch n := n.(type) {
		case *Filter:
			for c := range mine {
				add(n.Input, c)
			}
			addExpr(n.Input, n.Pred)
			add(n.Input, n.Input.Schema().EventTime)
		case *Stage:
			for c := range mine {
				add(n.Input, c)
			}
			s := n.Input.Schema()
			add(n.Input, s.EventTime)
			if n.Table != nil {
				for _, k := range n.Table.Key {
					add(n.Input, s.Index(k))
				}
			}
		case *Exchange:
			for c := range mine {
				add(n.Input, c)
			}
			add(n.Input, n.Keys...)
		case *Project:
			if n.helper {
				for c := range mine {
					addExpr(n.Input, n.Exprs[c])
				}
			} else {
				addExpr(n.Input, n.Exprs...)
			}
			add(n.Input, n.Input.Schema().EventTime)
		case *WindowAgg:
			addExpr(n.Input, n.Keys...)
			for _, a := range n.Aggs {
				addExpr(n.Input, a.Args...)
			}
			add(n.Input, n.Window.TimeCol, n.Input.Schema().EventTime)
		case *GroupAgg:
			addExpr(n.Input, n.Keys...)
			for _, a := range n.Aggs {
				addExpr(n.Input, a.Args...)
			}
			add(n.Input, n.Input.Schema().EventTime)
		case *Join:
			nl := len(n.L.Schema().Columns)
			for c := range mine {
				if c < nl {
					add(n.L, c)
				} else {
					add(n.R, c-nl)
				}
			}
			add(n.L, n.Spec.LeftKeys...)
			add(n.R, n.Spec.RightKeys...)
			add(n.L, n.L.Schema().EventTime)
			add(n.R, n.R.Schema().EventTime)
			if w := n.R.Schema().Window; w != nil {
				add(n.R, w.Start, w.End)
			}
			if w := n.L.Schema().Window; w != nil {
				add(n.L, w.Start, w.End)
			}
			if n.Spec.Residual != nil {
				m := map[int]bool{}
				exprColumns(n.Spec.Residual, m)
				for c := range m {
					if c < nl {
						add(n.L, c)
					} else {
						add(n.R, c-nl)
					}
				}
			}
		case *Train:
			add(n.Input, n.Features...)
			add(n.Input, n.Label, n.Input.Schema().EventTime)
		case *Scan:
			add(n, n.schema.EventTime)
			if n.Src.Filter != nil {
				addExpr(n, n.Src.Filter)
			}
		default:
			for _, c := range n.Children() {
				all(c)
			}
		}
	}
	type result struct {
		n Rel
		m []int // old output column -> new, -1 when dropped
	}
	memo := map[Rel]result{}
	identity := func(n Rel) []int {
		m := make([]int, len(n.Schema().Columns))
		for i := range m {
			m[i] = i
		}
		return m
	}
	var visit func(n Rel) result
	visit = func(n Rel) result {
		if r, ok := memo[n]; ok {
			return r
		}
		var r result
		switch n := n.(type) {
		case *Scan:
			keep := sortedSet(need[n])
			if len(keep) == len(n.schema.Columns) {
				r = result{n, identity(n)}
				break
			}
			m := make([]int, len(n.schema.Columns))
			for i := range m {
				m[i] = -1
			}
			src := *n.Src
			src.Columns = nil
			for j, i := range keep {
				m[i] = j
				src.Columns = append(src.Columns, n.Src.Columns[i])
			}
			if src.Filter != nil {
				src.Filter = remapColumns(src.Filter, m)
			}
			sch := n.schema.project(keep)
			r = result{&Scan{Src: &src, schema: sch}, m}
		case *Filter:
			c := visit(n.Input)
			r = result{&Filter{Pred: remapColumns(n.Pred, c.m), Input: c.n}, c.m}
		case *Stage:
			c := visit(n.Input)
			s := *n
			s.Input = c.n
			r = result{&s, c.m}
		case *Exchange:
			c := visit(n.Input)
			r = result{&Exchange{Keys: remapIdx(n.Keys, c.m), Input: c.n}, c.m}
		case *Project:
			c := visit(n.Input)
			if !n.helper {
				r = result{n.rebuild(remapAll(n.Exprs, c.m), n.Names, c.n), identity(n)}
				break
			}
			// Keep the columns something reads (and the event time).
			keep := need[n]
			if keep == nil {
				keep = map[int]bool{}
			}
			if et := n.schema.EventTime; et >= 0 {
				keep[et] = true
			}
			m := make([]int, len(n.Exprs))
			var exprs []Expr
			var names []string
			for i := range n.Exprs {
				m[i] = -1
				if keep[i] {
					m[i] = len(exprs)
					exprs = append(exprs, remapColumns(n.Exprs[i], c.m))
					names = append(names, n.Names[i])
				}
			}
			r = result{n.rebuild(exprs, names, c.n), m}
		case *WindowAgg:
			c := visit(n.Input)
			w := n.Window
			w.TimeCol = c.m[w.TimeCol]
			r = result{NewWindowAgg(w, remapAll(n.Keys, c.m), remapAggs(n.Aggs, c.m), n.Names, c.n), identity(n)}
		case *GroupAgg:
			c := visit(n.Input)
			r = result{NewGroupAgg(remapAll(n.Keys, c.m), remapAggs(n.Aggs, c.m), n.Names, c.n), identity(n)}
		case *Join:
			l, rr := visit(n.L), visit(n.R)
			nl2 := len(l.n.Schema().Columns)
			m := append([]int(nil), l.m...)
			for _, x := range rr.m {
				if x >= 0 {
					x += nl2
				}
				m = append(m, x)
			}
			spec := n.Spec
			spec.LeftKeys = remapIdx(spec.LeftKeys, l.m)
			spec.RightKeys = remapIdx(spec.RightKeys, rr.m)
			if spec.Residual != nil {
				spec.Residual = remapColumns(spec.Residual, m)
			}
			if spec.Kind == WindowJoin {
				spec.Window.TimeCol = l.m[spec.Window.TimeCol]
			}
			r = result{&Join{Spec: spec, L: l.n, R: rr.n}, m}
		case *Train:
			c := visit(n.Input)
			t := *n
			t.Input = c.n
			t.Features = remapIdx(n.Features, c.m)
			if n.Label >= 0 {
				t.Label = c.m[n.Label]
			}
			r = result{&t, nil}
		case *Sink:
			c := visit(n.Input)
			op := *n.Op
			op.Key = remapIdx(n.Op.Key, c.m)
			r = result{&Sink{Op: &op, Input: c.n}, c.m}
		default:
			cs := n.Children()
			nc := make([]Rel, len(cs))
			changed := false
			for i, ch := range cs {
				nc[i] = visit(ch).n
				changed = changed || nc[i] != ch
			}
			out := n
			if changed {
				out = n.WithChildren(nc...)
			}
			r = result{out, identity(n)}
		}
		memo[n] = r
		return r
	}
	out := make([]Rel, len(roots))
	for i, r := range roots {
		out[i] = visit(r).n
	}
	return out
}

func sortedSet(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

func remapIdx(idx []int, m []int) []int {
	if idx == nil {
		return nil
	}
	out := make([]int, len(idx))
	for i, x := range idx {
		out[i] = -1
		if x >= 0 && x < len(m) {
			out[i] = m[x]
		}
	}
	return out
}

func remapAll(es []Expr, m []int) []Expr {
	out := make([]Expr, len(es))
	for i, e := range es {
		out[i] = remapColumns(e, m)
	}
	return out
}

func remapAggs(as []AggCall, m []int) []AggCall {
	out := make([]AggCall, len(as))
	for i, a := range as {
		out[i] = a
		out[i].Args = remapAll(a.Args, m)
	}
	return out
}

// topoOrder returns the nodes of the DAG, children before parents.
func topoOrder(roots []Rel) []Rel {
	var out []Rel
	seen := map[Rel]bool{}
	var visit func(n Rel)
	visit = func(n Rel) {
		if seen[n] {
			return
		}
		seen[n] = true
		for _, c := range n.Children() {
			visit(c)
		}
		out = append(out, n)
	}
	for _, r := range roots {
		visit(r)
	}
	return out
}

// --- insert_exchanges ---

// partitionKeys returns, for each input of a keyed node, the columns its
// rows must be hashed by (empty: gather to one task); nil for nodes that
// keep their input's partitioning.
func partitionKeys(n Rel) [][]int {
	switch n := n.(type) {
	case *WindowAgg:
		return [][]int{columnKeys(n.Keys)}
	case *GroupAgg:
		return [][]int{columnKeys(n.Keys)}
	case *Join:
		return [][]int{n.Spec.LeftKeys, n.Spec.RightKeys}
	case *Clean:
		// Each stateful step needs every row of its key in one task: dedup
		// by its key, imputation by its by: columns (none: one global
		// statistic), outlier statistics are global. Partitioning by the
		// columns common to all those keys satisfies every step; no common
		// column gathers the stage into one task, so the statistics (and the
		// output) do not depend on the parallelism.
		var sets [][]string
		if d := n.Spec.Dedup; d != nil {
			sets = append(sets, d.Key)
		}
		for _, im := range n.Spec.Impute {
			sets = append(sets, im.By)
		}
		if len(n.Spec.Outliers) > 0 {
			sets = append(sets, nil)
		}
		if sets != nil {
			return [][]int{namesToIdx(commonKey(sets), n.Input.Schema())}
		}
	case *Features:
		// Window features keep state per key; scale, one-hot and TF-IDF
		// learn global statistics; hashing is stateless.
		var sets [][]string
		for _, f := range n.Spec {
			switch {
			case f.Window != nil:
				sets = append(sets, f.Window.Key)
			case f.Scale != nil || f.OneHot != nil || f.TFIDF != nil:
				sets = append(sets, nil)
			}
		}
		if sets != nil {
			return [][]int{namesToIdx(commonKey(sets), n.Input.Schema())}
		}
	case *Train:
		return [][]int{{}}
	}
	return nil
}

// commonKey returns the names present in every set, in the order of the
// first: partitioning by them keeps all rows of each set's key together.
func commonKey(sets [][]string) []string {
	var out []string
	for _, name := range sets[0] {
		all := true
		for _, s := range sets[1:] {
			if !slices.Contains(s, name) {
				all = false
				break
			}
		}
		if all {
			out = append(out, name)
		}
	}
	return out
}

func columnKeys(keys []Expr) []int {
	out := []int{}
	for _, k := range keys {
		c, ok := k.(*ColumnRef)
		if !ok {
			return nil
		}
		out = append(out, c.Index)
	}
	return out
}

func namesToIdx(names []string, s Schema) []int {
	out := []int{}
	for _, n := range names {
		out = append(out, s.Index(n))
	}
	return out
}

func insertExchanges(ctx *ruleCtx, roots []Rel) []Rel {
	return transformUp(ctx, roots, func(n Rel) Rel {
		pk := partitionKeys(n)
		if pk == nil {
			return n
		}
		cs := n.Children()
		nc := make([]Rel, len(cs))
		changed := false
		for i, c := range cs {
			nc[i] = c
			keys := pk[i]
			if len(keys) > 0 && slices.Equal(c.Schema().Key, keys) {
				continue // already partitioned by the key
			}
			if _, join := n.(*Join); !join && subset(c.Schema().Key, keys) {
				continue // rows with equal keys already share a partition
			}
			nc[i] = &Exchange{Keys: keys, Input: c}
			changed = true
		}
		if !changed {
			return n
		}
		return n.WithChildren(nc...)
	})
}

// subset reports whether the non-empty set a is contained in b.
func subset(a, b []int) bool {
	if len(a) == 0 {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// --- compute_group_keys ---

func computeGroupKeys(ctx *ruleCtx, roots []Rel) []Rel {
	return transformUp(ctx, roots, func(n Rel) Rel {
		switch a := n.(type) {
		case *WindowAgg:
			if in, keys, ok := materializeKeys(a.Keys, a.Input); ok {
				return NewWindowAgg(a.Window, keys, a.Aggs, a.Names, in)
			}
		case *GroupAgg:
			if in, keys, ok := materializeKeys(a.Keys, a.Input); ok {
				return NewGroupAgg(keys, a.Aggs, a.Names, in)
			}
		}
		return n
	})
}

// materializeKeys projects computed group keys as extra columns so that
// rows can be hashed by them; ok is false when every key is a column.
func materializeKeys(keys []Expr, in Rel) (Rel, []Expr, bool) {
	if columnKeys(keys) != nil {
		return in, keys, false
	}
	s := in.Schema()
	var exprs []Expr
	var names []string
	for i, c := range s.Columns {
		exprs = append(exprs, &ColumnRef{Index: i, Name: c.Name, T: c.Type})
		names = append(names, c.Name)
	}
	out := make([]Expr, len(keys))
	for i, k := range keys {
		if c, ok := k.(*ColumnRef); ok {
			out[i] = c
			continue
		}
		name := uniqueName("_key"+itoa(i+1), names)
		out[i] = &ColumnRef{Index: len(exprs), Name: name, T: k.Type()}
		exprs = append(exprs, k)
		names = append(names, name)
	}
	return newHelperProject(exprs, names, in), out, true
}

// --- chain_stateless ---

func chainStateless(ctx *ruleCtx, roots []Rel) []Rel {
	return transformUp(ctx, roots, func(n Rel) Rel {
		var op Op
		var in Rel
		switch x := n.(type) {
		case *Filter:
			op, in = &FilterOp{Pred: x.Pred}, x.Input
		case *Project:
			op, in = &ProjectOp{Exprs: x.Exprs}, x.Input
		default:
			return n
		}
		if ctx.shared(in) {
			return n
		}
		switch c := in.(type) {
		case *Filter:
			return NewChain([]Op{&FilterOp{Pred: c.Pred}, op}, c.Input, n.Schema())
		case *Project:
			return NewChain([]Op{&ProjectOp{Exprs: c.Exprs}, op}, c.Input, n.Schema())
		case *Chain:
			return NewChain(append(slices.Clone(c.Ops), op), c.Input, n.Schema())
		}
		return n
	})
}
