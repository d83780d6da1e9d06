package server

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzFastObject checks the allocation-free instance decoder against
// encoding/json: whenever it accepts an object, the values agree.
func FuzzFastObject(f *testing.F) {
	for _, s := range []string{
		`{"a": 1, "b": 2}`, `{"b":-0.5e3,"a":true}`, `{"a": 1, "a": 2, "b": false}`,
		`{"a": 1, "c": "x,}", "b": 2}`, `{"a\u0062": 1, "b": 2}`, `{"a": 1, "b": null}`,
		`{"a": 1, "c": {"b": 3}, "b": 2}`, `{ "a" : 1 , "b" : 2 }`, `{"a": 1}`, `{}`,
	} {
		f.Add(s)
	}
	index := map[string]int{"a": 0, "b": 1}
	f.Fuzz(func(t *testing.T, s string) {
		raw := bytes.TrimSpace([]byte(s))
		if !json.Valid(raw) || len(raw) == 0 || raw[0] != '{' {
			return
		}
		x := make([]float64, 2)
		if !fastObject(raw, index, x) {
			return
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			t.Fatalf("fast accepted what encoding/json refuses: %q", s)
		}
		for k, j := range index {
			v, ok := obj[k]
			if !ok {
				t.Fatalf("fast accepted %q without %q", s, k)
			}
			want, err := number(v)
			if err != nil || want != x[j] {
				t.Fatalf("%q: %s = %v (fast), %v %v (encoding/json)", s, k, x[j], want, err)
			}
		}
	})
}
