package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// TestSchemaUpToDate fails when docs/schema/pipeline.schema.json or the
// reference in docs/job-file.md is not what the generator writes.
func TestSchemaUpToDate(t *testing.T) {
	got, err := os.ReadFile("../docs/schema/pipeline.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, JSONSchema()) {
		t.Error("docs/schema/pipeline.schema.json is out of date: run make generate (go generate ./spec)")
	}
	doc, err := os.ReadFile("../docs/job-file.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReplaceReference(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc, want) {
		t.Error("the field reference in docs/job-file.md is out of date: run make generate (go generate ./spec)")
	}
}

// TestSchemaAcceptsExamples checks every example job file against the
// JSON Schema with a small draft-07 validator (the subset the schema uses),
// and checks that the schema rejects some broken documents.
func TestSchemaAcceptsExamples(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(JSONSchema(), &schema); err != nil {
		t.Fatal(err)
	}
	files, _ := Files("../pipelines")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(src, []byte("\n---\n")) {
			var v any
			if err := yaml.Unmarshal(doc, &v); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if v == nil {
				continue
			}
			if errs := validateSchema(schema, schema, v, ""); len(errs) > 0 {
				t.Errorf("%s doc %d: %s", f, i, strings.Join(errs, "\n"))
			}
		}
	}
	for _, bad := range []string{
		"apiVersion: flowrun.dev/v1\nkind: Pipeline\nmetadata: {name: a}\nspec: {sources: [], bogus: 1}\n",
		"apiVersion: flowrun.dev/v1\nkind: Pipeline\nmetadata: {name: a}\nspec: {sources: [{name: s, schema: {a: doubel}}]}\n",
		"apiVersion: flowrun.dev/v1\nkind: Pipeline\nmetadata: {name: a}\nspec: {sources: [{name: s, schema: {a: double}, eventTime: {column: a, idleTimeout: 5 s}}]}\n",
		"apiVersion: flowrun.dev/v2\nkind: Pipeline\nmetadata: {name: a}\nspec: {sources: []}\n",
	} {
		var v any
		if err := yaml.Unmarshal([]byte(bad), &v); err != nil {
			t.Fatal(err)
		}
		if errs := validateSchema(schema, schema, v, ""); len(errs) == 0 {
			t.Errorf("schema accepts %q", bad)
		}
	}
}

// validateSchema is a minimal JSON Schema validator for the keywords that
// JSONSchema emits.
func validateSchema(root, s map[string]any, v any, path string) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }
	if r, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(r, "#/definitions/")
		return validateSchema(root, root["definitions"].(map[string]any)[name].(map[string]any), v, path)
	}
	if c, ok := s["const"]; ok && fmt.Sprint(c) != fmt.Sprint(v) {
		fail("want %v", c)
	}
	if e, ok := s["enum"].([]any); ok {
		found := false
		for _, x := range e {
			if fmt.Sprint(x) == fmt.Sprint(v) {
				found = true
			}
		}
		if !found {
			fail("%v not in enum", v)
		}
	}
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			errs = append(errs, validateSchema(root, sub.(map[string]any), v, path)...)
		}
	}
	if one, ok := s["oneOf"].([]any); ok {
		n := 0
		for _, sub := range one {
			if len(validateSchema(root, sub.(map[string]any), v, path)) == 0 {
				n++
			}
		}
		if n != 1 {
			fail("matches %d of oneOf", n)
		}
	}
	if typ, ok := s["type"]; ok {
		var types []string
		switch x := typ.(type) {
		case string:
			types = []string{x}
		case []any:
			for _, y := range x {
				types = append(types, y.(string))
			}
		}
		okType := false
		for _, ty := range types {
			if jsonType(v, ty) {
				okType = true
			}
		}
		if !okType {
			fail("%T is not %v", v, typ)
			return errs
		}
	}
	if p, ok := s["pattern"].(string); ok {
		if str, isStr := v.(string); isStr && !regexp.MustCompile(p).MatchString(str) {
			fail("%q does not match %s", str, p)
		}
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range asStrings(s["required"]) {
			if _, ok := x[r]; !ok {
				fail("missing %s", r)
			}
		}
		if mp, ok := s["minProperties"].(float64); ok && len(x) < int(mp) {
			fail("too few properties")
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k]; ok {
				errs = append(errs, validateSchema(root, ps.(map[string]any), x[k], path+"."+k)...)
				continue
			}
			matched := false
			if pp, ok := s["patternProperties"].(map[string]any); ok {
				for pat := range pp {
					if regexp.MustCompile(pat).MatchString(k) {
						matched = true
					}
				}
			}
			if matched {
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					fail("unknown property %s", k)
				}
			case map[string]any:
				errs = append(errs, validateSchema(root, ap, x[k], path+"."+k)...)
			}
		}
	case []any:
		if it, ok := s["items"].(map[string]any); ok {
			for i, e := range x {
				errs = append(errs, validateSchema(root, it, e, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
		if mi, ok := s["minItems"].(float64); ok && len(x) < int(mi) {
			fail("too few items")
		}
	}
	return errs
}

func asStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			out = append(out, x.(string))
		}
	}
	return out
}

func jsonType(v any, t string) bool {
	switch t {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "integer":
		switch x := v.(type) {
		case int, int64, uint64:
			return true
		case float64:
			return x == float64(int64(x))
		}
	case "number":
		switch v.(type) {
		case int, int64, uint64, float64:
			return true
		}
	}
	return false
}
