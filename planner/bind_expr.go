package planner

import (
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/flowrun/flowrun/ml"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
	"github.com/xwb1989/sqlparser"
)

// exprCtx is where an expression is bound: its scope, the clause (for
// messages) and, in a grouped query, the aggregate context.
type exprCtx struct {
	sc     *scope
	clause string
	agg    *aggCtx
	alias  string          // AS name of the select item being bound
	expand map[string]bool // select aliases being expanded (HAVING)
}

// expr binds a scalar expression; it returns nil after reporting an error.
func (b *binder) expr(e sqlparser.Expr, ec *exprCtx) Expr {
	b.depth++
	defer func() { b.depth-- }()
	if b.depth > MaxSQLDepth {
		panic(depthPanic{})
	}
	if ec.agg != nil {
		if x, handled := b.aggExpr(e, ec); handled {
			return x
		}
	}
	switch e := e.(type) {
	case *sqlparser.ParenExpr:
		return b.expr(e.Expr, ec)
	case *sqlparser.ColName:
		return b.column(e, ec)
	case *sqlparser.SQLVal:
		return b.literal(e)
	case *sqlparser.NullVal:
		return &Literal{Value: udf.Null}
	case sqlparser.BoolVal:
		return &Literal{Value: udf.Bool(bool(e))}
	case *sqlparser.AndExpr:
		return b.logic("AND", e.Left, e.Right, ec)
	case *sqlparser.OrExpr:
		return b.logic("OR", e.Left, e.Right, ec)
	case *sqlparser.NotExpr:
		x := b.expr(e.Expr, ec)
		if x == nil {
			return nil
		}
		if !b.isBoolish(x) {
			b.errf(ErrType, b.posOfExpr(e.Expr), "", "NOT needs a bool operand, got %s", x.Type())
			return nil
		}
		return &UnaryOp{Op: "NOT", X: x, T: udf.TypeBool}
	case *sqlparser.ComparisonExpr:
		return b.comparison(e, ec)
	case *sqlparser.RangeCond:
		x, lo, hi := b.expr(e.Left, ec), b.expr(e.From, ec), b.expr(e.To, ec)
		if x == nil || lo == nil || hi == nil {
			return nil
		}
		if e.Operator == sqlparser.NotBetweenStr {
			l, r := b.compare("<", x, lo, e.Left), b.compare(">", x, hi, e.Left)
			if l == nil || r == nil {
				return nil
			}
			return &BinaryOp{Op: "OR", L: l, R: r, T: udf.TypeBool}
		}
		l, r := b.compare(">=", x, lo, e.Left), b.compare("<=", x, hi, e.Left)
		if l == nil || r == nil {
			return nil
		}
		return &BinaryOp{Op: "AND", L: l, R: r, T: udf.TypeBool}
	case *sqlparser.IsExpr:
		return b.isExpr(e, ec)
	case *sqlparser.BinaryExpr:
		return b.arith(e, ec)
	case *sqlparser.UnaryExpr:
		return b.unary(e, ec)
	case *sqlparser.IntervalExpr:
		ms, ok := b.interval(e)
		if !ok {
			return nil
		}
		return &Literal{Value: udf.Int(ms)}
	case *sqlparser.FuncExpr:
		return b.call(e, ec)
	case *sqlparser.CaseExpr:
		return b.caseExpr(e, ec)
	case *sqlparser.ConvertExpr:
		return b.cast(e, ec)
	case *sqlparser.SubstrExpr:
		args := []Expr{b.column(e.Name, ec)}
		args = append(args, b.expr(e.From, ec))
		if e.To != nil {
			args = append(args, b.expr(e.To, ec))
		}
		return b.builtin("SUBSTRING", args, b.posOf("substr", "substring"))
	case *sqlparser.Subquery, *sqlparser.ExistsExpr:
		b.errf(ErrUnsupported, b.posOf("select", "exists"), "make the subquery its own stage and JOIN it (a table stage for lookups)",
			"subqueries are not supported")
	case sqlparser.ValTuple:
		b.errf(ErrUnsupported, b.posOfExpr(e), "", "row values (a, b) are only allowed after IN")
	case *sqlparser.GroupConcatExpr:
		b.errf(ErrUnsupported, b.posOf("group_concat"), "use COLLECT_VECTOR for numbers, or emit rows and aggregate downstream",
			"GROUP_CONCAT is not supported")
	case *sqlparser.CollateExpr:
		b.errf(ErrUnsupported, b.posOf("collate"), "compare LOWER(a) = LOWER(b) for a case-insensitive match", "COLLATE is not supported")
	case *sqlparser.MatchExpr:
		b.errf(ErrUnsupported, b.posOf("match"), "use LIKE or REGEXP_LIKE", "MATCH ... AGAINST is not supported")
	case *sqlparser.ValuesFuncExpr, *sqlparser.ConvertUsingExpr, *sqlparser.Default, sqlparser.ListArg:
		b.errf(ErrUnsupported, b.posOfExpr(e), "", "%s is not supported", sqlparser.String(e))
	default:
		b.errf(ErrUnsupported, b.posOfExpr(e), "", "expression %s is not supported", sqlparser.String(e))
	}
	return nil
}

// posOf returns the position of the first of several spellings found.
func (b *binder) posOf(words ...string) specPos {
	for _, w := range words {
		if off := b.q.find(w); off >= 0 {
			return b.q.pos(off)
		}
	}
	// Operators are not identifier tokens: look for the text.
	low := strings.ToLower(b.q.text.Value)
	for _, w := range words {
		if i := strings.Index(low[min(b.q.clause, len(low)):], strings.ToLower(w)); i >= 0 {
			return b.q.pos(b.q.clause + i)
		}
		if i := strings.Index(low, strings.ToLower(w)); i >= 0 {
			return b.q.pos(i)
		}
	}
	return b.q.posOf()
}

// column resolves a column name.
func (b *binder) column(c *sqlparser.ColName, ec *exprCtx) Expr {
	qual, name := c.Qualifier.Name.String(), c.Name.String()
	words := []string{name}
	if qual != "" {
		words = []string{qual, ".", name}
	}
	pos := b.q.posOf(words...)
	if !c.Qualifier.Qualifier.IsEmpty() {
		b.errf(ErrUnsupported, pos, "qualify a column by its relation only, e.g. t.x", "three-part name %s is not supported", sqlparser.String(c))
		return nil
	}
	if qual != "" && !ec.sc.hasQual(qual) {
		b.errf(ErrUnknown, pos, didYouMean(qual, ec.sc.quals), "unknown relation %q in %s.%s", qual, qual, name)
		return nil
	}
	ms := ec.sc.lookup(qual, name)
	switch len(ms) {
	case 0:
		hint := didYouMean(name, ec.sc.names(qual))
		if _, ok := b.pl.models[name]; ok && hint == "" {
			hint = "a model is named only as the first argument of PREDICT, PREDICT_LABEL or MODEL_VERSION"
		}
		if ec.clause == "WHERE" && hint == "" {
			hint = "aliases of the select list cannot be used in WHERE: repeat the expression"
		}
		in := ""
		if qual != "" {
			in = " in " + qual
		} else if len(ec.sc.quals) == 1 {
			in = " in " + ec.sc.quals[0]
		}
		b.errf(ErrUnknown, pos, hint, "unknown column %q%s", name, in)
		return nil
	case 1:
	default:
		b.errf(ErrAmbiguous, pos, "qualify it, e.g. "+ms[0].qual+"."+ms[0].name,
			"column %q is ambiguous: it is in %s and %s", name, ms[0].qual, ms[1].qual)
		return nil
	}
	m := ms[0]
	if b.quiet == 0 {
		b.q.advance(words...)
	}
	return &ColumnRef{Index: m.idx, Name: m.name, T: m.t}
}

// literal binds a SQL literal.
func (b *binder) literal(v *sqlparser.SQLVal) Expr {
	switch v.Type {
	case sqlparser.StrVal:
		return &Literal{Value: udf.Str(string(v.Val))}
	case sqlparser.IntVal:
		i, err := strconv.ParseInt(string(v.Val), 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(string(v.Val), 64)
			if ferr != nil {
				b.errf(ErrType, b.q.posOf(string(v.Val)), "", "bad number %s", v.Val)
				return nil
			}
			return &Literal{Value: udf.Float(f)}
		}
		return &Literal{Value: udf.Int(i)}
	case sqlparser.FloatVal:
		f, err := strconv.ParseFloat(string(v.Val), 64)
		if err != nil {
			b.errf(ErrType, b.q.posOf(string(v.Val)), "", "bad number %s", v.Val)
			return nil
		}
		return &Literal{Value: udf.Float(f)}
	case sqlparser.ValArg:
		b.errf(ErrUnsupported, b.q.posOf(string(v.Val)), "write the value in the query", "bind parameters are not supported")
	default:
		b.errf(ErrUnsupported, b.q.posOf(string(v.Val)), "write numbers in decimal and strings in quotes", "hex and bit literals are not supported")
	}
	return nil
}

func (b *binder) isBoolish(e Expr) bool {
	t := e.Type()
	return t == udf.TypeBool || t == udf.TypeNull || t == udf.TypeAny
}

func (b *binder) logic(op string, l, r sqlparser.Expr, ec *exprCtx) Expr {
	x, y := b.expr(l, ec), b.expr(r, ec)
	if x == nil || y == nil {
		return nil
	}
	for i, e := range []Expr{x, y} {
		if !b.isBoolish(e) {
			src := l
			if i == 1 {
				src = r
			}
			hint := ""
			if op == "OR" && (x.Type() == udf.TypeString || y.Type() == udf.TypeString) {
				hint = "|| means OR in this dialect: concatenate strings with CONCAT(a, b)"
			}
			b.errf(ErrType, b.posOfExpr(src), hint, "%s needs bool operands, got %s", op, e.Type())
			return nil
		}
	}
	return &BinaryOp{Op: op, L: x, R: y, T: udf.TypeBool}
}

var compareOps = map[string]string{
	sqlparser.EqualStr: "=", sqlparser.LessThanStr: "<", sqlparser.GreaterThanStr: ">",
	sqlparser.LessEqualStr: "<=", sqlparser.GreaterEqualStr: ">=", sqlparser.NotEqualStr: "!=",
}

func (b *binder) comparison(e *sqlparser.ComparisonExpr, ec *exprCtx) Expr {
	if e.Escape != nil {
		b.errf(ErrUnsupported, b.q.posOf("escape"), "use the default escape character \\", "LIKE ... ESCAPE is not supported")
		return nil
	}
	switch e.Operator {
	case sqlparser.InStr, sqlparser.NotInStr:
		x := b.expr(e.Left, ec)
		tuple, ok := e.Right.(sqlparser.ValTuple)
		if !ok {
			b.errf(ErrUnsupported, b.posOf("in"), "list the values: x IN (1, 2, 3), or JOIN a table stage",
				"IN needs a list of values (subqueries are not supported)")
			return nil
		}
		if x == nil {
			return nil
		}
		var list []Expr
		types := []udf.Type{x.Type()}
		for _, v := range tuple {
			y := b.expr(v, ec)
			if y == nil {
				return nil
			}
			y = coerceLiteral(y, x.Type())
			list = append(list, y)
			types = append(types, y.Type())
		}
		if _, err := udf.Unify(types...); err != nil {
			b.errf(ErrType, b.posOfExpr(e.Left), "", "IN list does not match the type of %s: %v", sqlparser.String(e.Left), err)
			return nil
		}
		return &In{X: x, List: list, Not: e.Operator == sqlparser.NotInStr}
	case sqlparser.LikeStr, sqlparser.NotLikeStr:
		x, p := b.expr(e.Left, ec), b.expr(e.Right, ec)
		if x == nil || p == nil {
			return nil
		}
		for _, y := range []Expr{x, p} {
			if t := y.Type(); t != udf.TypeString && t != udf.TypeNull && t != udf.TypeAny {
				b.errf(ErrType, b.posOfExpr(e.Left), "CAST(x AS CHAR) turns a value into a string", "LIKE needs strings, got %s", t)
				return nil
			}
		}
		return &Like{X: x, Pattern: p, Not: e.Operator == sqlparser.NotLikeStr}
	case sqlparser.RegexpStr, sqlparser.NotRegexpStr:
		x, p := b.expr(e.Left, ec), b.expr(e.Right, ec)
		call := b.builtin("REGEXP_LIKE", []Expr{x, p}, b.posOf("regexp"))
		if call == nil {
			return nil
		}
		if e.Operator == sqlparser.NotRegexpStr {
			return &UnaryOp{Op: "NOT", X: call, T: udf.TypeBool}
		}
		return call
	case sqlparser.JSONExtractOp, sqlparser.JSONUnquoteExtractOp:
		b.errf(ErrUnsupported, b.posOf("->", "->>"), "use JSON_VALUE(doc, '$.path')", "the JSON operators -> and ->> are not supported")
		return nil
	case sqlparser.NullSafeEqualStr:
		b.errf(ErrUnsupported, b.posOf("<=>"), "write (a = b OR (a IS NULL AND b IS NULL))", "<=> is not supported")
		return nil
	}
	op, ok := compareOps[e.Operator]
	if !ok {
		b.errf(ErrUnsupported, b.posOfExpr(e.Left), "", "operator %s is not supported", e.Operator)
		return nil
	}
	x, y := b.expr(e.Left, ec), b.expr(e.Right, ec)
	if x == nil || y == nil {
		return nil
	}
	return b.compare(op, x, y, e.Left)
}

// compare types a comparison. A string literal compared with a timestamp is
// read as a timestamp.
func (b *binder) compare(op string, x, y Expr, src sqlparser.Expr) Expr {
	x, y = coerceLiteral(x, y.Type()), coerceLiteral(y, x.Type())
	tx, ty := x.Type(), y.Type()
	if lit, ok := x.(*Literal); ok && lit.Value.K == udf.TypeString && ty == udf.TypeTimestamp ||
		func() bool {
			lit, ok := y.(*Literal)
			return ok && lit.Value.K == udf.TypeString && tx == udf.TypeTimestamp
		}() {
		b.errf(ErrType, b.posOfExpr(src), "write timestamps as '2006-01-02T15:04:05Z' or '2006-01-02 15:04:05'", "cannot read the string as a timestamp")
		return nil
	}
	if tx == udf.TypeVector || ty == udf.TypeVector {
		b.errf(ErrType, b.posOfExpr(src), "compare a component or a norm, e.g. VECTOR_NORM(v) > 1", "vectors cannot be compared with %s", op)
		return nil
	}
	if _, err := udf.Unify(tx, ty); err != nil {
		b.errf(ErrType, b.posOfExpr(src), "CAST one side, e.g. CAST(x AS CHAR) or CAST(s AS DECIMAL)", "cannot compare %s with %s", tx, ty)
		return nil
	}
	return &BinaryOp{Op: op, L: x, R: y, T: udf.TypeBool}
}

// coerceLiteral reads a string literal as a timestamp where one is wanted.
func coerceLiteral(e Expr, want udf.Type) Expr {
	lit, ok := e.(*Literal)
	if !ok || want != udf.TypeTimestamp || lit.Value.K != udf.TypeString {
		return e
	}
	if ms, ok := parseTimeLiteral(lit.Value.S); ok {
		return &Literal{Value: udf.Time(ms)}
	}
	return e
}

// parseTimeLiteral reads RFC 3339 or 'YYYY-MM-DD[ HH:MM:SS[.fff]]' (UTC).
func parseTimeLiteral(s string) (int64, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}

func (b *binder) isExpr(e *sqlparser.IsExpr, ec *exprCtx) Expr {
	x := b.expr(e.Expr, ec)
	if x == nil {
		return nil
	}
	switch e.Operator {
	case sqlparser.IsNullStr:
		return &IsNull{X: x}
	case sqlparser.IsNotNullStr:
		return &IsNull{X: x, Not: true}
	}
	if !b.isBoolish(x) {
		b.errf(ErrType, b.posOfExpr(e.Expr), "", "%s needs a bool operand, got %s", strings.ToUpper(e.Operator), x.Type())
		return nil
	}
	t, f := &Literal{Value: udf.Bool(true)}, &Literal{Value: udf.Bool(false)}
	not := &UnaryOp{Op: "NOT", X: x, T: udf.TypeBool}
	switch e.Operator {
	case sqlparser.IsTrueStr: // CASE WHEN x THEN TRUE ELSE FALSE END: NULL is not true
		return &Case{Whens: []When{{Cond: x, Then: t}}, Else: f, T: udf.TypeBool}
	case sqlparser.IsNotTrueStr:
		return &Case{Whens: []When{{Cond: x, Then: f}}, Else: t, T: udf.TypeBool}
	case sqlparser.IsFalseStr:
		return &Case{Whens: []When{{Cond: not, Then: t}}, Else: f, T: udf.TypeBool}
	case sqlparser.IsNotFalseStr:
		return &Case{Whens: []When{{Cond: not, Then: f}}, Else: t, T: udf.TypeBool}
	}
	b.errf(ErrUnsupported, b.posOfExpr(e.Expr), "", "%s is not supported", e.Operator)
	return nil
}

// arith types + - * / %. Timestamps: ts ± bigint (milliseconds, e.g. an
// INTERVAL) is a timestamp; ts - ts is bigint milliseconds.
func (b *binder) arith(e *sqlparser.BinaryExpr, ec *exprCtx) Expr {
	op := e.Operator
	switch op {
	case sqlparser.PlusStr, sqlparser.MinusStr, sqlparser.MultStr, sqlparser.DivStr, sqlparser.ModStr:
	case sqlparser.IntDivStr:
		b.errf(ErrUnsupported, b.posOf("div"), "write FLOOR(a / b)", "DIV is not supported")
		return nil
	default:
		b.errf(ErrUnsupported, b.posOf(op), "", "bit operator %s is not supported", op)
		return nil
	}
	x, y := b.expr(e.Left, ec), b.expr(e.Right, ec)
	if x == nil || y == nil {
		return nil
	}
	tx, ty := x.Type(), y.Type()
	var t udf.Type
	switch {
	case tx == udf.TypeTimestamp && (ty == udf.TypeBigint || ty == udf.TypeNull) && (op == "+" || op == "-"):
		t = udf.TypeTimestamp
	case ty == udf.TypeTimestamp && tx == udf.TypeBigint && op == "+":
		t = udf.TypeTimestamp
	case tx == udf.TypeTimestamp && ty == udf.TypeTimestamp && op == "-":
		t = udf.TypeBigint
	case (tx.Numeric() || tx == udf.TypeNull || tx == udf.TypeAny) && (ty.Numeric() || ty == udf.TypeNull || ty == udf.TypeAny):
		t, _ = udf.Unify(tx, ty)
		if t == udf.TypeNull || t == udf.TypeAny {
			t = udf.TypeDouble
		}
		if op == "/" {
			t = udf.TypeDouble
		}
	default:
		hint := ""
		if tx == udf.TypeString || ty == udf.TypeString {
			hint = "concatenate strings with CONCAT(a, b); CAST(s AS DECIMAL) reads a number"
		}
		b.errf(ErrType, b.posOfExpr(e.Left), hint, "operator %s needs numbers, got %s and %s", op, tx, ty)
		return nil
	}
	return &BinaryOp{Op: op, L: x, R: y, T: t}
}

func (b *binder) unary(e *sqlparser.UnaryExpr, ec *exprCtx) Expr {
	x := b.expr(e.Expr, ec)
	if x == nil {
		return nil
	}
	switch e.Operator {
	case sqlparser.UPlusStr:
		if !x.Type().Numeric() && x.Type() != udf.TypeNull {
			b.errf(ErrType, b.posOfExpr(e.Expr), "", "unary + needs a number, got %s", x.Type())
			return nil
		}
		return x
	case sqlparser.UMinusStr:
		if !x.Type().Numeric() && x.Type() != udf.TypeNull && x.Type() != udf.TypeAny {
			b.errf(ErrType, b.posOfExpr(e.Expr), "", "unary - needs a number, got %s", x.Type())
			return nil
		}
		if lit, ok := x.(*Literal); ok {
			switch lit.Value.K {
			case udf.TypeBigint:
				return &Literal{Value: udf.Int(-lit.Value.I)}
			case udf.TypeDouble:
				return &Literal{Value: udf.Float(-lit.Value.F)}
			}
		}
		t := x.Type()
		if t == udf.TypeNull || t == udf.TypeAny {
			t = udf.TypeDouble
		}
		return &UnaryOp{Op: "-", X: x, T: t}
	case sqlparser.BangStr:
		if !b.isBoolish(x) {
			b.errf(ErrType, b.posOfExpr(e.Expr), "", "! needs a bool operand, got %s", x.Type())
			return nil
		}
		return &UnaryOp{Op: "NOT", X: x, T: udf.TypeBool}
	}
	b.errf(ErrUnsupported, b.posOfExpr(e.Expr), "", "unary operator %s is not supported", strings.TrimSpace(e.Operator))
	return nil
}

var intervalUnits = map[string]int64{
	"millisecond": 1, "milliseconds": 1,
	"second": 1000, "seconds": 1000, "minute": 60000, "minutes": 60000,
	"hour": 3600000, "hours": 3600000, "day": 86400000, "days": 86400000,
	"week": 7 * 86400000, "weeks": 7 * 86400000,
}

// interval returns the length of INTERVAL n unit in milliseconds.
func (b *binder) interval(e *sqlparser.IntervalExpr) (int64, bool) {
	unit := strings.ToLower(e.Unit)
	mul, ok := intervalUnits[unit]
	if !ok {
		b.errf(ErrUnsupported, b.q.posOf(e.Unit), "units: MILLISECOND, SECOND, MINUTE, HOUR, DAY, WEEK",
			"interval unit %s is not supported", strings.ToUpper(e.Unit))
		return 0, false
	}
	v, ok := e.Expr.(*sqlparser.SQLVal)
	if !ok || (v.Type != sqlparser.IntVal && v.Type != sqlparser.StrVal) {
		b.errf(ErrUnsupported, b.posOf("interval"), "write INTERVAL 10 MINUTE", "an INTERVAL needs a whole number")
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(v.Val)), 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mul {
		b.errf(ErrType, b.q.posOf(string(v.Val)), "write INTERVAL 10 MINUTE", "bad interval length %q", v.Val)
		return 0, false
	}
	return n * mul, true
}

func (b *binder) caseExpr(e *sqlparser.CaseExpr, ec *exprCtx) Expr {
	var subject Expr
	if e.Expr != nil {
		if subject = b.expr(e.Expr, ec); subject == nil {
			return nil
		}
	}
	out := &Case{}
	var types []udf.Type
	for _, w := range e.Whens {
		c, v := b.expr(w.Cond, ec), b.expr(w.Val, ec)
		if c == nil || v == nil {
			return nil
		}
		if subject != nil {
			if c = b.compare("=", subject, c, w.Cond); c == nil {
				return nil
			}
		} else if !b.isBoolish(c) {
			b.errf(ErrType, b.posOfExpr(w.Cond), "", "WHEN needs a bool condition, got %s", c.Type())
			return nil
		}
		out.Whens = append(out.Whens, When{Cond: c, Then: v})
		types = append(types, v.Type())
	}
	if e.Else != nil {
		if out.Else = b.expr(e.Else, ec); out.Else == nil {
			return nil
		}
		types = append(types, out.Else.Type())
	}
	t, err := udf.Unify(types...)
	if err != nil {
		b.errf(ErrType, b.posOf("case"), "make every THEN and ELSE the same type (CAST one of them)", "CASE branches have %v", err)
		return nil
	}
	out.T = t
	return out
}

// castTypes maps MySQL CAST type names to column types.
var castTypes = map[string]udf.Type{
	"signed": udf.TypeBigint, "signed integer": udf.TypeBigint, "unsigned": udf.TypeBigint,
	"unsigned integer": udf.TypeBigint, "decimal": udf.TypeDouble, "char": udf.TypeString,
	"nchar": udf.TypeString, "datetime": udf.TypeTimestamp, "date": udf.TypeTimestamp,
}

func (b *binder) cast(e *sqlparser.ConvertExpr, ec *exprCtx) Expr {
	x := b.expr(e.Expr, ec)
	if x == nil {
		return nil
	}
	name := strings.ToLower(e.Type.Type)
	to, ok := castTypes[name]
	if !ok {
		b.errf(ErrUnsupported, b.posOf(name), "CAST to SIGNED (bigint), DECIMAL (double), CHAR (string) or DATETIME (timestamp)",
			"CAST to %s is not supported", strings.ToUpper(name))
		return nil
	}
	from := x.Type()
	if from == udf.TypeVector || (from == udf.TypeBool && to == udf.TypeTimestamp) {
		b.errf(ErrType, b.posOfExpr(e.Expr), "", "cannot CAST %s to %s", from, to)
		return nil
	}
	if lit, ok := x.(*Literal); ok && lit.Value.K == udf.TypeString && to == udf.TypeTimestamp {
		if ms, ok := parseTimeLiteral(lit.Value.S); ok {
			return &Literal{Value: udf.Time(ms)}
		}
	}
	return &Cast{X: x, To: to}
}

// windowGroupFuncs are the group windows of GROUP BY.
var windowGroupFuncs = map[string]WindowKind{"tumble": Tumble, "hop": Hop, "session": Session}

// windowProps are TUMBLE_START and friends: the window kind and whether the
// property is the end.
var windowProps = map[string]struct {
	kind WindowKind
	end  bool
}{
	"tumble_start": {Tumble, false}, "tumble_end": {Tumble, true},
	"hop_start": {Hop, false}, "hop_end": {Hop, true},
	"session_start": {Session, false}, "session_end": {Session, true},
}

// clockFuncs read the wall clock, which a replayable pipeline must not.
var clockFuncs = map[string]bool{
	"now": true, "current_timestamp": true, "current_date": true, "current_time": true, "sysdate": true,
	"localtime": true, "localtimestamp": true, "utc_timestamp": true, "utc_date": true, "utc_time": true,
	"curdate": true, "curtime": true, "rand": true, "uuid": true,
}

// call binds a function call.
func (b *binder) call(e *sqlparser.FuncExpr, ec *exprCtx) Expr {
	name := e.Name.String()
	lname := strings.ToLower(name)
	pos := b.q.posOf(name)
	if b.quiet == 0 {
		defer b.q.advance(name)
	}
	if !e.Qualifier.IsEmpty() {
		b.errf(ErrUnsupported, b.q.posOf(e.Qualifier.String()), "", "qualified function names are not supported")
		return nil
	}
	if _, ok := windowGroupFuncs[lname]; ok {
		b.errf(ErrWindow, pos, "group by the window, GROUP BY "+strings.ToUpper(name)+"(ts, ...), and select "+strings.ToUpper(name)+"_START(...) or "+strings.ToUpper(name)+"_END(...)",
			"%s is a group window and belongs in GROUP BY", strings.ToUpper(name))
		return nil
	}
	if _, ok := windowProps[lname]; ok {
		b.errf(ErrWindow, pos, "add the window to GROUP BY, e.g. GROUP BY TUMBLE(ts, INTERVAL 1 MINUTE)",
			"%s needs a GROUP BY with its window", strings.ToUpper(name))
		return nil
	}
	switch lname {
	case "predict":
		return b.modelCall(Predict, e, ec)
	case "predict_label":
		return b.modelCall(PredictLabel, e, ec)
	case "model_version":
		return b.modelCall(ModelVersion, e, ec)
	case "timestamp", "date":
		if len(e.Exprs) == 1 {
			if ae, ok := e.Exprs[0].(*sqlparser.AliasedExpr); ok {
				if v, ok := ae.Expr.(*sqlparser.SQLVal); ok && v.Type == sqlparser.StrVal {
					ms, ok := parseTimeLiteral(string(v.Val))
					if !ok {
						b.errf(ErrType, pos, "write '2006-01-02T15:04:05Z' or '2006-01-02 15:04:05'", "bad timestamp literal %q", v.Val)
						return nil
					}
					return &Literal{Value: udf.Time(ms)}
				}
			}
		}
	}
	if clockFuncs[lname] {
		b.errf(ErrUnsupported, pos, "results must not depend on when a row is processed: use the event-time column",
			"%s() reads the clock and is not allowed", strings.ToUpper(name))
		return nil
	}
	if _, user := b.pl.userFns[lname]; !user {
		if _, ok := udf.LookupAggregate(name); ok {
			where := ec.clause
			hint := "aggregates belong in the select list or HAVING of a grouped query"
			if where == "WHERE" {
				hint = "filter on aggregates with HAVING"
			}
			b.errf(ErrGrouping, pos, hint, "aggregate %s is not allowed in %s", strings.ToUpper(name), where)
			return nil
		}
	}
	f, builtin := udf.Lookup(name)
	if e.Distinct {
		b.errf(ErrUnsupported, b.posOf("distinct"), "", "DISTINCT is only allowed inside an aggregate")
		return nil
	}
	args := make([]Expr, 0, len(e.Exprs))
	unitArg := builtin && strings.Contains(f.Signature, "(unit string")
	for i, se := range e.Exprs {
		ae, ok := se.(*sqlparser.AliasedExpr)
		if !ok {
			b.errf(ErrType, pos, "", "%s(*) is only valid for COUNT", strings.ToUpper(name))
			return nil
		}
		if i == 0 && unitArg {
			if c, ok := ae.Expr.(*sqlparser.ColName); ok && c.Qualifier.IsEmpty() {
				args = append(args, &Literal{Value: udf.Str(strings.ToUpper(c.Name.String()))})
				continue
			}
		}
		x := b.expr(ae.Expr, ec)
		if x == nil {
			return nil
		}
		args = append(args, x)
	}
	if builtin {
		return b.builtin(f.Name, args, pos)
	}
	if c, ok := b.pl.env.Lookup(name); ok {
		types := argTypes(args)
		t, err := c.Check(types)
		if err != nil {
			b.errf(ErrType, pos, "", "%s", trimArgs(err))
			return nil
		}
		return &UserCall{Name: c.Name, Args: args, T: t}
	}
	if uf, ok := b.pl.userFns[lname]; ok {
		// The function did not compile (spec reports why): type the call
		// from its declaration.
		t, ok := udf.ParseType(uf.Returns)
		if !ok {
			t = udf.TypeAny
		}
		if len(args) != len(uf.Params) {
			b.errf(ErrType, pos, "", "%s takes %d argument(s), got %d", uf.Name, len(uf.Params), len(args))
			return nil
		}
		return &UserCall{Name: uf.Name, Args: args, T: t}
	}
	b.errf(ErrUnknown, pos, didYouMean(name, b.functionNames()), "unknown function %s", name)
	return nil
}

func argTypes(args []Expr) []udf.Type {
	out := make([]udf.Type, len(args))
	for i, a := range args {
		out[i] = a.Type()
	}
	return out
}

// trimArgs drops the "invalid arguments: " prefix of udf errors.
func trimArgs(err error) string {
	return strings.TrimPrefix(err.Error(), udf.ErrArgs.Error()+": ")
}

// builtin types a call of a built-in scalar function.
func (b *binder) builtin(name string, args []Expr, pos specPos) Expr {
	for _, a := range args {
		if a == nil {
			return nil
		}
	}
	f, ok := udf.Lookup(name)
	if !ok {
		b.errf(ErrUnsupported, pos, "", "function %s is not available", name)
		return nil
	}
	t, err := f.Check(argTypes(args))
	if err != nil {
		b.errf(ErrType, pos, "signature: "+f.Signature, "%s", trimArgs(err))
		return nil
	}
	if t == udf.TypeNull {
		t = udf.TypeAny
	}
	return &Call{Func: f, Args: args, T: t}
}

// functionNames lists every name a call may use, for suggestions.
func (b *binder) functionNames() []string {
	var out []string
	for _, f := range udf.Funcs() {
		out = append(out, f.Name)
	}
	for _, a := range udf.Aggregates() {
		out = append(out, a.Name)
	}
	for _, f := range b.pl.p.Spec.Functions {
		out = append(out, f.Name)
	}
	out = append(out, "PREDICT", "PREDICT_LABEL", "MODEL_VERSION", "TUMBLE_START", "TUMBLE_END", "HOP_START", "HOP_END", "SESSION_START", "SESSION_END")
	return out
}

// modelCall binds PREDICT, PREDICT_LABEL and MODEL_VERSION.
func (b *binder) modelCall(kind ModelCallKind, e *sqlparser.FuncExpr, ec *exprCtx) Expr {
	fname := strings.ToUpper(e.Name.String())
	pos := b.q.posOf(e.Name.String())
	usage := fname + "(model, feature, ...)"
	if kind == ModelVersion {
		usage = "MODEL_VERSION(model)"
	}
	if len(e.Exprs) == 0 {
		b.errf(ErrType, pos, "write "+usage, "%s needs a model name", fname)
		return nil
	}
	ae, ok := e.Exprs[0].(*sqlparser.AliasedExpr)
	var c *sqlparser.ColName
	if ok {
		c, ok = ae.Expr.(*sqlparser.ColName)
	}
	if !ok || !c.Qualifier.IsEmpty() {
		b.errf(ErrType, pos, "write "+usage, "the first argument of %s must be a model name", fname)
		return nil
	}
	mname := c.Name.String()
	m := b.pl.models[mname]
	if m == nil {
		for _, x := range b.pl.p.Spec.Models {
			if strings.EqualFold(x.Name, mname) {
				m = b.pl.models[x.Name]
			}
		}
	}
	if m == nil {
		var names []string
		for _, x := range b.pl.p.Spec.Models {
			names = append(names, x.Name)
		}
		hint := didYouMean(mname, names)
		if len(names) == 0 {
			hint = "declare it under models:"
		}
		b.errf(ErrUnknown, b.q.posOf(mname), hint, "unknown model %q in %s", mname, fname)
		return nil
	}
	if kind == ModelVersion {
		if len(e.Exprs) != 1 {
			b.errf(ErrType, pos, "write "+usage, "MODEL_VERSION takes only the model name")
			return nil
		}
		return &ModelCall{Kind: kind, Model: m.Name, T: udf.TypeBigint}
	}
	var args []Expr
	vector := false
	for _, se := range e.Exprs[1:] {
		ae, ok := se.(*sqlparser.AliasedExpr)
		if !ok {
			b.errf(ErrType, pos, "list the features in the model's order", "%s(model, *) is not supported", fname)
			return nil
		}
		x := b.expr(ae.Expr, ec)
		if x == nil {
			return nil
		}
		switch x.Type() {
		case udf.TypeBigint, udf.TypeDouble, udf.TypeBool, udf.TypeNull, udf.TypeAny:
		case udf.TypeVector:
			vector = true
		default:
			b.errf(ErrType, b.posOfExpr(ae.Expr), "encode strings first (a features: onehot or hash transform)",
				"feature %s of %s must be numeric, bool or vector, got %s", sqlparser.String(ae.Expr), fname, x.Type())
			return nil
		}
		args = append(args, x)
	}
	if len(args) == 0 {
		b.errf(ErrType, pos, "write "+usage, "%s needs the features after the model name", fname)
		return nil
	}
	if n := len(m.Features); n > 0 && !vector && len(args) != n && !b.modelHasVectorFeatures(m) {
		b.errf(ErrType, pos, "pass the features in this order: "+strings.Join(m.Features, ", "),
			"model %q has %d feature(s), %s got %d", m.Name, n, fname, len(args))
		return nil
	}
	kindOf := ml.Kind("")
	if a, ok := ml.Lookup(m.Algorithm); ok {
		kindOf = a.Kind
	}
	t := udf.TypeDouble
	switch kind {
	case Predict:
		if kindOf == ml.KindClusterer {
			t = udf.TypeBigint
		}
	case PredictLabel:
		switch kindOf {
		case ml.KindClassifier:
			t = b.labelType(m)
		case ml.KindClusterer:
			t = udf.TypeBigint
		case ml.KindAnomaly, ml.KindDrift:
			t = udf.TypeBool
		case ml.KindRegressor:
			b.errf(ErrType, pos, "use PREDICT for the value", "PREDICT_LABEL needs a classifier; model %q (%s) is a regressor", m.Name, m.Algorithm)
			return nil
		default:
			t = udf.TypeString
		}
	}
	return &ModelCall{Kind: kind, Model: m.Name, Args: args, T: t}
}

// modelHasVectorFeatures reports whether some feature of m is a vector
// column of its training input (then feature counts are not comparable).
func (b *binder) modelHasVectorFeatures(m *spec.Model) bool {
	// Only a relation bound already: binding it here could report a false
	// cycle (a stage may score with a model trained downstream of it).
	n := b.pl.rels[m.From]
	if n == nil {
		return true
	}
	s := n.Schema()
	for _, f := range m.Features {
		if i := s.Index(f); i < 0 || s.isVector(i) {
			return true
		}
	}
	return false
}

// labelType is the type of a classifier's label column: the type of
// PREDICT_LABEL, whether the model is trained in the job or only scored
// from the registry (its declaration names from: and label: either way).
// It is string when it cannot be known.
func (b *binder) labelType(m *spec.Model) udf.Type {
	if m.Label == "" {
		return udf.TypeString
	}
	n := b.pl.rels[m.From]
	if n == nil {
		n = b.pl.peekRelation(m.From)
	}
	if n == nil {
		return udf.TypeString
	}
	s := n.Schema()
	if i := s.Index(m.Label); i >= 0 {
		return s.Columns[i].Type
	}
	return udf.TypeString
}

// peekRelation binds relation name ahead of its turn, for the type of a
// model's label column when a stage calls PREDICT_LABEL before the stage
// the model learns from is bound. When binding it would reach a stage
// being bound (a stage may score with a model trained downstream of it,
// which is no cycle) or fails, every trace of the attempt is undone and
// peekRelation returns nil; the relation is then bound, and its errors
// reported, in its turn.
func (pl *planner) peekRelation(name string) Rel {
	if n, done := pl.rels[name]; done || pl.state[name] == 1 {
		return n
	}
	rels, state, nd := maps.Clone(pl.rels), maps.Clone(pl.state), len(pl.diags)
	n, _ := pl.relation(name, spec.Pos{})
	if n == nil || pl.diags[nd:].HasErrors() {
		pl.rels, pl.state, pl.diags = rels, state, pl.diags[:nd]
		return nil
	}
	return n
}

type specPos = spec.Pos
