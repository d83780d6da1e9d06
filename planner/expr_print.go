package planner

import (
	"strconv"
	"strings"

	"github.com/flowrun/flowrun/udf"
)

// ExprText is an expression read back from the JSON form of a plan, where
// expressions are written as their String(). It prints the same text but
// cannot be evaluated; the executor always builds from a planned Graph.
type ExprText struct {
	Text string
	T    udf.Type
}

func (e *ExprText) Type() udf.Type   { return e.T }
func (e *ExprText) Children() []Expr { return nil }
func (e *ExprText) String() string   { return e.Text }

// String prints a column reference as #index:name.
func (e *ColumnRef) String() string { return "#" + strconv.Itoa(e.Index) + ":" + e.Name }

// String prints a literal in SQL syntax: strings in single quotes,
// timestamps as TIMESTAMP '...'.
func (e *Literal) String() string { return literalString(e.Value) }

func literalString(v udf.Value) string {
	switch v.K {
	case udf.TypeString:
		return "'" + strings.ReplaceAll(v.S, "'", "''") + "'"
	case udf.TypeTimestamp:
		return "TIMESTAMP '" + udf.FormatTime(v.I) + "'"
	case udf.TypeDouble:
		s := v.String()
		if !strings.ContainsAny(s, ".eEnN") {
			s += ".0"
		}
		return s
	}
	return v.String()
}

func (e *BinaryOp) String() string { return "(" + e.L.String() + " " + e.Op + " " + e.R.String() + ")" }

func (e *UnaryOp) String() string {
	if e.Op == "NOT" {
		return "(NOT " + e.X.String() + ")"
	}
	return "(" + e.Op + e.X.String() + ")"
}

func (e *IsNull) String() string {
	if e.Not {
		return "(" + e.X.String() + " IS NOT NULL)"
	}
	return "(" + e.X.String() + " IS NULL)"
}

func (e *In) String() string {
	op := " IN ("
	if e.Not {
		op = " NOT IN ("
	}
	return "(" + e.X.String() + op + joinExprs(e.List) + "))"
}

func (e *Like) String() string {
	op := " LIKE "
	if e.Not {
		op = " NOT LIKE "
	}
	return "(" + e.X.String() + op + e.Pattern.String() + ")"
}

func (e *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for _, w := range e.Whens {
		b.WriteString(" WHEN " + w.Cond.String() + " THEN " + w.Then.String())
	}
	if e.Else != nil {
		b.WriteString(" ELSE " + e.Else.String())
	}
	b.WriteString(" END")
	return b.String()
}

func (e *Cast) String() string { return "CAST(" + e.X.String() + " AS " + e.To.String() + ")" }

func (e *Call) String() string {
	name := "?"
	if e.Func != nil {
		name = e.Func.Name
	}
	return name + "(" + joinExprs(e.Args) + ")"
}

func (e *UserCall) String() string { return e.Name + "(" + joinExprs(e.Args) + ")" }

// String names the model call, e.g. PREDICT(fraud, #1:amount).
func (k ModelCallKind) String() string {
	switch k {
	case Predict:
		return "PREDICT"
	case PredictLabel:
		return "PREDICT_LABEL"
	case ModelVersion:
		return "MODEL_VERSION"
	}
	return "ModelCallKind(" + strconv.Itoa(int(k)) + ")"
}

func (e *ModelCall) String() string {
	s := e.Kind.String() + "(" + e.Model
	if len(e.Args) > 0 {
		s += ", " + joinExprs(e.Args)
	}
	return s + ")"
}

func joinExprs(es []Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return strings.Join(parts, ", ")
}

// WalkExpr calls f for e and every sub-expression, parents first; f
// returning false skips the children.
func WalkExpr(e Expr, f func(Expr) bool) {
	if e == nil || !f(e) {
		return
	}
	for _, c := range e.Children() {
		WalkExpr(c, f)
	}
}

// exprColumns adds the indexes of the columns e reads to set.
func exprColumns(e Expr, set map[int]bool) {
	WalkExpr(e, func(x Expr) bool {
		if c, ok := x.(*ColumnRef); ok {
			set[c.Index] = true
		}
		return true
	})
}

// mapExpr rebuilds e bottom-up, replacing each node by f of the node with
// its children already mapped. f returns its argument to keep it.
func mapExpr(e Expr, f func(Expr) Expr) Expr {
	if e == nil {
		return nil
	}
	switch x := e.(type) {
	case *BinaryOp:
		c := *x
		c.L, c.R = mapExpr(x.L, f), mapExpr(x.R, f)
		return f(&c)
	case *UnaryOp:
		c := *x
		c.X = mapExpr(x.X, f)
		return f(&c)
	case *IsNull:
		c := *x
		c.X = mapExpr(x.X, f)
		return f(&c)
	case *In:
		c := *x
		c.X = mapExpr(x.X, f)
		c.List = mapExprs(x.List, f)
		return f(&c)
	case *Like:
		c := *x
		c.X, c.Pattern = mapExpr(x.X, f), mapExpr(x.Pattern, f)
		return f(&c)
	case *Case:
		c := *x
		c.Whens = make([]When, len(x.Whens))
		for i, w := range x.Whens {
			c.Whens[i] = When{Cond: mapExpr(w.Cond, f), Then: mapExpr(w.Then, f)}
		}
		c.Else = mapExpr(x.Else, f)
		return f(&c)
	case *Cast:
		c := *x
		c.X = mapExpr(x.X, f)
		return f(&c)
	case *Call:
		c := *x
		c.Args = mapExprs(x.Args, f)
		return f(&c)
	case *UserCall:
		c := *x
		c.Args = mapExprs(x.Args, f)
		return f(&c)
	case *ModelCall:
		c := *x
		c.Args = mapExprs(x.Args, f)
		return f(&c)
	}
	return f(e)
}

func mapExprs(es []Expr, f func(Expr) Expr) []Expr {
	if es == nil {
		return nil
	}
	out := make([]Expr, len(es))
	for i, e := range es {
		out[i] = mapExpr(e, f)
	}
	return out
}

// remapColumns rewrites column references through m: column i becomes
// column m[i] (m[i] must be >= 0 for every column e reads).
func remapColumns(e Expr, m []int) Expr {
	return mapExpr(e, func(x Expr) Expr {
		if c, ok := x.(*ColumnRef); ok && c.Index < len(m) && m[c.Index] != c.Index {
			n := *c
			n.Index = m[c.Index]
			return &n
		}
		return x
	})
}

// shiftColumns adds d to every column index of e.
func shiftColumns(e Expr, d int) Expr {
	if d == 0 {
		return e
	}
	return mapExpr(e, func(x Expr) Expr {
		if c, ok := x.(*ColumnRef); ok {
			n := *c
			n.Index += d
			return &n
		}
		return x
	})
}

// hasModelCall reports whether e scores a model (such expressions are not
// duplicated by push-down).
func hasModelCall(e Expr) bool {
	found := false
	WalkExpr(e, func(x Expr) bool {
		if _, ok := x.(*ModelCall); ok {
			found = true
		}
		return !found
	})
	return found
}

// conjuncts splits e at AND.
func conjuncts(e Expr) []Expr {
	if b, ok := e.(*BinaryOp); ok && b.Op == "AND" {
		return append(conjuncts(b.L), conjuncts(b.R)...)
	}
	if e == nil {
		return nil
	}
	return []Expr{e}
}

// andAll joins es with AND (nil for none).
func andAll(es []Expr) Expr {
	var out Expr
	for _, e := range es {
		if out == nil {
			out = e
		} else {
			out = &BinaryOp{Op: "AND", L: out, R: e, T: udf.TypeBool}
		}
	}
	return out
}
