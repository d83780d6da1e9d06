package udf

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr/ast"
)

// inferParams gives each parameter declared by name only (TypeAny) the type
// its uses imply:
//
//   - arithmetic, unary minus, comparison or ?? with a number: double
//   - string operators (contains, startsWith, endsWith, matches), + or
//     comparison with a string: string
//   - and/or/not, a ?: condition, comparison with true/false: bool
//   - indexing v[i]: vector
//   - an argument of a built-in or user function that accepts only one
//     type there (bigint and double together count as double): that type
//
// It fails, asking for a declaration, when uses disagree or there are none.
func inferParams(name, src string, root ast.Node, params []Param, env *Env) []CompileError {
	untyped := map[string]int{}
	for i, p := range params {
		if p.Type == TypeAny {
			untyped[p.Name] = i
		}
	}
	if len(untyped) == 0 {
		return nil
	}
	typed := map[string]Type{}
	for _, p := range params {
		if p.Type != TypeAny {
			typed[p.Name] = p.Type
		}
	}
	got := map[string]Type{}
	conflict := map[string]string{}
	first := map[string]ast.Node{}
	ident := func(n ast.Node) string {
		if id, ok := n.(*ast.IdentifierNode); ok {
			if _, ok := untyped[id.Value]; ok {
				return id.Value
			}
		}
		return ""
	}
	note := func(n ast.Node, t Type) {
		id := ident(n)
		if id == "" || t == TypeNull || t == TypeAny {
			return
		}
		prev, ok := got[id]
		switch {
		case !ok || prev == t:
			got[id] = t
		case prev.Numeric() && t.Numeric():
			got[id] = TypeDouble
		default:
			conflict[id] = fmt.Sprintf("as %s and as %s", prev, t)
		}
	}
	static := func(n ast.Node) Type {
		switch n := n.(type) {
		case *ast.IntegerNode, *ast.FloatNode:
			return TypeDouble
		case *ast.StringNode:
			return TypeString
		case *ast.BoolNode:
			return TypeBool
		case *ast.IdentifierNode:
			if t, ok := typed[n.Value]; ok {
				if t == TypeBigint {
					return TypeDouble
				}
				return t
			}
			return got[n.Value]
		case *ast.UnaryNode:
			if n.Operator == "-" || n.Operator == "+" {
				return TypeDouble
			}
		}
		return TypeNull
	}
	both := func(n *ast.BinaryNode) {
		note(n.Left, static(n.Right))
		note(n.Right, static(n.Left))
	}
	var call func(name string, args []ast.Node)
	visit := func(n ast.Node) {
		switch n := n.(type) {
		case *ast.IdentifierNode:
			if _, ok := untyped[n.Value]; ok && first[n.Value] == nil {
				first[n.Value] = n
			}
		case *ast.BinaryNode:
			switch n.Operator {
			case "-", "*", "/", "%", "**", "^":
				note(n.Left, TypeDouble)
				note(n.Right, TypeDouble)
			case "+", "==", "!=", "<", ">", "<=", ">=", "??":
				both(n)
			case "and", "or", "&&", "||":
				note(n.Left, TypeBool)
				note(n.Right, TypeBool)
			case "contains", "startsWith", "endsWith", "matches", "not matches":
				note(n.Left, TypeString)
				note(n.Right, TypeString)
			case "in", "not in":
				if arr, ok := n.Right.(*ast.ArrayNode); ok && len(arr.Nodes) > 0 {
					note(n.Left, static(arr.Nodes[0]))
				}
			}
		case *ast.UnaryNode:
			switch n.Operator {
			case "-", "+":
				note(n.Node, TypeDouble)
			case "!", "not":
				note(n.Node, TypeBool)
			}
		case *ast.ConditionalNode:
			note(n.Cond, TypeBool)
		case *ast.MemberNode:
			note(n.Node, TypeVector)
		case *ast.CallNode:
			if id, ok := n.Callee.(*ast.IdentifierNode); ok {
				call(id.Value, n.Arguments)
			}
		case *ast.BuiltinNode:
			call(n.Name, n.Arguments)
		}
	}
	call = func(name string, args []ast.Node) {
		if _, ok := casts[name]; ok {
			return // int(x), float(x), string(x) accept several types
		}
		user, f := resolveCall(name, env)
		for i, a := range args {
			if ident(a) == "" {
				continue
			}
			if user != nil {
				if i < len(user.Params) {
					note(a, user.Params[i].Type)
				}
				continue
			}
			if f != nil {
				note(a, onlyType(f, len(args), i))
			}
		}
	}
	for pass := 0; pass < 2; pass++ {
		ast.Find(root, func(n ast.Node) bool { visit(n); return false })
	}
	var errs []CompileError
	for _, p := range params {
		i, ok := untyped[p.Name]
		if !ok {
			continue
		}
		pos := 0
		if n := first[p.Name]; n != nil {
			pos = n.Location().From
		}
		decl := fmt.Sprintf("declare it: params: [{name: %s, type: double}] (types: %s)", p.Name, strings.Join(ColumnTypeNames, ", "))
		switch {
		case conflict[p.Name] != "":
			errs = append(errs, posError(name, src, pos, fmt.Sprintf("parameter %s is used %s; %s", p.Name, conflict[p.Name], decl)))
		case got[p.Name] == TypeNull:
			if first[p.Name] == nil {
				errs = append(errs, posError(name, src, 0, fmt.Sprintf("parameter %s is not used, so its type cannot be inferred; %s", p.Name, decl)))
			} else {
				errs = append(errs, posError(name, src, pos, fmt.Sprintf("cannot infer the type of parameter %s from its uses; %s", p.Name, decl)))
			}
		default:
			params[i].Type = got[p.Name]
		}
	}
	return errs
}

// onlyType returns the single type f accepts for argument i of an n-argument
// call (double when it accepts bigint and double), or TypeNull.
func onlyType(f *Func, n, i int) Type {
	var ok []Type
	args := make([]Type, n)
	for _, cand := range []Type{TypeBigint, TypeDouble, TypeString, TypeBool, TypeTimestamp, TypeVector} {
		for j := range args {
			args[j] = TypeAny
		}
		args[i] = cand
		if _, err := f.Check(args); err == nil {
			ok = append(ok, cand)
		}
	}
	switch {
	case len(ok) == 1:
		return ok[0]
	case len(ok) == 2 && ok[0] == TypeBigint && ok[1] == TypeDouble:
		return TypeDouble
	}
	return TypeNull
}
