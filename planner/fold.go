package planner

import (
	"math"

	"github.com/flowrun/flowrun/udf"
)

// foldExpr evaluates the constant parts of e: operators and deterministic
// built-in calls over literals, and AND/OR/CASE with a constant operand.
// It never folds an expression whose evaluation fails (division by zero,
// overflow, a function error): that stays a runtime matter.
func foldExpr(e Expr) Expr {
	return mapExpr(e, foldNode)
}

func lit(e Expr) (udf.Value, bool) {
	if l, ok := e.(*Literal); ok {
		return l.Value, true
	}
	return udf.Value{}, false
}

func isTrue(e Expr) bool {
	v, ok := lit(e)
	return ok && v.K == udf.TypeBool && v.I != 0
}

func isFalse(e Expr) bool {
	v, ok := lit(e)
	return ok && v.K == udf.TypeBool && v.I == 0
}

func foldNode(e Expr) Expr {
	switch x := e.(type) {
	case *BinaryOp:
		switch x.Op {
		case "AND":
			switch {
			case isFalse(x.L) || isFalse(x.R):
				return &Literal{Value: udf.Bool(false)}
			case isTrue(x.L):
				return x.R
			case isTrue(x.R):
				return x.L
			}
		case "OR":
			switch {
			case isTrue(x.L) || isTrue(x.R):
				return &Literal{Value: udf.Bool(true)}
			case isFalse(x.L):
				return x.R
			case isFalse(x.R):
				return x.L
			}
		}
		l, ok1 := lit(x.L)
		r, ok2 := lit(x.R)
		if !ok1 || !ok2 {
			return e
		}
		if v, ok := evalBinary(x.Op, l, r, x.T); ok {
			return &Literal{Value: v}
		}
	case *UnaryOp:
		v, ok := lit(x.X)
		if !ok {
			return e
		}
		switch {
		case v.K == udf.TypeNull:
			return &Literal{Value: udf.Null}
		case x.Op == "NOT" && v.K == udf.TypeBool:
			return &Literal{Value: udf.Bool(v.I == 0)}
		case x.Op == "-" && v.K == udf.TypeBigint && v.I != math.MinInt64:
			return &Literal{Value: udf.Int(-v.I)}
		case x.Op == "-" && v.K == udf.TypeDouble:
			return &Literal{Value: udf.Float(-v.F)}
		}
	case *IsNull:
		if v, ok := lit(x.X); ok {
			return &Literal{Value: udf.Bool(v.IsNull() != x.Not)}
		}
	case *Case:
		var whens []When
		for _, w := range x.Whens {
			if v, ok := lit(w.Cond); ok {
				if v.K == udf.TypeBool && v.I != 0 {
					if len(whens) == 0 {
						return w.Then
					}
					c := *x
					c.Whens, c.Else = whens, w.Then
					return &c
				}
				continue // FALSE or NULL: never taken
			}
			whens = append(whens, w)
		}
		if len(whens) == 0 {
			if x.Else == nil {
				return &Literal{Value: udf.Null}
			}
			return x.Else
		}
		if len(whens) != len(x.Whens) {
			c := *x
			c.Whens = whens
			return &c
		}
	case *Call:
		if x.Func == nil || x.Func.Eval == nil {
			return e
		}
		args := make([]udf.Value, len(x.Args))
		for i, a := range x.Args {
			v, ok := lit(a)
			if !ok {
				return e
			}
			args[i] = v
		}
		v, err := safeEval(x.Func, args)
		if err == nil && (v.K == x.T || v.K == udf.TypeNull) {
			return &Literal{Value: v}
		}
	}
	return e
}

func safeEval(f *udf.Func, args []udf.Value) (v udf.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = udf.ErrExpr
		}
	}()
	return f.Eval(args)
}

// evalBinary computes a binary operator on two constants with SQL NULL
// semantics; ok is false when it must be left to run time.
func evalBinary(op string, l, r udf.Value, t udf.Type) (udf.Value, bool) {
	if l.K == udf.TypeNull || r.K == udf.TypeNull {
		return udf.Null, true
	}
	switch op {
	case "=", "!=", "<", "<=", ">", ">=":
		c, ok := compareValues(l, r)
		if !ok {
			return udf.Value{}, false
		}
		var b bool
		switch op {
		case "=":
			b = c == 0
		case "!=":
			b = c != 0
		case "<":
			b = c < 0
		case "<=":
			b = c <= 0
		case ">":
			b = c > 0
		case ">=":
			b = c >= 0
		}
		return udf.Bool(b), true
	case "+", "-", "*", "/", "%":
		if t == udf.TypeTimestamp {
			if l.K == udf.TypeTimestamp && r.K == udf.TypeBigint {
				if op == "+" {
					return udf.Time(l.I + r.I), true
				}
				return udf.Time(l.I - r.I), true
			}
			return udf.Value{}, false
		}
		if t == udf.TypeBigint && l.K != udf.TypeDouble && r.K != udf.TypeDouble {
			a, b := l.I, r.I
			var out int64
			switch op {
			case "+":
				out = a + b
				if (out > a) != (b > 0) {
					return udf.Value{}, false
				}
			case "-":
				out = a - b
				if (out < a) != (b > 0) {
					return udf.Value{}, false
				}
			case "*":
				if a != 0 && (a*b/a != b || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64)) {
					return udf.Value{}, false
				}
				out = a * b
			case "%":
				if b == 0 || (a == math.MinInt64 && b == -1) {
					return udf.Value{}, false
				}
				out = a % b
			default:
				return udf.Value{}, false
			}
			return udf.Int(out), true
		}
		a, ok1 := l.AsFloat()
		b, ok2 := r.AsFloat()
		if !ok1 || !ok2 {
			return udf.Value{}, false
		}
		var out float64
		switch op {
		case "+":
			out = a + b
		case "-":
			out = a - b
		case "*":
			out = a * b
		case "/":
			if b == 0 {
				return udf.Value{}, false
			}
			out = a / b
		case "%":
			if b == 0 {
				return udf.Value{}, false
			}
			out = math.Mod(a, b)
		}
		return udf.Float(out), true
	case "AND", "OR":
		if l.K == udf.TypeBool && r.K == udf.TypeBool {
			if op == "AND" {
				return udf.Bool(l.I != 0 && r.I != 0), true
			}
			return udf.Bool(l.I != 0 || r.I != 0), true
		}
	}
	return udf.Value{}, false
}

// compareValues orders two non-NULL values of comparable types.
func compareValues(l, r udf.Value) (int, bool) {
	switch {
	case l.K == udf.TypeString && r.K == udf.TypeString:
		switch {
		case l.S < r.S:
			return -1, true
		case l.S > r.S:
			return 1, true
		}
		return 0, true
	case l.K == r.K && (l.K == udf.TypeBigint || l.K == udf.TypeTimestamp || l.K == udf.TypeBool):
		switch {
		case l.I < r.I:
			return -1, true
		case l.I > r.I:
			return 1, true
		}
		return 0, true
	case l.K.Numeric() && r.K.Numeric():
		a, _ := l.AsFloat()
		b, _ := r.AsFloat()
		switch {
		case a < b:
			return -1, true
		case a > b:
			return 1, true
		case a == b:
			return 0, true
		}
	}
	return 0, false
}

// exprNullable reports whether e may be NULL for rows of schema in
// (conservatively true when unsure).
func exprNullable(e Expr, in Schema) bool {
	switch x := e.(type) {
	case *ColumnRef:
		return x.Index < 0 || x.Index >= len(in.Columns) || in.Columns[x.Index].Nullable
	case *Literal:
		return x.Value.K == udf.TypeNull
	case *IsNull:
		return false
	case *BinaryOp:
		if x.Op == "/" || x.Op == "%" {
			return true
		}
		return exprNullable(x.L, in) || exprNullable(x.R, in)
	case *UnaryOp:
		return exprNullable(x.X, in)
	case *In:
		for _, c := range x.Children() {
			if exprNullable(c, in) {
				return true
			}
		}
		return false
	case *Like:
		return exprNullable(x.X, in) || exprNullable(x.Pattern, in)
	case *Cast:
		return x.X.Type() == udf.TypeString || exprNullable(x.X, in)
	case *Case:
		if x.Else == nil || exprNullable(x.Else, in) {
			return true
		}
		for _, w := range x.Whens {
			if exprNullable(w.Then, in) {
				return true
			}
		}
		return false
	case *Call:
		if x.Func != nil && x.Func.Name == "COALESCE" {
			for _, a := range x.Args {
				if !exprNullable(a, in) {
					return false
				}
			}
		}
		return true
	}
	return true
}
