package planner

import (
	"strings"

	"github.com/xwb1989/sqlparser"
)

// join binds a JOIN: an interval join (a time bound in ON), a window join
// (both sides windowed stages joined on window_end) or a table join (the
// right side is a stage declared with table:).
func (b *binder) join(te *sqlparser.JoinTableExpr) (Rel, *scope) {
	left := false
	switch te.Join {
	case sqlparser.JoinStr:
	case sqlparser.LeftJoinStr:
		left = true
	case sqlparser.RightJoinStr:
		b.errf(ErrUnsupported, b.posOf("right"), "swap the two sides and write LEFT JOIN", "RIGHT JOIN is not supported")
		return nil, nil
	case sqlparser.StraightJoinStr:
		b.errf(ErrUnsupported, b.posOf("straight_join"), "write JOIN ... ON", "STRAIGHT_JOIN is not supported")
		return nil, nil
	default:
		b.errf(ErrUnsupported, b.posOf("natural"), "write JOIN ... ON a.k = b.k", "%s is not supported", strings.ToUpper(te.Join))
		return nil, nil
	}
	l, ls := b.tableExpr(te.LeftExpr)
	r, rs := b.tableExpr(te.RightExpr)
	if l == nil || r == nil {
		return nil, nil
	}
	for _, q := range rs.quals {
		if ls.hasQual(q) {
			b.errf(ErrAmbiguous, b.q.posOf(q), "give each side its own alias: FROM x AS a JOIN x AS b", "relation name %q is used twice in FROM", q)
			return nil, nil
		}
	}
	if len(te.Condition.Using) > 0 {
		b.errf(ErrUnsupported, b.posOf("using"), "write ON a.k = b.k", "JOIN ... USING is not supported")
		return nil, nil
	}
	sc := ls.join(rs, left)
	if te.Condition.On == nil {
		b.errf(ErrJoin, b.posOf("join"), "add ON a.k = b.k and a time bound, or join a table stage", "a JOIN needs an ON condition")
		return nil, nil
	}
	b.q.setClause("on")
	ls0, rs0 := l.Schema(), r.Schema()
	nl := len(ls0.Columns)
	spec := JoinOp{Left: left}
	var residual []Expr
	var lowerSet, upperSet bool
	var windowEq *sqlparser.ComparisonExpr
	var computed [][2]Expr // equalities of computed values of the two sides
	ec := &exprCtx{sc: sc, clause: "ON"}
	for _, c := range splitAnd(te.Condition.On) {
		// Time bounds.
		if lo, hi, ok, handled := b.timeBound(c, sc, ls0, rs0, nl); handled {
			if !ok {
				return nil, nil
			}
			if lo != nil {
				if lowerSet {
					spec.Lower = max(spec.Lower, *lo)
				} else {
					spec.Lower = *lo
				}
				lowerSet = true
			}
			if hi != nil {
				if upperSet {
					spec.Upper = min(spec.Upper, *hi)
				} else {
					spec.Upper = *hi
				}
				upperSet = true
			}
			continue
		}
		x := b.expr(c, ec)
		if x == nil {
			continue
		}
		if !b.checkBool(x, "ON", c) {
			continue
		}
		if eq, ok := x.(*BinaryOp); ok && eq.Op == "=" {
			if sl, sr := sideOf(eq.L, nl), sideOf(eq.R, nl); sl >= 0 && sr >= 0 && sl != sr {
				_, lok := eq.L.(*ColumnRef)
				_, rok := eq.R.(*ColumnRef)
				if !lok || !rok {
					// A computed key: evaluated into a column of its side.
					lx, rx := eq.L, eq.R
					if sl == 1 {
						lx, rx = rx, lx
					}
					computed = append(computed, [2]Expr{lx, rx})
					continue
				}
			}
			lc, lok := eq.L.(*ColumnRef)
			rc, rok := eq.R.(*ColumnRef)
			if lok && rok && (lc.Index < nl) != (rc.Index < nl) {
				if lc.Index >= nl {
					lc, rc = rc, lc
				}
				li, ri := lc.Index, rc.Index-nl
				if isWindowCol(ls0, li) && isWindowCol(rs0, ri) {
					windowEq = c.(*sqlparser.ComparisonExpr)
					continue
				}
				spec.LeftKeys = append(spec.LeftKeys, li)
				spec.RightKeys = append(spec.RightKeys, ri)
				continue
			}
		}
		// Conditions on one side only stay residual here; the push-down
		// rule moves them into the inputs where that is correct.
		residual = append(residual, x)
	}
	if b.fail {
		return nil, nil
	}
	stage, _ := r.(*Stage)
	isTable := stage != nil && stage.Table != nil
	if len(computed) > 0 {
		var lextra, rextra []Expr
		for _, p := range computed {
			lx, rx := p[0], p[1]
			li := nl + len(lextra)
			if c, ok := lx.(*ColumnRef); ok {
				li = c.Index
			} else {
				lextra = append(lextra, lx)
			}
			ri := len(rs0.Columns) + len(rextra)
			if c, ok := rx.(*ColumnRef); ok {
				ri = c.Index - nl
			} else {
				rextra = append(rextra, shiftColumns(rx, -nl))
			}
			spec.LeftKeys = append(spec.LeftKeys, li)
			spec.RightKeys = append(spec.RightKeys, ri)
		}
		if len(rextra) > 0 && isTable {
			b.errf(ErrJoin, b.posOf("on"), "join on the table's key columns; compute other values in the table stage",
				"a join with table stage %q must match its key columns, not expressions of them", stage.Name)
			return nil, nil
		}
		l = withKeyColumns(l, lextra)
		r = withKeyColumns(r, rextra)
		if d := len(lextra); d > 0 {
			// Right columns move after the left side's key columns.
			for i, x := range residual {
				residual[i] = mapExpr(x, func(e Expr) Expr {
					if c, ok := e.(*ColumnRef); ok && c.Index >= nl {
						n := *c
						n.Index += d
						return &n
					}
					return e
				})
			}
			for i := range sc.cols {
				if sc.cols[i].idx >= nl {
					sc.cols[i].idx += d
				}
			}
		}
	}
	spec.Residual = andAll(residual)
	timed := lowerSet || upperSet
	switch {
	case windowEq != nil:
		if timed || isTable {
			b.errf(ErrJoin, b.posOfExpr(windowEq), "a window join needs only the window_end equality and the keys", "a window join cannot also have a time bound or a table side")
			return nil, nil
		}
		lw, rw := ls0.Window, rs0.Window
		if lw.Window.Kind == Session || rw.Window.Kind == Session {
			b.errf(ErrJoin, b.posOfExpr(windowEq), "window-join TUMBLE or HOP results; session windows differ per key",
				"a window join of SESSION windows is not supported")
			return nil, nil
		}
		if !sameWindow(lw.Window, rw.Window) {
			b.errf(ErrJoin, b.posOfExpr(windowEq), "group both stages by the same TUMBLE or HOP window",
				"a window join needs both sides in the same window: left is %s, right is %s",
				windowSQL(lw.Window, "ts"), windowSQL(rw.Window, "ts"))
			return nil, nil
		}
		if ls0.EventTime < 0 || rs0.EventTime < 0 {
			b.errf(ErrJoin, b.posOfExpr(windowEq), "select TUMBLE_END(...)/HOP_END(...) in both windowed stages", "a window join needs the window end of both sides")
			return nil, nil
		}
		spec.Kind = WindowJoin
		spec.Window = lw.Window
		spec.Window.TimeCol = ls0.EventTime
	case isTable:
		if timed {
			b.errf(ErrJoin, b.posOf("between", "on"), "remove the time bound: a table join looks up the latest row per key",
				"a join with table stage %q needs no time bound", stage.Name)
			return nil, nil
		}
		// The keys must be exactly the table key, in any order.
		tk := make([]int, len(stage.Table.Key))
		for i, k := range stage.Table.Key {
			tk[i] = rs0.Index(k)
		}
		lk := make([]int, len(tk))
		okKeys := len(spec.RightKeys) == len(tk)
		for i, t := range tk {
			found := false
			for j, rk := range spec.RightKeys {
				if rk == t {
					lk[i] = spec.LeftKeys[j]
					found = true
				}
			}
			okKeys = okKeys && found
		}
		if !okKeys {
			b.errf(ErrJoin, b.posOf("on"), "join on every key column of the table: ON "+tableKeyHint(rs.quals[0], stage.Table.Key),
				"a join with table stage %q must match its key %s", stage.Name, bracketNames(stage.Table.Key))
			return nil, nil
		}
		spec.Kind = TableJoin
		spec.LeftKeys, spec.RightKeys = lk, tk
	case timed:
		if !lowerSet || !upperSet {
			b.errf(ErrJoin, b.posOf("between", "on"), "bound both ways: b.ts BETWEEN a.ts - INTERVAL 5 MINUTE AND a.ts + INTERVAL 5 MINUTE",
				"an interval join needs a lower and an upper time bound")
			return nil, nil
		}
		if spec.Lower > spec.Upper {
			b.errf(ErrJoin, b.posOf("between", "on"), "", "the time bound of the join is empty (lower %s > upper %s)", fmtMillis(spec.Lower), fmtMillis(spec.Upper))
			return nil, nil
		}
		spec.Kind = IntervalJoin
	default:
		lt, rt := "a.ts", "b.ts"
		if ls0.EventTime >= 0 {
			lt = ls.quals[0] + "." + ls0.Columns[ls0.EventTime].Name
		}
		if rs0.EventTime >= 0 {
			rt = rs.quals[len(rs.quals)-1] + "." + rs0.Columns[rs0.EventTime].Name
		}
		b.errf(ErrJoin, b.posOf("join"),
			"add a time bound, e.g. AND "+rt+" BETWEEN "+lt+" AND "+lt+" + INTERVAL 10 MINUTE; or join two windowed stages on window_end; or declare the right stage with table: {key: [...]}",
			"a stream-stream join needs a time bound (its state would grow forever)")
		return nil, nil
	}
	if len(spec.LeftKeys) == 0 && spec.Kind != WindowJoin {
		b.errf(ErrJoin, b.posOf("on"), "add an equality of the two sides, e.g. ON a.k = b.k", "a join needs at least one equality between its two sides")
		return nil, nil
	}
	lsf, rsf := l.Schema(), r.Schema()
	for i := range spec.LeftKeys {
		// Rows meet in the task of their key's hash, so the key values must
		// have the same type on both sides (5 and 5.0 hash differently).
		lt, rt := lsf.Columns[spec.LeftKeys[i]].Type, rsf.Columns[spec.RightKeys[i]].Type
		if lt != rt {
			b.errf(ErrType, b.posOf("on"), "CAST one side, e.g. ON CAST(a.k AS SIGNED) = b.k",
				"join keys %s and %s have different types (%s and %s)",
				lsf.Columns[spec.LeftKeys[i]].Name, rsf.Columns[spec.RightKeys[i]].Name, lt, rt)
			return nil, nil
		}
	}
	return &Join{Spec: spec, L: l, R: r}, sc
}

func tableKeyHint(alias string, key []string) string {
	var parts []string
	for _, k := range key {
		parts = append(parts, "a."+k+" = "+alias+"."+k)
	}
	return strings.Join(parts, " AND ")
}

func sameWindow(a, b Window) bool {
	return a.Kind == b.Kind && a.Size == b.Size && a.Slide == b.Slide && a.Gap == b.Gap
}

// isWindowCol reports whether column i of s is the start or end of the
// window its rows come from.
func isWindowCol(s Schema, i int) bool {
	return s.Window != nil && (i == s.Window.End || i == s.Window.Start)
}

// splitAnd splits a condition at AND.
func splitAnd(e sqlparser.Expr) []sqlparser.Expr {
	switch x := e.(type) {
	case *sqlparser.AndExpr:
		return append(splitAnd(x.Left), splitAnd(x.Right)...)
	case *sqlparser.ParenExpr:
		if _, ok := x.Expr.(*sqlparser.AndExpr); ok {
			return splitAnd(x.Expr)
		}
	}
	return []sqlparser.Expr{e}
}

// timeTerm reads `col`, `col + INTERVAL n unit` or `col - INTERVAL ...`.
func (b *binder) timeTerm(e sqlparser.Expr) (*sqlparser.ColName, int64, bool) {
	switch x := e.(type) {
	case *sqlparser.ParenExpr:
		return b.timeTerm(x.Expr)
	case *sqlparser.ColName:
		return x, 0, true
	case *sqlparser.BinaryExpr:
		if x.Operator != sqlparser.PlusStr && x.Operator != sqlparser.MinusStr {
			return nil, 0, false
		}
		c, off, ok := b.timeTerm(x.Left)
		iv, isIv := x.Right.(*sqlparser.IntervalExpr)
		if !ok || !isIv {
			return nil, 0, false
		}
		b.quiet++
		ms, ok := b.interval(iv)
		b.quiet--
		if !ok {
			return nil, 0, false
		}
		if x.Operator == sqlparser.MinusStr {
			ms = -ms
		}
		return c, off + ms, true
	}
	return nil, 0, false
}

// timeBound recognizes a bound between the event times of the two sides:
// r BETWEEN l + a AND l + b, l BETWEEN r + a AND r + b, and comparisons
// r >= l + a, r <= l + b (either way round). It returns the bounds on
// right.time - left.time; handled is false for other conditions.
func (b *binder) timeBound(c sqlparser.Expr, sc *scope, ls, rs Schema, nl int) (lo, hi *int64, ok, handled bool) {
	if ls.EventTime < 0 || rs.EventTime < 0 {
		return nil, nil, false, false
	}
	// which returns 0 for the left event-time column, 1 for the right one.
	which := func(col *sqlparser.ColName) int {
		b.quiet++
		fail := b.fail
		x := b.column(col, &exprCtx{sc: sc, clause: "ON"})
		b.fail = fail
		b.quiet--
		cr, isCol := x.(*ColumnRef)
		switch {
		case !isCol:
			return -1
		case cr.Index == ls.EventTime:
			return 0
		case cr.Index == nl+rs.EventTime:
			return 1
		}
		return -1
	}
	// diff reads x - y as (right - left) offsets: term(x) OP term(y).
	type term struct {
		side int
		off  int64
	}
	read := func(e sqlparser.Expr) (term, bool) {
		col, off, ok := b.timeTerm(e)
		if !ok {
			return term{}, false
		}
		s := which(col)
		return term{s, off}, s >= 0
	}
	p := func(v int64) *int64 { return &v }
	switch x := c.(type) {
	case *sqlparser.RangeCond:
		if x.Operator != sqlparser.BetweenStr {
			return nil, nil, false, false
		}
		t, ok1 := read(x.Left)
		a, ok2 := read(x.From)
		z, ok3 := read(x.To)
		if !ok1 || !ok2 || !ok3 || a.side == t.side || z.side == t.side {
			return nil, nil, false, false
		}
		// t + t.off in [other + a.off, other + z.off]
		if t.side == 1 {
			return p(a.off - t.off), p(z.off - t.off), true, true
		}
		// left in [right + a, right + z]  <=>  right - left in [-z, -a]
		return p(t.off - z.off), p(t.off - a.off), true, true
	case *sqlparser.ComparisonExpr:
		op := x.Operator
		if op != sqlparser.LessThanStr && op != sqlparser.LessEqualStr && op != sqlparser.GreaterThanStr && op != sqlparser.GreaterEqualStr {
			return nil, nil, false, false
		}
		l, ok1 := read(x.Left)
		r, ok2 := read(x.Right)
		if !ok1 || !ok2 || l.side == r.side {
			return nil, nil, false, false
		}
		// Normalize to right + ro OP left + lo.
		if l.side == 0 {
			l, r = r, l
			switch op {
			case sqlparser.LessThanStr:
				op = sqlparser.GreaterThanStr
			case sqlparser.LessEqualStr:
				op = sqlparser.GreaterEqualStr
			case sqlparser.GreaterThanStr:
				op = sqlparser.LessThanStr
			case sqlparser.GreaterEqualStr:
				op = sqlparser.LessEqualStr
			}
		}
		d := r.off - l.off // right - left OP d
		switch op {
		case sqlparser.GreaterEqualStr:
			return p(d), nil, true, true
		case sqlparser.GreaterThanStr:
			return p(d + 1), nil, true, true
		case sqlparser.LessEqualStr:
			return nil, p(d), true, true
		case sqlparser.LessThanStr:
			return nil, p(d - 1), true, true
		}
	}
	return nil, nil, false, false
}

// withKeyColumns appends computed join keys to the rows of n (named _key1,
// _key2, ...; a SELECT cannot name them).
func withKeyColumns(n Rel, keys []Expr) Rel {
	if len(keys) == 0 {
		return n
	}
	s := n.Schema()
	var exprs []Expr
	var names []string
	for i, c := range s.Columns {
		exprs = append(exprs, &ColumnRef{Index: i, Name: c.Name, T: c.Type})
		names = append(names, c.Name)
	}
	for i, k := range keys {
		exprs = append(exprs, k)
		names = append(names, uniqueName("_key"+itoa(i+1), names))
	}
	return newHelperProject(exprs, names, n)
}
