package udf

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// jsonStep is one step of a JSONPath: a key, or an index when key is "".
type jsonStep struct {
	key   string
	index int
	isIdx bool
}

// parseJSONPath parses the subset $ (.key | ['key'] | ["key"] | [n])*.
func parseJSONPath(p string) ([]jsonStep, error) {
	p = strings.TrimSpace(p)
	if !strings.HasPrefix(p, "$") {
		return nil, exprErr("JSON_VALUE", "path must start with $: %q", p)
	}
	var steps []jsonStep
	i := 1
	for i < len(p) {
		switch p[i] {
		case '.':
			j := i + 1
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			if j == i+1 {
				return nil, exprErr("JSON_VALUE", "empty key at %d in path %q", i, p)
			}
			steps = append(steps, jsonStep{key: p[i+1 : j]})
			i = j
		case '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				return nil, exprErr("JSON_VALUE", "missing ] in path %q", p)
			}
			in := strings.TrimSpace(p[i+1 : i+j])
			if len(in) >= 2 && (in[0] == '\'' || in[0] == '"') && in[len(in)-1] == in[0] {
				steps = append(steps, jsonStep{key: in[1 : len(in)-1]})
			} else {
				n, err := strconv.Atoi(in)
				if err != nil || n < 0 {
					return nil, exprErr("JSON_VALUE", "bad index %q in path %q", in, p)
				}
				steps = append(steps, jsonStep{index: n, isIdx: true})
			}
			i += j + 1
		default:
			return nil, exprErr("JSON_VALUE", "unexpected %q at %d in path %q", p[i], i, p)
		}
	}
	return steps, nil
}

func constJSONPath(i int, v Value) error {
	if i != 1 || v.K != TypeString {
		return nil
	}
	if _, err := parseJSONPath(v.S); err != nil {
		return fmt.Errorf("%w: %s", ErrArgs, strings.TrimPrefix(err.Error(), ErrExpr.Error()+": "))
	}
	return nil
}

func evalJSONValue(a []Value) (Value, error) {
	steps, err := parseJSONPath(a[1].S)
	if err != nil {
		return Null, err
	}
	d := json.NewDecoder(strings.NewReader(a[0].S))
	d.UseNumber()
	var doc any
	if err := d.Decode(&doc); err != nil || d.More() {
		return Null, nil
	}
	cur := doc
	for _, s := range steps {
		switch c := cur.(type) {
		case map[string]any:
			if s.isIdx {
				return Null, nil
			}
			v, ok := c[s.key]
			if !ok {
				return Null, nil
			}
			cur = v
		case []any:
			if !s.isIdx || s.index >= len(c) {
				return Null, nil
			}
			cur = c[s.index]
		default:
			return Null, nil
		}
	}
	switch c := cur.(type) {
	case string:
		return Str(c), nil
	case json.Number:
		return Str(c.String()), nil
	case bool:
		return Str(strconv.FormatBool(c)), nil
	}
	return Null, nil
}
