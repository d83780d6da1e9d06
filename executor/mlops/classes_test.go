package mlops

import (
	"encoding/json"
	"testing"

	"github.com/flowrun/flowrun/executor/registry"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

// TestClassLabels: a classifier records its labels in class-number order
// with their type (string labels in order of appearance, bigint and bool
// labels as their own class numbers); other models and mixed or double
// labels record none.
func TestClassLabels(t *testing.T) {
	newJM := func(algo string) *jobModel {
		jm, err := newJobModel(&spec.Model{Name: "m", Algorithm: algo, Features: []string{"x"}, Label: "y"})
		if err != nil {
			t.Fatal(err)
		}
		return jm
	}
	for _, c := range []struct {
		algo   string
		labels []udf.Value
		want   string // Labels.String(), "" for none
	}{
		{"naive_bayes", []udf.Value{udf.Str("mid"), udf.Null, udf.Str("low"), udf.Str("mid"), udf.Str("high")}, "mid, low, high (string)"},
		{"logistic_regression", []udf.Value{udf.Bool(true), udf.Bool(true)}, "false, true (bool)"},
		{"naive_bayes", []udf.Value{udf.Int(0), udf.Int(3), udf.Int(1)}, "0, 1, 2, 3 (bigint)"},
		{"naive_bayes", []udf.Value{udf.Int(0), udf.Str("a")}, ""},
		{"naive_bayes", []udf.Value{udf.Float(0), udf.Float(1)}, ""},
		{"naive_bayes", []udf.Value{udf.Int(-1)}, ""},
		{"linear_regression", []udf.Value{udf.Int(0), udf.Int(5)}, ""},
	} {
		jm := newJM(c.algo)
		for _, v := range c.labels {
			jm.label(v)
		}
		if got := jm.classes.String(); got != c.want {
			t.Errorf("%s %v: labels %q, want %q", c.algo, c.labels, got, c.want)
		}
	}
}

// TestLabelValue: PREDICT_LABEL maps a class number to its label, in the
// planned type.
func TestLabelValue(t *testing.T) {
	str := &registry.Labels{Type: "string", Values: []any{"low", "mid", "7"}}
	boo := &registry.Labels{Type: "bool", Values: []any{false, true}}
	big := &registry.Labels{Type: "bigint", Values: []any{int64(0), int64(1)}}
	for _, c := range []struct {
		c        float64
		t        udf.Type
		labels   *registry.Labels
		want     udf.Value
		mismatch bool
	}{
		{1, udf.TypeString, str, udf.Str("mid"), false},
		{1, udf.TypeAny, str, udf.Str("mid"), false},
		{2, udf.TypeBigint, str, udf.Int(7), false},      // a string label read as the declared bigint
		{0, udf.TypeBigint, str, udf.Null, true},         // "low" is no bigint
		{3, udf.TypeString, str, udf.Null, false},        // a class no row named
		{1, udf.TypeBool, boo, udf.Bool(true), false},    //
		{1, udf.TypeString, boo, udf.Str("true"), false}, // bool labels typed string
		{1, udf.TypeAny, big, udf.Int(1), false},
		{4, udf.TypeBigint, big, udf.Int(4), false}, // beyond the list: the class number
		{2, udf.TypeString, nil, udf.Str("2"), false},
		{2, udf.TypeAny, nil, udf.Float(2), false},
		{1, udf.TypeBool, nil, udf.Bool(true), false},
	} {
		got, mismatch := labelValue(c.c, c.t, c.labels)
		if got.K != c.want.K || got.String() != c.want.String() || mismatch != c.mismatch {
			t.Errorf("labelValue(%v, %s, %v) = %v (%s), %v; want %v (%s), %v", c.c, c.t, c.labels, got, got.K, mismatch, c.want, c.want.K, c.mismatch)
		}
	}
}

// TestRestoreOldSnapshot: a checkpoint taken before class labels were
// kept (string labels only) restores them.
func TestRestoreOldSnapshot(t *testing.T) {
	jm, err := newJobModel(&spec.Model{Name: "m", Algorithm: "naive_bayes", Features: []string{"x"}, Label: "y"})
	if err != nil {
		t.Fatal(err)
	}
	o := &Train{jm: jm}
	snap, err := o.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	json.Unmarshal(snap, &st)
	st["Labels"] = []string{"ham", "spam"}
	old, _ := json.Marshal(st)
	if err := o.Restore(old); err != nil {
		t.Fatal(err)
	}
	if got := jm.classes.String(); got != "ham, spam (string)" {
		t.Fatalf("restored labels %q", got)
	}
	if i, _ := jm.label(udf.Str("eggs")); i != 2 || jm.classes.String() != "ham, spam, eggs (string)" {
		t.Fatalf("after restore: class %v, labels %q", i, jm.classes.String())
	}
}
