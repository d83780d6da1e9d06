package spec

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/file"
	exprparser "github.com/expr-lang/expr/parser"

	"github.com/flowrun/flowrun/ml"
	"github.com/flowrun/flowrun/udf"
)

var (
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	ident    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// node is a named source, stage, model or sink.
type node struct {
	kind string // source, stage, model, sink
	name string
	pos  Pos
	path string
	used bool
}

func (v *validator) err(kind error, p Pos, format string, args ...any) *Diagnostic {
	v.ds = append(v.ds, diagf(kind, v.fix(p), format, args...))
	return &v.ds[len(v.ds)-1]
}

func (v *validator) warn(kind error, p Pos, format string, args ...any) *Diagnostic {
	v.ds = append(v.ds, warnf(kind, v.fix(p), format, args...))
	return &v.ds[len(v.ds)-1]
}

// fix gives a position to a diagnostic that would have none.
func (v *validator) fix(p Pos) Pos {
	if p.Line > 0 {
		return p
	}
	q := v.p.Pos
	if q.Line == 0 {
		q = Pos{File: v.p.File(), Line: 1, Col: 1}
	}
	if q.File == "" {
		q.File = v.p.File()
	}
	return q
}

func (v *validator) at(path string) Pos { return v.p.PosOf(path) }

func (v *validator) run() {
	p := v.p
	v.nodes = map[string]*node{}
	v.schemas = map[string]*relSchema{}

	// Envelope.
	switch {
	case p.APIVersion == "":
		v.err(ErrMissing, p.Pos, "missing apiVersion").Hint = "add apiVersion: " + APIVersion
	case p.APIVersion != APIVersion:
		v.err(ErrValue, v.at("apiVersion"), "unsupported apiVersion %q", short(p.APIVersion)).Hint = "want " + APIVersion
	}
	switch {
	case p.Kind == "":
		v.err(ErrMissing, p.Pos, "missing kind").Hint = "add kind: " + KindPipeline
	case p.Kind != KindPipeline:
		d := v.err(ErrValue, v.at("kind"), "unsupported kind %q: want %s", short(p.Kind), KindPipeline)
		d.Hint = didYouMean(p.Kind, []string{KindPipeline})
	}
	switch {
	case p.Metadata.Name == "":
		v.err(ErrMissing, v.at("metadata"), "missing metadata.name")
	case !dnsLabel.MatchString(p.Metadata.Name) || len(p.Metadata.Name) > 63:
		v.err(ErrValue, v.at("metadata.name"), "pipeline name %q must be lower-case letters, digits and '-' (at most 63)", short(p.Metadata.Name))
	}
	if p.Spec.Parallelism < 0 {
		v.err(ErrValue, v.at("spec.parallelism"), "parallelism must not be negative (got %d)", p.Spec.Parallelism)
	}
	if len(p.Spec.Sources) == 0 {
		v.err(ErrMissing, v.at("spec"), "the pipeline has no sources")
	}

	v.collectNames()
	for i := range p.Spec.Sources {
		v.source(i)
	}
	v.functions()
	for i := range p.Spec.Stages {
		v.stage(i)
	}
	v.cycles()
	for i := range p.Spec.Models {
		v.model(i)
	}
	for i := range p.Spec.Sinks {
		v.sink(i)
	}
	// Unused names are not reported when a broken reference or SQL text
	// may be hiding a use.
	if v.brokenRefs {
		return
	}
	for _, d := range v.ds {
		if d.Err == ErrSQL {
			return
		}
	}
	for i, s := range p.Spec.Stages {
		if n := v.nodes[s.Name]; n != nil && n.kind == "stage" && !n.used && n.pos == v.at(fmt.Sprintf("spec.stages[%d].name", i)) {
			v.warn(ErrUnused, n.pos, "stage %s is not used by any stage, model or sink", s.Name)
		}
	}
	for i, s := range p.Spec.Sources {
		if n := v.nodes[s.Name]; n != nil && n.kind == "source" && !n.used && n.pos == v.at(fmt.Sprintf("spec.sources[%d].name", i)) {
			v.warn(ErrUnused, n.pos, "source %s is not read by any stage, model or sink", s.Name)
		}
	}
}

// collectNames records every named thing and reports missing, malformed
// and duplicate names.
func (v *validator) collectNames() {
	add := func(kind string, i int, name string) {
		path := fmt.Sprintf("spec.%ss[%d]", kind, i)
		if name == "" {
			v.err(ErrMissing, v.at(path), "%s #%d has no name", kind, i+1)
			return
		}
		pos := v.at(path + ".name")
		if !ident.MatchString(name) {
			v.err(ErrValue, pos, "%s name %q must be letters, digits and _ (a SQL identifier)", kind, short(name))
		}
		if prev, dup := v.nodes[name]; dup {
			v.err(ErrDuplicate, pos, "duplicate name %q: already used by %s at %s", name, prev.kind, shortPos(prev.pos, pos))
			return
		}
		v.nodes[name] = &node{kind: kind, name: name, pos: pos, path: path}
	}
	for i, s := range v.p.Spec.Sources {
		add("source", i, s.Name)
	}
	for i, s := range v.p.Spec.Stages {
		add("stage", i, s.Name)
	}
	for i, m := range v.p.Spec.Models {
		add("model", i, m.Name)
	}
	for i, s := range v.p.Spec.Sinks {
		add("sink", i, s.Name)
	}
}

// shortPos prints p as line:col when it is in the same file as rel.
func shortPos(p, rel Pos) string {
	if p.File == rel.File {
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return p.String()
}

// names returns the names of the given kinds, sorted.
func (v *validator) names(kinds ...string) []string {
	var out []string
	for n, x := range v.nodes {
		for _, k := range kinds {
			if x.kind == k {
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out
}

// ref checks a reference to a relation (a source or stage) from what.
// It marks the target used and returns it, or nil.
func (v *validator) ref(name string, pos Pos, what string) *node {
	n := v.nodes[name]
	if n == nil || n.kind != "source" && n.kind != "stage" {
		v.brokenRefs = true
		var d *Diagnostic
		if n != nil {
			d = v.err(ErrReference, pos, "%s reads %q, which is a %s, not a source or stage", what, name, n.kind)
		} else {
			d = v.err(ErrReference, pos, "unknown name %q in %s", short(name), what)
			d.Hint = didYouMean(name, v.names("source", "stage"))
		}
		return nil
	}
	n.used = true
	return n
}

func (v *validator) source(i int) {
	s := &v.p.Spec.Sources[i]
	path := fmt.Sprintf("spec.sources[%d]", i)
	label := "source " + s.Name
	if s.JetStream == nil {
		v.err(ErrMissing, v.at(path), "%s has no jetstream: {stream: ...} to read", label)
	} else if s.JetStream.Stream == "" {
		v.err(ErrMissing, v.at(path+".jetstream"), "%s: jetstream has no stream", label)
	}
	if s.Format == "csv" && s.CSV != nil && len(s.CSV.Delimiter) > 1 && utf8.RuneCountInString(s.CSV.Delimiter) != 1 {
		v.err(ErrValue, v.at(path+".csv.delimiter"), "csv delimiter must be one character, not %q", s.CSV.Delimiter)
	}
	v.csvOptions(s, path)
	if s.CSV != nil && s.Format != "csv" {
		v.warn(ErrValue, v.at(path+".csv"), "csv options are ignored unless format is csv")
	}
	if len(s.Schema) == 0 {
		v.err(ErrMissing, v.at(path), "%s has no schema", label).Hint = "add schema: {column: type, ...}"
	}
	v.timestampFormat(s, path)
	if s.EventTime != nil {
		col := s.EventTime.Column
		cp := v.at(path + ".eventTime.column")
		switch c := findColumn(s.Schema, col); {
		case col == "":
			v.err(ErrMissing, v.at(path+".eventTime"), "%s: eventTime has no column", label)
		case c == nil:
			d := v.err(ErrReference, cp, "eventTime column %q is not in the schema of %s", short(col), label)
			d.Hint = didYouMean(col, columnNames(s.Schema))
		case c.Type != udf.TypeTimestamp && c.Type != udf.TypeNull:
			v.err(ErrType, cp, "eventTime column %s is %s, not timestamp", col, c.Type).Hint = "declare it as " + col + ": timestamp"
		}
		if s.EventTime.MaxOutOfOrderness < 0 {
			v.err(ErrValue, v.at(path+".eventTime.maxOutOfOrderness"), "maxOutOfOrderness must not be negative")
		}
	}
	switch sf := s.StartFrom; sf {
	case "", "earliest", "latest":
	default:
		if _, err := time.Parse(time.RFC3339, sf); err != nil {
			d := v.err(ErrValue, v.at(path+".startFrom"), "bad startFrom %q: want earliest, latest or an RFC 3339 time", short(sf))
			d.Hint = didYouMean(sf, []string{"earliest", "latest"})
		}
	}
	if n := v.nodes[s.Name]; n != nil && n.path == path {
		v.schemas[s.Name] = &relSchema{cols: s.Schema, known: true}
	}
}

func findColumn(cols []Column, name string) *Column {
	for i := range cols {
		if cols[i].Name == name {
			return &cols[i]
		}
	}
	return nil
}

func columnNames(cols []Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

// functions compiles the user functions with udf.CompileUserFuncs and maps
// each error into the file.
func (v *validator) functions() {
	fns := v.p.Spec.Functions
	if len(fns) == 0 {
		return
	}
	ufs := make([]udf.UserFunc, 0, len(fns))
	byName := map[string]int{}
	for i, f := range fns {
		path := fmt.Sprintf("spec.functions[%d]", i)
		if f.Name == "" {
			v.err(ErrMissing, v.at(path), "function #%d has no name", i+1)
			continue
		}
		if f.Expr.Value == "" {
			v.err(ErrMissing, v.at(path), "function %s has no expr", f.Name)
			continue
		}
		if !v.exprLimit(&f.Expr) {
			continue
		}
		uf := udf.UserFunc{Name: f.Name, Expr: f.Expr.Value, Returns: udf.TypeAny}
		ok := true
		if f.Returns != "" {
			t, good := udf.ParseType(f.Returns)
			if !good {
				d := v.err(ErrValue, v.at(path+".returns"), "unknown type %q: want one of %s", short(f.Returns), strings.Join(udf.ColumnTypeNames, ", "))
				d.Hint = didYouMean(f.Returns, udf.ColumnTypeNames)
				ok = false
			}
			uf.Returns = t
		}
		for j, pa := range f.Params {
			pt := udf.TypeAny
			if pa.Type != "" {
				t, good := udf.ParseType(pa.Type)
				if !good {
					d := v.err(ErrValue, v.at(fmt.Sprintf("%s.params[%d].type", path, j)), "unknown type %q: want one of %s", short(pa.Type), strings.Join(udf.ColumnTypeNames, ", "))
					d.Hint = didYouMean(pa.Type, udf.ColumnTypeNames)
					ok = false
				}
				pt = t
			}
			uf.Params = append(uf.Params, udf.Param{Name: pa.Name, Type: pt})
		}
		if ok {
			byName[strings.ToLower(f.Name)] = i
			ufs = append(ufs, uf)
		}
	}
	env, errs := compileUserFuncs(ufs)
	v.env = env
	for _, e := range errs {
		i, ok := byName[strings.ToLower(e.Func)]
		if !ok {
			v.err(ErrExpr, v.at("spec.functions"), "%s", e.Error())
			continue
		}
		f := &fns[i]
		pos := f.Expr.PosAt(e.Offset)
		if strings.Contains(e.Msg, "function name") || strings.Contains(e.Msg, "declared twice") && strings.HasPrefix(e.Msg, "function") || strings.Contains(e.Msg, "shadows") {
			pos = v.at(fmt.Sprintf("spec.functions[%d].name", i))
		}
		v.err(ErrExpr, pos, "function %s: %s", f.Name, e.Msg)
	}
}

// compileUserFuncs calls udf.CompileUserFuncs, turning a panic into an
// error (the fuzz target must not crash on expr-lang bugs).
func compileUserFuncs(ufs []udf.UserFunc) (env *udf.Env, errs []udf.CompileError) {
	defer func() {
		if r := recover(); r != nil {
			env, errs = nil, []udf.CompileError{{Func: "", Msg: fmt.Sprintf("internal error compiling functions: %v", r)}}
		}
	}()
	return udf.CompileUserFuncs(ufs)
}

// exprLimit reports whether an expression is within the SQL/expr length cap.
func (v *validator) exprLimit(t *Text) bool {
	if len(t.Value) > v.o.maxSQLLength {
		v.err(ErrLimit, t.Pos, "expression is %d bytes, over the limit of %d (max sql length)", len(t.Value), v.o.maxSQLLength).Hint =
			"raise it with --max-sql-length (spec.WithMaxSQLLength)"
		return false
	}
	return true
}

// predicate checks an expr-lang predicate over the relation from: fully
// (names and types) when the relation's columns are known here, else its
// syntax only (the planner checks the rest).
func (v *validator) predicate(t *Text, rel *relSchema, what string) {
	if t == nil || t.Value == "" || !v.exprLimit(t) {
		return
	}
	if rel != nil && rel.known {
		cols := make([]udf.Column, len(rel.cols))
		for i, c := range rel.cols {
			cols[i] = udf.Column{Name: c.Name, Type: c.Type}
			if c.Type == udf.TypeNull {
				cols[i].Type = udf.TypeAny // its type was not decoded: reported already
			}
		}
		_, errs := compilePredicate(t.Value, cols, v.env)
		for _, e := range errs {
			v.err(ErrExpr, t.PosAt(e.Offset), "%s: %s", what, e.Msg)
		}
		return
	}
	if _, err := exprParse(t.Value); err != nil {
		if fe, ok := err.(*file.Error); ok {
			v.err(ErrExpr, t.PosAt(runeToByte(t.Value, fe.From)), "%s: %s", what, fe.Message)
		} else {
			v.err(ErrExpr, t.Pos, "%s: %v", what, err)
		}
	}
}

func compilePredicate(src string, cols []udf.Column, env *udf.Env) (p *udf.Program, errs []udf.CompileError) {
	defer func() {
		if r := recover(); r != nil {
			p, errs = nil, []udf.CompileError{{Msg: fmt.Sprintf("internal error compiling expression: %v", r)}}
		}
	}()
	return udf.CompilePredicate(src, cols, env)
}

func exprParse(src string) (tree any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot parse expression: %v", r)
		}
	}()
	return exprparser.Parse(src)
}

// runeToByte converts a rune offset of s to a byte offset.
func runeToByte(s string, r int) int {
	i := 0
	for b := range s {
		if i == r {
			return b
		}
		i++
	}
	return len(s)
}

// relSchema is what is known of the columns of a relation.
type relSchema struct {
	cols  []Column
	known bool // false for SQL stages (the planner knows) and unknowns
}

func (r *relSchema) has(name string) bool { return !r.known || findColumn(r.cols, name) != nil }

// schemaOf returns the columns of the source or stage name.
func (v *validator) schemaOf(name string) *relSchema {
	if r, ok := v.schemas[name]; ok {
		if r == nil {
			return &relSchema{} // a cycle
		}
		return r
	}
	v.schemas[name] = nil
	r := &relSchema{}
	for i := range v.p.Spec.Stages {
		s := &v.p.Spec.Stages[i]
		if s.Name != name {
			continue
		}
		switch s.Kind() {
		case "clean":
			in := v.schemaOf(s.From)
			*r = *in
		case "features":
			in := v.schemaOf(s.From)
			if in.known {
				r.known = true
				r.cols = append([]Column(nil), in.cols...)
				for _, f := range s.Features {
					for _, c := range featureOutputs(f, r.cols) {
						if old := findColumn(r.cols, c.Name); old != nil {
							*old = c
						} else {
							r.cols = append(r.cols, c)
						}
					}
				}
			}
		}
		break
	}
	v.schemas[name] = r
	return r
}

// featureOutputs returns the columns a feature transform adds (or
// replaces) given its input columns.
func featureOutputs(f Feature, in []Column) []Column {
	vec := func(name string) []Column { return []Column{{Name: name, Type: udf.TypeVector}} }
	switch {
	case f.OneHot != nil:
		return vec(or(f.OneHot.Output, f.OneHot.Input))
	case f.Hash != nil:
		return vec(f.Hash.Output)
	case f.TFIDF != nil:
		return vec(or(f.TFIDF.Output, f.TFIDF.Input))
	case f.Window != nil:
		return vec(or(f.Window.Output, f.Window.Input))
	case f.Scale != nil:
		var out []Column
		for i, name := range f.Scale.Inputs {
			if i < len(f.Scale.Outputs) {
				name = f.Scale.Outputs[i]
			}
			out = append(out, Column{Name: name, Type: udf.TypeDouble})
		}
		return out
	}
	return nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (v *validator) stage(i int) {
	s := &v.p.Spec.Stages[i]
	path := fmt.Sprintf("spec.stages[%d]", i)
	label := "stage " + s.Name
	var kinds []string
	if s.SQL != nil {
		kinds = append(kinds, "sql")
	}
	if s.Clean != nil {
		kinds = append(kinds, "clean")
	}
	if s.Features != nil {
		kinds = append(kinds, "features")
	}
	switch len(kinds) {
	case 0:
		v.err(ErrMissing, v.at(path), "%s has none of sql, clean, features", label).Hint = "a stage does exactly one of them"
	case 1:
	default:
		v.err(ErrValue, v.at(path+"."+kinds[1]), "%s has both %s and %s", label, kinds[0], kinds[1]).Hint = "a stage does exactly one of sql, clean, features: split it in two stages"
	}
	if s.Table != nil && len(s.Table.Key) == 0 {
		v.err(ErrMissing, v.at(path+".table"), "%s: table needs a key", label)
	}
	var in *relSchema
	if s.SQL == nil {
		if s.From == "" {
			if len(kinds) > 0 {
				v.err(ErrMissing, v.at(path), "%s has no from: naming its input", label)
			}
		} else if v.ref(s.From, v.at(path+".from"), "from of "+label) != nil {
			if s.From == s.Name {
				v.err(ErrCycle, v.at(path+".from"), "%s reads itself", label)
			} else {
				in = v.schemaOf(s.From)
			}
		}
	} else if s.From != "" {
		v.err(ErrValue, v.at(path+".from"), "%s: a SQL stage names its input in FROM, not in from:", label)
	}
	if s.SQL != nil {
		v.sql(i, s, path)
	}
	if s.Clean != nil {
		v.clean(s.Clean, in, path+".clean", label)
	}
	for j, f := range s.Features {
		v.feature(f, in, fmt.Sprintf("%s.features[%d]", path, j), label)
	}
}

// sql parses a SQL stage and checks the names in FROM and JOIN.
func (v *validator) sql(i int, s *Stage, path string) {
	t := s.SQL
	if strings.TrimSpace(t.Value) == "" {
		v.err(ErrMissing, v.at(path+".sql"), "stage %s: sql is empty", s.Name)
		return
	}
	if len(t.Value) > v.o.maxSQLLength {
		v.err(ErrLimit, t.Pos, "SQL of stage %s is %d bytes, over the limit of %d (max sql length)", s.Name, len(t.Value), v.o.maxSQLLength).Hint =
			"raise it with --max-sql-length (spec.WithMaxSQLLength)"
		return
	}
	stmt, tables, ds := ParseSQL(t)
	if len(ds) > 0 {
		v.ds = append(v.ds, ds...)
		return
	}
	if !isSelect(stmt) {
		v.err(ErrSQL, t.Pos, "the SQL of stage %s must be a SELECT", s.Name)
		return
	}
	for _, tb := range tables {
		if strings.EqualFold(tb.Name, "dual") {
			continue
		}
		n := v.ref(tb.Name, t.PosAt(tb.Offset), "FROM of stage "+s.Name)
		if n != nil {
			v.edges[s.Name] = append(v.edges[s.Name], edge{to: n.name, pos: t.PosAt(tb.Offset)})
		}
	}
}

// edge is a read of stage `to`, written at pos.
type edge struct {
	to  string
	pos Pos
}

func (v *validator) clean(c *Clean, in *relSchema, path, label string) {
	if c.Dedup != nil {
		if len(c.Dedup.Key) == 0 {
			v.err(ErrMissing, v.at(path+".dedup"), "%s: dedup needs a key", label)
		}
		if c.Dedup.Within <= 0 && !v.broken(path+".dedup.within") {
			v.err(ErrMissing, v.at(path+".dedup"), "%s: dedup needs within: (a duration such as 10m)", label)
		}
		for j, k := range c.Dedup.Key {
			v.column(in, k, v.at(fmt.Sprintf("%s.dedup.key[%d]", path, j)), label)
		}
	}
	for _, im := range c.Impute {
		v.column(in, im.Column, im.Pos, label)
		if im.Method == "constant" && im.Value == nil {
			v.err(ErrMissing, im.Pos, "%s: impute constant of %s needs a value", label, im.Column).Hint = "write " + im.Column + ": {constant: VALUE}"
		}
	}
	for _, o := range c.Outliers {
		v.column(in, o.Column, o.Pos, label)
		if o.Method == "bounds" && o.Lower == nil && o.Upper == nil {
			v.err(ErrMissing, o.Pos, "%s: outliers bounds of %s needs lower and/or upper", label, o.Column)
		}
		if o.Threshold < 0 {
			v.err(ErrValue, o.Pos, "%s: outlier threshold must not be negative", label)
		}
	}
	v.predicate(c.Filter, in, label+" filter")
}

// column checks that a column exists in a relation whose columns are known.
func (v *validator) column(in *relSchema, name string, pos Pos, label string) {
	if in == nil || in.has(name) {
		return
	}
	d := v.err(ErrReference, pos, "%s: unknown column %q", label, short(name))
	d.Hint = didYouMean(name, columnNames(in.cols))
}

func (v *validator) feature(f Feature, in *relSchema, path, label string) {
	n := 0
	for _, x := range []bool{f.OneHot != nil, f.Hash != nil, f.Scale != nil, f.TFIDF != nil, f.Window != nil} {
		if x {
			n++
		}
	}
	if n != 1 {
		v.err(ErrValue, v.at(path), "%s: each feature is exactly one of onehot, hash, scale, tfidf, window (found %d)", label, n)
		return
	}
	var inputs []string
	var inPath []string
	switch {
	case f.OneHot != nil:
		inputs, inPath = []string{f.OneHot.Input}, []string{".onehot.input"}
	case f.Hash != nil:
		inputs = f.Hash.Inputs
		for j := range inputs {
			inPath = append(inPath, fmt.Sprintf(".hash.inputs[%d]", j))
		}
		if f.Hash.Output == "" {
			v.err(ErrMissing, v.at(path+".hash"), "%s: hash needs an output name", label)
		}
	case f.Scale != nil:
		inputs = f.Scale.Inputs
		for j := range inputs {
			inPath = append(inPath, fmt.Sprintf(".scale.inputs[%d]", j))
		}
		if len(f.Scale.Outputs) > 0 && len(f.Scale.Outputs) != len(f.Scale.Inputs) {
			v.err(ErrValue, v.at(path+".scale.outputs"), "%s: scale has %d inputs but %d outputs", label, len(f.Scale.Inputs), len(f.Scale.Outputs))
		}
	case f.TFIDF != nil:
		inputs, inPath = []string{f.TFIDF.Input}, []string{".tfidf.input"}
	case f.Window != nil:
		inputs, inPath = []string{f.Window.Input}, []string{".window.input"}
		for j, k := range f.Window.Key {
			v.column(in, k, v.at(fmt.Sprintf("%s.window.key[%d]", path, j)), label)
		}
		if f.Window.Size < 0 || f.Window.FFT < 0 || f.Window.Lags < 0 {
			v.err(ErrValue, v.at(path+".window"), "%s: window size, fft and lags must not be negative", label)
		}
		if f.Window.FFT > 0 && f.Window.Size > 0 && f.Window.FFT > f.Window.Size/2+1 {
			v.err(ErrValue, v.at(path+".window.fft"), "%s: fft %d is more bins than a window of %d points has (%d)", label, f.Window.FFT, f.Window.Size, f.Window.Size/2+1)
		}
	}
	if len(inputs) == 0 {
		v.err(ErrMissing, v.at(path), "%s: the transform has no input", label)
	}
	for j, name := range inputs {
		if name == "" {
			v.err(ErrMissing, v.at(path), "%s: the transform has no input", label)
			continue
		}
		v.column(in, name, v.at(path+inPath[j]), label)
	}
}

// cycles reports cycles between stages.
func (v *validator) cycles() {
	for i := range v.p.Spec.Stages {
		s := &v.p.Spec.Stages[i]
		if s.SQL == nil && s.From != "" {
			if n := v.nodes[s.From]; n != nil && n.kind == "stage" && s.From != s.Name {
				v.edges[s.Name] = append(v.edges[s.Name], edge{to: s.From, pos: v.at(fmt.Sprintf("spec.stages[%d].from", i))})
			}
		}
	}
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	reported := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		color[name] = grey
		stack = append(stack, name)
		for _, e := range v.edges[name] {
			switch color[e.to] {
			case white:
				visit(e.to)
			case grey:
				// The cycle is the stack from e.to to the top.
				k := len(stack) - 1
				for k > 0 && stack[k] != e.to {
					k--
				}
				cyc := append(append([]string(nil), stack[k:]...), e.to)
				key := strings.Join(cyc, ">")
				if !reported[key] && e.to != name {
					reported[key] = true
					// Report the edge in reading order: from the stage that reads.
					v.err(ErrCycle, e.pos, "cycle between stages: %s", reverseJoin(cyc))
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[name] = black
	}
	for i := range v.p.Spec.Stages {
		if n := v.p.Spec.Stages[i].Name; color[n] == white {
			visit(n)
		}
	}
}

// reverseJoin prints a cycle in data-flow order: a → b → a.
func reverseJoin(cyc []string) string {
	out := make([]string, len(cyc))
	for i := range cyc {
		out[i] = cyc[len(cyc)-1-i]
	}
	return strings.Join(out, " → ")
}

func (v *validator) model(i int) {
	m := &v.p.Spec.Models[i]
	path := fmt.Sprintf("spec.models[%d]", i)
	label := "model " + m.Name
	alg, known := ml.Lookup(m.Algorithm)
	switch {
	case m.Algorithm == "":
		v.err(ErrMissing, v.at(path), "%s has no algorithm", label).Hint = "one of " + strings.Join(ml.Names(), ", ")
	case !known:
		d := v.err(ErrValue, v.at(path+".algorithm"), "unknown algorithm %q", short(m.Algorithm))
		if h := didYouMean(m.Algorithm, ml.Names()); h != "" {
			d.Hint = h
		} else {
			d.Hint = "one of " + strings.Join(ml.Names(), ", ")
		}
	default:
		v.hyperParams(m, alg, path, label)
	}
	var in *relSchema
	if m.From == "" {
		v.err(ErrMissing, v.at(path), "%s has no from: naming the stage or source it learns from", label)
	} else if v.ref(m.From, v.at(path+".from"), "from of "+label) != nil {
		in = v.schemaOf(m.From)
	}
	if len(m.Features) == 0 {
		v.err(ErrMissing, v.at(path), "%s has no features", label)
	}
	for j, f := range m.Features {
		v.column(in, f, v.at(fmt.Sprintf("%s.features[%d]", path, j)), label)
	}
	if m.Label == "" {
		if known && needsLabel(alg) {
			v.err(ErrMissing, v.at(path), "%s (%s) has no label", label, m.Algorithm)
		}
	} else {
		v.column(in, m.Label, v.at(path+".label"), label)
	}
	if tr := m.Training; tr != nil {
		if tr.Mode == "windowed" && tr.Window <= 0 && !v.broken(path+".training.window") {
			v.err(ErrMissing, v.at(path+".training"), "%s: training mode windowed needs window: (a duration)", label)
		}
		if pe := tr.PublishEvery; pe != "" {
			if n, err := strconv.Atoi(pe); err == nil {
				if n <= 0 {
					v.err(ErrValue, v.at(path+".training.publishEvery"), "%s: publishEvery must be positive", label)
				}
			} else if d, err := ParseDuration(pe); err != nil || d <= 0 {
				v.err(ErrValue, v.at(path+".training.publishEvery"), "%s: publishEvery %q is neither a row count (e.g. 1000) nor a duration (e.g. 1m)", label, pe)
			}
		}
		if tr.Warmup < 0 {
			v.err(ErrValue, v.at(path+".training.warmup"), "%s: warmup must not be negative", label)
		}
	}
	if t := m.Tuning; t != nil {
		if t.Trials < 0 {
			v.err(ErrValue, v.at(path+".tuning.trials"), "%s: trials must not be negative", label)
		}
		if len(t.Params) == 0 {
			v.err(ErrMissing, v.at(path+".tuning"), "%s: tuning has no params to search", label)
		}
		if val := t.Validation; val != nil && (val.Holdout < 0 || val.Holdout >= 1) {
			v.err(ErrValue, v.at(path+".tuning.validation.holdout"), "%s: holdout must be in [0, 1)", label)
		}
	}
}

func (v *validator) sink(i int) {
	s := &v.p.Spec.Sinks[i]
	path := fmt.Sprintf("spec.sinks[%d]", i)
	label := "sink " + s.Name
	var in *relSchema
	if s.From == "" {
		v.err(ErrMissing, v.at(path), "%s has nothing to read: add from: naming a stage or source", label)
	} else if v.ref(s.From, v.at(path+".from"), "from of "+label) != nil {
		in = v.schemaOf(s.From)
	}
	switch {
	case s.JetStream == nil && s.KV == nil:
		v.err(ErrMissing, v.at(path), "%s has nowhere to write: add jetstream: {stream, subject} or kv: {bucket}", label)
	case s.JetStream != nil && s.KV != nil:
		v.err(ErrValue, v.at(path+".kv"), "%s has both jetstream and kv: use one sink for each", label)
	}
	if js := s.JetStream; js != nil {
		if js.Stream == "" {
			v.err(ErrMissing, v.at(path+".jetstream"), "%s: jetstream has no stream", label)
		}
		if js.Subject == "" {
			v.err(ErrMissing, v.at(path+".jetstream"), "%s: jetstream has no subject", label)
		}
		if js.DuplicateWindow < 0 || (js.DuplicateWindow > 0 && js.DuplicateWindow.Std() < 100*time.Millisecond) {
			v.err(ErrValue, v.at(path+".jetstream.duplicateWindow"), "%s: duplicateWindow must be at least 100ms", label)
		}
	}
	if kv := s.KV; kv != nil {
		if kv.Bucket == "" {
			v.err(ErrMissing, v.at(path+".kv"), "%s: kv has no bucket", label)
		}
		for j, k := range kv.Key {
			v.column(in, k, v.at(fmt.Sprintf("%s.kv.key[%d]", path, j)), label)
		}
	}
	v.predicate(s.Where, in, label+" where")
}

// needsLabel reports whether an algorithm learns from a label column.
func needsLabel(a *ml.Algorithm) bool {
	switch a.Kind {
	case ml.KindClassifier, ml.KindRegressor:
		return true
	case ml.KindRecommender:
		return a.Name != "popularity"
	}
	return false
}

// hyperParams checks a model's hyper-parameters (params:, those written in
// training:, tuning.params and candidates), its training mode and its
// metrics against the ml algorithm table.
func (v *validator) hyperParams(m *Model, alg *ml.Algorithm, path, label string) {
	for _, e := range alg.Validate(m.Params) {
		msg := e.Msg
		p := v.at(path + ".params." + e.Param) // the value
		if strings.Contains(msg, strconv.Quote(e.Param)) {
			if kp, ok := m.ParamPos[e.Param]; ok {
				p = kp // an unknown name: point at the key
			}
		} else {
			msg = "hyper-parameter " + e.Param + ": " + msg
		}
		d := v.err(ErrValue, p, "%s: %s", label, msg)
		if i := strings.Index(d.Msg, " (did you mean "); i >= 0 {
			d.Hint = strings.TrimSuffix(d.Msg[i+2:], ")")
			d.Msg = d.Msg[:i]
		}
	}
	if tr := m.Training; tr != nil && tr.Mode != "" && !alg.SupportsMode(tr.Mode) {
		v.err(ErrValue, v.at(path+".training.mode"), "%s: %s does not support training mode %s", label, alg.Name, tr.Mode).Hint =
			"supported: " + strings.Join(alg.Modes, ", ")
	}
	if t := m.Tuning; t != nil {
		for _, k := range sortedKeys(t.Params) {
			if _, ok := alg.Param(k); !ok {
				d := v.err(ErrValue, v.at(path+".tuning.params."+k), "%s: unknown hyper-parameter %q of %s in tuning", label, k, alg.Name)
				d.Hint = didYouMean(k, paramNames(alg))
			}
		}
		if t.Metric != "" {
			v.metric(t.Metric, v.at(path+".tuning.metric"), label)
		}
	}
	for i, c := range m.Candidates {
		for _, e := range alg.Validate(c) {
			v.err(ErrValue, v.at(fmt.Sprintf("%s.candidates[%d].%s", path, i, e.Param)), "%s: candidate %d: %s", label, i+1, e.Error())
		}
	}
	if ev := m.Evaluation; ev != nil {
		for i, name := range ev.Metrics {
			v.metric(name, v.at(fmt.Sprintf("%s.evaluation.metrics[%d]", path, i)), label)
		}
	}
}

func (v *validator) metric(name string, p Pos, label string) {
	if _, ok := ml.LookupMetric(name); ok {
		return
	}
	var names []string
	for _, m := range ml.Metrics {
		names = append(names, m.Name)
	}
	d := v.err(ErrValue, p, "%s: unknown metric %q", label, short(name))
	if h := didYouMean(name, names); h != "" {
		d.Hint = h
	} else {
		d.Hint = "one of " + strings.Join(names, ", ")
	}
}

func paramNames(a *ml.Algorithm) []string {
	out := make([]string, len(a.Params))
	for i, p := range a.Params {
		out[i] = p.Name
	}
	return out
}

// broken reports whether the value at path was written but could not be
// decoded (an error was reported for it already).
func (v *validator) broken(path string) bool {
	p, ok := v.p.pos[path]
	return ok && v.p.bad[p]
}
