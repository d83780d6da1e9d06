package udf_test

import (
	"fmt"

	"github.com/flowrun/flowrun/udf"
)

func ExampleLookup() {
	f, _ := udf.Lookup("substring")
	t, err := f.Check([]udf.Type{udf.TypeString, udf.TypeBigint, udf.TypeBigint})
	fmt.Println(t, err)
	v, err := f.Eval([]udf.Value{udf.Str("flowrun"), udf.Int(1), udf.Int(4)})
	fmt.Println(v, err)
	v, _ = f.Eval([]udf.Value{udf.Null, udf.Int(1), udf.Int(4)})
	fmt.Println(v)
	// Output:
	// string <nil>
	// "flow" <nil>
	// NULL
}

func ExampleLookupAggregate() {
	a, _ := udf.LookupAggregate("avg")
	s := a.New(nil)
	s.Add(udf.Int(2), 1000)
	s.Add(udf.Null, 2000)
	s.Add(udf.Int(4), 3000)
	b, _ := s.MarshalBinary() // into a checkpoint
	restored := a.New(nil)
	_ = restored.UnmarshalBinary(b)
	other := a.New(nil) // another partition
	other.Add(udf.Int(9), 4000)
	restored.Merge(other)
	fmt.Println(s.Result(), restored.Result())
	// Output: 3 5
}

func ExampleCompileUserFuncs() {
	env, errs := udf.CompileUserFuncs([]udf.UserFunc{{
		Name:   "risk_bucket",
		Params: []udf.Param{{Name: "amount", Type: udf.TypeAny}}, // inferred
		Expr:   `amount > 1000 ? "high" : (amount > 100 ? "mid" : "low")`,
	}})
	fmt.Println(errs)
	f, _ := env.Lookup("RISK_BUCKET")
	fmt.Println(f.Params[0].Type, f.Returns)
	v, _ := f.Call([]udf.Value{udf.Float(250)})
	fmt.Println(v)

	_, errs = udf.CompileUserFuncs([]udf.UserFunc{{
		Name:   "bad",
		Params: []udf.Param{{Name: "x", Type: udf.TypeAny}},
		Expr:   "x ?? y",
	}})
	fmt.Println(errs[0])
	// Output:
	// []
	// double string
	// "mid"
	// function bad: 1:1: cannot infer the type of parameter x from its uses; declare it: params: [{name: x, type: double}] (types: bigint, double, string, bool, timestamp, vector)
}

func ExampleCompilePredicate() {
	cols := []udf.Column{{Name: "fraud_score", Type: udf.TypeDouble}, {Name: "merchant", Type: udf.TypeString}}
	p, _ := udf.CompilePredicate(`fraud_score > 0.9 && lower(merchant) != "test"`, cols, nil)
	for _, row := range []udf.Row{
		{udf.Float(0.95), udf.Str("ACME")},
		{udf.Float(0.95), udf.Str("Test")},
		{udf.Null, udf.Str("ACME")}, // unknown is false
	} {
		v, err := p.Eval(row)
		fmt.Println(v, err)
	}
	_, errs := udf.CompilePredicate("fraud_score >\n  0.9 && merchnt == \"x\"", cols, nil)
	fmt.Println(errs[0].Line, errs[0].Column, errs[0].Msg)
	// Output:
	// true <nil>
	// false <nil>
	// false <nil>
	// 2 10 unknown name merchnt; did you mean merchant?
}
