package udf

import "math"

// Specialized paths of the typed evaluator. A Value is 64 bytes; passing
// numbers and truth values as (float64, null) and (bool, null) instead
// keeps the hot path of numeric user functions and predicates within a few
// nanoseconds per node. Every node still has fn; f64 and bl are optional
// shortcuts with the same semantics.

// f64Fn evaluates a numeric node as a float64; null reports SQL NULL.
type f64Fn func(r Row, st *stack) (x float64, null bool, err error)

// boolFn evaluates a bool node; null reports SQL NULL (unknown).
type boolFn func(r Row, st *stack) (b, null bool, err error)

// toF64 returns n's float64 evaluator, adapting fn when n has none.
func toF64(n cnode) f64Fn {
	if n.f64 != nil {
		return n.f64
	}
	fn := n.fn
	return func(r Row, st *stack) (float64, bool, error) {
		v, err := fn(r, st)
		if err != nil || v.K == TypeNull {
			return 0, true, err
		}
		x, _ := v.AsFloat()
		return x, false, nil
	}
}

// toBool returns n's bool evaluator, adapting fn when n has none.
func toBool(n cnode) boolFn {
	if n.bl != nil {
		return n.bl
	}
	fn := n.fn
	return func(r Row, st *stack) (bool, bool, error) {
		v, err := fn(r, st)
		if err != nil || v.K == TypeNull {
			return false, true, err
		}
		return v.I != 0, false, nil
	}
}

// doubleNode makes a double node from its float64 evaluator.
func doubleNode(f f64Fn) cnode {
	return cnode{t: TypeDouble, f64: f, fn: func(r Row, st *stack) (Value, error) {
		x, null, err := f(r, st)
		if err != nil || null {
			return Null, err
		}
		return Value{K: TypeDouble, F: x}, nil
	}}
}

// boolNode makes a bool node from its bool evaluator.
func boolNode(f boolFn) cnode {
	return cnode{t: TypeBool, bl: f, fn: func(r Row, st *stack) (Value, error) {
		b, null, err := f(r, st)
		if err != nil || null {
			return Null, err
		}
		if b {
			return Value{K: TypeBool, I: 1}, nil
		}
		return Value{K: TypeBool}, nil
	}}
}

// identF64 reads column i of a numeric variable without copying the Value.
func identF64(i int) f64Fn {
	return func(r Row, _ *stack) (float64, bool, error) {
		v := &r[i]
		switch v.K {
		case TypeDouble:
			return v.F, false, nil
		case TypeBigint:
			return float64(v.I), false, nil
		}
		return 0, true, nil
	}
}

func identBool(i int) boolFn {
	return func(r Row, _ *stack) (bool, bool, error) {
		v := &r[i]
		return v.I != 0, v.K != TypeBool, nil
	}
}

// floatArith is arith for doubles: division and % by zero and non-finite
// results are NULL.
func floatArith(op string, l, r f64Fn) f64Fn {
	var f func(a, b float64) (float64, bool)
	switch op {
	case "+":
		f = func(a, b float64) (float64, bool) { return a + b, true }
	case "-":
		f = func(a, b float64) (float64, bool) { return a - b, true }
	case "*":
		f = func(a, b float64) (float64, bool) { return a * b, true }
	case "/":
		f = func(a, b float64) (float64, bool) { return a / b, b != 0 }
	case "%":
		f = func(a, b float64) (float64, bool) { return math.Mod(a, b), b != 0 }
	default:
		f = func(a, b float64) (float64, bool) { return math.Pow(a, b), true }
	}
	return func(row Row, st *stack) (float64, bool, error) {
		a, an, err := l(row, st)
		if err != nil || an {
			return 0, true, err
		}
		b, bn, err := r(row, st)
		if err != nil || bn {
			return 0, true, err
		}
		x, ok := f(a, b)
		if !ok || math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, true, nil
		}
		return x, false, nil
	}
}

// cmpFloat orders as Compare does: NaN equals NaN and sorts below numbers.
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

// floatCompare compares two numeric operands as doubles; a constant right
// operand is folded into the closure.
func floatCompare(op string, l cnode, r cnode) boolFn {
	lf := toF64(l)
	var test func(c int) bool
	switch op {
	case "<":
		test = func(c int) bool { return c < 0 }
	case ">":
		test = func(c int) bool { return c > 0 }
	case "<=":
		test = func(c int) bool { return c <= 0 }
	case ">=":
		test = func(c int) bool { return c >= 0 }
	case "==":
		test = func(c int) bool { return c == 0 }
	default:
		test = func(c int) bool { return c != 0 }
	}
	if r.konst {
		k, null, _ := toF64(r)(nil, nil)
		if null {
			return func(Row, *stack) (bool, bool, error) { return false, true, nil }
		}
		if op == ">" { // the most common predicate shape, without the indirection
			return func(row Row, st *stack) (bool, bool, error) {
				a, an, err := lf(row, st)
				if err != nil || an {
					return false, true, err
				}
				return a > k, false, nil
			}
		}
		return func(row Row, st *stack) (bool, bool, error) {
			a, an, err := lf(row, st)
			if err != nil || an {
				return false, true, err
			}
			return test(cmpFloat(a, k)), false, nil
		}
	}
	rf := toF64(r)
	return func(row Row, st *stack) (bool, bool, error) {
		a, an, err := lf(row, st)
		if err != nil || an {
			return false, true, err
		}
		b, bn, err := rf(row, st)
		if err != nil || bn {
			return false, true, err
		}
		return test(cmpFloat(a, b)), false, nil
	}
}

// logic is Kleene's three-valued and/or: false AND x is false, true OR x is
// true, otherwise NULL wins.
func logic(and bool, l, r boolFn) boolFn {
	return func(row Row, st *stack) (bool, bool, error) {
		a, an, err := l(row, st)
		if err != nil {
			return false, true, err
		}
		if !an && a != and {
			return a, false, nil
		}
		b, bn, err := r(row, st)
		if err != nil {
			return false, true, err
		}
		if !bn && b != and {
			return b, false, nil
		}
		if an || bn {
			return false, true, nil
		}
		return and, false, nil
	}
}

// unaryF64 are the double-to-double built-ins the typed evaluator calls
// without boxing their argument into a Value; each must give exactly what
// the built-in's Eval gives for a double argument (ok false: NULL).
// TestUnaryF64MatchesEval holds them to it.
var unaryF64 = map[string]func(x float64) (r float64, ok bool){
	"ABS":   func(x float64) (float64, bool) { return math.Abs(x), true },
	"FLOOR": func(x float64) (float64, bool) { return math.Floor(x), true },
	"CEIL":  func(x float64) (float64, bool) { return math.Ceil(x), true },
	"SQRT":  finiteF(math.Sqrt),
	"EXP":   finiteF(math.Exp),
	"LN":    finiteF(logPositive(math.Log)),
	"LOG10": finiteF(logPositive(math.Log10)),
	"SIGN": func(x float64) (float64, bool) {
		switch {
		case x < 0:
			return -1, true
		case x > 0:
			return 1, true
		case x == 0:
			return 0, true
		}
		return 0, false
	},
}

func finiteF(f func(float64) float64) func(float64) (float64, bool) {
	return func(x float64) (float64, bool) {
		r := f(x)
		return r, !math.IsNaN(r) && !math.IsInf(r, 0)
	}
}

// callF64 compiles a call of a unary double built-in on a double argument.
func callF64(f func(float64) (float64, bool), arg cnode) cnode {
	af := toF64(arg)
	return doubleNode(func(r Row, st *stack) (float64, bool, error) {
		x, null, err := af(r, st)
		if err != nil || null {
			return 0, true, err
		}
		y, ok := f(x)
		return y, !ok, nil
	})
}

// binaryF64 are the built-ins of two doubles (when Check says the result
// is a double) that the typed evaluator calls unboxed; like unaryF64 they
// must agree exactly with Eval (TestBinaryF64MatchesEval).
var binaryF64 = map[string]func(a, b float64) (r float64, ok bool){
	"POWER": func(a, b float64) (float64, bool) { return finiteF64(math.Pow(a, b)) },
	"MOD": func(a, b float64) (float64, bool) {
		if b == 0 {
			return 0, false
		}
		return finiteF64(math.Mod(a, b))
	},
	"GREATEST": func(a, b float64) (float64, bool) {
		if cmpFloat(b, a) > 0 {
			return b, true
		}
		return a, true
	},
	"LEAST": func(a, b float64) (float64, bool) {
		if cmpFloat(b, a) < 0 {
			return b, true
		}
		return a, true
	},
}

func finiteF64(x float64) (float64, bool) { return x, !math.IsNaN(x) && !math.IsInf(x, 0) }

// callF64x2 compiles a call of a binary double built-in.
func callF64x2(f func(a, b float64) (float64, bool), a, b cnode) cnode {
	af, bf := toF64(a), toF64(b)
	return doubleNode(func(r Row, st *stack) (float64, bool, error) {
		x, null, err := af(r, st)
		if err != nil || null {
			return 0, true, err
		}
		y, null, err := bf(r, st)
		if err != nil || null {
			return 0, true, err
		}
		z, ok := f(x, y)
		return z, !ok, nil
	})
}
