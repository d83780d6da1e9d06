package planner

import (
	"sort"
	"strconv"
	"strings"

	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
	"github.com/xwb1989/sqlparser"
)

// binder binds the SELECT of one SQL stage.
type binder struct {
	pl    *planner
	q     *query
	st    *spec.Stage
	quiet int // > 0: record no diagnostics (trial binding)
	fail  bool
	depth int
	// starCols marks the select-list items that came from * (for errors).
	starCols map[int]bool
}

// scopeCol is one column visible to expressions: its relation alias, name
// and index in the input row.
type scopeCol struct {
	qual, name string
	idx        int
	t          udf.Type
	nullable   bool
}

// scope is the columns an expression may name.
type scope struct {
	cols  []scopeCol
	quals []string // relation aliases in FROM order
	// rels maps an alias to the relation node it names (for join kinds).
	rels map[string]Rel
}

func newScope(alias string, n Rel) *scope {
	s := &scope{quals: []string{alias}, rels: map[string]Rel{alias: n}}
	for i, c := range n.Schema().Columns {
		s.cols = append(s.cols, scopeCol{qual: alias, name: c.Name, idx: i, t: c.Type, nullable: c.Nullable})
	}
	return s
}

// join returns the scope of l ++ r rows.
func (s *scope) join(r *scope, rightNullable bool) *scope {
	out := &scope{quals: append(append([]string(nil), s.quals...), r.quals...), rels: map[string]Rel{}}
	for k, v := range s.rels {
		out.rels[k] = v
	}
	for k, v := range r.rels {
		out.rels[k] = v
	}
	out.cols = append(out.cols, s.cols...)
	n := len(s.cols)
	for _, c := range r.cols {
		c.idx += n
		c.nullable = c.nullable || rightNullable
		out.cols = append(out.cols, c)
	}
	return out
}

func (s *scope) hasQual(q string) bool {
	for _, x := range s.quals {
		if strings.EqualFold(x, q) {
			return true
		}
	}
	return false
}

// lookup finds column name (of relation qual when qual != ""). It returns
// the matches: none, one, or several (ambiguous).
func (s *scope) lookup(qual, name string) []scopeCol {
	var exact, fold []scopeCol
	for _, c := range s.cols {
		if qual != "" && !strings.EqualFold(c.qual, qual) {
			continue
		}
		if c.name == name {
			exact = append(exact, c)
		} else if strings.EqualFold(c.name, name) {
			fold = append(fold, c)
		}
	}
	if len(exact) > 0 {
		return exact
	}
	return fold
}

func (s *scope) names(qual string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range s.cols {
		if qual != "" && !strings.EqualFold(c.qual, qual) {
			continue
		}
		if !seen[c.name] {
			seen[c.name] = true
			out = append(out, c.name)
		}
	}
	return out
}

func (b *binder) errf(kind error, pos spec.Pos, hint, format string, args ...any) {
	b.fail = true
	if b.quiet > 0 {
		return
	}
	b.pl.errf(kind, pos, hint, format, args...)
}

// relation resolves a FROM name.
func (b *binder) relation(name string, pos spec.Pos) (Rel, bool) {
	if name == b.st.Name {
		b.errf(ErrCycle, pos, "", "stage %q reads itself", name)
		return nil, false
	}
	n, ok := b.pl.relation(name, pos)
	if !ok {
		b.errf(ErrUnknown, pos, didYouMean(name, b.pl.relNames()), "unknown source or stage %q in FROM", name)
		return nil, false
	}
	if n == nil {
		b.fail = true // errors reported where the relation is defined
	}
	return n, n != nil
}

// bindSelect binds a SELECT statement to a logical plan.
func (b *binder) bindSelect(sel *sqlparser.Select) Rel {
	q := b.q
	if sel.Distinct != "" {
		hint := "write GROUP BY with the columns and a window, e.g. GROUP BY a, TUMBLE(ts, INTERVAL 1 MINUTE), to get distinct rows per window"
		if len(sel.GroupBy) > 0 {
			hint = "GROUP BY already makes rows distinct per group: remove DISTINCT"
		}
		b.errf(ErrUnsupported, q.posOf("distinct"), hint, "SELECT DISTINCT over an unbounded stream is not supported")
	}
	if len(sel.OrderBy) > 0 {
		b.errf(ErrUnsupported, q.posOf("order"), "a stream has no end to sort by: remove ORDER BY (rows are emitted in event-time order per key), or aggregate per window",
			"ORDER BY is not supported on an unbounded stream")
	}
	if sel.Limit != nil {
		b.errf(ErrUnsupported, q.posOf("limit"), "a stream has no end: remove LIMIT, or filter with WHERE",
			"LIMIT is not supported on an unbounded stream")
	}
	if sel.Lock != "" {
		b.errf(ErrUnsupported, q.posOf("for"), "remove the locking clause", "locking clauses are not supported")
	}
	if len(sel.From) != 1 {
		b.errf(ErrUnsupported, q.posOf(","), "write JOIN ... ON a.k = b.k with a time bound, a window join or a table join",
			"comma-separated FROM lists (cross joins) are not supported")
		return nil
	}
	q.setClause("from")
	input, sc := b.tableExpr(sel.From[0])
	if input == nil {
		return nil
	}
	if sel.Where != nil {
		q.reset()
		q.setClause("where")
		pred := b.expr(sel.Where.Expr, &exprCtx{sc: sc, clause: "WHERE"})
		if pred != nil {
			if b.checkBool(pred, "WHERE", sel.Where.Expr) {
				input = &Filter{Pred: pred, Input: input}
			}
		}
	}
	q.reset()
	aliases := selectAliases(sel.SelectExprs)
	grouped := len(sel.GroupBy) > 0 || sel.Having != nil
	for _, se := range sel.SelectExprs {
		if ae, ok := se.(*sqlparser.AliasedExpr); ok && b.hasAggregate(ae.Expr) {
			grouped = true
		}
	}
	var out Rel
	if grouped {
		out = b.bindGrouped(sel, input, sc, aliases)
	} else {
		exprs, names := b.selectList(sel.SelectExprs, sc, nil)
		out = b.finishProject(exprs, names, input)
	}
	if b.fail {
		return nil
	}
	return out
}

// selectAliases maps the aliases of the select list to their expressions.
func selectAliases(ses sqlparser.SelectExprs) map[string]sqlparser.Expr {
	out := map[string]sqlparser.Expr{}
	for _, se := range ses {
		if ae, ok := se.(*sqlparser.AliasedExpr); ok && !ae.As.IsEmpty() {
			out[strings.ToLower(ae.As.String())] = ae.Expr
		}
	}
	return out
}

// selectList binds the select list over sc (or, with ac, over the output
// of an aggregate) and returns the expressions and their names.
func (b *binder) selectList(ses sqlparser.SelectExprs, sc *scope, ac *aggCtx) ([]Expr, []string) {
	b.q.reset()
	b.q.setClause("select")
	var exprs []Expr
	var names []string
	b.starCols = map[int]bool{}
	for i, se := range ses {
		switch se := se.(type) {
		case *sqlparser.StarExpr:
			qual := se.TableName.Name.String()
			if ac != nil {
				b.errf(ErrGrouping, b.q.posOf("*"), "list the group keys and aggregates", "SELECT * is not allowed with GROUP BY")
				continue
			}
			if qual != "" && !sc.hasQual(qual) {
				b.errf(ErrUnknown, b.q.posOf(qual, ".", "*"), didYouMean(qual, sc.quals), "unknown relation %q in %s.*", qual, qual)
				continue
			}
			for _, c := range sc.cols {
				if qual == "" || strings.EqualFold(c.qual, qual) {
					b.starCols[len(exprs)] = true
					exprs = append(exprs, &ColumnRef{Index: c.idx, Name: c.name, T: c.t})
					names = append(names, c.name)
				}
			}
		case *sqlparser.AliasedExpr:
			ec := &exprCtx{sc: sc, clause: "SELECT", agg: ac}
			if _, ok := se.Expr.(*sqlparser.FuncExpr); ok {
				ec.alias = se.As.String()
			}
			e := b.expr(se.Expr, ec)
			if e == nil {
				continue
			}
			name := se.As.String()
			if c, ok := e.(*ColumnRef); ok && name == "" {
				if _, isCol := se.Expr.(*sqlparser.ColName); isCol {
					name = c.Name // as declared: the parser lower-cases keywords such as dateTime
				}
			}
			if name == "" {
				name = defaultName(se.Expr, i)
			}
			exprs = append(exprs, e)
			names = append(names, name)
		case sqlparser.Nextval:
			b.errf(ErrUnsupported, b.q.posOf("next"), "", "NEXT VALUE is not supported")
		}
	}
	return exprs, names
}

// finishProject checks the output names and returns the Project.
func (b *binder) finishProject(exprs []Expr, names []string, input Rel) Rel {
	seen := map[string]int{}
	var starDups []string
	for i, n := range names {
		k := strings.ToLower(n)
		if j, dup := seen[k]; dup {
			if b.starCols[i] || b.starCols[j] {
				starDups = append(starDups, n)
				continue
			}
			b.errf(ErrAmbiguous, b.q.posOf(n), "give each a distinct name with AS",
				"duplicate output column %q (items %d and %d of the select list)", n, j+1, i+1)
			continue
		}
		seen[k] = i
	}
	if len(starDups) > 0 {
		b.errf(ErrAmbiguous, b.q.posOf("*"), "list the columns, renaming one of each pair with AS, e.g. b.x AS b_x",
			"SELECT * repeats the column names %s", strings.Join(starDups, ", "))
	}
	for i, e := range exprs {
		if e.Type() == udf.TypeNull {
			b.errf(ErrType, b.q.posOf(names[i]), "give it a type, e.g. CAST(NULL AS CHAR)", "the type of output column %q is unknown (NULL)", names[i])
		}
	}
	if b.fail || len(exprs) == 0 {
		return nil
	}
	return NewProject(exprs, names, input)
}

// defaultName names a select item written without AS: a column's name, a
// window property's window_start/window_end, a function's lower-case name,
// else exprN.
func defaultName(e sqlparser.Expr, i int) string {
	switch e := e.(type) {
	case *sqlparser.ColName:
		return e.Name.String()
	case *sqlparser.FuncExpr:
		n := strings.ToLower(e.Name.String())
		switch {
		case strings.HasSuffix(n, "_start"):
			if _, ok := windowProps[n]; ok {
				return "window_start"
			}
		case strings.HasSuffix(n, "_end"):
			if _, ok := windowProps[n]; ok {
				return "window_end"
			}
		}
		if len(e.Exprs) == 1 {
			if ae, ok := e.Exprs[0].(*sqlparser.AliasedExpr); ok {
				if c, ok := ae.Expr.(*sqlparser.ColName); ok {
					return n + "_" + c.Name.String()
				}
			}
		}
		return n
	case *sqlparser.ParenExpr:
		return defaultName(e.Expr, i)
	}
	return "expr" + strconv.Itoa(i+1)
}

// exprWords returns tokens that locate e in the query (its first
// identifier), for positions.
func exprWords(e sqlparser.Expr) []string {
	var out []string
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		if out != nil {
			return false, nil
		}
		switch n := n.(type) {
		case *sqlparser.ColName:
			if q := n.Qualifier.Name.String(); q != "" {
				out = []string{q, ".", n.Name.String()}
			} else {
				out = []string{n.Name.String()}
			}
			return false, nil
		case *sqlparser.FuncExpr:
			out = []string{n.Name.String()}
			return false, nil
		case *sqlparser.SQLVal:
			out = []string{string(n.Val)}
			return false, nil
		}
		return true, nil
	}, e)
	return out
}

// posOfExpr returns the best position for an error about e.
func (b *binder) posOfExpr(e sqlparser.Expr) spec.Pos {
	if w := exprWords(e); w != nil {
		return b.q.posOfBound(w...)
	}
	return b.q.posOf()
}

// tableExpr binds a FROM item.
func (b *binder) tableExpr(te sqlparser.TableExpr) (Rel, *scope) {
	switch te := te.(type) {
	case *sqlparser.AliasedTableExpr:
		switch t := te.Expr.(type) {
		case sqlparser.TableName:
			name := t.Name.String()
			if strings.EqualFold(name, "dual") {
				b.errf(ErrUnsupported, b.q.posOf("select"), "add FROM with a source or stage of the job",
					"a SQL stage must read FROM a source or stage")
				return nil, nil
			}
			if !t.Qualifier.IsEmpty() {
				b.errf(ErrUnsupported, b.q.posOf(t.Qualifier.String()), "name a source or stage of this job",
					"qualified name %s.%s is not supported", t.Qualifier.String(), name)
				return nil, nil
			}
			n, ok := b.relation(name, b.q.posOf(name))
			if !ok {
				return nil, nil
			}
			alias := name
			if !te.As.IsEmpty() {
				alias = te.As.String()
			}
			return n, newScope(alias, n)
		case *sqlparser.Subquery:
			b.errf(ErrUnsupported, b.q.posOf("("), "make the subquery its own stage and select FROM it by name",
				"subqueries in FROM are not supported")
			return nil, nil
		}
	case *sqlparser.ParenTableExpr:
		if len(te.Exprs) == 1 {
			return b.tableExpr(te.Exprs[0])
		}
		b.errf(ErrUnsupported, b.q.posOf("("), "write JOIN ... ON", "parenthesized FROM lists are not supported")
		return nil, nil
	case *sqlparser.JoinTableExpr:
		return b.join(te)
	}
	b.errf(ErrUnsupported, b.q.posOf("from"), "", "unsupported FROM clause %s", sqlparser.String(te))
	return nil, nil
}

// hasAggregate reports whether e calls an aggregate function (outside
// nested subqueries).
func (b *binder) hasAggregate(e sqlparser.Expr) bool {
	found := false
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		switch n := n.(type) {
		case *sqlparser.FuncExpr:
			if _, ok := udf.LookupAggregate(n.Name.String()); ok && n.Qualifier.IsEmpty() {
				if _, user := b.pl.userFns[strings.ToLower(n.Name.String())]; !user {
					found = true
				}
			}
		case *sqlparser.GroupConcatExpr:
			found = true
		case *sqlparser.Subquery:
			return false, nil
		}
		return !found, nil
	}, e)
	return found
}

// checkBool reports an error unless e is a bool (or NULL) expression.
func (b *binder) checkBool(e Expr, clause string, src sqlparser.Expr) bool {
	if t := e.Type(); t != udf.TypeBool && t != udf.TypeNull && t != udf.TypeAny {
		b.errf(ErrType, b.posOfExpr(src), "compare it, e.g. x <> 0 or x IS NOT NULL", "%s must be a bool condition, got %s", clause, t)
		return false
	}
	return true
}

// sortedNames returns the keys of m sorted.
func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// bindUnion binds SELECT ... UNION ALL SELECT ...: the inputs' columns
// match by position and must have the same types (bigint and double mix
// to double); names come from the first SELECT.
func (b *binder) bindUnion(u *sqlparser.Union) Rel {
	q := b.q
	if u.Type != sqlparser.UnionAllStr {
		b.errf(ErrUnsupported, q.posOf("union"), "write UNION ALL; to drop duplicates GROUP BY the columns (with a window for final results)",
			"%s removes duplicates, which needs the whole unbounded stream", strings.ToUpper(u.Type))
	}
	if len(u.OrderBy) > 0 || u.Limit != nil {
		b.errf(ErrUnsupported, q.posOf("order", "limit"), "a stream has no end: remove ORDER BY and LIMIT",
			"ORDER BY and LIMIT are not supported on an unbounded stream")
	}
	var inputs []Rel
	var srcs []sqlparser.SelectStatement
	var collect func(s sqlparser.SelectStatement)
	collect = func(s sqlparser.SelectStatement) {
		switch s := s.(type) {
		case *sqlparser.Union:
			if s.Type != sqlparser.UnionAllStr && s != u {
				b.errf(ErrUnsupported, q.posOf("union"), "write UNION ALL", "%s is not supported", strings.ToUpper(s.Type))
			}
			collect(s.Left)
			collect(s.Right)
		case *sqlparser.ParenSelect:
			collect(s.Select)
		default:
			srcs = append(srcs, s)
		}
	}
	collect(u.Left)
	collect(u.Right)
	for i, s := range srcs {
		if i > 0 {
			// Errors of the i-th SELECT point into its own text.
			if off := q.nthToken("union", i); off >= 0 {
				q.base = off
			}
		}
		q.reset()
		sel, ok := s.(*sqlparser.Select)
		if !ok {
			b.errf(ErrUnsupported, q.posOf("select"), "", "unsupported SELECT in UNION ALL")
			return nil
		}
		n := b.bindSelect(sel)
		if n == nil {
			b.fail = true
			continue
		}
		inputs = append(inputs, n)
	}
	q.base = 0
	q.reset()
	if b.fail || len(inputs) < 2 {
		return nil
	}
	first := inputs[0].Schema()
	types := make([]udf.Type, len(first.Columns))
	for i, c := range first.Columns {
		types[i] = c.Type
	}
	for k, in := range inputs[1:] {
		s := in.Schema()
		if len(s.Columns) != len(first.Columns) {
			b.errf(ErrType, q.posOf("union"), "select the same number of columns, in the same order",
				"the SELECTs of UNION ALL have %d and %d columns", len(first.Columns), len(s.Columns))
			return nil
		}
		for i, c := range s.Columns {
			t, err := udf.Unify(types[i], c.Type)
			if err != nil {
				b.errf(ErrType, q.posOf("union"), "CAST one of them",
					"column %d of UNION ALL (%s) is %s in the first SELECT and %s in SELECT %d", i+1, first.Columns[i].Name, types[i], c.Type, k+2)
				return nil
			}
			types[i] = t
		}
	}
	// Cast inputs whose bigint columns meet doubles, and name every input's
	// columns as the first SELECT does.
	for k, in := range inputs {
		s := in.Schema()
		cast := false
		for i, c := range s.Columns {
			if c.Type != types[i] && types[i] != udf.TypeNull {
				cast = true
			}
		}
		if !cast {
			continue
		}
		exprs := make([]Expr, len(s.Columns))
		names := make([]string, len(s.Columns))
		for i, c := range s.Columns {
			exprs[i] = &ColumnRef{Index: i, Name: c.Name, T: c.Type}
			if c.Type != types[i] && types[i] != udf.TypeNull {
				exprs[i] = &Cast{X: exprs[i], To: types[i]}
			}
			names[i] = c.Name
		}
		inputs[k] = newHelperProject(exprs, names, in)
	}
	return NewUnion(inputs)
}
