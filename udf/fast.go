package udf

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
)

// evalFn evaluates a compiled expression over row (a user function's
// arguments or a predicate's columns). st is scratch space for call
// arguments; nil when the expression calls no function.
type evalFn func(row Row, st *stack) (Value, error)

// stack holds the arguments of calls being evaluated; a call pushes its
// arguments, calls, and pops them, so nested calls share one slice.
type stack struct{ vals []Value }

// cnode is a compiled, typed expression.
type cnode struct {
	t     Type
	fn    evalFn
	konst bool   // a literal: fn ignores the row
	f64   f64Fn  // optional shortcut of a numeric node (fast_num.go)
	bl    boolFn // optional shortcut of a bool node
}

// errUnsupported means the expression uses expr-lang outside the typed
// subset; it then runs on expr-lang's VM.
var errUnsupported = errors.New("outside the typed subset")

// fastCompiler compiles the typed subset of expr-lang (see doc.go) into a
// tree of closures over Values that follows SQL NULL semantics.
type fastCompiler struct {
	name   string
	src    string
	params []Param
	env    *Env
	calls  bool // some node uses the stack
}

func (c *fastCompiler) errAt(n ast.Node, format string, args ...any) error {
	e := posError(c.name, c.src, n.Location().From, fmt.Sprintf(format, args...))
	return &e
}

// where names a node's position for runtime errors.
func (c *fastCompiler) where(n ast.Node) string {
	e := posError(c.name, c.src, n.Location().From, "")
	name := c.name
	if name == "" {
		name = "predicate"
	}
	return fmt.Sprintf("%s:%d:%d", name, e.Line, e.Column)
}

func konst(v Value) cnode {
	n := cnode{t: v.K, konst: true, fn: func(Row, *stack) (Value, error) { return v, nil }}
	switch v.K {
	case TypeBigint, TypeDouble:
		x, _ := v.AsFloat()
		n.f64 = func(Row, *stack) (float64, bool, error) { return x, false, nil }
	case TypeBool:
		b := v.I != 0
		n.bl = func(Row, *stack) (bool, bool, error) { return b, false, nil }
	}
	return n
}

func (c *fastCompiler) compile(n ast.Node) (cnode, error) {
	switch n := n.(type) {
	case *ast.NilNode:
		return konst(Null), nil
	case *ast.IntegerNode:
		return konst(Int(int64(n.Value))), nil
	case *ast.FloatNode:
		return konst(Float(n.Value)), nil
	case *ast.StringNode:
		return konst(Str(n.Value)), nil
	case *ast.BoolNode:
		return konst(Bool(n.Value)), nil
	case *ast.IdentifierNode:
		for i, p := range c.params {
			if p.Name == n.Value {
				switch p.Type {
				case TypeDouble: // also accepts a bigint argument
					return doubleNode(identF64(i)), nil
				case TypeBigint:
					return cnode{t: p.Type, f64: identF64(i), fn: func(r Row, _ *stack) (Value, error) { return r[i], nil }}, nil
				case TypeBool:
					return cnode{t: p.Type, bl: identBool(i), fn: func(r Row, _ *stack) (Value, error) { return r[i], nil }}, nil
				case TypeAny: // type unknown: only the VM can run this
					return cnode{}, errUnsupported
				}
				return cnode{t: p.Type, fn: func(r Row, _ *stack) (Value, error) { return r[i], nil }}, nil
			}
		}
		return cnode{}, errUnsupported
	case *ast.UnaryNode:
		return c.unary(n)
	case *ast.BinaryNode:
		return c.binary(n)
	case *ast.ConditionalNode:
		return c.conditional(n)
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok {
			return cnode{}, errUnsupported
		}
		return c.call(n, id.Value, n.Arguments)
	case *ast.BuiltinNode: // an expr-lang builtin name (len, lower, int, ...)
		for _, a := range n.Arguments {
			switch a.(type) {
			case *ast.PredicateNode, *ast.PointerNode:
				return cnode{}, errUnsupported
			}
		}
		return c.call(n, n.Name, n.Arguments)
	case *ast.MemberNode:
		return c.member(n)
	}
	return cnode{}, errUnsupported
}

func (c *fastCompiler) unary(n *ast.UnaryNode) (cnode, error) {
	x, err := c.compile(n.Node)
	if err != nil {
		return x, err
	}
	f := x.fn
	switch n.Operator {
	case "-", "+":
		if !x.t.Numeric() && x.t != TypeNull {
			return cnode{}, c.errAt(n, "unary %s needs a number, got %s", n.Operator, x.t)
		}
		if n.Operator == "+" {
			return x, nil
		}
		if x.t == TypeDouble {
			xf := toF64(x)
			d := doubleNode(func(r Row, st *stack) (float64, bool, error) {
				v, null, err := xf(r, st)
				return -v, null, err
			})
			if x.konst { // a negative literal stays a constant
				v, _ := d.fn(nil, nil)
				return konst(v), nil
			}
			return d, nil
		}
		where := c.where(n)
		if x.konst && x.t == TypeBigint {
			if v, _ := x.fn(nil, nil); v.I != math.MinInt64 {
				return konst(Int(-v.I)), nil
			}
		}
		return cnode{t: x.t, fn: func(r Row, st *stack) (Value, error) {
			v, err := f(r, st)
			switch {
			case err != nil:
				return v, err
			case v.K == TypeBigint:
				if v.I == math.MinInt64 {
					return Null, fmt.Errorf("%w: %s: bigint overflow", ErrExpr, where)
				}
				return Int(-v.I), nil
			case v.K == TypeDouble:
				return Float(-v.F), nil
			}
			return Null, nil
		}}, nil
	case "!", "not":
		if x.t != TypeBool && x.t != TypeNull {
			return cnode{}, c.errAt(n, "%s needs a bool, got %s", n.Operator, x.t)
		}
		xb := toBool(x)
		return boolNode(func(r Row, st *stack) (bool, bool, error) {
			b, null, err := xb(r, st)
			return !b, null, err
		}), nil
	}
	return cnode{}, errUnsupported
}

func isNilNode(n ast.Node) bool { _, ok := n.(*ast.NilNode); return ok }

func (c *fastCompiler) binary(n *ast.BinaryNode) (cnode, error) {
	switch n.Operator {
	case "in", "not in":
		return c.in(n)
	case "matches", "not matches":
		return c.matches(n)
	}
	l, err := c.compile(n.Left)
	if err != nil {
		return l, err
	}
	r, err := c.compile(n.Right)
	if err != nil {
		return r, err
	}
	lf, rf := l.fn, r.fn
	where := c.where(n)
	switch op := n.Operator; op {
	case "+", "-", "*", "/", "%", "**", "^":
		t, err := c.arithType(n, op, l.t, r.t)
		if err != nil {
			return cnode{}, err
		}
		if t == TypeDouble {
			return doubleNode(floatArith(op, toF64(l), toF64(r))), nil
		}
		return cnode{t: t, fn: func(row Row, st *stack) (Value, error) {
			a, err := lf(row, st)
			if err != nil {
				return a, err
			}
			b, err := rf(row, st)
			if err != nil || a.K == TypeNull || b.K == TypeNull {
				return Null, err
			}
			return arith(op, a, b, where)
		}}, nil
	case "==", "!=":
		neg := op == "!="
		if isNilNode(n.Left) || isNilNode(n.Right) { // x == nil: IS NULL
			x := lf
			if isNilNode(n.Left) {
				x = rf
			}
			return cnode{t: TypeBool, fn: func(row Row, st *stack) (Value, error) {
				v, err := x(row, st)
				return Bool((v.K == TypeNull) != neg), err
			}}, nil
		}
		if !comparable(l.t, r.t, true) {
			return cnode{}, c.errAt(n, "cannot compare %s with %s", l.t, r.t)
		}
		if floatComparable(l.t, r.t) {
			return boolNode(floatCompare(op, l, r)), nil
		}
		return cnode{t: TypeBool, fn: func(row Row, st *stack) (Value, error) {
			a, err := lf(row, st)
			if err != nil {
				return a, err
			}
			b, err := rf(row, st)
			if err != nil || a.K == TypeNull || b.K == TypeNull {
				return Null, err
			}
			if a.K == TypeVector || b.K == TypeVector {
				return Bool(Equal(a, b) != neg), nil
			}
			cmp, ok := compareLoose(a, b)
			if !ok {
				return Null, fmt.Errorf("%w: %s: cannot compare %s with %s", ErrExpr, where, a.K, b.K)
			}
			return Bool((cmp == 0) != neg), nil
		}}, nil
	case "<", ">", "<=", ">=":
		if !comparable(l.t, r.t, false) {
			return cnode{}, c.errAt(n, "cannot order %s and %s", l.t, r.t)
		}
		if floatComparable(l.t, r.t) {
			return boolNode(floatCompare(op, l, r)), nil
		}
		return cnode{t: TypeBool, fn: func(row Row, st *stack) (Value, error) {
			a, err := lf(row, st)
			if err != nil {
				return a, err
			}
			b, err := rf(row, st)
			if err != nil || a.K == TypeNull || b.K == TypeNull {
				return Null, err
			}
			cmp, ok := compareLoose(a, b)
			if !ok {
				return Null, fmt.Errorf("%w: %s: cannot compare %s with %s", ErrExpr, where, a.K, b.K)
			}
			var res bool
			switch op {
			case "<":
				res = cmp < 0
			case ">":
				res = cmp > 0
			case "<=":
				res = cmp <= 0
			default:
				res = cmp >= 0
			}
			return Bool(res), nil
		}}, nil
	case "and", "&&", "or", "||":
		for _, x := range []cnode{l, r} {
			if x.t != TypeBool && x.t != TypeNull {
				return cnode{}, c.errAt(n, "%s needs bool operands, got %s", op, x.t)
			}
		}
		return boolNode(logic(op == "and" || op == "&&", toBool(l), toBool(r))), nil
	case "??":
		t, err := Unify(l.t, r.t)
		if err != nil {
			return cnode{}, c.errAt(n, "??: %v", err)
		}
		return cnode{t: t, fn: func(row Row, st *stack) (Value, error) {
			a, err := lf(row, st)
			if err != nil || a.K != TypeNull {
				if err == nil {
					return Coerce(a, t)
				}
				return a, err
			}
			b, err := rf(row, st)
			if err != nil {
				return b, err
			}
			return Coerce(b, t)
		}}, nil
	case "contains", "startsWith", "endsWith":
		if !stringish(l.t) || !stringish(r.t) {
			return cnode{}, c.errAt(n, "%s needs strings, got %s and %s", op, l.t, r.t)
		}
		var pred func(a, b string) bool
		switch op {
		case "contains":
			pred = strings.Contains
		case "startsWith":
			pred = strings.HasPrefix
		default:
			pred = strings.HasSuffix
		}
		return cnode{t: TypeBool, fn: func(row Row, st *stack) (Value, error) {
			a, err := lf(row, st)
			if err != nil {
				return a, err
			}
			b, err := rf(row, st)
			if err != nil || a.K == TypeNull || b.K == TypeNull {
				return Null, err
			}
			return Bool(pred(a.S, b.S)), nil
		}}, nil
	}
	return cnode{}, errUnsupported
}

func stringish(t Type) bool { return t == TypeString || t == TypeNull }

// arithType is the static result type of an arithmetic operator.
func (c *fastCompiler) arithType(n ast.Node, op string, a, b Type) (Type, error) {
	switch {
	case a == TypeNull && b == TypeNull:
		return TypeNull, nil
	case op == "+" && (a == TypeString || b == TypeString):
		if stringish(a) && stringish(b) {
			return TypeString, nil
		}
	case (op == "+" || op == "-") && a == TypeTimestamp && (b == TypeBigint || b == TypeNull):
		return TypeTimestamp, nil
	case op == "+" && b == TypeTimestamp && (a == TypeBigint || a == TypeNull):
		return TypeTimestamp, nil
	case op == "-" && a == TypeTimestamp && b == TypeTimestamp:
		return TypeBigint, nil
	case (a.Numeric() || a == TypeNull) && (b.Numeric() || b == TypeNull):
		if op == "/" || op == "**" || op == "^" || a == TypeDouble || b == TypeDouble {
			return TypeDouble, nil
		}
		return TypeBigint, nil
	}
	return TypeNull, c.errAt(n, "invalid operation %s on %s and %s", op, a, b)
}

// arith applies an arithmetic operator to two non-NULL values. bigint
// overflow is an error; division and % by zero give NULL; double results
// that are not finite give NULL.
func arith(op string, a, b Value, where string) (Value, error) {
	if a.K == TypeString {
		if len(a.S)+len(b.S) > MaxString {
			return Null, fmt.Errorf("%w: %s: string longer than %d bytes", ErrExpr, where, MaxString)
		}
		return Str(a.S + b.S), nil
	}
	ints := (a.K == TypeBigint || a.K == TypeTimestamp) && (b.K == TypeBigint || b.K == TypeTimestamp)
	if ints && op != "/" && op != "**" && op != "^" {
		x, y := a.I, b.I
		var r int64
		switch op {
		case "+":
			r = x + y
			if (x^r)&(y^r) < 0 {
				return Null, overflow(where)
			}
		case "-":
			r = x - y
			if (x^y)&(x^r) < 0 {
				return Null, overflow(where)
			}
		case "*":
			if x != 0 && y != 0 {
				r = x * y
				if r/y != x || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64) {
					return Null, overflow(where)
				}
			}
		case "%":
			if y == 0 {
				return Null, nil
			}
			r = x % y
		}
		switch {
		case a.K == TypeTimestamp && b.K == TypeTimestamp:
			return Int(r), nil
		case a.K == TypeTimestamp || b.K == TypeTimestamp:
			return Time(r), nil
		}
		return Int(r), nil
	}
	x, _ := a.AsFloat()
	y, _ := b.AsFloat()
	var r float64
	switch op {
	case "+":
		r = x + y
	case "-":
		r = x - y
	case "*":
		r = x * y
	case "/":
		if y == 0 {
			return Null, nil
		}
		r = x / y
	case "%":
		if y == 0 {
			return Null, nil
		}
		r = math.Mod(x, y)
	default:
		r = math.Pow(x, y)
	}
	return finite(r), nil
}

func overflow(where string) error { return fmt.Errorf("%w: %s: bigint overflow", ErrExpr, where) }

// comparable reports whether values of types a and b may be compared
// (eq: with == and !=, which also compare bools and vectors).
func comparable(a, b Type, eq bool) bool {
	if a == TypeNull || b == TypeNull || a == TypeAny || b == TypeAny {
		return true
	}
	ord := func(t Type) int { // comparison class
		switch t {
		case TypeBigint, TypeDouble, TypeTimestamp:
			return 1
		case TypeString:
			return 2
		case TypeBool:
			return 3
		case TypeVector:
			return 4
		}
		return 0
	}
	if ord(a) != ord(b) {
		return false
	}
	if (a == TypeTimestamp) != (b == TypeTimestamp) && a != TypeBigint && b != TypeBigint {
		return false // timestamps compare with timestamps and epoch-millis bigints
	}
	return eq || (a != TypeBool && a != TypeVector)
}

// floatComparable reports whether a comparison of a and b may run on
// doubles: both numeric (or NULL) and at least one double. bigint with
// bigint compares exactly on the generic path.
func floatComparable(a, b Type) bool {
	num := func(t Type) bool { return t.Numeric() || t == TypeNull }
	return num(a) && num(b) && (a == TypeDouble || b == TypeDouble)
}

// compareLoose is Compare with timestamps comparable to bigints (epoch
// milliseconds).
func compareLoose(a, b Value) (int, bool) {
	if a.K == TypeTimestamp && b.K != TypeTimestamp {
		a.K = TypeBigint
	}
	if b.K == TypeTimestamp && a.K != TypeTimestamp {
		b.K = TypeBigint
	}
	return Compare(a, b)
}

func (c *fastCompiler) in(n *ast.BinaryNode) (cnode, error) {
	arr, ok := n.Right.(*ast.ArrayNode)
	if !ok {
		return cnode{}, errUnsupported
	}
	l, err := c.compile(n.Left)
	if err != nil {
		return l, err
	}
	elems := make([]evalFn, len(arr.Nodes))
	for i, e := range arr.Nodes {
		x, err := c.compile(e)
		if err != nil {
			return x, err
		}
		if !comparable(l.t, x.t, true) {
			return cnode{}, c.errAt(e, "cannot compare %s with %s in %s", l.t, x.t, n.Operator)
		}
		elems[i] = x.fn
	}
	neg := n.Operator == "not in"
	lf := l.fn
	return cnode{t: TypeBool, fn: func(row Row, st *stack) (Value, error) {
		a, err := lf(row, st)
		if err != nil || a.K == TypeNull {
			return Null, err
		}
		sawNull := false
		for _, e := range elems {
			b, err := e(row, st)
			if err != nil {
				return b, err
			}
			if b.K == TypeNull {
				sawNull = true
				continue
			}
			if cmp, ok := compareLoose(a, b); (ok && cmp == 0) || (!ok && Equal(a, b)) {
				return Bool(!neg), nil
			}
		}
		if sawNull { // x IN (.., NULL) without a match is unknown
			return Null, nil
		}
		return Bool(neg), nil
	}}, nil
}

func (c *fastCompiler) matches(n *ast.BinaryNode) (cnode, error) {
	pat, ok := n.Right.(*ast.StringNode)
	if !ok {
		return cnode{}, errUnsupported // a computed pattern: the VM compiles it per row
	}
	re, err := regexp.Compile(pat.Value)
	if err != nil {
		return cnode{}, c.errAt(n.Right, "invalid pattern: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	l, err := c.compile(n.Left)
	if err != nil {
		return l, err
	}
	if !stringish(l.t) {
		return cnode{}, c.errAt(n, "matches needs a string, got %s", l.t)
	}
	neg := n.Operator == "not matches"
	lf := l.fn
	return cnode{t: TypeBool, fn: func(row Row, st *stack) (Value, error) {
		a, err := lf(row, st)
		if err != nil || a.K == TypeNull {
			return Null, err
		}
		return Bool(re.MatchString(a.S) != neg), nil
	}}, nil
}

func (c *fastCompiler) conditional(n *ast.ConditionalNode) (cnode, error) {
	cond, err := c.compile(n.Cond)
	if err != nil {
		return cond, err
	}
	if cond.t != TypeBool && cond.t != TypeNull {
		return cnode{}, c.errAt(n.Cond, "condition must be bool, got %s", cond.t)
	}
	a, err := c.compile(n.Exp1)
	if err != nil {
		return a, err
	}
	b, err := c.compile(n.Exp2)
	if err != nil {
		return b, err
	}
	t, err := Unify(a.t, b.t)
	if err != nil {
		return cnode{}, c.errAt(n, "branches: %v", err)
	}
	cb := toBool(cond)
	if t == TypeDouble {
		af, bf := toF64(a), toF64(b)
		return doubleNode(func(row Row, st *stack) (float64, bool, error) {
			ok, null, err := cb(row, st)
			if err != nil {
				return 0, true, err
			}
			if ok && !null {
				return af(row, st)
			}
			return bf(row, st)
		}), nil
	}
	af, bf := a.fn, b.fn
	return cnode{t: t, fn: func(row Row, st *stack) (Value, error) {
		ok, null, err := cb(row, st)
		if err != nil {
			return Null, err
		}
		var v Value
		if ok && !null {
			v, err = af(row, st)
		} else {
			v, err = bf(row, st) // false or NULL: the else branch, as SQL CASE
		}
		if err != nil || v.K == t || v.K == TypeNull {
			return v, err
		}
		return Coerce(v, t)
	}}, nil
}

func (c *fastCompiler) member(n *ast.MemberNode) (cnode, error) {
	if n.Optional {
		return cnode{}, errUnsupported
	}
	x, err := c.compile(n.Node)
	if err != nil {
		return x, err
	}
	if x.t != TypeVector {
		return cnode{}, errUnsupported
	}
	i, err := c.compile(n.Property)
	if err != nil {
		return i, err
	}
	if i.t != TypeBigint {
		return cnode{}, c.errAt(n.Property, "vector index must be an integer, got %s", i.t)
	}
	xf, idf := x.fn, i.fn
	return cnode{t: TypeDouble, fn: func(row Row, st *stack) (Value, error) {
		v, err := xf(row, st)
		if err != nil || v.K == TypeNull {
			return Null, err
		}
		k, err := idf(row, st)
		if err != nil || k.K == TypeNull {
			return Null, err
		}
		j := k.I
		if j < 0 {
			j += int64(len(v.V)) // v[-1] is the last element, as in expr-lang
		}
		if j < 0 || j >= int64(len(v.V)) {
			return Null, nil // out of range: NULL, as SQL arrays
		}
		return Float(v.V[j]), nil
	}}, nil
}

// exprAliases maps expr-lang builtin names to the flowrun built-in that
// replaces them in expressions.
var exprAliases = map[string]string{"len": "LENGTH", "min": "LEAST", "max": "GREATEST", "trimspace": "TRIM"}

// resolveCall finds what a call's name refers to: a user function of env,
// a flowrun built-in, or an expr-lang name with a flowrun equivalent.
func resolveCall(name string, env *Env) (user *Compiled, f *Func) {
	if u, ok := env.Lookup(name); ok {
		return u, nil
	}
	if b, ok := Lookup(name); ok {
		return nil, b
	}
	if a, ok := exprAliases[name]; ok {
		b, _ := Lookup(a)
		return nil, b
	}
	return nil, nil
}

func (c *fastCompiler) call(n ast.Node, name string, argNodes []ast.Node) (cnode, error) {
	if cast, ok := casts[name]; ok && len(argNodes) == 1 {
		return c.cast(n, argNodes[0], cast)
	}
	user, f := resolveCall(name, c.env)
	if user == nil && f == nil {
		return cnode{}, errUnsupported
	}
	args := make([]evalFn, len(argNodes))
	types := make([]Type, len(argNodes))
	consts := make([]bool, len(argNodes))
	for i, a := range argNodes {
		x, err := c.compile(a)
		if err != nil {
			return x, err
		}
		args[i], types[i], consts[i] = x.fn, x.t, x.konst
	}
	if _, alias := exprAliases[name]; alias && user == nil && len(types) == 1 && types[0] == TypeVector {
		if name != "len" {
			return cnode{}, errUnsupported // max(v), min(v): expr-lang's array forms, on the VM
		}
		vf := args[0]
		return cnode{t: TypeBigint, fn: func(row Row, st *stack) (Value, error) {
			v, err := vf(row, st)
			if err != nil || v.K == TypeNull {
				return Null, err
			}
			return Int(int64(len(v.V))), nil
		}}, nil
	}
	var t Type
	var err error
	var eval func([]Value) (Value, error)
	if user != nil {
		t, err = user.Check(types)
		eval = user.Call
		if p := user.prog; p.fast != nil {
			eval = nil
			callee := p.fast
			c.calls = true
			fn := func(row Row, st *stack) (Value, error) {
				base := len(st.vals)
				for _, a := range args {
					v, err := a(row, st)
					if err != nil {
						st.vals = st.vals[:base]
						return v, err
					}
					st.vals = append(st.vals, v)
				}
				v, err := callee(st.vals[base:len(st.vals):len(st.vals)], st)
				st.vals = st.vals[:base]
				return v, err
			}
			if err != nil {
				return cnode{}, c.errAt(n, "%s", strings.TrimPrefix(err.Error(), ErrArgs.Error()+": "))
			}
			return cnode{t: t, fn: fn}, nil
		}
	} else {
		t, err = f.Check(types)
		if u := unaryF64[f.Name]; u != nil && err == nil && t == TypeDouble && len(types) == 1 {
			arg, _ := c.compile(argNodes[0]) // compiled above: cannot fail now
			return callF64(u, arg), nil
		}
		if u := binaryF64[f.Name]; u != nil && err == nil && t == TypeDouble && len(types) == 2 {
			a, _ := c.compile(argNodes[0])
			b, _ := c.compile(argNodes[1])
			return callF64x2(u, a, b), nil
		}
		eval = f.Eval
		if err == nil && f.ConstCheck != nil {
			for i, a := range argNodes {
				if !consts[i] {
					continue
				}
				v, _ := args[i](nil, nil)
				if cerr := f.ConstCheck(i, v); cerr != nil {
					return cnode{}, c.errAt(a, "%s", strings.TrimPrefix(cerr.Error(), ErrArgs.Error()+": "))
				}
			}
		}
	}
	if err != nil {
		return cnode{}, c.errAt(n, "%s", strings.TrimPrefix(err.Error(), ErrArgs.Error()+": "))
	}
	c.calls = true
	return cnode{t: t, fn: func(row Row, st *stack) (Value, error) {
		base := len(st.vals)
		for _, a := range args {
			v, err := a(row, st)
			if err != nil {
				st.vals = st.vals[:base]
				return v, err
			}
			st.vals = append(st.vals, v)
		}
		v, err := eval(st.vals[base:len(st.vals):len(st.vals)])
		st.vals = st.vals[:base]
		if err == nil && v.K != t && v.K != TypeNull && t != TypeAny {
			return Coerce(v, t) // a NULL argument hid the wider type: COALESCE(0, NULL double)
		}
		return v, err
	}}, nil
}

// casts are expr-lang's conversion builtins, with SQL NULL semantics.
var casts = map[string]Type{"int": TypeBigint, "float": TypeDouble, "string": TypeString}

func (c *fastCompiler) cast(n, arg ast.Node, to Type) (cnode, error) {
	x, err := c.compile(arg)
	if err != nil {
		return x, err
	}
	if x.t == TypeVector {
		return cnode{}, c.errAt(n, "cannot convert a vector to %s", to)
	}
	xf := x.fn
	where := c.where(n)
	return cnode{t: to, fn: func(row Row, st *stack) (Value, error) {
		v, err := xf(row, st)
		if err != nil || v.K == TypeNull {
			return Null, err
		}
		return castValue(v, to, where)
	}}, nil
}

func castValue(v Value, to Type, where string) (Value, error) {
	switch to {
	case TypeString:
		return Str(text(v)), nil
	case TypeDouble:
		if v.K == TypeString {
			f, err := strconv.ParseFloat(strings.TrimSpace(v.S), 64)
			if err != nil {
				return Null, fmt.Errorf("%w: %s: cannot convert %q to double", ErrExpr, where, v.S)
			}
			return Float(f), nil
		}
		f, _ := v.AsFloat()
		return Float(f), nil
	}
	switch v.K {
	case TypeString:
		i, err := strconv.ParseInt(strings.TrimSpace(v.S), 10, 64)
		if err != nil {
			return Null, fmt.Errorf("%w: %s: cannot convert %q to bigint", ErrExpr, where, v.S)
		}
		return Int(i), nil
	case TypeDouble:
		if math.IsNaN(v.F) || v.F >= math.MaxInt64 || v.F < math.MinInt64 {
			return Null, overflow(where)
		}
		return Int(int64(v.F)), nil // toward zero, as expr-lang's int()
	}
	return Int(v.I), nil
}

func countNodes(n ast.Node) int {
	cnt := 0
	ast.Find(n, func(ast.Node) bool { cnt++; return false })
	return cnt
}
