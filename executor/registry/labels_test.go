package registry_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/executor/registry"
	"github.com/flowrun/flowrun/ml"
)

func TestLabelsJSON(t *testing.T) {
	for _, c := range []struct {
		in   string
		want registry.Labels
	}{
		{`{"type":"string","values":["low","mid","high"]}`, registry.Labels{Type: "string", Values: []any{"low", "mid", "high"}}},
		{`{"type":"bool","values":[false,true]}`, registry.Labels{Type: "bool", Values: []any{false, true}}},
		// bigint values are exact int64s, also beyond 2^53.
		{`{"type":"bigint","values":[0,1,9007199254740993]}`, registry.Labels{Type: "bigint", Values: []any{int64(0), int64(1), int64(9007199254740993)}}},
	} {
		var got registry.Labels
		if err := json.Unmarshal([]byte(c.in), &got); err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if !reflect.DeepEqual(got, c.want) || got.Check() != nil {
			t.Fatalf("%s: got %#v (check %v), want %#v", c.in, got, got.Check(), c.want)
		}
		b, _ := json.Marshal(got)
		if string(b) != c.in {
			t.Fatalf("marshal: %s, want %s", b, c.in)
		}
		if v, ok := got.Label(1); !ok || v != c.want.Values[1] {
			t.Fatalf("%s: Label(1) = %v, %v", c.in, v, ok)
		}
		for _, bad := range []float64{-1, 0.5, 3, 99} {
			if v, ok := got.Label(bad); ok {
				t.Fatalf("%s: Label(%v) = %v, want none", c.in, bad, v)
			}
		}
	}
	var nilLabels *registry.Labels
	if _, ok := nilLabels.Label(0); ok || nilLabels.String() != "" {
		t.Fatal("nil labels name a class")
	}
	if s := (&registry.Labels{Type: "string", Values: []any{"ham", "a, b"}}).String(); s != `ham, "a, b" (string)` {
		t.Fatalf("String() = %s", s)
	}
	for _, bad := range []string{
		`{"type":"double","values":[0.5]}`,
		`{"type":"string","values":[]}`,
		`{"type":"string","values":["a",1]}`,
		`{"type":"string","values":["a","a"]}`,
		`{"type":"bigint","values":[1.5]}`,
		`{"type":"bool","values":["true"]}`,
	} {
		var l registry.Labels
		if err := json.Unmarshal([]byte(bad), &l); err != nil {
			t.Fatalf("%s: %v (bad values must decode, for Check to refuse)", bad, err)
		}
		if l.Check() == nil {
			t.Fatalf("%s: Check accepts it", bad)
		}
	}
}

// TestLabelsStored publishes a 3-class classifier with string labels: the
// index keeps them, Load returns them, a version published without labels
// (as before they were recorded) still loads without them, and labels
// that are malformed or given for a regressor are refused.
func TestLabelsStored(t *testing.T) {
	r, js := open(t)
	ctx := ctxT(t)
	a, _ := ml.Lookup("naive_bayes")
	nb, err := a.New(nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	var X []ml.Vector
	var y []float64
	for i := range 30 {
		X = append(X, ml.Dense([]float64{float64(i%3) * 10}))
		y = append(y, float64(i%3))
	}
	if err := nb.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	m := registry.VersionMeta{Features: []string{"x"}, Label: "level",
		Labels: &registry.Labels{Type: "string", Values: []any{"low", "mid", "high"}}}
	if _, err := r.Publish(ctx, "level", nb, m); err != nil {
		t.Fatal(err)
	}
	old := m
	old.Labels = nil
	if _, err := r.Publish(ctx, "level", nb, old); err != nil {
		t.Fatal(err)
	}
	l1, err := r.Load(ctx, "level", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := l1.Meta.Labels; got == nil || !reflect.DeepEqual(got.Values, []any{"low", "mid", "high"}) || got.Type != "string" {
		t.Fatalf("v1 labels %v", got)
	}
	if v, ok := l1.Meta.Labels.Label(2); !ok || v != "high" {
		t.Fatalf("class 2 of v1 = %v", v)
	}
	l2, err := r.Load(ctx, "level", 2)
	if err != nil || l2.Meta.Labels != nil {
		t.Fatalf("v2 (no labels): %v, labels %v", err, l2.Meta.Labels)
	}

	// The index entry as stored: a version without labels has no field.
	kv, err := js.KeyValue(ctx, registry.IndexBucket)
	if err != nil {
		t.Fatal(err)
	}
	kve, err := kv.Get(ctx, "level")
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Versions []map[string]json.RawMessage `json:"versions"`
	}
	if err := json.Unmarshal(kve.Value(), &raw); err != nil {
		t.Fatal(err)
	}
	if got := string(raw.Versions[0]["labels"]); got != `{"type":"string","values":["low","mid","high"]}` {
		t.Fatalf("stored labels %s", got)
	}
	if _, ok := raw.Versions[1]["labels"]; ok {
		t.Fatalf("v2 stored labels")
	}

	// A version whose labels were damaged in the index is refused; the
	// model's other versions still load.
	damaged := strings.Replace(string(kve.Value()), `"values":["low","mid","high"]`, `"values":["low",7]`, 1)
	if _, err := kv.Put(ctx, "level", []byte(damaged)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Load(ctx, "level", 1); !errors.Is(err, registry.ErrCorrupt) {
		t.Fatalf("load with damaged labels: %v, want ErrCorrupt", err)
	}
	if _, err := r.Load(ctx, "level", 2); err != nil {
		t.Fatalf("v2 beside a damaged v1: %v", err)
	}

	bad := m
	bad.Labels = &registry.Labels{Type: "string", Values: []any{"low", "low"}}
	if _, err := r.Publish(ctx, "level", nb, bad); !errors.Is(err, registry.ErrIncompatible) {
		t.Fatalf("duplicate labels: %v, want ErrIncompatible", err)
	}
	bad.Labels = &registry.Labels{Type: "bigint", Values: []any{0, 1}}
	if _, err := r.Publish(ctx, "price", line(t), bad); !errors.Is(err, registry.ErrIncompatible) {
		t.Fatalf("labels of a regressor: %v, want ErrIncompatible", err)
	}
	// Go ints are stored as bigint labels.
	bad.Labels = &registry.Labels{Type: "bigint", Values: []any{0, 1, 2}}
	v, err := r.Publish(ctx, "level", nb, bad)
	if err != nil {
		t.Fatal(err)
	}
	if l, err := r.Load(ctx, "level", v); err != nil || !reflect.DeepEqual(l.Meta.Labels.Values, []any{int64(0), int64(1), int64(2)}) {
		t.Fatalf("bigint labels: %v %v", err, l)
	}
}

// line fits a one-feature linear regression (a regressor).
func line(t *testing.T) ml.Model {
	t.Helper()
	a, _ := ml.Lookup("linear_regression")
	m, err := a.New(nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Fit([]ml.Vector{ml.Dense([]float64{0}), ml.Dense([]float64{1}), ml.Dense([]float64{2})}, []float64{0, 2, 4}); err != nil {
		t.Fatal(err)
	}
	return m
}
