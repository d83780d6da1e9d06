package udf

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// evalSQL evaluates the small SQL subset of documented examples: literals
// (numbers, 'strings', NULL, TRUE, FALSE, TIMESTAMP '...') and calls of
// built-ins. It type-checks every call with Func.Check first.
func evalSQL(src string) (Value, Type, error) {
	p := &exParser{s: src}
	v, t, err := p.expr()
	if err != nil {
		return Null, TypeNull, err
	}
	p.ws()
	if p.i != len(p.s) {
		return Null, TypeNull, fmt.Errorf("trailing text at %d: %q", p.i, p.s[p.i:])
	}
	return v, t, nil
}

type exParser struct {
	s string
	i int
}

func (p *exParser) ws() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *exParser) str() (string, error) {
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		if c == '\'' {
			if p.i < len(p.s) && p.s[p.i] == '\'' {
				b.WriteByte('\'')
				p.i++
				continue
			}
			return b.String(), nil
		}
		b.WriteByte(c)
	}
	return "", fmt.Errorf("unterminated string")
}

func (p *exParser) expr() (Value, Type, error) {
	p.ws()
	if p.i >= len(p.s) {
		return Null, TypeNull, fmt.Errorf("unexpected end")
	}
	c := p.s[p.i]
	switch {
	case c == '\'':
		s, err := p.str()
		return Str(s), TypeString, err
	case c == '-' || c >= '0' && c <= '9':
		j := p.i + 1
		for j < len(p.s) && (p.s[j] >= '0' && p.s[j] <= '9' || p.s[j] == '.' || p.s[j] == 'e') {
			j++
		}
		lit := p.s[p.i:j]
		p.i = j
		if strings.ContainsAny(lit, ".e") {
			f, err := strconv.ParseFloat(lit, 64)
			return Float(f), TypeDouble, err
		}
		n, err := strconv.ParseInt(lit, 10, 64)
		return Int(n), TypeBigint, err
	}
	j := p.i
	for j < len(p.s) && (p.s[j] == '_' || p.s[j] >= 'A' && p.s[j] <= 'Z' || p.s[j] >= 'a' && p.s[j] <= 'z' || p.s[j] >= '0' && p.s[j] <= '9') {
		j++
	}
	name := p.s[p.i:j]
	p.i = j
	switch strings.ToUpper(name) {
	case "NULL":
		return Null, TypeNull, nil
	case "TRUE":
		return Bool(true), TypeBool, nil
	case "FALSE":
		return Bool(false), TypeBool, nil
	case "TIMESTAMP":
		p.ws()
		s, err := p.str()
		if err != nil {
			return Null, TypeNull, err
		}
		t, err := time.Parse("2006-01-02 15:04:05", s)
		return Time(t.UnixMilli()), TypeTimestamp, err
	}
	f, ok := Lookup(name)
	if !ok {
		return Null, TypeNull, fmt.Errorf("unknown function %q", name)
	}
	p.ws()
	if p.i >= len(p.s) || p.s[p.i] != '(' {
		return Null, TypeNull, fmt.Errorf("want ( after %s", name)
	}
	p.i++
	var args []Value
	var types []Type
	for {
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ')' {
			p.i++
			break
		}
		v, t, err := p.expr()
		if err != nil {
			return Null, TypeNull, err
		}
		args, types = append(args, v), append(types, t)
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
		}
	}
	rt, err := f.Check(types)
	if err != nil {
		return Null, TypeNull, err
	}
	v, err := f.Eval(args)
	if err != nil {
		return Null, TypeNull, err
	}
	if v.K != TypeNull && rt != TypeAny && v.K != rt {
		return Null, TypeNull, fmt.Errorf("%s returned %s, Check said %s", f.Name, v.K, rt)
	}
	return v, rt, nil
}

// TestExamples runs every documented example of every built-in.
func TestExamples(t *testing.T) {
	for _, f := range Funcs() {
		if len(f.Examples) == 0 {
			t.Errorf("%s has no examples", f.Name)
		}
		if f.Doc == "" || f.Category == "" {
			t.Errorf("%s lacks Doc or Category", f.Name)
		}
		for _, ex := range f.Examples {
			t.Run(ex.Call, func(t *testing.T) {
				v, _, err := evalSQL(ex.Call)
				if want, ok := strings.CutPrefix(ex.Want, "error: "); ok {
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Fatalf("%s = %v, %v; want error containing %q", ex.Call, v, err, want)
					}
					return
				}
				if err != nil {
					t.Fatalf("%s: %v", ex.Call, err)
				}
				if got := v.String(); got != ex.Want {
					t.Fatalf("%s = %s; want %s", ex.Call, got, ex.Want)
				}
			})
		}
	}
}

// sqlToExpr rewrites a documented SQL example into expr-lang syntax (NULL,
// TRUE, FALSE outside quotes); ok is false for examples expr-lang cannot
// spell (TIMESTAMP literals).
func sqlToExpr(call string) (string, bool) {
	if strings.Contains(call, "TIMESTAMP '") {
		return "", false
	}
	var b strings.Builder
	inStr := false
	for i := 0; i < len(call); i++ {
		c := call[i]
		if c == '\'' {
			inStr = !inStr
		}
		if !inStr && (i == 0 || !isIdentByte(call[i-1])) {
			matched := false
			for sql, ex := range map[string]string{"NULL": "nil", "TRUE": "true", "FALSE": "false"} {
				if strings.HasPrefix(call[i:], sql) && (i+len(sql) == len(call) || !isIdentByte(call[i+len(sql)])) {
					b.WriteString(ex)
					i += len(sql) - 1
					matched = true
					break
				}
			}
			if matched {
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String(), true
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// TestExamplesInExpressions calls every built-in example again from a user
// function: built-ins must give the same results from SQL and from expr.
func TestExamplesInExpressions(t *testing.T) {
	for _, f := range Funcs() {
		for _, ex := range f.Examples {
			src, ok := sqlToExpr(ex.Call)
			if !ok || strings.Contains(src, "-9223372036854775808") { // not an expr-lang integer literal
				continue
			}
			t.Run(ex.Call, func(t *testing.T) {
				env, errs := CompileUserFuncs([]UserFunc{{Name: "f", Expr: src, Returns: TypeAny}})
				if errs != nil {
					if strings.HasPrefix(ex.Want, "error: ") || (ex.Want == "NULL" && strings.Contains(errs[0].Msg, "cannot infer the result type")) {
						return // caught at compile time; an always-NULL function has no type
					}
					t.Fatalf("%s: %v", src, errs)
				}
				fn, _ := env.Lookup("f")
				v, err := fn.Call(nil)
				if want, ok := strings.CutPrefix(ex.Want, "error: "); ok {
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Fatalf("%s = %v, %v; want error containing %q", src, v, err, want)
					}
					return
				}
				if err != nil || v.String() != ex.Want {
					t.Fatalf("%s = %v, %v; want %s", src, v, err, ex.Want)
				}
			})
		}
	}
}
