package udf

import (
	"errors"
	"testing"
)

func TestUserFuncDeclared(t *testing.T) {
	env, errs := CompileUserFuncs([]UserFunc{{
		Name:   "risk_bucket",
		Params: []Param{{Name: "amount", Type: TypeDouble}},
		Expr:   `amount > 1000 ? "high" : (amount > 100 ? "mid" : "low")`,
	}})
	if errs != nil {
		t.Fatal(errs)
	}
	f, ok := env.Lookup("RISK_BUCKET")
	if !ok {
		t.Fatal("not found")
	}
	for _, c := range []struct {
		in   Value
		want string
	}{{Float(2000), `"high"`}, {Float(250), `"mid"`}, {Int(5), `"low"`}} {
		v, err := f.Call([]Value{c.in})
		if err != nil || v.String() != c.want {
			t.Errorf("risk_bucket(%v) = %v, %v; want %s", c.in, v, err, c.want)
		}
	}
}

func TestPredicateRuntimeError(t *testing.T) {
	p, errs := CompilePredicate(`x > 1`, []Column{{"x", TypeDouble}}, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	v, err := p.Eval(Row{Float(2)})
	if err != nil || !v.AsBool() {
		t.Fatalf("got %v %v", v, err)
	}
	_ = errors.Is
}
