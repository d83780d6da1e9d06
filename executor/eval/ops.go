package eval

import (
	"fmt"
	"math"
	"math/bits"
	"strings"

	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

func (c *compiler) binary(e *planner.BinaryOp) (Fn, error) {
	l, err := c.compile(e.L)
	if err != nil {
		return nil, err
	}
	r, err := c.compile(e.R)
	if err != nil {
		return nil, err
	}
	op := strings.ToUpper(e.Op)
	switch op {
	case "AND":
		return andFn(l, r), nil
	case "OR":
		return orFn(l, r), nil
	case "=", "==", "!=", "<>", "<", "<=", ">", ">=":
		if f := compareColLit(op, e.L, e.R); f != nil {
			return f, nil
		}
		return compareFn(op, l, r), nil
	case "||":
		return func(row udf.Row) (udf.Value, error) {
			a, b, null, err := both(row, l, r)
			if null || err != nil {
				return udf.Null, err
			}
			if a.K == udf.TypeString && b.K == udf.TypeString {
				return udf.Str(a.S + b.S), nil
			}
			return udf.Str(text(a) + text(b)), nil
		}, nil
	case "+", "-", "*", "/", "%":
		t := e.T
		o := op[0]
		return func(row udf.Row) (udf.Value, error) {
			a, err := l(row)
			if err != nil || a.K == udf.TypeNull {
				return udf.Null, err
			}
			b, err := r(row)
			if err != nil || b.K == udf.TypeNull {
				return udf.Null, err
			}
			if a.K == udf.TypeBigint && b.K == udf.TypeBigint && t == udf.TypeBigint {
				x, y := a.I, b.I
				switch o {
				case '+':
					if s := x + y; (s > x) == (y > 0) {
						return udf.Int(s), nil
					}
				case '-':
					if s := x - y; (s < x) == (y > 0) {
						return udf.Int(s), nil
					}
				case '%':
					if y > 0 {
						return udf.Int(x % y), nil
					}
				}
			}
			if a.K == udf.TypeDouble && b.K == udf.TypeDouble {
				switch o {
				case '+':
					return udf.Float(a.F + b.F), nil
				case '-':
					return udf.Float(a.F - b.F), nil
				case '*':
					return udf.Float(a.F * b.F), nil
				}
			}
			return Arith(o, a, b, t)
		}, nil
	}
	return nil, fmt.Errorf("%w: unknown binary operator %q", ErrCompile, e.Op)
}

// both evaluates two operands; null reports that either is NULL.
func both(row udf.Row, l, r Fn) (a, b udf.Value, null bool, err error) {
	a, err = l(row)
	if err != nil || a.K == udf.TypeNull {
		return a, b, true, err
	}
	b, err = r(row)
	if err != nil || b.K == udf.TypeNull {
		return a, b, true, err
	}
	return a, b, false, nil
}

// andFn is SQL AND: FALSE if either side is FALSE, else NULL if either is
// NULL, else TRUE. The right side is not evaluated when the left is FALSE.
func andFn(l, r Fn) Fn {
	return func(row udf.Row) (udf.Value, error) {
		a, err := l(row)
		if err != nil {
			return udf.Null, err
		}
		if a.K == udf.TypeBool && a.I == 0 {
			return a, nil
		}
		b, err := r(row)
		if err != nil {
			return udf.Null, err
		}
		if b.K == udf.TypeBool && b.I == 0 {
			return b, nil
		}
		if a.K == udf.TypeNull || b.K == udf.TypeNull {
			return udf.Null, nil
		}
		return udf.Bool(true), nil
	}
}

// orFn is SQL OR: TRUE if either side is TRUE, else NULL if either is NULL,
// else FALSE. The right side is not evaluated when the left is TRUE.
func orFn(l, r Fn) Fn {
	return func(row udf.Row) (udf.Value, error) {
		a, err := l(row)
		if err != nil {
			return udf.Null, err
		}
		if a.K == udf.TypeBool && a.I != 0 {
			return a, nil
		}
		b, err := r(row)
		if err != nil {
			return udf.Null, err
		}
		if b.K == udf.TypeBool && b.I != 0 {
			return b, nil
		}
		if a.K == udf.TypeNull || b.K == udf.TypeNull {
			return udf.Null, nil
		}
		return udf.Bool(false), nil
	}
}

func (c *compiler) unary(e *planner.UnaryOp) (Fn, error) {
	x, err := c.compile(e.X)
	if err != nil {
		return nil, err
	}
	switch strings.ToUpper(e.Op) {
	case "NOT", "!":
		return func(row udf.Row) (udf.Value, error) {
			v, err := x(row)
			if err != nil || v.K == udf.TypeNull {
				return udf.Null, err
			}
			if v.K != udf.TypeBool {
				return udf.Null, exprErr("NOT of a %s value", v.K)
			}
			return udf.Bool(v.I == 0), nil
		}, nil
	case "-":
		return func(row udf.Row) (udf.Value, error) {
			v, err := x(row)
			if err != nil || v.K == udf.TypeNull {
				return udf.Null, err
			}
			switch v.K {
			case udf.TypeBigint:
				if v.I == math.MinInt64 {
					return udf.Null, exprErr("bigint overflow in -(%d)", v.I)
				}
				return udf.Int(-v.I), nil
			case udf.TypeDouble:
				return udf.Float(-v.F), nil
			}
			return udf.Null, exprErr("unary minus of a %s value", v.K)
		}, nil
	case "+":
		return x, nil
	}
	return nil, fmt.Errorf("%w: unknown unary operator %q", ErrCompile, e.Op)
}

// Arith applies + - * / % to two non-NULL values. t is the result type the
// binder assigned (it decides between integer and floating-point division
// for two bigints). Rules:
//   - bigint op bigint is bigint; overflow is an error (ErrExpr).
//   - with a double operand the result is double (IEEE 754).
//   - timestamp ± bigint is a timestamp (milliseconds); timestamp -
//     timestamp is the bigint difference in milliseconds.
//   - division and modulo by zero give NULL (MySQL's rule, as udf).
func Arith(op byte, a, b udf.Value, t udf.Type) (udf.Value, error) {
	ai, bi := a.K == udf.TypeBigint, b.K == udf.TypeBigint
	if ai && bi && t != udf.TypeDouble {
		v, err := intArith(op, a.I, b.I)
		if err != nil || v.K == udf.TypeNull || t != udf.TypeTimestamp {
			return v, err
		}
		return udf.Time(v.I), nil
	}
	if a.K == udf.TypeTimestamp || b.K == udf.TypeTimestamp {
		return timeArith(op, a, b)
	}
	x, okx := a.AsFloat()
	y, oky := b.AsFloat()
	if !okx || !oky || a.K == udf.TypeBool || b.K == udf.TypeBool {
		return udf.Null, exprErr("%s %c %s: operands must be numbers", a.K, op, b.K)
	}
	switch op {
	case '+':
		return udf.Float(x + y), nil
	case '-':
		return udf.Float(x - y), nil
	case '*':
		return udf.Float(x * y), nil
	case '/':
		if y == 0 {
			return udf.Null, nil
		}
		return udf.Float(x / y), nil
	case '%':
		if y == 0 {
			return udf.Null, nil
		}
		return udf.Float(math.Mod(x, y)), nil
	}
	return udf.Null, exprErr("unknown operator %c", op)
}

func intArith(op byte, x, y int64) (udf.Value, error) {
	switch op {
	case '+':
		s := x + y
		if (s > x) != (y > 0) {
			return udf.Null, exprErr("bigint overflow in %d + %d", x, y)
		}
		return udf.Int(s), nil
	case '-':
		s := x - y
		if (s < x) != (y > 0) {
			return udf.Null, exprErr("bigint overflow in %d - %d", x, y)
		}
		return udf.Int(s), nil
	case '*':
		hi, lo := bits.Mul64(uint64(absI(x)), uint64(absI(y)))
		neg := (x < 0) != (y < 0)
		if x == math.MinInt64 || y == math.MinInt64 {
			if x == 0 || y == 0 {
				return udf.Int(0), nil
			}
			if x == 1 || y == 1 {
				return udf.Int(math.MinInt64), nil
			}
			return udf.Null, exprErr("bigint overflow in %d * %d", x, y)
		}
		if hi != 0 || lo > math.MaxInt64+uint64(b2i(neg)) {
			return udf.Null, exprErr("bigint overflow in %d * %d", x, y)
		}
		if neg {
			return udf.Int(-int64(lo)), nil
		}
		return udf.Int(int64(lo)), nil
	case '/':
		if y == 0 {
			return udf.Null, nil
		}
		if x == math.MinInt64 && y == -1 {
			return udf.Null, exprErr("bigint overflow in %d / %d", x, y)
		}
		return udf.Int(x / y), nil
	case '%':
		if y == 0 {
			return udf.Null, nil
		}
		if y == -1 {
			return udf.Int(0), nil
		}
		return udf.Int(x % y), nil
	}
	return udf.Null, exprErr("unknown operator %c", op)
}

func absI(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func timeArith(op byte, a, b udf.Value) (udf.Value, error) {
	ta, tb := a.K == udf.TypeTimestamp, b.K == udf.TypeTimestamp
	switch {
	case op == '-' && ta && tb:
		return intArith('-', a.I, b.I)
	case (op == '+' || op == '-') && ta && b.K == udf.TypeBigint:
		v, err := intArith(op, a.I, b.I)
		if err != nil {
			return v, err
		}
		return udf.Time(v.I), nil
	case op == '+' && tb && a.K == udf.TypeBigint:
		v, err := intArith(op, a.I, b.I)
		if err != nil {
			return v, err
		}
		return udf.Time(v.I), nil
	}
	return udf.Null, exprErr("%s %c %s is not defined", a.K, op, b.K)
}

// Compare orders two non-NULL values: numbers of either type by value,
// timestamps with timestamps and with bigints (epoch milliseconds), with
// strings (parsed as by CAST), strings bytewise, bools false < true. Vectors
// compare only for equality (ordered reports whether order is defined).
// Other mixes are an ErrExpr error.
func Compare(a, b udf.Value) (c int, ordered bool, err error) {
	if a.K == b.K {
		switch a.K {
		case udf.TypeBigint, udf.TypeTimestamp, udf.TypeBool:
			return cmpInt(a.I, b.I), true, nil
		case udf.TypeDouble:
			return cmpFloat(a.F, b.F), true, nil
		case udf.TypeString:
			return strings.Compare(a.S, b.S), true, nil
		case udf.TypeVector:
			if udf.Equal(a, b) {
				return 0, false, nil
			}
			return 1, false, nil
		}
	}
	switch {
	case a.K.Numeric() && b.K.Numeric():
		if a.K == udf.TypeBigint {
			return -cmpFloatInt(b.F, a.I), true, nil
		}
		return cmpFloatInt(a.F, b.I), true, nil
	case a.K == udf.TypeTimestamp && b.K == udf.TypeBigint, a.K == udf.TypeBigint && b.K == udf.TypeTimestamp:
		return cmpInt(a.I, b.I), true, nil
	case a.K == udf.TypeTimestamp && b.K == udf.TypeString:
		t, err := Cast(b, udf.TypeTimestamp)
		if err != nil {
			return 0, false, err
		}
		return cmpInt(a.I, t.I), true, nil
	case a.K == udf.TypeString && b.K == udf.TypeTimestamp:
		t, err := Cast(a, udf.TypeTimestamp)
		if err != nil {
			return 0, false, err
		}
		return cmpInt(t.I, b.I), true, nil
	}
	return 0, false, exprErr("cannot compare %s with %s", a.K, b.K)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpFloat orders doubles; NaN equals NaN and sorts below every number (as
// udf.Compare).
func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	case a != a && b != b:
		return 0
	case a != a:
		return -1
	}
	return 1
}

// cmpFloatInt compares a double with a bigint exactly (no rounding of large
// bigints).
func cmpFloatInt(f float64, i int64) int {
	if f != f {
		return -1
	}
	if f < -9.223372036854775808e18 {
		return -1
	}
	if f >= 9.223372036854775808e18 {
		return 1
	}
	t := math.Trunc(f)
	if c := cmpInt(int64(t), i); c != 0 {
		return c
	}
	switch {
	case f > t:
		return 1
	case f < t:
		return -1
	}
	return 0
}

// cmpOp is a comparison operator; holds applies it to a three-way
// comparison result (a method, so that it inlines).
type cmpOp uint8

const (
	opEQ cmpOp = iota
	opNE
	opLT
	opLE
	opGT
	opGE
)

var cmpOps = map[string]cmpOp{"=": opEQ, "==": opEQ, "!=": opNE, "<>": opNE, "<": opLT, "<=": opLE, ">": opGT, ">=": opGE}

func (o cmpOp) holds(c int) bool {
	switch o {
	case opEQ:
		return c == 0
	case opNE:
		return c != 0
	case opLT:
		return c < 0
	case opLE:
		return c <= 0
	case opGT:
		return c > 0
	}
	return c >= 0
}

// mirror is the operator with swapped operands.
func (o cmpOp) mirror() cmpOp {
	switch o {
	case opLT:
		return opGT
	case opLE:
		return opGE
	case opGT:
		return opLT
	case opGE:
		return opLE
	}
	return o
}

// generic compares two non-NULL values of any kinds.
func (o cmpOp) generic(a, b udf.Value) (udf.Value, error) {
	c, ordered, err := Compare(a, b)
	if err != nil {
		return udf.Null, err
	}
	if !ordered && o != opEQ && o != opNE {
		return udf.Null, exprErr("%s values have no order", a.K)
	}
	return udf.Bool(o.holds(c)), nil
}

func compareFn(name string, l, r Fn) Fn {
	op := cmpOps[name]
	return func(row udf.Row) (udf.Value, error) {
		a, err := l(row)
		if err != nil || a.K == udf.TypeNull {
			return udf.Null, err
		}
		b, err := r(row)
		if err != nil || b.K == udf.TypeNull {
			return udf.Null, err
		}
		// Fast paths for the common typed comparisons.
		if a.K == b.K {
			switch a.K {
			case udf.TypeBigint, udf.TypeTimestamp:
				return udf.Bool(op.holds(cmpInt(a.I, b.I))), nil
			case udf.TypeDouble:
				return udf.Bool(op.holds(cmpFloat(a.F, b.F))), nil
			case udf.TypeString:
				return udf.Bool(op.holds(strings.Compare(a.S, b.S))), nil
			}
		}
		return op.generic(a, b)
	}
}

func (c *compiler) in(e *planner.In) (Fn, error) {
	x, err := c.compile(e.X)
	if err != nil {
		return nil, err
	}
	list, err := c.compileList(e.List)
	if err != nil {
		return nil, err
	}
	not := e.Not
	result := func(found, sawNull bool) udf.Value {
		switch {
		case found:
			return udf.Bool(!not)
		case sawNull:
			return udf.Null
		}
		return udf.Bool(not)
	}
	// A list of non-NULL string or bigint literals becomes a set.
	if set, ok := literalSet(e.List); ok {
		return func(row udf.Row) (udf.Value, error) {
			v, err := x(row)
			if err != nil || v.K == udf.TypeNull {
				return udf.Null, err
			}
			switch v.K {
			case udf.TypeString:
				_, found := set.strs[v.S]
				return result(found, false), nil
			case udf.TypeBigint:
				_, found := set.ints[v.I]
				return result(found, false), nil
			case udf.TypeDouble:
				if set.ints != nil {
					found := false
					if v.F == math.Trunc(v.F) && math.Abs(v.F) < 1<<62 {
						_, found = set.ints[int64(v.F)]
					}
					return result(found, false), nil
				}
			}
			return udf.Null, exprErr("%s IN a list of %s values", v.K, set.kind)
		}, nil
	}
	return func(row udf.Row) (udf.Value, error) {
		v, err := x(row)
		if err != nil || v.K == udf.TypeNull {
			return udf.Null, err
		}
		sawNull := false
		for _, f := range list {
			w, err := f(row)
			if err != nil {
				return udf.Null, err
			}
			if w.K == udf.TypeNull {
				sawNull = true
				continue
			}
			c, _, err := Compare(v, w)
			if err != nil {
				return udf.Null, err
			}
			if c == 0 {
				return result(true, false), nil
			}
		}
		return result(false, sawNull), nil
	}, nil
}

type litSet struct {
	kind udf.Type
	strs map[string]struct{}
	ints map[int64]struct{}
}

func literalSet(list []planner.Expr) (*litSet, bool) {
	if len(list) < 4 {
		return nil, false
	}
	s := &litSet{}
	for _, e := range list {
		l, ok := e.(*planner.Literal)
		if !ok {
			return nil, false
		}
		v := l.Value
		if s.kind == udf.TypeNull {
			s.kind = v.K
		}
		if v.K != s.kind {
			return nil, false
		}
		switch v.K {
		case udf.TypeString:
			if s.strs == nil {
				s.strs = make(map[string]struct{})
			}
			s.strs[v.S] = struct{}{}
		case udf.TypeBigint:
			if s.ints == nil {
				s.ints = make(map[int64]struct{})
			}
			s.ints[v.I] = struct{}{}
		default:
			return nil, false
		}
	}
	return s, true
}

// compareColLit is the fast path of `column op literal` (or the mirror)
// for a numeric, timestamp or string literal: it reads the column directly
// and compares without the generic dispatch. Other value kinds at run time
// fall back to Compare.
func compareColLit(name string, le, re planner.Expr) Fn {
	op := cmpOps[name]
	col, lok := le.(*planner.ColumnRef)
	lit, rok := re.(*planner.Literal)
	if !lok || !rok {
		col, lit = nil, nil
		if c, ok := re.(*planner.ColumnRef); ok {
			if l, ok := le.(*planner.Literal); ok {
				col, lit = c, l
				op = op.mirror()
			}
		}
	}
	if col == nil || lit == nil || col.Index < 0 {
		return nil
	}
	v, i := lit.Value, col.Index
	missing := func(row udf.Row) (udf.Value, error) {
		return udf.Null, exprErr("row has %d columns, column %d missing", len(row), i)
	}
	switch v.K {
	case udf.TypeBigint, udf.TypeTimestamp:
		x, k := v.I, v.K
		return func(row udf.Row) (udf.Value, error) {
			if i >= len(row) {
				return missing(row)
			}
			a := &row[i]
			switch a.K {
			case udf.TypeNull:
				return udf.Null, nil
			case k:
				return udf.Bool(op.holds(cmpInt(a.I, x))), nil
			case udf.TypeDouble:
				return udf.Bool(op.holds(cmpFloatInt(a.F, x))), nil
			}
			return op.generic(*a, v)
		}
	case udf.TypeDouble:
		x := v.F
		return func(row udf.Row) (udf.Value, error) {
			if i >= len(row) {
				return missing(row)
			}
			a := &row[i]
			switch a.K {
			case udf.TypeNull:
				return udf.Null, nil
			case udf.TypeDouble:
				return udf.Bool(op.holds(cmpFloat(a.F, x))), nil
			case udf.TypeBigint:
				return udf.Bool(op.holds(-cmpFloatInt(x, a.I))), nil
			}
			return op.generic(*a, v)
		}
	case udf.TypeString:
		x := v.S
		return func(row udf.Row) (udf.Value, error) {
			if i >= len(row) {
				return missing(row)
			}
			a := &row[i]
			switch a.K {
			case udf.TypeNull:
				return udf.Null, nil
			case udf.TypeString:
				return udf.Bool(op.holds(strings.Compare(a.S, x))), nil
			}
			return op.generic(*a, v)
		}
	}
	return nil
}
