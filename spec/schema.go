package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/flowrun/flowrun/udf"
)

//go:generate go run ./internal/gen -schema ../docs/schema/pipeline.schema.json -doc ../docs/job-file.md

// SchemaID is the $id of the generated JSON Schema.
const SchemaID = "https://flowrun.dev/schema/pipeline.schema.json"

// durationPattern is the JSON Schema pattern of a Duration.
const durationPattern = `^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h|d))+)$`

// JSONSchema returns the JSON Schema (draft-07) of a job-file document,
// generated from the Go types of this package and their json, doc, enum,
// names/pattern and default struct tags. The YAML shorthands (a column
// type as a string or a mapping, impute and outliers as mappings) are
// allowed with oneOf.
func JSONSchema() []byte {
	g := &schemaGen{defs: map[string]any{}}
	root := g.structSchema(reflect.TypeOf(Pipeline{}))
	root["$schema"] = "http://json-schema.org/draft-07/schema#"
	root["$id"] = SchemaID
	root["title"] = "flowrun pipeline"
	root["description"] = "A flowrun job file: one pipeline per YAML document. Generated from spec/types.go; do not edit."
	root["definitions"] = g.defs
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		panic("spec: " + err.Error())
	}
	return buf.Bytes()
}

type schemaGen struct {
	defs  map[string]any
	order []reflect.Type // structs in order of discovery, for the docs
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/definitions/" + name} }

// typeSchema returns the schema of a field of type t.
func (g *schemaGen) typeSchema(t reflect.Type, sf *reflect.StructField) map[string]any {
	switch t {
	case textType:
		return map[string]any{"type": "string"}
	case durationType:
		return map[string]any{"oneOf": []any{
			map[string]any{"type": "string", "pattern": durationPattern},
			map[string]any{"const": 0},
		}}
	case columnsType:
		g.def("ColumnType", columnTypeSchema())
		g.def("Column", map[string]any{
			"type": "object", "additionalProperties": false, "required": []string{"name", "type"},
			"properties": map[string]any{
				"name":     map[string]any{"type": "string"},
				"type":     ref("ColumnTypeName"),
				"nullable": map[string]any{"type": "boolean"},
			},
		})
		return map[string]any{"oneOf": []any{
			map[string]any{"type": "object", "additionalProperties": ref("ColumnType"), "minProperties": 1},
			map[string]any{"type": "array", "items": ref("Column"), "minItems": 1},
		}}
	case imputesType:
		imp := g.structRef(reflect.TypeOf(Impute{}))
		short := []any{map[string]any{"type": "string", "enum": imputeMethods}}
		body := g.structSchema(reflect.TypeOf(Impute{}))
		body = withoutProp(body, "column")
		short = append(short, body)
		for _, m := range imputeMethods {
			short = append(short, map[string]any{"type": "object", "additionalProperties": false, "required": []string{m}, "properties": map[string]any{m: map[string]any{}}})
		}
		g.def("ImputeSpec", map[string]any{"oneOf": short})
		return map[string]any{"oneOf": []any{
			map[string]any{"type": "object", "additionalProperties": ref("ImputeSpec")},
			map[string]any{"type": "array", "items": imp},
		}}
	case outliersType:
		o := g.structRef(reflect.TypeOf(Outlier{}))
		body := withoutProp(g.structSchema(reflect.TypeOf(Outlier{})), "column")
		g.def("OutlierSpec", map[string]any{"oneOf": []any{
			map[string]any{"type": "string", "enum": outlierMeths},
			body,
		}})
		return map[string]any{"oneOf": []any{
			map[string]any{"type": "object", "additionalProperties": ref("OutlierSpec")},
			map[string]any{"type": "array", "items": o},
		}}
	case paramsType:
		p := g.structRef(reflect.TypeOf(Param{}))
		return map[string]any{"type": "array", "items": map[string]any{"oneOf": []any{map[string]any{"type": "string"}, p}}}
	case anyType:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.typeSchema(t.Elem(), sf)
	case reflect.Struct:
		return g.structRef(t)
	case reflect.String:
		s := map[string]any{"type": "string"}
		if sf != nil && sf.Tag.Get("types") != "" {
			s["type"] = strings.Split(sf.Tag.Get("types"), ",")
		}
		if sf != nil {
			if e := sf.Tag.Get("enum"); e != "" {
				s["enum"] = strings.Split(e, ",")
			}
			// names: named values, or else any string matching pattern
			// (timestampFormat: a name or a Go time layout).
			if n := sf.Tag.Get("names"); n != "" {
				s["oneOf"] = []any{
					map[string]any{"enum": strings.Split(n, ",")},
					map[string]any{"pattern": sf.Tag.Get("pattern")},
				}
			}
		}
		return s
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Int32:
		return map[string]any{"type": "integer"}
	case reflect.Float64, reflect.Float32:
		return map[string]any{"type": "number"}
	case reflect.Slice:
		var items map[string]any
		if t.Elem().Kind() == reflect.String && sf != nil && sf.Tag.Get("enum") != "" {
			items = map[string]any{"type": "string", "enum": strings.Split(sf.Tag.Get("enum"), ",")}
		} else {
			items = g.typeSchema(t.Elem(), nil)
		}
		return map[string]any{"type": "array", "items": items}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.typeSchema(t.Elem(), nil)}
	}
	panic("spec: no schema for " + t.String())
}

func columnTypeSchema() map[string]any {
	return map[string]any{"oneOf": []any{
		ref("ColumnTypeName"),
		map[string]any{
			"type": "object", "additionalProperties": false, "required": []string{"type"},
			"properties": map[string]any{
				"type":     ref("ColumnTypeName"),
				"nullable": map[string]any{"type": "boolean", "default": false},
			},
		},
	}}
}

func withoutProp(s map[string]any, name string) map[string]any {
	out := map[string]any{}
	for k, v := range s {
		out[k] = v
	}
	props := map[string]any{}
	for k, v := range s["properties"].(map[string]any) {
		if k != name {
			props[k] = v
		}
	}
	out["properties"] = props
	if req, ok := s["required"].([]string); ok {
		var r []string
		for _, x := range req {
			if x != name {
				r = append(r, x)
			}
		}
		if len(r) > 0 {
			out["required"] = r
		} else {
			delete(out, "required")
		}
	}
	return out
}

func (g *schemaGen) def(name string, s map[string]any) {
	if _, ok := g.defs[name]; !ok {
		g.defs[name] = s
		if name == "ColumnType" {
			g.defs["ColumnTypeName"] = map[string]any{"type": "string", "enum": columnTypeNames(), "description": "A column type (aliases: int, long, integer, float, real, text, varchar, boolean)."}
		}
	}
}

func columnTypeNames() []string {
	return append(append([]string(nil), udf.ColumnTypeNames...), "int", "long", "integer", "float", "real", "text", "varchar", "boolean")
}

// structRef returns a $ref to the definition of struct t, defining it.
func (g *schemaGen) structRef(t reflect.Type) map[string]any {
	if _, ok := g.defs[t.Name()]; !ok {
		g.defs[t.Name()] = nil // reserve against recursion
		g.defs[t.Name()] = g.structSchema(t)
	}
	return ref(t.Name())
}

// structSchema returns the object schema of struct t.
func (g *schemaGen) structSchema(t reflect.Type) map[string]any {
	seen := false
	for _, x := range g.order {
		if x == t {
			seen = true
		}
	}
	if !seen {
		g.order = append(g.order, t)
	}
	props := map[string]any{}
	var required []string
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name := jsonName(sf)
		if name == "" {
			continue
		}
		s := g.typeSchema(sf.Type, &sf)
		if d := sf.Tag.Get("doc"); d != "" {
			s = withKey(s, "description", d)
		}
		if d, ok := sf.Tag.Lookup("default"); ok {
			s = withKey(s, "default", defaultValue(sf.Type, d))
		}
		if t == reflect.TypeOf(Pipeline{}) && name == "apiVersion" {
			s = withKey(s, "const", APIVersion)
		}
		if t == reflect.TypeOf(Pipeline{}) && name == "kind" {
			s = withKey(s, "const", KindPipeline)
		}
		props[name] = s
		if !strings.Contains(sf.Tag.Get("json"), "omitempty") && sf.Tag.Get("default") == "" {
			required = append(required, name)
		}
	}
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false,
		// Extension fields (x-...) are ignored anywhere, e.g. to hold anchors.
		"patternProperties": map[string]any{"^x-": map[string]any{}}}
	if len(required) > 0 {
		s["required"] = required
	}
	switch t {
	case reflect.TypeOf(Training{}):
		// Hyper-parameters of the algorithm may be written next to mode.
		s["additionalProperties"] = map[string]any{"type": []string{"number", "string", "boolean", "array", "object"}}
	}
	return s
}

func withKey(s map[string]any, k string, v any) map[string]any {
	if _, isRef := s["$ref"]; isRef {
		// draft-07 ignores siblings of $ref: wrap it.
		s = map[string]any{"allOf": []any{s}}
	}
	s[k] = v
	return s
}

func defaultValue(t reflect.Type, s string) any {
	if t == durationType {
		return s
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	case reflect.Float64:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	case reflect.Bool:
		return s == "true"
	}
	return s
}

// FieldReference returns the Markdown reference of every job-file field,
// generated from the same struct tags as JSONSchema.
func FieldReference() string {
	g := &schemaGen{defs: map[string]any{}}
	g.structSchema(reflect.TypeOf(Pipeline{}))
	// Discover all structs in the order of the schema walk.
	var b strings.Builder
	done := map[reflect.Type]bool{}
	var queue []reflect.Type
	queue = append(queue, reflect.TypeOf(Pipeline{}))
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		if done[t] {
			continue
		}
		done[t] = true
		fmt.Fprintf(&b, "### %s\n\n", t.Name())
		if d := typeDocs[t.Name()]; d != "" {
			fmt.Fprintf(&b, "%s\n\n", d)
		}
		b.WriteString("| Field | Type | Default | Description |\n|---|---|---|---|\n")
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			name := jsonName(sf)
			if name == "" {
				continue
			}
			typ, sub := fieldTypeName(sf)
			if sub != nil && !done[sub] {
				queue = append(queue, sub)
			}
			desc := sf.Tag.Get("doc")
			if e := sf.Tag.Get("enum"); e != "" {
				desc = strings.TrimSpace(desc + " One of: `" + strings.Join(strings.Split(e, ","), "`, `") + "`.")
			}
			req := ""
			if !strings.Contains(sf.Tag.Get("json"), "omitempty") && sf.Tag.Get("default") == "" {
				req = " (required)"
			}
			def := ""
			if d, ok := sf.Tag.Lookup("default"); ok {
				def = "`" + d + "`"
			}
			fmt.Fprintf(&b, "| `%s`%s | %s | %s | %s |\n", name, req, typ, def, strings.ReplaceAll(desc, "|", "\\|"))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// typeDocs are the one-line descriptions of the structs in the reference.
var typeDocs = map[string]string{
	"Pipeline":        "One document of a job file.",
	"Metadata":        "Names the pipeline.",
	"PipelineSpec":    "The body of a pipeline.",
	"Source":          "A stream of records read from JetStream.",
	"JetStreamSource": "The stream a source reads.",
	"CSVOptions":      "CSV decoding options.",
	"EventTime":       "The event-time column of a source and its watermark.",
	"Function":        "A user function written in expr-lang, callable from SQL and predicates.",
	"Param":           "A parameter of a user function: a name, or `{name, type}`.",
	"Stage":           "A named step: exactly one of `sql`, `clean`, `features`.",
	"Table":           "Keep a stage's latest row per key, joinable as a table.",
	"StateLimits":     "Bounds of a stage's keyed state.",
	"Clean":           "A cleaning stage. Steps run in the order dedup, impute, outliers, filter.",
	"Dedup":           "Drop a row whose key was seen within a time bound.",
	"Impute":          "Fill NULLs of a column. Written as `impute: {column: method}`, `{column: {constant: value}}` or `{column: {method, value, by}}`.",
	"Outlier":         "Detect and handle outliers of a numeric column. Written as `outliers: {column: method}` or `{column: {method, threshold, lower, upper, action}}`.",
	"Feature":         "One transform of a features stage: exactly one of its fields.",
	"OneHot":          "One-hot encode a categorical column into a vector.",
	"HashFeature":     "Hash categorical columns into a vector (the hashing trick).",
	"Scale":           "Standardize numeric columns with online statistics.",
	"TFIDF":           "Turn a text column into a hashed TF-IDF vector.",
	"WindowFeature":   "Time-series features per key over the last `size` points (or `duration`).",
	"Model":           "A model trained and/or used by the pipeline (see `PREDICT` in SQL).",
	"Training":        "How and when a model learns. Hyper-parameters may also be written here, next to `mode`.",
	"Evaluation":      "Prequential evaluation: predict, then learn.",
	"Tuning":          "Hyper-parameter search for batch training.",
	"Validation":      "k-fold or holdout validation of a tuning run.",
	"Sink":            "Writes a stage's rows to JetStream or a KV bucket.",
	"JetStreamSink":   "The stream and subject a sink publishes to.",
	"KVSink":          "Keep the latest row per key in a JetStream KV bucket.",
}

// fieldTypeName names a field's type for the reference, and returns the
// struct type to document next, if any.
func fieldTypeName(sf reflect.StructField) (string, reflect.Type) {
	t := sf.Type
	switch t {
	case textType:
		return "string (code)", nil
	case durationType:
		return "duration", nil
	case columnsType:
		return "mapping of column → type or `{type, nullable}`", nil
	case imputesType:
		return "mapping of column → [Impute](#impute)", reflect.TypeOf(Impute{})
	case outliersType:
		return "mapping of column → [Outlier](#outlier)", reflect.TypeOf(Outlier{})
	case paramsType:
		return "list of [Param](#param)", reflect.TypeOf(Param{})
	case anyType:
		return "any", nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		return fmt.Sprintf("[%s](#%s)", t.Name(), strings.ToLower(t.Name())), t
	case reflect.Slice:
		e := t.Elem()
		if e.Kind() == reflect.Struct {
			return fmt.Sprintf("list of [%s](#%s)", e.Name(), strings.ToLower(e.Name())), e
		}
		if e.Kind() == reflect.Map {
			return "list of mappings", nil
		}
		return "list of " + kindName(e), nil
	case reflect.Map:
		return "mapping of string → " + kindName(t.Elem()), nil
	}
	return kindName(t), nil
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "integer"
	case reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Interface:
		return "any"
	}
	return t.String()
}

// The markers around the generated reference in docs/job-file.md.
const (
	refBegin = "<!-- BEGIN GENERATED REFERENCE (go generate ./spec) -->"
	refEnd   = "<!-- END GENERATED REFERENCE -->"
)

// ReplaceReference returns doc with the text between the reference
// markers replaced by FieldReference.
func ReplaceReference(doc []byte) ([]byte, error) {
	i := bytes.Index(doc, []byte(refBegin))
	j := bytes.Index(doc, []byte(refEnd))
	if i < 0 || j < i {
		return nil, fmt.Errorf("spec: markers %q and %q not found", refBegin, refEnd)
	}
	var out bytes.Buffer
	out.Write(doc[:i+len(refBegin)])
	out.WriteString("\n\n")
	out.WriteString(FieldReference())
	out.Write(doc[j:])
	return out.Bytes(), nil
}
