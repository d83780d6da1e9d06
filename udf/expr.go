package udf

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"
)

// Limits of user expressions (DESIGN §9). Hitting one is a compile error
// (length, nodes) or a runtime error of class expr (memory) that names it.
const (
	// MaxExprLen is the longest expression text, in bytes.
	MaxExprLen = 16 << 10
	// MaxExprNodes is the largest expression, in syntax-tree nodes
	// (expr.MaxNodes).
	MaxExprNodes = 2000
	// MemoryBudget is the expr-lang VM's memory budget per evaluation, in
	// its units (roughly one per array element, string or map entry made).
	MemoryBudget = 100_000
)

// disabledBuiltins are expr-lang builtins a job may not call: the clock
// (replays must be deterministic), time-zone loading (reads files), and
// repeat and reduce, which can build values exponentially larger than the
// VM's memory budget counts (it counts elements, not bytes).
var disabledBuiltins = []string{"now", "date", "duration", "timezone", "repeat", "reduce"}

// sandboxCheck rejects syntax the sandbox does not allow: let (with
// repeated doubling it builds huge strings the memory budget cannot see)
// and ranges a..b (collections out of nothing; use the row's vectors).
func sandboxCheck(name, src string, root ast.Node) []CompileError {
	var errs []CompileError
	ast.Find(root, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.VariableDeclaratorNode:
			errs = append(errs, posError(name, src, n.Location().From, "let is not allowed in flowrun expressions; declare a helper function in functions: instead"))
		case *ast.BuiltinNode:
			if n.Name == "reduce" || n.Name == "repeat" {
				errs = append(errs, posError(name, src, n.Location().From, n.Name+" is not allowed in flowrun expressions"))
			}
		case *ast.BinaryNode:
			if n.Operator == ".." {
				errs = append(errs, posError(name, src, n.Location().From, "ranges (a..b) are not allowed in flowrun expressions"))
			}
		}
		return false
	})
	return errs
}

// Param is one declared parameter of a user function. Type is TypeAny when
// the job file gives only the name: CompileUserFuncs infers it.
type Param struct {
	Name string
	Type Type
}

// UserFunc is one entry of a job's `functions:` list. Returns is TypeAny
// (or the zero TypeNull) to infer the result type from Expr.
type UserFunc struct {
	Name    string
	Params  []Param
	Returns Type
	Expr    string
}

// CompileError is a problem in one expression. Offset (bytes, 0-based),
// Line and Column (1-based, columns in runes) are positions within the
// expression text, for the spec layer to map into the job file. Func is
// the user function's name, empty for a predicate.
type CompileError struct {
	Func                 string
	Offset, Line, Column int
	Msg                  string
}

// Error formats the error as "func: line:col: msg".
func (e CompileError) Error() string {
	pre := ""
	if e.Func != "" {
		pre = "function " + e.Func + ": "
	}
	return fmt.Sprintf("%s%d:%d: %s", pre, e.Line, e.Column, e.Msg)
}

// Env holds the compiled user functions of one job. It is immutable and
// safe for concurrent use.
type Env struct {
	funcs map[string]*Compiled // by lower-case name
	list  []*Compiled          // declaration order
}

// Lookup returns the user function of that name, ignoring case. A nil Env
// has no functions.
func (e *Env) Lookup(name string) (*Compiled, bool) {
	if e == nil {
		return nil, false
	}
	c, ok := e.funcs[strings.ToLower(name)]
	return c, ok
}

// Funcs returns the user functions in declaration order.
func (e *Env) Funcs() []*Compiled {
	if e == nil {
		return nil
	}
	return e.list
}

// Compiled is one compiled user function. Params holds the declared or
// inferred types; Returns the declared or inferred result type.
type Compiled struct {
	Name    string
	Params  []Param
	Returns Type
	Expr    string
	prog    *program
}

// Check type-checks a call like Func.Check: the number of arguments must
// match and each must be assignable to its parameter.
func (c *Compiled) Check(args []Type) (Type, error) {
	if len(args) != len(c.Params) {
		return TypeNull, fmt.Errorf("%w: %s takes %d argument(s), got %d", ErrArgs, c.Name, len(c.Params), len(args))
	}
	for i, a := range args {
		if !Assignable(a, c.Params[i].Type) {
			return TypeNull, fmt.Errorf("%w: %s argument %d (%s) must be %s, got %s", ErrArgs, c.Name, i+1, c.Params[i].Name, c.Params[i].Type, a)
		}
	}
	return c.Returns, nil
}

// Call evaluates the function on args (one per parameter; bigint where
// double is declared is accepted). A runtime failure wraps ErrExpr. Call
// is safe for concurrent use and does not retain args.
func (c *Compiled) Call(args []Value) (Value, error) {
	if len(args) != len(c.Params) {
		return Null, fmt.Errorf("%w: %s: want %d arguments, got %d", ErrExpr, c.Name, len(c.Params), len(args))
	}
	return c.prog.run(args)
}

// Column is one column of the row a predicate sees.
type Column struct {
	Name string
	Type Type
}

// Program is a compiled row predicate (a sink's `where:`, a clean stage's
// `filter`). It is immutable and safe for concurrent use.
type Program struct {
	Src  string
	prog *program
}

// Eval evaluates the predicate on row, laid out as the cols given to
// CompilePredicate. The result is a bool Value; an unknown (NULL) result is
// false, as in SQL WHERE. A runtime failure wraps ErrExpr.
func (p *Program) Eval(row Row) (Value, error) {
	if len(row) < len(p.prog.names) {
		return Null, fmt.Errorf("%w: predicate: row has %d columns, compiled for %d", ErrExpr, len(row), len(p.prog.names))
	}
	if p.prog.pred != nil && !p.prog.stack {
		b, null, err := p.prog.pred(row, nil)
		if err != nil {
			return Null, err
		}
		return Bool(b && !null), nil
	}
	v, err := p.prog.run(row)
	if err != nil {
		return Null, err
	}
	return Bool(v.AsBool()), nil
}

// program is one compiled expression: the typed closure tree when the
// expression stays within the typed subset (see doc.go), else expr-lang's
// VM program.
type program struct {
	name  string
	ret   Type
	fast  evalFn
	pred  boolFn // fast's bool shortcut, when it has one
	stack bool   // fast needs a scratch stack (it calls functions)
	names []string
	vmp   *vm.Program
	vms   sync.Pool
}

var stackPool = sync.Pool{New: func() any { return &stack{vals: make([]Value, 0, 16)} }}

func (p *program) run(row Row) (Value, error) {
	if p.fast != nil {
		if !p.stack {
			return p.fast(row, nil)
		}
		st := stackPool.Get().(*stack)
		v, err := p.fast(row, st)
		st.vals = st.vals[:0] // stale Values above len are overwritten by the next use
		stackPool.Put(st)
		return v, err
	}
	return p.runVM(row)
}

func (p *program) runVM(row Row) (Value, error) {
	env := make(map[string]any, len(p.names))
	for i, n := range p.names {
		if i < len(row) {
			env[n] = ToGo(row[i])
		}
	}
	m, _ := p.vms.Get().(*vm.VM)
	if m == nil {
		m = &vm.VM{}
	}
	m.MemoryBudget = MemoryBudget
	out, err := m.Run(p.vmp, env)
	p.vms.Put(m)
	if err != nil {
		return Null, fmt.Errorf("%w: %s: %v", ErrExpr, p.name, firstLine(err))
	}
	v, err := FromGo(out, p.ret)
	if err != nil {
		return Null, fmt.Errorf("%s: %w", p.name, err)
	}
	return v, nil
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// CompileUserFuncs compiles a job's user functions, in declaration order.
// A function may call built-ins and the user functions declared above it
// (so there is no recursion). It returns every problem found; the Env is
// nil when there is any.
func CompileUserFuncs(fns []UserFunc) (*Env, []CompileError) {
	env := &Env{funcs: map[string]*Compiled{}}
	var errs []CompileError
	for _, uf := range fns {
		c, es := compileUserFunc(uf, env)
		errs = append(errs, es...)
		if c != nil {
			env.funcs[strings.ToLower(c.Name)] = c
			env.list = append(env.list, c)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return env, nil
}

func compileUserFunc(uf UserFunc, env *Env) (*Compiled, []CompileError) {
	errAt := func(msg string, args ...any) []CompileError {
		return []CompileError{{Func: uf.Name, Line: 1, Column: 1, Msg: fmt.Sprintf(msg, args...)}}
	}
	switch {
	case !validIdent(uf.Name):
		return nil, errAt("invalid function name %q: use letters, digits and _", uf.Name)
	case env.funcs[strings.ToLower(uf.Name)] != nil:
		return nil, errAt("function %q is declared twice", uf.Name)
	}
	if _, ok := Lookup(uf.Name); ok {
		return nil, errAt("function %q shadows the built-in function %s; choose another name", uf.Name, strings.ToUpper(uf.Name))
	}
	if _, ok := LookupAggregate(uf.Name); ok {
		return nil, errAt("function %q shadows the aggregate function %s; choose another name", uf.Name, strings.ToUpper(uf.Name))
	}
	if _, ok := builtin.Index[uf.Name]; ok || exprKeywords[uf.Name] {
		return nil, errAt("function %q shadows an expr-lang builtin or keyword; choose another name", uf.Name)
	}
	seen := map[string]bool{}
	for _, p := range uf.Params {
		if !validIdent(p.Name) {
			return nil, errAt("invalid parameter name %q", p.Name)
		}
		if exprKeywords[p.Name] {
			return nil, errAt("parameter name %q is an expr-lang keyword; choose another name", p.Name)
		}
		if seen[p.Name] {
			return nil, errAt("parameter %q is declared twice", p.Name)
		}
		seen[p.Name] = true
	}
	params := append([]Param(nil), uf.Params...)
	prog, errs := compileExpr(uf.Name, uf.Expr, params, env, uf.Returns, true)
	if len(errs) > 0 {
		return nil, errs
	}
	return &Compiled{Name: uf.Name, Params: params, Returns: prog.ret, Expr: uf.Expr, prog: prog}, nil
}

// CompilePredicate compiles a boolean expr-lang expression over a row whose
// columns are cols (referred to by name); env's user functions and the
// built-ins are callable. env may be nil. A column of TypeAny (its type is
// not known yet) is not inferred: the expression is then checked loosely
// and runs on expr-lang's VM.
func CompilePredicate(src string, cols []Column, env *Env) (*Program, []CompileError) {
	params := make([]Param, len(cols))
	for i, c := range cols {
		params[i] = Param(c)
	}
	prog, errs := compileExpr("", src, params, env, TypeBool, false)
	if len(errs) > 0 {
		return nil, errs
	}
	return &Program{Src: src, prog: prog}, nil
}

// exprKeywords cannot name a function or parameter.
var exprKeywords = map[string]bool{
	"in": true, "not": true, "and": true, "or": true, "matches": true, "contains": true, "startsWith": true,
	"endsWith": true, "nil": true, "true": true, "false": true, "let": true, "if": true, "else": true,
}

func validIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// compileExpr compiles src over the variables params and returns the
// program. With infer, it infers the TypeAny entries of params, in place.
// want is the declared result type (TypeAny: infer).
func compileExpr(name, src string, params []Param, env *Env, want Type, infer bool) (*program, []CompileError) {
	errAt := func(pos int, msg string, args ...any) []CompileError {
		return []CompileError{posError(name, src, pos, fmt.Sprintf(msg, args...))}
	}
	if want == TypeNull {
		want = TypeAny // the zero UserFunc.Returns: infer
	}
	if len(src) > MaxExprLen {
		return nil, errAt(0, "expression is %d bytes, more than the limit of %d (udf.MaxExprLen)", len(src), MaxExprLen)
	}
	if strings.TrimSpace(src) == "" {
		return nil, errAt(0, "empty expression")
	}
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, []CompileError{fileError(name, src, err)}
	}
	if n := countNodes(tree.Node); n > MaxExprNodes {
		return nil, errAt(0, "expression has %d nodes, more than the limit of %d (udf.MaxExprNodes)", n, MaxExprNodes)
	}
	if errs := sandboxCheck(name, src, tree.Node); len(errs) > 0 {
		return nil, errs
	}
	if infer {
		if errs := inferParams(name, src, tree.Node, params, env); len(errs) > 0 {
			return nil, errs
		}
	}
	// expr-lang's own checker first: it knows the whole language.
	envMap := make(types.Map, len(params))
	names := make([]string, len(params))
	for i, p := range params {
		envMap[p.Name] = exprType(p.Type)
		names[i] = p.Name
	}
	vmp, err := expr.Compile(src, exprOptions(envMap, env)...)
	if err != nil {
		e := fileError(name, src, err)
		if unknown, ok := strings.CutPrefix(e.Msg, "unknown name "); ok {
			cands := names
			if rest := strings.TrimSpace(src[min(len(src), e.Offset+len(unknown)):]); strings.HasPrefix(rest, "(") {
				cands = append(append([]string(nil), names...), callableNames(env)...)
			}
			if s := suggest(unknown, cands); s != "" {
				e.Msg += "; did you mean " + s + "?"
			}
		}
		return nil, []CompileError{e}
	}
	p := &program{name: name, names: names, vmp: vmp}
	if name == "" {
		p.name = "predicate"
	}
	c := &fastCompiler{name: name, src: src, params: params, env: env}
	n, ferr := c.compile(tree.Node)
	var ce *CompileError
	switch {
	case ferr == nil:
		p.fast, p.pred, p.stack, p.ret = n.fn, n.bl, c.calls, n.t
	case errors.As(ferr, &ce):
		return nil, []CompileError{*ce}
	default: // outside the typed subset: run on the VM
		p.ret = typeOfGo(vmp.Node().Type())
	}
	if want != TypeAny {
		if p.ret != TypeAny && p.ret != TypeNull && !Assignable(p.ret, want) {
			return nil, errAt(0, "expression is %s, want %s", p.ret, want)
		}
		if p.fast != nil && p.ret != want && p.ret != TypeNull {
			inner := p.fast
			p.fast = func(r Row, st *stack) (Value, error) {
				v, err := inner(r, st)
				if err != nil {
					return v, err
				}
				return Coerce(v, want)
			}
		}
		p.ret = want
	} else if p.ret == TypeAny || p.ret == TypeNull {
		return nil, errAt(0, "cannot infer the result type; declare it with returns: <type>")
	}
	return p, nil
}

// exprOptions is the sandbox: declared variables only, no clock, the
// flowrun built-ins and user functions in place of expr-lang's.
func exprOptions(envMap types.Map, env *Env) []expr.Option {
	opts := []expr.Option{expr.Env(envMap), expr.MaxNodes(MaxExprNodes)}
	for _, b := range disabledBuiltins {
		opts = append(opts, expr.DisableBuiltin(b))
	}
	for _, f := range funcSorted {
		call := goCaller(f.Name, f.Eval)
		opts = append(opts, expr.Function(strings.ToLower(f.Name), call), expr.Function(f.Name, call))
	}
	for _, c := range env.Funcs() {
		opts = append(opts, expr.Function(c.Name, goCaller(c.Name, c.Call)))
	}
	return opts
}

// goCaller adapts a Value function to expr-lang's VM.
func goCaller(name string, f func([]Value) (Value, error)) func(...any) (any, error) {
	return func(params ...any) (any, error) {
		args := make([]Value, len(params))
		for i, x := range params {
			v, err := FromGo(x, TypeAny)
			if err != nil {
				return nil, err
			}
			args[i] = v
		}
		v, err := f(args)
		if err != nil {
			return nil, err
		}
		return ToGo(v), nil
	}
}

// posError builds a CompileError at rune index pos of src.
func posError(name, src string, pos int, msg string) CompileError {
	e := CompileError{Func: name, Line: 1, Column: 1, Msg: msg}
	runes := 0
	for i, r := range src {
		if runes == pos {
			e.Offset = i
			return e
		}
		if r == '\n' {
			e.Line++
			e.Column = 1
		} else {
			e.Column++
		}
		runes++
	}
	e.Offset = len(src)
	return e
}

// fileError converts an expr-lang error to a CompileError.
func fileError(name, src string, err error) CompileError {
	var fe *file.Error
	if errors.As(err, &fe) {
		pos := fe.From
		if n := utf8.RuneCountInString(src); pos > n {
			pos = n
		}
		return posError(name, src, pos, fe.Message)
	}
	return posError(name, src, 0, firstLine(err))
}

// callableNames lists the function names an expression may call.
func callableNames(env *Env) []string {
	var out []string
	for _, f := range funcSorted {
		out = append(out, strings.ToLower(f.Name))
	}
	for _, c := range env.Funcs() {
		out = append(out, c.Name)
	}
	return out
}

// suggest returns the candidate closest to name by edit distance, if close
// enough to be a likely typo.
func suggest(name string, cands []string) string {
	best, bestD := "", max(2, len(name)/3)+1
	for _, c := range cands {
		if d := editDistance(strings.ToLower(name), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b (bytes).
func editDistance(a, b string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
