package planner

import (
	"github.com/flowrun/flowrun/udf"
)

// Expr is a bound, typed scalar expression over the columns of one input
// row (or, for joins, the concatenation left ++ right). Exprs are immutable
// values; the executor compiles each one once into a closure.
type Expr interface {
	// Type is the expression's result type.
	Type() udf.Type
	// Children returns the sub-expressions.
	Children() []Expr
	// String prints the expression in SQL-like form for EXPLAIN, e.g.
	// `(#2:amount > 100)`.
	String() string
}

// ColumnRef reads column Index of the input row.
type ColumnRef struct {
	Index int
	Name  string
	T     udf.Type
}

// Literal is a constant.
type Literal struct{ Value udf.Value }

// BinaryOp is one of: + - * / % = != < <= > >= AND OR || (concat).
// AND and OR follow SQL three-valued logic; comparisons with NULL are NULL.
// T is the result type: "/" is always double (bigint operands are converted);
// timestamp ± bigint is a timestamp (the bigint is milliseconds: INTERVAL
// literals bind to bigint milliseconds); timestamp - timestamp is bigint
// milliseconds; other arithmetic on a bigint and a double is double. The
// binder never produces || (in the MySQL dialect it means OR; CONCAT joins
// strings). BETWEEN binds to (x >= lo AND x <= hi); x IS [NOT] TRUE/FALSE to
// a Case.
type BinaryOp struct {
	Op   string
	L, R Expr
	T    udf.Type
}

// UnaryOp is NOT or unary minus ("-").
type UnaryOp struct {
	Op string
	X  Expr
	T  udf.Type
}

// IsNull is `X IS [NOT] NULL`.
type IsNull struct {
	X   Expr
	Not bool
}

// In is `X [NOT] IN (List...)`.
type In struct {
	X    Expr
	List []Expr
	Not  bool
}

// Like is `X [NOT] LIKE Pattern` with SQL % and _ wildcards.
type Like struct {
	X, Pattern Expr
	Not        bool
}

// Case is `CASE WHEN c THEN v ... ELSE e END` (the simple form `CASE x WHEN`
// is rewritten to the searched form by the binder). Else is nil for NULL.
type Case struct {
	Whens []When
	Else  Expr
	T     udf.Type
}

// When is one branch of a Case.
type When struct{ Cond, Then Expr }

// Cast converts X to To (CAST/CONVERT).
type Cast struct {
	X  Expr
	To udf.Type
}

// Call calls a built-in scalar function of udf.
type Call struct {
	Func *udf.Func
	Args []Expr
	T    udf.Type
}

// UserCall calls a user function of the job's `functions:` (expr-lang).
type UserCall struct {
	Name string
	Args []Expr
	T    udf.Type
}

// ModelCallKind says what a ModelCall returns.
type ModelCallKind uint8

// The model functions of the SQL dialect.
const (
	Predict      ModelCallKind = iota // PREDICT(model, f...): score
	PredictLabel                      // PREDICT_LABEL(model, f...): class
	ModelVersion                      // MODEL_VERSION(model): version that scores
)

// ModelCall scores the row with the current version of a job model.
type ModelCall struct {
	Kind  ModelCallKind
	Model string
	Args  []Expr
	T     udf.Type
}

// Type implementations.

func (e *ColumnRef) Type() udf.Type { return e.T }
func (e *Literal) Type() udf.Type   { return e.Value.K }
func (e *BinaryOp) Type() udf.Type  { return e.T }
func (e *UnaryOp) Type() udf.Type   { return e.T }
func (e *IsNull) Type() udf.Type    { return udf.TypeBool }
func (e *In) Type() udf.Type        { return udf.TypeBool }
func (e *Like) Type() udf.Type      { return udf.TypeBool }
func (e *Case) Type() udf.Type      { return e.T }
func (e *Cast) Type() udf.Type      { return e.To }
func (e *Call) Type() udf.Type      { return e.T }
func (e *UserCall) Type() udf.Type  { return e.T }
func (e *ModelCall) Type() udf.Type { return e.T }

// Children implementations.

func (e *ColumnRef) Children() []Expr { return nil }
func (e *Literal) Children() []Expr   { return nil }
func (e *BinaryOp) Children() []Expr  { return []Expr{e.L, e.R} }
func (e *UnaryOp) Children() []Expr   { return []Expr{e.X} }
func (e *IsNull) Children() []Expr    { return []Expr{e.X} }
func (e *In) Children() []Expr        { return append([]Expr{e.X}, e.List...) }
func (e *Like) Children() []Expr      { return []Expr{e.X, e.Pattern} }
func (e *Case) Children() []Expr {
	var out []Expr
	for _, w := range e.Whens {
		out = append(out, w.Cond, w.Then)
	}
	if e.Else != nil {
		out = append(out, e.Else)
	}
	return out
}
func (e *Cast) Children() []Expr      { return []Expr{e.X} }
func (e *Call) Children() []Expr      { return e.Args }
func (e *UserCall) Children() []Expr  { return e.Args }
func (e *ModelCall) Children() []Expr { return e.Args }
