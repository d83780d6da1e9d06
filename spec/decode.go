package spec

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/flowrun/flowrun/udf"
)

// decoder turns the goccy/go-yaml AST of one file into Pipelines, strictly
// (unknown fields are errors) and keeping the position of every node.
type decoder struct {
	o  *options
	m  *srcMap
	ds Diagnostics

	// pre-pass state
	anchors    map[string]ast.Node
	aliases    map[*ast.AliasNode]ast.Node
	size       map[ast.Node]int
	inProgress map[ast.Node]bool
	total      int
	stop       bool

	pos map[string]Pos // path -> position, for the pipeline being decoded
}

// parseFile decodes every document of one job file.
func parseFile(name string, orig []byte, o *options) ([]*Pipeline, Diagnostics) {
	m0 := newSrcMap(name, orig, orig, nil)
	if int64(len(orig)) > o.maxFileSize {
		return nil, Diagnostics{diagf(ErrLimit, Pos{File: name, Line: 1, Col: 1},
			"file is %d bytes, over the limit of %d bytes (max file size)", len(orig), o.maxFileSize).
			withHint(fmt.Sprintf("raise it with --max-file-size=%d (spec.WithMaxFileSize)", nextLimit(int64(len(orig)))))}
	}
	parsed, edits, ds := interpolate(orig, o.lookupEnv, m0.origPos)
	m := newSrcMap(name, orig, parsed, edits)
	d := &decoder{o: o, m: m, ds: ds}
	if p, ok := flowDepth(parsed, o.maxDepth); !ok {
		d.ds = append(d.ds, d.depthDiag(m.pos(p)))
		return nil, d.ds
	}
	if off := estimateNodes(parsed, o.maxNodes); off >= 0 {
		d.ds = append(d.ds, diagf(ErrLimit, m.pos(off), "more than %d YAML nodes (max yaml nodes)", o.maxNodes).
			withHint("raise it with --max-yaml-nodes (spec.WithMaxNodes)"))
		return nil, d.ds
	}
	f, err := parser.ParseBytes(parsed, 0)
	if err != nil {
		d.ds = append(d.ds, d.syntaxDiag(err))
		return nil, d.ds
	}
	d.anchors = map[string]ast.Node{}
	d.aliases = map[*ast.AliasNode]ast.Node{}
	d.size = map[ast.Node]int{}
	d.inProgress = map[ast.Node]bool{}
	for _, doc := range f.Docs {
		d.scan(doc, 0)
		if d.stop {
			return nil, d.ds
		}
	}
	var out []*Pipeline
	for _, doc := range f.Docs {
		body := d.resolve(doc.Body)
		if body == nil || body.Type() == ast.NullType {
			continue
		}
		if _, ok := body.(*ast.CommentGroupNode); ok {
			continue
		}
		p := &Pipeline{Src: orig, src: m, opts: o}
		d.pos = map[string]Pos{}
		p.pos = d.pos
		before := len(d.ds)
		d.decode(body, reflect.ValueOf(p).Elem(), "", fieldInfo{})
		p.Pos = d.nodePos(body)
		p.bad = map[Pos]bool{}
		for _, dg := range d.ds[before:] {
			p.bad[dg.Pos] = true
		}
		out = append(out, p)
	}
	if len(out) == 0 && len(d.ds) == 0 {
		d.ds = append(d.ds, diagf(ErrMissing, Pos{File: name, Line: 1, Col: 1}, "file holds no pipeline"))
	}
	return out, d.ds
}

// nextLimit suggests a limit above n.
func nextLimit(n int64) int64 {
	l := int64(1)
	for l <= n {
		l *= 2
	}
	return l
}

func (d *decoder) depthDiag(p Pos) Diagnostic {
	return diagf(ErrLimit, p, "nesting deeper than %d levels (max depth)", d.o.maxDepth).
		withHint("raise it with --max-depth (spec.WithMaxDepth)")
}

// flowDepth checks the nesting of flow collections ([ and {) before the
// YAML parser sees the text, so that a hostile file cannot make the parser
// recurse deeply. Quoted strings and comments are skipped. It returns the
// offset where the limit is passed.
func flowDepth(b []byte, max int) (int, bool) {
	depth := 0
	var quote byte
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			} else if c == '\n' && depth == 0 {
				quote = 0
			}
		case c == '#' && (i == 0 || b[i-1] == ' ' || b[i-1] == '\n' || b[i-1] == '\t'):
			for i < len(b) && b[i] != '\n' {
				i++
			}
		case (c == '"' || c == '\'') && depth > 0:
			quote = c
		case c == '[' || c == '{':
			depth++
			if depth > max {
				return i, false
			}
		case c == ']' || c == '}':
			if depth > 0 {
				depth--
			}
		case c == '\n':
			// A block scalar or plain text may hold unbalanced brackets;
			// only flow collections spanning lines matter, and those
			// keep their depth.
		}
	}
	return 0, true
}

func (d *decoder) syntaxDiag(err error) Diagnostic {
	var se *yaml.SyntaxError
	p := Pos{File: d.m.file, Line: 1, Col: 1}
	msg := err.Error()
	if errors.As(err, &se) {
		msg = se.Message
		if se.Token != nil && se.Token.Position != nil && se.Token.Position.Line > 0 {
			p = d.m.pos(d.m.offset(se.Token.Position.Line, max(se.Token.Position.Column, 1)))
		}
	}
	return diagf(ErrSyntax, p, "yaml: %s", msg)
}

// scan is the pre-pass over the AST: it resolves aliases, checks the
// nesting depth and counts the nodes with every alias expanded, stopping
// at the first limit passed.
func (d *decoder) scan(n ast.Node, depth int) {
	if n == nil || d.stop {
		return
	}
	if depth > d.o.maxDepth {
		d.ds = append(d.ds, d.depthDiag(d.nodePos(n)))
		d.stop = true
		return
	}
	switch n := n.(type) {
	case *ast.DocumentNode:
		d.scan(n.Body, depth)
		return
	case *ast.AnchorNode:
		name := tokenValue(n.Name)
		d.inProgress[n.Value] = true
		before := d.total
		d.scan(n.Value, depth)
		delete(d.inProgress, n.Value)
		d.size[n.Value] = d.total - before
		d.anchors[name] = n.Value
		return
	case *ast.AliasNode:
		name := tokenValue(n.Value)
		t, ok := d.anchors[name]
		if !ok {
			d.ds = append(d.ds, diagf(ErrSyntax, d.nodePos(n), "yaml: unknown alias *%s", name))
			d.stop = true
			return
		}
		d.aliases[n] = t
		d.total += d.size[t]
	case *ast.TagNode:
		d.scan(n.Value, depth)
		return
	case *ast.MappingNode:
		d.total++
		for _, v := range n.Values {
			d.scan(v.Key, depth+1)
			d.scan(v.Value, depth+1)
		}
	case *ast.MappingValueNode:
		d.total++
		d.scan(n.Key, depth+1)
		d.scan(n.Value, depth+1)
	case *ast.MappingKeyNode:
		d.scan(n.Value, depth)
		return
	case *ast.SequenceNode:
		d.total++
		for _, v := range n.Values {
			d.scan(v, depth+1)
		}
	default:
		d.total++
	}
	if d.total > d.o.maxNodes && !d.stop {
		d.ds = append(d.ds, diagf(ErrLimit, d.nodePos(n),
			"more than %d YAML nodes with aliases expanded (max yaml nodes)", d.o.maxNodes).
			withHint("raise it with --max-yaml-nodes (spec.WithMaxNodes); a file that expands aliases this much is likely hostile"))
		d.stop = true
	}
}

func tokenValue(n ast.Node) string {
	if n == nil || n.GetToken() == nil {
		return ""
	}
	return n.GetToken().Value
}

// resolve unwraps anchors, tags and aliases.
func (d *decoder) resolve(n ast.Node) ast.Node {
	for i := 0; i < 64 && n != nil; i++ {
		switch x := n.(type) {
		case *ast.AnchorNode:
			n = x.Value
		case *ast.TagNode:
			n = x.Value
		case *ast.AliasNode:
			n = d.aliases[x]
		case *ast.MappingKeyNode:
			n = x.Value
		default:
			return n
		}
	}
	return n
}

// nodePos is the position of the first character of n.
func (d *decoder) nodePos(n ast.Node) Pos {
	p := d.nodeOffset(n)
	if p < 0 {
		return Pos{File: d.m.file, Line: 1, Col: 1}
	}
	return d.m.pos(p)
}

// nodeOffset is the parsed-text offset of the first character of n, or -1.
func (d *decoder) nodeOffset(n ast.Node) int {
	var tk *token.Token
	switch x := n.(type) {
	case nil:
		return -1
	case *ast.MappingNode:
		if x.IsFlowStyle || len(x.Values) == 0 {
			tk = x.Start
		} else {
			return d.nodeOffset(x.Values[0].Key)
		}
	case *ast.MappingValueNode:
		return d.nodeOffset(x.Key)
	case *ast.LiteralNode:
		tk = x.Start
	case *ast.DocumentNode:
		return d.nodeOffset(x.Body)
	case *ast.AnchorNode:
		tk = x.Start
	case *ast.TagNode:
		tk = x.Start
	case *ast.AliasNode:
		tk = x.Start
	case *ast.SequenceNode:
		tk = x.Start
	default:
		tk = n.GetToken()
	}
	if tk == nil {
		tk = n.GetToken()
	}
	if tk == nil || tk.Position == nil || tk.Position.Line < 1 {
		return -1
	}
	return d.m.offset(tk.Position.Line, max(tk.Position.Column, 1))
}

// kv is one entry of a mapping.
type kv struct {
	key    string
	kn, vn ast.Node
}

// entries returns the entries of a mapping node (merge keys expanded) or
// false when n is not a mapping.
func (d *decoder) entries(n ast.Node) ([]kv, bool) {
	n = d.resolve(n)
	var vals []*ast.MappingValueNode
	switch x := n.(type) {
	case *ast.MappingNode:
		vals = x.Values
	case *ast.MappingValueNode:
		vals = []*ast.MappingValueNode{x}
	default:
		return nil, false
	}
	var out []kv
	var merged []kv
	for _, v := range vals {
		if v.Key != nil && v.Key.IsMergeKey() {
			src := d.resolve(v.Value)
			if seq, ok := src.(*ast.SequenceNode); ok {
				for _, e := range seq.Values {
					m, _ := d.entries(e)
					merged = append(merged, m...)
				}
			} else if m, ok := d.entries(src); ok {
				merged = append(merged, m...)
			} else {
				d.ds = append(d.ds, diagf(ErrType, d.nodePos(v.Value), "a merge key << needs a mapping"))
			}
			continue
		}
		kn := d.resolve(v.Key)
		out = append(out, kv{key: scalarString(kn), kn: v.Key, vn: v.Value})
	}
	if len(merged) > 0 {
		have := map[string]bool{}
		for _, e := range out {
			have[e.key] = true
		}
		for _, e := range merged {
			if !have[e.key] {
				have[e.key] = true
				out = append(out, e)
			}
		}
	}
	return out, true
}

// scalarString returns the text of a scalar node.
func scalarString(n ast.Node) string {
	switch x := n.(type) {
	case nil:
		return ""
	case *ast.StringNode:
		return x.Value
	case *ast.LiteralNode:
		if x.Value != nil {
			return x.Value.Value
		}
		return ""
	case *ast.NullNode:
		return ""
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Value
	}
	return ""
}

// describe names the YAML kind of n for error messages.
func describe(n ast.Node) string {
	switch x := n.(type) {
	case nil, *ast.NullNode:
		return "nothing (null)"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "the number " + x.GetToken().Value
	case *ast.BoolNode:
		return "the boolean " + x.GetToken().Value
	case *ast.StringNode, *ast.LiteralNode:
		return "the string " + quoteShort(scalarString(x))
	}
	return "a " + strings.ToLower(n.Type().String())
}

func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return strconv.Quote(s)
}

func isNull(n ast.Node) bool {
	if n == nil {
		return true
	}
	_, ok := n.(*ast.NullNode)
	return ok
}

func isScalar(n ast.Node) bool {
	switch n.(type) {
	case *ast.StringNode, *ast.LiteralNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return true
	}
	return false
}

// fieldInfo is what the decoder needs to know about the field a value
// goes into.
type fieldInfo struct {
	name string   // YAML name, for messages
	enum []string // allowed values of a string (or of each string of a list)
}

var (
	posType       = reflect.TypeOf(Pos{})
	textType      = reflect.TypeOf(Text{})
	durationType  = reflect.TypeOf(Duration(0))
	columnsType   = reflect.TypeOf([]Column(nil))
	imputesType   = reflect.TypeOf([]Impute(nil))
	outliersType  = reflect.TypeOf([]Outlier(nil))
	paramsType    = reflect.TypeOf([]Param(nil))
	modelType     = reflect.TypeOf(Model{})
	posMapType    = reflect.TypeOf(map[string]Pos(nil))
	anyType       = reflect.TypeOf((*any)(nil)).Elem()
	imputeMethods = enumOf(reflect.TypeOf(Impute{}), "Method")
	outlierMeths  = enumOf(reflect.TypeOf(Outlier{}), "Method")
)

func enumOf(t reflect.Type, field string) []string {
	f, _ := t.FieldByName(field)
	if e := f.Tag.Get("enum"); e != "" {
		return strings.Split(e, ",")
	}
	return nil
}

// jsonName returns the YAML name of a struct field, or "" for fields that
// are not part of the file (json:"-" or unexported).
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name
}

// fieldNames returns the YAML names of t's fields in declaration order.
func fieldNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if n := jsonName(t.Field(i)); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func (d *decoder) errf(kind error, n ast.Node, format string, args ...any) {
	d.ds = append(d.ds, diagf(kind, d.nodePos(n), format, args...))
}

func (d *decoder) setPos(path string, n ast.Node) {
	if d.pos != nil {
		d.pos[path] = d.nodePos(n)
	}
}

// decode decodes n into v; path names the value (spec.sources[0].name) for
// the position table.
func (d *decoder) decode(n ast.Node, v reflect.Value, path string, fi fieldInfo) {
	n = d.resolve(n)
	if n == nil {
		return
	}
	if path != "" {
		d.setPos(path, n)
	}
	t := v.Type()
	switch t {
	case textType:
		d.decodeText(n, v.Addr().Interface().(*Text), fi)
		return
	case durationType:
		d.decodeDuration(n, v, fi)
		return
	case columnsType:
		d.decodeColumns(n, v, path)
		return
	case imputesType:
		d.decodeImputes(n, v, path)
		return
	case outliersType:
		d.decodeOutliers(n, v, path)
		return
	case paramsType:
		d.decodeParams(n, v, path)
		return
	}
	if t == anyType {
		if x := d.toAny(n, 0); x != nil {
			v.Set(reflect.ValueOf(x))
		}
		return
	}
	if isNull(n) {
		return // leave the zero value; required fields are checked by Validate
	}
	switch t.Kind() {
	case reflect.Pointer:
		nv := reflect.New(t.Elem())
		d.decode(n, nv.Elem(), path, fi)
		v.Set(nv)
	case reflect.Struct:
		d.decodeStruct(n, v, path, nil)
	case reflect.String:
		if !isScalar(n) {
			d.errf(ErrType, n, "%s must be a string, not %s", fi.label(), describe(n))
			return
		}
		s := scalarString(n)
		if fi.enum != nil && !d.checkEnum(n, s, fi) {
			return
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := n.(*ast.BoolNode)
		if !ok {
			d.errf(ErrType, n, "%s must be true or false, not %s", fi.label(), describe(n))
			return
		}
		v.SetBool(b.Value)
	case reflect.Int, reflect.Int64, reflect.Int32:
		i, ok := intOf(n)
		if !ok {
			d.errf(ErrType, n, "%s must be an integer, not %s", fi.label(), describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Float64, reflect.Float32:
		f, ok := floatOf(n)
		if !ok {
			d.errf(ErrType, n, "%s must be a number, not %s", fi.label(), describe(n))
			return
		}
		v.SetFloat(f)
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			d.errf(ErrType, n, "%s must be a list, not %s", fi.label(), describe(n)+listHint(n))
			return
		}
		sl := reflect.MakeSlice(t, len(seq.Values), len(seq.Values))
		for i, e := range seq.Values {
			d.decode(e, sl.Index(i), fmt.Sprintf("%s[%d]", path, i), fi)
		}
		v.Set(sl)
	case reflect.Map:
		es, ok := d.entries(n)
		if !ok {
			d.errf(ErrType, n, "%s must be a mapping, not %s", fi.label(), describe(n))
			return
		}
		mv := reflect.MakeMapWithSize(t, len(es))
		seen := map[string]bool{}
		for _, e := range es {
			if seen[e.key] {
				d.errf(ErrDuplicate, e.kn, "duplicate key %q", short(e.key))
				continue
			}
			seen[e.key] = true
			ev := reflect.New(t.Elem()).Elem()
			d.decode(e.vn, ev, path+"."+e.key, fieldInfo{name: e.key})
			mv.SetMapIndex(reflect.ValueOf(e.key).Convert(t.Key()), ev)
		}
		v.Set(mv)
	default:
		panic("spec: cannot decode into " + t.String())
	}
}

func listHint(n ast.Node) string {
	if isScalar(n) {
		return " (write [" + short(scalarString(n)) + "])"
	}
	return ""
}

func (fi fieldInfo) label() string {
	if fi.name == "" {
		return "the value"
	}
	return fi.name
}

// checkEnum reports whether s is one of fi.enum, reporting an error if not.
func (d *decoder) checkEnum(n ast.Node, s string, fi fieldInfo) bool {
	for _, e := range fi.enum {
		if s == e {
			return true
		}
	}
	dg := diagf(ErrValue, d.nodePos(n), "bad value %q for %s: want one of %s", short(s), fi.label(), strings.Join(fi.enum, ", "))
	if h := didYouMean(s, fi.enum); h != "" {
		dg = dg.withHint(h)
	}
	d.ds = append(d.ds, dg)
	return false
}

func intOf(n ast.Node) (int64, bool) {
	switch x := n.(type) {
	case *ast.IntegerNode:
		switch i := x.Value.(type) {
		case int64:
			return i, true
		case uint64:
			if i <= math.MaxInt64 {
				return int64(i), true
			}
		case int:
			return int64(i), true
		}
	case *ast.FloatNode:
		if x.Value == math.Trunc(x.Value) && math.Abs(x.Value) < 1<<53 {
			return int64(x.Value), true
		}
	}
	return 0, false
}

func floatOf(n ast.Node) (float64, bool) {
	switch x := n.(type) {
	case *ast.FloatNode:
		return x.Value, true
	case *ast.InfinityNode:
		return x.Value, true
	case *ast.NanNode:
		return math.NaN(), true
	}
	if i, ok := intOf(n); ok {
		return float64(i), true
	}
	if x, ok := n.(*ast.IntegerNode); ok {
		if u, ok := x.Value.(uint64); ok {
			return float64(u), true
		}
	}
	return 0, false
}

// toAny converts n to plain Go values: map[string]any, []any, string,
// int64, float64, bool or nil.
func (d *decoder) toAny(n ast.Node, depth int) any {
	n = d.resolve(n)
	if depth > d.o.maxDepth {
		return nil
	}
	switch x := n.(type) {
	case nil, *ast.NullNode:
		return nil
	case *ast.BoolNode:
		return x.Value
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		if i, ok := intOf(x); ok {
			if _, isInt := x.(*ast.IntegerNode); isInt {
				return i
			}
		}
		f, _ := floatOf(x)
		return f
	case *ast.SequenceNode:
		out := make([]any, len(x.Values))
		for i, e := range x.Values {
			out[i] = d.toAny(e, depth+1)
		}
		return out
	case *ast.MappingNode, *ast.MappingValueNode:
		es, _ := d.entries(x)
		out := make(map[string]any, len(es))
		for _, e := range es {
			out[e.key] = d.toAny(e.vn, depth+1)
		}
		return out
	}
	return scalarString(n)
}

// decodeStruct decodes a mapping into the struct v. Keys that are not
// fields go to extra when it is set and returns true; otherwise they are
// errors with a suggestion.
func (d *decoder) decodeStruct(n ast.Node, v reflect.Value, path string, extra func(e kv) bool) {
	t := v.Type()
	if pf := v.FieldByName("Pos"); pf.IsValid() && pf.Type() == posType {
		pf.Set(reflect.ValueOf(d.nodePos(n)))
	}
	es, ok := d.entries(n)
	if !ok {
		d.errf(ErrType, n, "%s must be a mapping, not %s", strings.TrimPrefix(lastPathElem(path), "."), describe(n))
		return
	}
	names := fieldNames(t)
	seen := map[string]bool{}
	for _, e := range es {
		if seen[e.key] {
			d.errf(ErrDuplicate, e.kn, "duplicate key %q", short(e.key))
			continue
		}
		seen[e.key] = true
		sf, ok := fieldByJSON(t, e.key)
		if !ok && strings.HasPrefix(e.key, "x-") {
			continue // extension fields, e.g. to hold anchors
		}
		if !ok {
			if extra != nil && extra(e) {
				continue
			}
			dg := diagf(ErrUnknown, d.nodePos(e.kn), "unknown field %q in %s", short(e.key), structLabel(t, path))
			if h := didYouMean(e.key, names); h != "" {
				dg = dg.withHint(h)
			} else {
				dg = dg.withHint("known fields: " + strings.Join(names, ", "))
			}
			d.ds = append(d.ds, dg)
			continue
		}
		sub := joinPath(path, e.key)
		vn := d.resolve(e.vn)
		if isNull(vn) {
			d.setPos(sub, e.kn)
		}
		fv := v.FieldByIndex(sf.Index)
		fi := fieldInfo{name: e.key}
		if en := sf.Tag.Get("enum"); en != "" {
			fi.enum = strings.Split(en, ",")
		}
		switch {
		case t == modelType && e.key == "training":
			d.decodeTraining(e.vn, v, sub)
		case sf.Type.Kind() == reflect.Map && sf.Type.Elem() == anyType && v.FieldByName(strings.TrimSuffix(sf.Name, "s")+"Pos").IsValid():
			prev := fv.Interface().(map[string]any) // hyper-parameters from training:
			d.decode(e.vn, fv, sub, fi)
			if len(prev) > 0 {
				cur := fv.Interface().(map[string]any)
				if cur == nil {
					cur = map[string]any{}
				}
				for k, x := range prev {
					if _, dup := cur[k]; dup {
						d.errf(ErrDuplicate, e.vn, "hyper-parameter %q is given twice (in params: and training:)", k)
					}
					cur[k] = x
				}
				fv.Set(reflect.ValueOf(cur))
			}
			pm := v.FieldByName(strings.TrimSuffix(sf.Name, "s") + "Pos")
			if pm.Type() == posMapType {
				if es2, ok := d.entries(vn); ok {
					if pm.IsNil() {
						pm.Set(reflect.MakeMap(posMapType))
					}
					for _, e2 := range es2 {
						pm.SetMapIndex(reflect.ValueOf(e2.key), reflect.ValueOf(d.nodePos(e2.kn)))
					}
				}
			}
		default:
			d.decode(e.vn, fv, sub, fi)
		}
		// Convention: a field XPos of type Pos holds the position of X's
		// value, one of type []Pos the positions of X's elements.
		if pf := v.FieldByName(sf.Name + "Pos"); pf.IsValid() {
			switch pf.Type() {
			case posType:
				p := d.nodePos(vn)
				if isNull(vn) {
					p = d.nodePos(e.kn)
				}
				pf.Set(reflect.ValueOf(p))
			case reflect.TypeOf([]Pos(nil)):
				if seq, ok := vn.(*ast.SequenceNode); ok {
					ps := make([]Pos, len(seq.Values))
					for i, x := range seq.Values {
						ps[i] = d.nodePos(d.resolve(x))
					}
					pf.Set(reflect.ValueOf(ps))
				}
			}
		}
	}
}

// decodeTraining decodes training: into model m; keys that are not fields
// of Training are hyper-parameters and go to m.Params and m.ParamPos.
func (d *decoder) decodeTraining(n ast.Node, m reflect.Value, path string) {
	model := m.Addr().Interface().(*Model)
	n = d.resolve(n)
	if isNull(n) {
		return
	}
	tr := &Training{}
	d.decodeStruct(n, reflect.ValueOf(tr).Elem(), path, func(e kv) bool {
		if model.Params == nil {
			model.Params = map[string]any{}
		}
		if model.ParamPos == nil {
			model.ParamPos = map[string]Pos{}
		}
		if _, dup := model.Params[e.key]; dup {
			d.errf(ErrDuplicate, e.kn, "hyper-parameter %q is given twice (in params: and training:)", e.key)
			return true
		}
		model.Params[e.key] = d.toAny(e.vn, 0)
		model.ParamPos[e.key] = d.nodePos(e.kn)
		d.setPos(strings.TrimSuffix(path, ".training")+".params."+e.key, e.vn)
		return true
	})
	model.Training = tr
}

func fieldByJSON(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if jsonName(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func lastPathElem(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	if path == "" {
		return "the document"
	}
	return path
}

// structLabel names the struct being decoded for messages, e.g. "source"
// or "spec".
func structLabel(t reflect.Type, path string) string {
	switch t {
	case reflect.TypeOf(Pipeline{}):
		return "the pipeline (want apiVersion, kind, metadata, spec)"
	}
	l := lastPathElem(path)
	if i := strings.IndexByte(l, '['); i >= 0 {
		l = l[:i]
		if l == "features" {
			return "feature (want one of onehot, hash, scale, tfidf, window)"
		}
		l = strings.TrimSuffix(l, "s")
	}
	return l
}

// decodeDuration parses a duration scalar.
func (d *decoder) decodeDuration(n ast.Node, v reflect.Value, fi fieldInfo) {
	if isNull(n) {
		return
	}
	if !isScalar(n) {
		d.errf(ErrType, n, "%s must be a duration such as 5s, not %s", fi.label(), describe(n))
		return
	}
	s := scalarString(n)
	if i, ok := intOf(n); ok && i != 0 {
		h := fmt.Sprintf("did you mean \"%ss\" or \"%sms\"?", s, s)
		if fi.name == "window" {
			h += " (a hyper-parameter named window goes under params:)"
		}
		d.ds = append(d.ds, diagf(ErrValue, d.nodePos(n), "%s: duration %q has no unit", fi.label(), s).withHint(h))
		return
	}
	dur, err := ParseDuration(s)
	if err != nil {
		d.ds = append(d.ds, diagf(ErrValue, d.nodePos(n), "%s: %v", fi.label(), err))
		return
	}
	v.SetInt(int64(dur))
}

// columnType parses a column type, reporting an error at n.
func (d *decoder) columnType(n ast.Node, col string) (udf.Type, bool) {
	if !isScalar(n) {
		d.errf(ErrType, n, "type of column %s must be a type name, not %s", col, describe(n))
		return 0, false
	}
	s := scalarString(n)
	t, ok := udf.ParseType(s)
	if !ok {
		dg := diagf(ErrValue, d.nodePos(n), "unknown column type %q for column %s: want one of %s", short(s), short(col), strings.Join(udf.ColumnTypeNames, ", "))
		if h := didYouMean(s, udf.ColumnTypeNames); h != "" {
			dg = dg.withHint(h)
		}
		d.ds = append(d.ds, dg)
		return 0, false
	}
	return t, true
}

// decodeColumns decodes a schema: a mapping of column name to type or
// {type, nullable}, or a list of {name, type, nullable}.
func (d *decoder) decodeColumns(n ast.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	var cols []Column
	if seq, ok := n.(*ast.SequenceNode); ok {
		for i, e := range seq.Values {
			var c Column
			d.decodeColumnBody(e, &c, fmt.Sprintf("%s[%d]", path, i), true)
			cols = append(cols, c)
		}
		v.Set(reflect.ValueOf(cols))
		return
	}
	es, ok := d.entries(n)
	if !ok {
		d.errf(ErrType, n, "schema must be a mapping of column name to type, not %s", describe(n))
		return
	}
	seen := map[string]bool{}
	for _, e := range es {
		if seen[e.key] {
			d.errf(ErrDuplicate, e.kn, "duplicate column %q", e.key)
			continue
		}
		seen[e.key] = true
		c := Column{Name: e.key, Pos: d.nodePos(e.kn)}
		vn := d.resolve(e.vn)
		d.setPos(joinPath(path, e.key), vn)
		if isScalar(vn) {
			if t, ok := d.columnType(vn, e.key); ok {
				c.Type = t
			}
		} else if isNull(vn) {
			d.errf(ErrMissing, e.kn, "column %s has no type", e.key)
		} else {
			d.decodeColumnBody(vn, &c, joinPath(path, e.key), false)
			c.Pos = d.nodePos(e.kn)
		}
		cols = append(cols, c)
	}
	v.Set(reflect.ValueOf(cols))
}

// decodeColumnBody decodes {name?, type, nullable}.
func (d *decoder) decodeColumnBody(n ast.Node, c *Column, path string, needName bool) {
	n = d.resolve(n)
	es, ok := d.entries(n)
	if !ok {
		d.errf(ErrType, n, "column must be a type name or {type, nullable}, not %s", describe(n))
		return
	}
	c.Pos = d.nodePos(n)
	hasType := false
	for _, e := range es {
		vn := d.resolve(e.vn)
		switch e.key {
		case "name":
			if needName {
				c.Name = scalarString(vn)
				continue
			}
			fallthrough
		default:
			known := []string{"type", "nullable"}
			if needName {
				known = append(known, "name")
			}
			dg := diagf(ErrUnknown, d.nodePos(e.kn), "unknown field %q in column", short(e.key))
			if h := didYouMean(e.key, known); h != "" {
				dg = dg.withHint(h)
			}
			d.ds = append(d.ds, dg)
		case "type":
			hasType = true
			if t, ok := d.columnType(vn, c.Name); ok {
				c.Type = t
			}
		case "nullable":
			b, ok := vn.(*ast.BoolNode)
			if !ok {
				d.errf(ErrType, vn, "nullable must be true or false, not %s", describe(vn))
				continue
			}
			c.Nullable = b.Value
		}
	}
	if !hasType {
		d.errf(ErrMissing, n, "column %s has no type", c.Name)
	}
	if needName && c.Name == "" {
		d.errf(ErrMissing, n, "column has no name")
	}
}

// decodeImputes decodes impute: a mapping of column to a method name, to
// {constant: v} (and other {method: arg} shorthands) or to {method, value,
// by}; or a list of {column, method, value, by}.
func (d *decoder) decodeImputes(n ast.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	var out []Impute
	if seq, ok := n.(*ast.SequenceNode); ok {
		for i, e := range seq.Values {
			var im Impute
			d.decodeStruct(d.resolve(e), reflect.ValueOf(&im).Elem(), fmt.Sprintf("%s[%d]", path, i), nil)
			out = append(out, im)
		}
		v.Set(reflect.ValueOf(out))
		return
	}
	es, ok := d.entries(n)
	if !ok {
		d.errf(ErrType, n, "impute must be a mapping of column to method, not %s", describe(n))
		return
	}
	fi := fieldInfo{name: "impute method", enum: imputeMethods}
	for _, e := range es {
		im := Impute{Column: e.key, Pos: d.nodePos(e.kn)}
		vn := d.resolve(e.vn)
		sub := joinPath(path, e.key)
		d.setPos(sub, vn)
		switch {
		case isScalar(vn):
			if s := scalarString(vn); d.checkEnum(vn, s, fi) {
				im.Method = s
			}
		case isNull(vn):
			d.errf(ErrMissing, e.kn, "impute of column %s has no method", e.key)
		default:
			es2, ok := d.entries(vn)
			if !ok {
				d.errf(ErrType, vn, "impute of column %s must be a method or a mapping, not %s", e.key, describe(vn))
				break
			}
			if len(es2) == 1 && es2[0].key != "method" && contains(imputeMethods, es2[0].key) {
				im.Method = es2[0].key
				im.Value = d.toAny(es2[0].vn, 0)
				break
			}
			d.decodeStruct(vn, reflect.ValueOf(&im).Elem(), sub, nil)
			im.Column = e.key
			im.Pos = d.nodePos(e.kn)
			if im.Method == "" {
				d.errf(ErrMissing, vn, "impute of column %s has no method", e.key)
			}
		}
		out = append(out, im)
	}
	v.Set(reflect.ValueOf(out))
}

// decodeOutliers decodes outliers: a mapping of column to a method name or
// {method, threshold, lower, upper, action}; or a list of full entries.
func (d *decoder) decodeOutliers(n ast.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	var out []Outlier
	if seq, ok := n.(*ast.SequenceNode); ok {
		for i, e := range seq.Values {
			var o Outlier
			d.decodeStruct(d.resolve(e), reflect.ValueOf(&o).Elem(), fmt.Sprintf("%s[%d]", path, i), nil)
			out = append(out, o)
		}
		v.Set(reflect.ValueOf(out))
		return
	}
	es, ok := d.entries(n)
	if !ok {
		d.errf(ErrType, n, "outliers must be a mapping of column to method, not %s", describe(n))
		return
	}
	for _, e := range es {
		o := Outlier{Column: e.key}
		vn := d.resolve(e.vn)
		sub := joinPath(path, e.key)
		d.setPos(sub, vn)
		switch {
		case isScalar(vn):
			if s := scalarString(vn); d.checkEnum(vn, s, fieldInfo{name: "outlier method", enum: outlierMeths}) {
				o.Method = s
			}
		case isNull(vn):
			d.errf(ErrMissing, e.kn, "outliers of column %s has no method", e.key)
		default:
			d.decodeStruct(vn, reflect.ValueOf(&o).Elem(), sub, nil)
			o.Column = e.key
			if o.Method == "" {
				d.errf(ErrMissing, vn, "outliers of column %s has no method", e.key)
			}
		}
		o.Pos = d.nodePos(e.kn)
		out = append(out, o)
	}
	v.Set(reflect.ValueOf(out))
}

// decodeParams decodes function parameters: names or {name, type}.
func (d *decoder) decodeParams(n ast.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.errf(ErrType, n, "params must be a list of names, not %s", describe(n)+listHint(n))
		return
	}
	var out []Param
	for i, e := range seq.Values {
		e = d.resolve(e)
		var p Param
		if isScalar(e) {
			p = Param{Name: scalarString(e), Pos: d.nodePos(e)}
		} else {
			d.decodeStruct(e, reflect.ValueOf(&p).Elem(), fmt.Sprintf("%s[%d]", path, i), nil)
		}
		out = append(out, p)
	}
	v.Set(reflect.ValueOf(out))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// estimateNodes counts, without parsing, a lower bound of the YAML nodes
// of b: one per mapping key and list item on a line (outside block
// scalars and comments) and one per comma inside flow collections. The
// parser needs time and memory in proportion to the nodes, so a file far
// over the node limit is refused before it is parsed. It returns the
// offset of the line where the count passes limit, or -1.
func estimateNodes(b []byte, limit int) int {
	n := 0
	blockIndent := -1 // indentation of the line that opened a block scalar
	depth := 0        // of flow collections
	for off := 0; off < len(b); {
		end := off
		for end < len(b) && b[end] != '\n' {
			end++
		}
		line := b[off:end]
		ind := 0
		for ind < len(line) && line[ind] == ' ' {
			ind++
		}
		rest := line[ind:]
		switch {
		case blockIndent >= 0 && (len(rest) == 0 || ind > blockIndent):
			// inside a block scalar
		case len(rest) == 0 || rest[0] == '#':
		default:
			blockIndent = -1
			for len(rest) >= 2 && rest[0] == '-' && (rest[1] == ' ' || rest[1] == '\t') {
				n++
				rest = rest[2:]
			}
			if len(rest) == 1 && rest[0] == '-' {
				n++
			}
			if i := bytesIndexColon(rest); i >= 0 {
				n++
			}
			for _, c := range rest {
				switch c {
				case '[', '{':
					depth++
				case ']', '}':
					if depth > 0 {
						depth--
					}
				case ',':
					if depth > 0 {
						n++
					}
				}
			}
			if t := trimComment(rest); len(t) > 0 && (t[len(t)-1] == '|' || t[len(t)-1] == '>' || len(t) > 1 && (t[len(t)-2] == '|' || t[len(t)-2] == '>')) {
				blockIndent = ind
			}
		}
		if n > limit {
			return off
		}
		off = end + 1
	}
	return -1
}

// bytesIndexColon returns the index of a mapping colon (": " or a final
// ":") in line, or -1.
func bytesIndexColon(line []byte) int {
	for i := 0; i < len(line); i++ {
		if line[i] == ':' && (i+1 == len(line) || line[i+1] == ' ' || line[i+1] == '\t') {
			return i
		}
		if line[i] == '#' && i > 0 && line[i-1] == ' ' {
			return -1
		}
	}
	return -1
}

// trimComment drops a trailing " # comment" and spaces.
func trimComment(line []byte) []byte {
	for i := 1; i < len(line); i++ {
		if line[i] == '#' && (line[i-1] == ' ' || line[i-1] == '\t') {
			line = line[:i]
			break
		}
	}
	for len(line) > 0 && (line[len(line)-1] == ' ' || line[len(line)-1] == '\t' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	return line
}
