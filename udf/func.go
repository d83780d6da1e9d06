package udf

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// NullRule says how a scalar function treats SQL NULL arguments.
type NullRule uint8

const (
	// NullIfAnyNull: the result is NULL when any argument is NULL; the
	// implementation never sees a NULL.
	NullIfAnyNull NullRule = iota
	// NullCustom: the implementation handles NULL itself (COALESCE, IF,
	// CONCAT_WS, ...); its Doc says how.
	NullCustom
)

// String names the rule as the reference prints it.
func (r NullRule) String() string {
	if r == NullIfAnyNull {
		return "NULL if any argument is NULL"
	}
	return "custom (see description)"
}

// Example is one documented call of a function and its result. Call is SQL
// text; Want is the result's Value.String() form, or "error: <substring>" for
// a call that must fail. Every example runs as a test.
type Example struct {
	Call string
	Want string
}

// Func is one built-in scalar function: a row of the table in builtins.go.
//
// Check is the binder's type checker: given the argument types (TypeNull for
// a NULL literal, TypeAny when unknown) it returns the result type or an error
// that names the function. When the table leaves Check nil it is derived from
// Signature, so the two cannot drift.
//
// Eval computes the result of evaluated arguments whose types passed Check.
// Eval applies the Nulls rule itself, so callers never special-case NULL. It
// must not retain args and is safe for concurrent use. A bigint argument may
// be passed where Signature says double. An error from Eval wraps ErrExpr
// (the executor dead-letters the row with class "expr"). The result has the
// type Check returned, or NULL, except that it may be a bigint where Check
// said double when NULL arguments hid the wider type (COALESCE(0, d) with d
// a NULL double): callers widen it with Coerce.
type Func struct {
	Name      string // upper case, e.g. "SUBSTRING"
	Doc       string
	Signature string // e.g. "SUBSTRING(s string, start bigint [, len bigint]) string"
	Examples  []Example
	Nulls     NullRule
	Check     func(args []Type) (Type, error)
	Eval      func(args []Value) (Value, error)

	// Category groups the reference ("String", "Math", ...).
	Category string
	// SQLForms lists the accepted SQL spellings when they differ from a
	// plain call, e.g. "EXTRACT(HOUR FROM ts)".
	SQLForms []string
	// Aliases are other names Lookup accepts (SUBSTR for SUBSTRING).
	Aliases []string
	// ConstCheck, when set, validates argument i when its value is known
	// before run time (a literal): a time unit, a regular expression, a
	// JSON path. The binder calls it for each constant argument so that a
	// mistake is a validation error with a position instead of a runtime
	// error on every row. The error wraps ErrArgs. Nil: nothing to check.
	ConstCheck func(i int, v Value) error

	minArgs, maxArgs int // maxArgs < 0: variadic
}

// ErrExpr is the class of runtime errors of expressions and functions: a
// function given a value it cannot handle, a user expression failing on one
// row. The executor sends the row to the dead-letter stream with class
// "expr" and goes on.
var ErrExpr = errors.New("expr")

// ErrArgs is the class of type-checking errors of function calls.
var ErrArgs = errors.New("invalid arguments")

func exprErr(name string, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrExpr, name, fmt.Sprintf(format, args...))
}

var (
	funcIndex  map[string]*Func
	funcSorted []*Func
)

func init() {
	funcIndex = make(map[string]*Func, len(builtins))
	for _, f := range builtins {
		register(f)
	}
	sort.Slice(funcSorted, func(i, j int) bool { return funcSorted[i].Name < funcSorted[j].Name })
}

func register(f *Func) {
	if f.Name != strings.ToUpper(f.Name) {
		panic("udf: function name not upper case: " + f.Name)
	}
	if _, dup := funcIndex[f.Name]; dup {
		panic("udf: duplicate function " + f.Name)
	}
	sig, err := parseSignature(f.Signature)
	if err != nil {
		panic("udf: " + f.Name + ": " + err.Error())
	}
	if sig.name != f.Name {
		panic("udf: signature name mismatch for " + f.Name)
	}
	f.minArgs, f.maxArgs = sig.min, sig.max
	if f.Check == nil {
		f.Check = sig.check
	}
	if f.Nulls == NullIfAnyNull {
		inner := f.Eval
		f.Eval = func(args []Value) (Value, error) {
			for i := range args {
				if args[i].K == TypeNull {
					return Null, nil
				}
			}
			return inner(args)
		}
	}
	funcIndex[f.Name] = f
	for _, a := range f.Aliases {
		if _, dup := funcIndex[a]; dup {
			panic("udf: duplicate function alias " + a)
		}
		funcIndex[a] = f
	}
	funcSorted = append(funcSorted, f)
}

// Lookup returns the built-in scalar function of that name, ignoring case.
func Lookup(name string) (*Func, bool) {
	f, ok := funcIndex[strings.ToUpper(name)]
	return f, ok
}

// Funcs returns every built-in scalar function sorted by name. The slice is
// shared: do not modify it.
func Funcs() []*Func { return funcSorted }

// Arity returns the minimum and maximum number of arguments; max is -1 for a
// variadic function.
func (f *Func) Arity() (min, max int) { return f.minArgs, f.maxArgs }

// signature is a parsed Signature string.
//
// Parameter types are the column types plus: numeric (bigint or double;
// a "numeric" result is double if any numeric argument is double, else
// bigint), any, and T (every T argument must unify to one type, which a T
// result takes). "x T..." is variadic; "[, y T]" is optional.
type signature struct {
	name     string
	params   []sigParam
	ret      string
	min, max int
	variadic bool
}

type sigParam struct {
	name, typ string
}

func parseSignature(s string) (*signature, error) {
	open := strings.IndexByte(s, '(')
	cls := strings.LastIndexByte(s, ')')
	if open < 0 || cls < open {
		return nil, fmt.Errorf("bad signature %q", s)
	}
	sig := &signature{name: s[:open], ret: strings.TrimSpace(s[cls+1:]), min: -1}
	body := strings.ReplaceAll(s[open+1:cls], "[,", ",[")
	optional := false
	for _, part := range strings.Split(body, ",") {
		part = strings.TrimSpace(part)
		if strings.HasPrefix(part, "[") {
			optional = true
			part = strings.TrimSpace(strings.TrimLeft(part, "["))
		}
		part = strings.TrimSpace(strings.TrimRight(part, "]"))
		if part == "" {
			continue
		}
		if optional && sig.min < 0 {
			sig.min = len(sig.params)
		}
		f := strings.Fields(part)
		if len(f) != 2 {
			return nil, fmt.Errorf("bad parameter %q in %q", part, s)
		}
		p := sigParam{name: f[0], typ: f[1]}
		if strings.HasSuffix(p.typ, "...") {
			p.typ = strings.TrimSuffix(p.typ, "...")
			sig.variadic = true
		}
		sig.params = append(sig.params, p)
	}
	if sig.min < 0 {
		sig.min = len(sig.params)
	}
	sig.max = len(sig.params)
	if sig.variadic {
		sig.max = -1
	}
	return sig, nil
}

func (sig *signature) check(args []Type) (Type, error) {
	if len(args) < sig.min || (sig.max >= 0 && len(args) > sig.max) {
		want := fmt.Sprintf("%d", sig.min)
		switch {
		case sig.max < 0:
			want = fmt.Sprintf("at least %d", sig.min)
		case sig.max != sig.min:
			want = fmt.Sprintf("%d to %d", sig.min, sig.max)
		}
		return TypeNull, fmt.Errorf("%w: %s takes %s argument(s), got %d", ErrArgs, sig.name, want, len(args))
	}
	var tvars []Type
	numeric := TypeNull
	for i, a := range args {
		p := sig.params[min(i, len(sig.params)-1)]
		switch p.typ {
		case "any":
		case "T":
			tvars = append(tvars, a)
		case "numeric":
			if a == TypeNull || a == TypeAny {
				continue
			}
			if !a.Numeric() {
				return TypeNull, argTypeErr(sig.name, i, p, a)
			}
			if a == TypeDouble || numeric == TypeNull {
				numeric = a
			}
		default:
			want, ok := ParseType(p.typ)
			if !ok {
				panic("udf: bad type " + p.typ + " in " + sig.name)
			}
			if !Assignable(a, want) {
				return TypeNull, argTypeErr(sig.name, i, p, a)
			}
		}
	}
	switch sig.ret {
	case "numeric":
		if numeric == TypeNull {
			return TypeDouble, nil
		}
		return numeric, nil
	case "T":
		t, err := Unify(tvars...)
		if err != nil {
			return TypeNull, fmt.Errorf("%w: %s: %v", ErrArgs, sig.name, err)
		}
		return t, nil
	case "any":
		return TypeAny, nil
	}
	t, ok := ParseType(sig.ret)
	if !ok {
		panic("udf: bad result type " + sig.ret + " in " + sig.name)
	}
	return t, nil
}

func argTypeErr(fn string, i int, p sigParam, got Type) error {
	return fmt.Errorf("%w: %s argument %d (%s) must be %s, got %s", ErrArgs, fn, i+1, p.name, p.typ, got)
}

// Assignable reports whether a value of type from may be passed where type to
// is expected: same type, NULL or unknown (TypeAny) anywhere, anything to
// TypeAny, and bigint to double.
func Assignable(from, to Type) bool {
	return from == to || from == TypeNull || from == TypeAny || to == TypeAny ||
		(to == TypeDouble && from == TypeBigint)
}

// Unify returns the common type of ts: NULL and TypeAny are ignored, bigint
// and double unify to double; other mixes are an error. Unify of nothing (or
// only NULLs) is TypeNull.
func Unify(ts ...Type) (Type, error) {
	out := TypeNull
	for _, t := range ts {
		switch {
		case t == TypeNull || t == TypeAny || t == out:
		case out == TypeNull:
			out = t
		case out.Numeric() && t.Numeric():
			out = TypeDouble
		default:
			return TypeNull, fmt.Errorf("mismatched types %s and %s", out, t)
		}
	}
	return out, nil
}
