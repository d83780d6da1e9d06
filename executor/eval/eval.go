package eval

import (
	"errors"
	"fmt"

	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

// Fn is a compiled expression: it evaluates over one input row. A Fn keeps
// scratch buffers (function arguments) between calls, so one Fn must not be
// called from two goroutines at once; an operator compiles its own.
//
// A runtime error (a function failing on a value, bigint overflow, an
// impossible CAST, a model that cannot score) wraps ErrExpr: the operator
// sends the row to the dead-letter stream with class expr and goes on.
type Fn func(row udf.Row) (udf.Value, error)

// ErrExpr is the class of runtime errors of expressions. It is udf.ErrExpr,
// so errors of built-in and user functions are in the same class.
var ErrExpr = udf.ErrExpr

// ErrCompile is the class of errors compiling an expression: an expression
// node or operator the evaluator does not know, a user function or model
// runtime missing from the Env. These are plan bugs, not data errors.
var ErrCompile = errors.New("eval: cannot compile expression")

// Models scores rows with the job's models (PREDICT, PREDICT_LABEL,
// MODEL_VERSION). It is supplied by the runtime; Predict must not retain
// args (the evaluator reuses the slice) and is called from the operator's
// goroutine only. An error is wrapped into ErrExpr.
type Models interface {
	Predict(kind planner.ModelCallKind, model string, args []udf.Value) (udf.Value, error)
}

// Env is what compiled expressions may call besides the built-ins: the job's
// user functions and models. A nil *Env, or nil fields, is fine for
// expressions that do not use them.
type Env struct {
	Funcs  *udf.Env
	Models Models
}

// Compile compiles e once into a closure.
func Compile(e planner.Expr, env *Env) (Fn, error) {
	if env == nil {
		env = &Env{}
	}
	c := compiler{env: env}
	return c.compile(e)
}

// CompileAll compiles each expression of es.
func CompileAll(es []planner.Expr, env *Env) ([]Fn, error) {
	out := make([]Fn, len(es))
	for i, e := range es {
		f, err := Compile(e, env)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

// Predicate is a compiled boolean expression: true when the expression is
// TRUE; FALSE and NULL are both false (WHERE and HAVING semantics).
type Predicate func(row udf.Row) (bool, error)

// CompilePredicate compiles a boolean expression into a Predicate.
func CompilePredicate(e planner.Expr, env *Env) (Predicate, error) {
	f, err := Compile(e, env)
	if err != nil {
		return nil, err
	}
	return func(row udf.Row) (bool, error) {
		v, err := f(row)
		return v.K == udf.TypeBool && v.I != 0, err
	}, nil
}

func exprErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrExpr, fmt.Sprintf(format, args...))
}

type compiler struct{ env *Env }

func (c *compiler) compile(e planner.Expr) (Fn, error) {
	switch e := e.(type) {
	case *planner.ColumnRef:
		i := e.Index
		if i < 0 {
			return nil, fmt.Errorf("%w: column %q has index %d", ErrCompile, e.Name, i)
		}
		return func(row udf.Row) (udf.Value, error) {
			if i >= len(row) {
				return udf.Null, exprErr("row has %d columns, column %d (%s) missing", len(row), i, e.Name)
			}
			return row[i], nil
		}, nil
	case *planner.Literal:
		v := e.Value
		return func(udf.Row) (udf.Value, error) { return v, nil }, nil
	case *planner.BinaryOp:
		return c.binary(e)
	case *planner.UnaryOp:
		return c.unary(e)
	case *planner.IsNull:
		x, err := c.compile(e.X)
		if err != nil {
			return nil, err
		}
		not := e.Not
		return func(row udf.Row) (udf.Value, error) {
			v, err := x(row)
			if err != nil {
				return udf.Null, err
			}
			return udf.Bool((v.K == udf.TypeNull) != not), nil
		}, nil
	case *planner.In:
		return c.in(e)
	case *planner.Like:
		return c.like(e)
	case *planner.Case:
		return c.caseExpr(e)
	case *planner.Cast:
		x, err := c.compile(e.X)
		if err != nil {
			return nil, err
		}
		to := e.To
		return func(row udf.Row) (udf.Value, error) {
			v, err := x(row)
			if err != nil {
				return udf.Null, err
			}
			return Cast(v, to)
		}, nil
	case *planner.Call:
		if e.Func == nil || e.Func.Eval == nil {
			return nil, fmt.Errorf("%w: call of a function without implementation", ErrCompile)
		}
		return c.call(e.Args, e.T, e.Func.Eval)
	case *planner.UserCall:
		if c.env.Funcs == nil {
			return nil, fmt.Errorf("%w: user function %s: no functions in the environment", ErrCompile, e.Name)
		}
		f, ok := c.env.Funcs.Lookup(e.Name)
		if !ok {
			return nil, fmt.Errorf("%w: unknown user function %s", ErrCompile, e.Name)
		}
		return c.call(e.Args, e.T, f.Call)
	case *planner.ModelCall:
		if c.env.Models == nil {
			return nil, fmt.Errorf("%w: model %s: no model runtime in the environment", ErrCompile, e.Model)
		}
		m, kind, model := c.env.Models, e.Kind, e.Model
		name := [...]string{"PREDICT", "PREDICT_LABEL", "MODEL_VERSION"}[min(int(kind), 2)]
		return c.call(e.Args, e.T, func(args []udf.Value) (udf.Value, error) {
			v, err := m.Predict(kind, model, args)
			if err != nil && !errors.Is(err, ErrExpr) {
				err = fmt.Errorf("%w: %s(%s): %w", ErrExpr, name, model, err)
			}
			return v, err
		})
	case *planner.ExprText:
		return nil, fmt.Errorf("%w: %q comes from a JSON plan and has no executable form; run a plan from planner.Plan", ErrCompile, e.Text)
	case nil:
		return nil, fmt.Errorf("%w: nil expression", ErrCompile)
	}
	return nil, fmt.Errorf("%w: unknown expression %T", ErrCompile, e)
}

// call compiles a function call with a reused argument buffer: evaluating
// it allocates nothing beyond what the function itself allocates.
func (c *compiler) call(argExprs []planner.Expr, t udf.Type, f func([]udf.Value) (udf.Value, error)) (Fn, error) {
	args, err := c.compileList(argExprs)
	if err != nil {
		return nil, err
	}
	buf := make([]udf.Value, len(args))
	return func(row udf.Row) (udf.Value, error) {
		for i, a := range args {
			v, err := a(row)
			if err != nil {
				return udf.Null, err
			}
			buf[i] = v
		}
		v, err := f(buf)
		if err != nil {
			return udf.Null, err
		}
		if v.K != t {
			return widen(v, t), nil
		}
		return v, nil
	}, nil
}

// widen converts v to t where that only widens (bigint to double or
// timestamp), so a function result takes the type the binder assigned;
// anything else passes unchanged.
func widen(v udf.Value, t udf.Type) udf.Value {
	if v.K == udf.TypeBigint && (t == udf.TypeDouble || t == udf.TypeTimestamp) {
		w, _ := udf.Coerce(v, t)
		return w
	}
	return v
}

func (c *compiler) compileList(es []planner.Expr) ([]Fn, error) {
	out := make([]Fn, len(es))
	for i, e := range es {
		f, err := c.compile(e)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

func (c *compiler) caseExpr(e *planner.Case) (Fn, error) {
	type branch struct{ cond, then Fn }
	bs := make([]branch, len(e.Whens))
	for i, w := range e.Whens {
		cond, err := c.compile(w.Cond)
		if err != nil {
			return nil, err
		}
		then, err := c.compile(w.Then)
		if err != nil {
			return nil, err
		}
		bs[i] = branch{cond, then}
	}
	var els Fn
	if e.Else != nil {
		var err error
		if els, err = c.compile(e.Else); err != nil {
			return nil, err
		}
	}
	t := e.T
	coerce := func(v udf.Value) (udf.Value, error) { return widen(v, t), nil }
	return func(row udf.Row) (udf.Value, error) {
		for _, b := range bs {
			cv, err := b.cond(row)
			if err != nil {
				return udf.Null, err
			}
			if cv.K == udf.TypeBool && cv.I != 0 {
				v, err := b.then(row)
				if err != nil {
					return udf.Null, err
				}
				return coerce(v)
			}
		}
		if els == nil {
			return udf.Null, nil
		}
		v, err := els(row)
		if err != nil {
			return udf.Null, err
		}
		return coerce(v)
	}, nil
}
