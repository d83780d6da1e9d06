package udf

import (
	"errors"

	"github.com/expr-lang/expr/ast"
)

// evalFn evaluates a compiled expression over row (a user function's
// arguments or a predicate's columns). st is scratch space for call
// arguments; nil when the expression calls no function.
type evalFn func(row Row, st *stack) (Value, error)

type stack struct{ vals []Value }

type cnode struct {
	t  Type
	fn evalFn
}

// errUnsupported means the expression uses expr-lang outside the typed
// subset; it then runs on expr-lang's VM.
var errUnsupported = errors.New("outside the typed subset")

type fastCompiler struct {
	name   string
	src    string
	params []Param
	env    *Env
	calls  bool
}

func (c *fastCompiler) compile(n ast.Node) (cnode, error) {
	return cnode{}, errUnsupported
}

func countNodes(n ast.Node) int {
	cnt := 0
	ast.Find(n, func(ast.Node) bool { cnt++; return false })
	return cnt
}

func inferParams(name, src string, root ast.Node, params []Param, env *Env) []CompileError {
	var errs []CompileError
	for _, p := range params {
		if p.Type == TypeAny {
			errs = append(errs, posError(name, src, 0, "cannot infer the type of parameter "+p.Name+"; declare it: params: [{name: "+p.Name+", type: double}]"))
		}
	}
	return errs
}
