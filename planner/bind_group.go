package planner

import (
	"strconv"
	"strings"

	"github.com/flowrun/flowrun/udf"
	"github.com/xwb1989/sqlparser"
)

// aggCtx is the state of binding a grouped query: the group keys and
// window over the input, and the aggregates found so far. Expressions bound
// in an aggCtx read the aggregate's output row: keys, [window_start,
// window_end,] aggregates.
type aggCtx struct {
	in       *scope
	input    Rel
	keys     []Expr
	keyStr   []string
	keyNames []string
	win      *Window
	base     int // index of the first aggregate column
	aggs     []AggCall
	aggStr   []string
	aggNames []string
	aliases  map[string]sqlparser.Expr
}

// bindGrouped binds a query with GROUP BY or aggregates: the aggregate
// node, HAVING as a Filter over it and the select list as a Project.
func (b *binder) bindGrouped(sel *sqlparser.Select, input Rel, sc *scope, aliases map[string]sqlparser.Expr) Rel {
	q := b.q
	q.reset()
	q.setClause("group")
	ac := &aggCtx{in: sc, input: input, aliases: aliases}
	for _, g := range sel.GroupBy {
		if fe, ok := g.(*sqlparser.FuncExpr); ok {
			if kind, ok := windowGroupFuncs[strings.ToLower(fe.Name.String())]; ok {
				w, ok := b.groupWindow(kind, fe, sc, input)
				if !ok {
					continue
				}
				if ac.win != nil {
					b.errf(ErrWindow, q.posOf(fe.Name.String()), "group by one window", "a GROUP BY may have only one group window")
					continue
				}
				ac.win = &w
				continue
			}
		}
		if v, ok := g.(*sqlparser.SQLVal); ok && v.Type == sqlparser.IntVal {
			b.errf(ErrUnsupported, q.posOf(string(v.Val)), "repeat the expression (or its alias) in GROUP BY",
				"GROUP BY position %s is not supported", v.Val)
			continue
		}
		expr := g
		name := ""
		if c, ok := g.(*sqlparser.ColName); ok && c.Qualifier.IsEmpty() {
			name = c.Name.String()
			if len(sc.lookup("", name)) == 0 {
				if a, ok := aliases[strings.ToLower(name)]; ok {
					if b.hasAggregate(a) {
						b.errf(ErrGrouping, q.posOf(name), "", "cannot GROUP BY %s: it is an aggregate", name)
						continue
					}
					expr = a
				}
			}
		} else if c, ok := g.(*sqlparser.ColName); ok {
			name = c.Name.String()
		}
		k := b.expr(expr, &exprCtx{sc: sc, clause: "GROUP BY"})
		if k == nil {
			continue
		}
		if k.Type() == udf.TypeVector {
			b.errf(ErrType, b.posOfExpr(g), "", "cannot GROUP BY a vector")
			continue
		}
		if name == "" {
			if c, ok := k.(*ColumnRef); ok {
				name = c.Name
			} else {
				name = "key" + strconv.Itoa(len(ac.keys)+1)
				for _, a := range sortedNames(aliases) {
					if sqlparser.String(aliases[a]) == sqlparser.String(g) {
						name = a
						break
					}
				}
			}
		}
		ac.keys = append(ac.keys, k)
		ac.keyStr = append(ac.keyStr, k.String())
		ac.keyNames = append(ac.keyNames, uniqueName(name, ac.keyNames))
	}
	if b.fail {
		return nil
	}
	ac.base = len(ac.keys)
	if ac.win != nil {
		ac.base += 2
	}
	exprs, names := b.selectList(sel.SelectExprs, sc, ac)
	var having Expr
	if sel.Having != nil {
		q.reset()
		q.setClause("having")
		having = b.expr(sel.Having.Expr, &exprCtx{sc: sc, clause: "HAVING", agg: ac})
		if having != nil && !b.checkBool(having, "HAVING", sel.Having.Expr) {
			having = nil
		}
	}
	if b.fail || len(exprs) == 0 {
		return nil
	}
	var agg Rel
	allNames := append(append([]string(nil), ac.keyNames...), ac.aggNames...)
	if ac.win != nil {
		agg = NewWindowAgg(*ac.win, ac.keys, ac.aggs, allNames, input)
	} else {
		agg = NewGroupAgg(ac.keys, ac.aggs, allNames, input)
	}
	if having != nil {
		agg = &Filter{Pred: having, Input: agg}
	}
	return b.finishProject(exprs, names, agg)
}

func uniqueName(name string, taken []string) string {
	out := name
	for i := 2; ; i++ {
		clash := false
		for _, t := range taken {
			if strings.EqualFold(t, out) {
				clash = true
				break
			}
		}
		if !clash {
			return out
		}
		out = name + "_" + strconv.Itoa(i)
	}
}

// aggOut is the schema column of aggregate output column i.
func (ac *aggCtx) ref(i int) *ColumnRef {
	nk := len(ac.keys)
	switch {
	case i < nk:
		return &ColumnRef{Index: i, Name: ac.keyNames[i], T: ac.keys[i].Type()}
	case ac.win != nil && i == nk:
		return &ColumnRef{Index: i, Name: "window_start", T: udf.TypeTimestamp}
	case ac.win != nil && i == nk+1:
		return &ColumnRef{Index: i, Name: "window_end", T: udf.TypeTimestamp}
	}
	j := i - ac.base
	return &ColumnRef{Index: i, Name: ac.aggNames[j], T: ac.aggs[j].T}
}

// aggExpr binds e in a grouped query when it is an aggregate, a window
// property or a group key; handled is false for other expressions, which
// bind as usual with their operands going through aggExpr again.
func (b *binder) aggExpr(e sqlparser.Expr, ec *exprCtx) (Expr, bool) {
	ac := ec.agg
	if fe, ok := e.(*sqlparser.FuncExpr); ok && fe.Qualifier.IsEmpty() {
		lname := strings.ToLower(fe.Name.String())
		if p, ok := windowProps[lname]; ok {
			return b.windowProp(fe, p.kind, p.end, ec), true
		}
		if _, user := b.pl.userFns[lname]; !user {
			if a, ok := udf.LookupAggregate(lname); ok {
				return b.aggregate(a, fe, ec), true
			}
		}
	}
	switch e.(type) {
	case *sqlparser.SQLVal, *sqlparser.NullVal, sqlparser.BoolVal, *sqlparser.IntervalExpr:
		return nil, false
	}
	// A group key? Bind over the input quietly and compare.
	if len(ac.keys) > 0 {
		b.quiet++
		fail := b.fail
		x := b.expr(e, &exprCtx{sc: ac.in, clause: ec.clause})
		b.fail = fail
		b.quiet--
		if x != nil {
			s := x.String()
			for i, k := range ac.keyStr {
				if k == s {
					return ac.ref(i), true
				}
			}
		}
	}
	if c, ok := e.(*sqlparser.ColName); ok {
		name := c.Name.String()
		if c.Qualifier.IsEmpty() && ec.clause == "HAVING" && len(ac.in.lookup("", name)) == 0 {
			if a, ok := ac.aliases[strings.ToLower(name)]; ok && !ec.expand[strings.ToLower(name)] {
				ec2 := *ec
				ec2.expand = map[string]bool{strings.ToLower(name): true}
				for k := range ec.expand {
					ec2.expand[k] = true
				}
				return b.expr(a, &ec2), true
			}
		}
		// Resolve it first so that unknown names get their own error.
		b.quiet++
		fail := b.fail
		x := b.column(c, &exprCtx{sc: ac.in, clause: ec.clause})
		b.fail = fail
		b.quiet--
		if x == nil {
			return b.column(c, &exprCtx{sc: ac.in, clause: ec.clause}), true
		}
		words := []string{name}
		if q := c.Qualifier.Name.String(); q != "" {
			words = []string{q, ".", name}
		}
		b.errf(ErrGrouping, b.q.posOf(words...), "add it to GROUP BY, or aggregate it, e.g. LAST_VALUE("+sqlparser.String(c)+")",
			"column %s must appear in GROUP BY or be used in an aggregate function", sqlparser.String(c))
		return nil, true
	}
	return nil, false
}

// aggregate registers an aggregate call and returns a reference to its
// output column.
func (b *binder) aggregate(a *udf.Aggregate, fe *sqlparser.FuncExpr, ec *exprCtx) Expr {
	ac := ec.agg
	pos := b.q.posOf(fe.Name.String())
	if b.quiet == 0 {
		defer b.q.advance(fe.Name.String())
	}
	call := AggCall{Func: a, Distinct: fe.Distinct}
	inner := &exprCtx{sc: ac.in, clause: "an aggregate's argument"}
	var types []udf.Type
	for i, se := range fe.Exprs {
		switch se := se.(type) {
		case *sqlparser.StarExpr:
			if a.Name != "COUNT" || len(fe.Exprs) != 1 || fe.Distinct {
				b.errf(ErrType, pos, "write COUNT(*) to count rows, or "+a.Name+"(x)", "%s is not valid", sqlparser.String(fe))
				return nil
			}
		case *sqlparser.AliasedExpr:
			if b.hasAggregate(se.Expr) {
				b.errf(ErrGrouping, b.posOfExpr(se.Expr), "aggregate in one stage and aggregate the result in the next", "aggregates cannot be nested")
				return nil
			}
			x := b.expr(se.Expr, inner)
			if x == nil {
				return nil
			}
			if i == 0 {
				call.Args = append(call.Args, x)
			} else {
				lit, ok := foldExpr(x).(*Literal)
				if !ok {
					b.errf(ErrType, b.posOfExpr(se.Expr), "", "argument %d of %s must be a constant", i+1, a.Name)
					return nil
				}
				call.Consts = append(call.Consts, lit.Value)
			}
			types = append(types, x.Type())
		}
	}
	t, err := a.Check(types)
	if err != nil {
		b.errf(ErrType, pos, "signature: "+a.Signature, "%s", trimArgs(err))
		return nil
	}
	if a.ValidateConsts != nil && len(call.Consts) > 0 {
		if err := a.ValidateConsts(call.Consts); err != nil {
			b.errf(ErrType, pos, "signature: "+a.Signature, "%s", trimArgs(err))
			return nil
		}
	}
	if t == udf.TypeNull || t == udf.TypeAny {
		t = udf.TypeDouble
	}
	call.T = t
	s := call.String()
	for i, x := range ac.aggStr {
		if x == s {
			return ac.ref(ac.base + i)
		}
	}
	name := ec.alias
	if name == "" || nameTaken(name, ac.aggNames) {
		name = strings.ToLower(a.Name)
		if len(call.Args) > 0 {
			if c, ok := call.Args[0].(*ColumnRef); ok {
				name += "_" + c.Name
			}
		}
	}
	name = uniqueName(name, append(append([]string{"window_start", "window_end"}, ac.keyNames...), ac.aggNames...))
	ac.aggs = append(ac.aggs, call)
	ac.aggStr = append(ac.aggStr, s)
	ac.aggNames = append(ac.aggNames, name)
	return ac.ref(ac.base + len(ac.aggs) - 1)
}

func nameTaken(n string, names []string) bool {
	for _, x := range names {
		if strings.EqualFold(x, n) {
			return true
		}
	}
	return false
}

// groupWindow binds TUMBLE/HOP/SESSION of GROUP BY.
func (b *binder) groupWindow(kind WindowKind, fe *sqlparser.FuncExpr, sc *scope, input Rel) (Window, bool) {
	name := strings.ToUpper(fe.Name.String())
	pos := b.q.posOf(fe.Name.String())
	usage := map[WindowKind]string{
		Tumble:  "TUMBLE(ts, INTERVAL 1 MINUTE)",
		Hop:     "HOP(ts, INTERVAL 1 MINUTE, INTERVAL 10 MINUTE) (slide, then size)",
		Session: "SESSION(ts, INTERVAL 30 SECOND) (the gap)",
	}[kind]
	want := map[WindowKind]int{Tumble: 2, Hop: 3, Session: 2}[kind]
	if len(fe.Exprs) != want {
		b.errf(ErrWindow, pos, "write "+usage, "%s takes %d arguments, got %d", name, want, len(fe.Exprs))
		return Window{}, false
	}
	args := make([]sqlparser.Expr, len(fe.Exprs))
	for i, se := range fe.Exprs {
		ae, ok := se.(*sqlparser.AliasedExpr)
		if !ok {
			b.errf(ErrWindow, pos, "write "+usage, "bad argument of %s", name)
			return Window{}, false
		}
		args[i] = ae.Expr
	}
	x := b.expr(args[0], &exprCtx{sc: sc, clause: name})
	if x == nil {
		return Window{}, false
	}
	et := input.Schema().EventTime
	if et < 0 {
		b.errf(ErrWindow, b.posOfExpr(args[0]), "declare eventTime: on the source, and keep its column (or the window_end of a windowed stage) in the stages between",
			"%s needs an event-time column, and the input of this stage has none", name)
		return Window{}, false
	}
	col, ok := x.(*ColumnRef)
	if !ok || col.Index != et {
		etName := input.Schema().Columns[et].Name
		b.errf(ErrWindow, b.posOfExpr(args[0]), "write "+strings.Replace(usage, "ts", etName, 1),
			"%s must be over the event-time column %s, not %s (watermarks follow that column)", name, etName, sqlparser.String(args[0]))
		return Window{}, false
	}
	w := Window{Kind: kind, TimeCol: et}
	var ms []int64
	for _, a := range args[1:] {
		iv, ok := a.(*sqlparser.IntervalExpr)
		if !ok {
			b.errf(ErrWindow, b.posOfExpr(a), "write "+usage, "%s needs INTERVAL arguments, got %s", name, sqlparser.String(a))
			return Window{}, false
		}
		v, ok := b.interval(iv)
		if !ok {
			return Window{}, false
		}
		if v <= 0 {
			b.errf(ErrWindow, b.posOfExpr(a), "", "%s needs a positive interval", name)
			return Window{}, false
		}
		ms = append(ms, v)
	}
	switch kind {
	case Tumble:
		w.Size = ms[0]
	case Hop:
		w.Slide, w.Size = ms[0], ms[1]
		if w.Size < w.Slide || w.Size%w.Slide != 0 {
			b.errf(ErrWindow, pos, "HOP(ts, slide, size): the size must be a multiple of the slide",
				"HOP size %s is not a multiple of its slide %s", fmtMillis(w.Size), fmtMillis(w.Slide))
			return Window{}, false
		}
	case Session:
		w.Gap = ms[0]
	}
	return w, true
}

// windowProp binds TUMBLE_START(...) and friends: they must repeat the
// GROUP BY window.
func (b *binder) windowProp(fe *sqlparser.FuncExpr, kind WindowKind, end bool, ec *exprCtx) Expr {
	ac := ec.agg
	name := strings.ToUpper(fe.Name.String())
	pos := b.q.posOf(fe.Name.String())
	if ac.win == nil {
		b.errf(ErrWindow, pos, "add the window to GROUP BY, e.g. GROUP BY "+strings.TrimSuffix(strings.TrimSuffix(name, "_START"), "_END")+"(ts, ...)",
			"%s needs a GROUP BY with its window", name)
		return nil
	}
	w, ok := b.groupWindow(kind, fe, ac.in, ac.input)
	if !ok {
		return nil
	}
	if w != *ac.win {
		col := "ts"
		if et := ac.input.Schema().EventTime; et >= 0 {
			col = ac.input.Schema().Columns[et].Name
		}
		b.errf(ErrWindow, pos, "repeat the arguments of the GROUP BY window: "+windowSQL(*ac.win, col),
			"%s does not match the GROUP BY window", name)
		return nil
	}
	i := len(ac.keys)
	if end {
		i++
	}
	return ac.ref(i)
}
