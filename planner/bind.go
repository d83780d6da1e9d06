package planner

import (
	"fmt"
	"strings"

	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
	"github.com/xwb1989/sqlparser"
)

// Limits of SQL stages (DESIGN §9).
const (
	// MaxSQLLen is the longest SQL text of a stage, in bytes.
	MaxSQLLen = 64 << 10
	// MaxSQLDepth is the deepest expression nesting the binder accepts.
	MaxSQLDepth = 1000
)

// planner binds one pipeline.
type planner struct {
	p       *spec.Pipeline
	job     string
	sources map[string]*spec.Source
	stages  map[string]*spec.Stage
	models  map[string]*spec.Model
	env     *udf.Env
	userFns map[string]*spec.Function // by lower-case name
	rels    map[string]Rel            // bound sources and stages; nil after errors
	state   map[string]int            // 1 binding, 2 done
	diags   spec.Diagnostics
}

func newPlanner(p *spec.Pipeline) *planner {
	pl := &planner{
		p:       p,
		job:     p.Metadata.Name,
		sources: map[string]*spec.Source{},
		stages:  map[string]*spec.Stage{},
		models:  map[string]*spec.Model{},
		userFns: map[string]*spec.Function{},
		rels:    map[string]Rel{},
		state:   map[string]int{},
	}
	for i := range p.Spec.Sources {
		s := &p.Spec.Sources[i]
		if _, dup := pl.sources[s.Name]; !dup {
			pl.sources[s.Name] = s
		}
	}
	for i := range p.Spec.Stages {
		s := &p.Spec.Stages[i]
		if _, dup := pl.stages[s.Name]; !dup {
			pl.stages[s.Name] = s
		}
	}
	for i := range p.Spec.Models {
		m := &p.Spec.Models[i]
		if _, dup := pl.models[m.Name]; !dup {
			pl.models[m.Name] = m
		}
	}
	var ufs []udf.UserFunc
	for i := range p.Spec.Functions {
		f := &p.Spec.Functions[i]
		pl.userFns[strings.ToLower(f.Name)] = f
		uf := udf.UserFunc{Name: f.Name, Expr: f.Expr.Value, Returns: udf.TypeAny}
		if t, ok := udf.ParseType(f.Returns); ok {
			uf.Returns = t
		}
		for _, pa := range f.Params {
			t, ok := udf.ParseType(pa.Type)
			if !ok {
				t = udf.TypeAny
			}
			uf.Params = append(uf.Params, udf.Param{Name: pa.Name, Type: t})
		}
		ufs = append(ufs, uf)
	}
	if len(ufs) > 0 {
		// Compile errors of user functions are reported by spec's
		// validation; calls to them are then typed from the declarations.
		pl.env, _ = udf.CompileUserFuncs(ufs)
	}
	return pl
}

func (pl *planner) add(d spec.Diagnostic) {
	if d.Pos.File == "" && d.Pos.Line > 0 {
		d.Pos.File = pl.p.Pos.File
	}
	pl.diags = append(pl.diags, d)
}

func (pl *planner) errf(kind error, pos spec.Pos, hint, format string, args ...any) {
	pl.add(spec.Diagnostic{Pos: pos, Severity: spec.Error, Msg: fmt.Sprintf(format, args...), Hint: hint, Err: kind})
}

// relNames lists the names a FROM or from: may refer to.
func (pl *planner) relNames() []string {
	var out []string
	for _, s := range pl.p.Spec.Sources {
		out = append(out, s.Name)
	}
	for _, s := range pl.p.Spec.Stages {
		out = append(out, s.Name)
	}
	return out
}

// relation returns the bound node of a source or stage, binding a stage on
// first use. ok is false when no such name exists; node is nil (with ok
// true) when the relation had errors or is part of a cycle (reported at pos).
func (pl *planner) relation(name string, pos spec.Pos) (n Rel, ok bool) {
	if n, done := pl.rels[name]; done {
		return n, true
	}
	if src, ok := pl.sources[name]; ok {
		n := pl.scan(src)
		pl.rels[name] = n
		return n, true
	}
	st, ok := pl.stages[name]
	if !ok {
		return nil, false
	}
	if pl.state[name] == 1 {
		pl.errf(ErrCycle, pos, "", "stage %q depends on itself (a cycle of FROM/from: references)", name)
		return nil, true
	}
	pl.state[name] = 1
	n = pl.bindStage(st)
	pl.state[name] = 2
	pl.rels[name] = n
	return n, true
}

// scan returns the Scan of a source with every declared column.
func (pl *planner) scan(src *spec.Source) Rel {
	op := &SourceOp{
		Source:    src.Name,
		Format:    src.Format,
		Decl:      src.Schema,
		StartFrom: src.StartFrom,
	}
	if op.Format == "" {
		op.Format = "json"
	}
	if op.StartFrom == "" {
		op.StartFrom = "earliest"
	}
	if src.CSV != nil {
		op.CSV = *src.CSV
	}
	if src.TimestampFormat != spec.TimestampAuto {
		op.TimestampFormat = src.TimestampFormat
	}
	if op.CSV.Delimiter == "" && op.Format == "csv" {
		op.CSV.Delimiter = ","
	}
	if op.CSV.Quote == spec.CSVQuoteDefault {
		op.CSV.Quote = "" // the default, as when it is left out: the same plan
	}
	if js := src.JetStream; js != nil {
		op.Stream = js.Stream
		op.Subjects = append([]string(nil), js.Subjects...)
		op.Durable = js.Durable
	}
	if op.Stream == "" {
		op.Stream = strings.ToUpper(strings.ReplaceAll(src.Name, "-", "_"))
	}
	if len(op.Subjects) == 0 {
		op.Subjects = []string{strings.ToLower(op.Stream) + ".>"}
	}
	if op.Durable == "" {
		op.Durable = "flowrun_" + pl.job + "_" + src.Name
	}
	et := ""
	if src.EventTime != nil {
		et = src.EventTime.Column
		op.MaxOutOfOrderness = src.EventTime.MaxOutOfOrderness
		op.IdleTimeout = src.EventTime.IdleTimeout
		op.AllowedLateness = src.EventTime.AllowedLateness
	}
	for i := range src.Schema {
		op.Columns = append(op.Columns, i)
	}
	return NewScan(op, et)
}

// stagePath returns the YAML path of stage st, for PosOf.
func (pl *planner) stagePath(st *spec.Stage) string {
	for i := range pl.p.Spec.Stages {
		if &pl.p.Spec.Stages[i] == st {
			return fmt.Sprintf("spec.stages[%d]", i)
		}
	}
	return "spec.stages"
}

// bindStage binds one stage and wraps it in a Stage marker.
func (pl *planner) bindStage(st *spec.Stage) Rel {
	var n Rel
	switch st.Kind() {
	case "sql":
		n = pl.bindSQL(st)
	case "clean":
		n = pl.bindClean(st)
	case "features":
		n = pl.bindFeatures(st)
	default:
		return nil // spec reports a stage with no body
	}
	if n == nil {
		return nil
	}
	if st.Table != nil {
		sch := n.Schema()
		ok := len(st.Table.Key) > 0
		for _, k := range st.Table.Key {
			if sch.Index(k) < 0 {
				ok = false
				pl.errf(ErrUnknown, pl.tablePos(st), didYouMean(k, sch.Names()),
					"table key %q is not a column of stage %q (columns: %s)", k, st.Name, strings.Join(sch.Names(), ", "))
			}
		}
		if !ok {
			return nil
		}
	}
	return &Stage{Name: st.Name, Table: st.Table, Limits: st.Limits, Input: n}
}

func (pl *planner) tablePos(st *spec.Stage) spec.Pos {
	if st.Table != nil && st.Table.Pos.Line > 0 {
		return st.Table.Pos
	}
	return pl.p.PosOf(pl.stagePath(st) + ".table.key")
}

// bindSQL parses and binds the SQL of a stage.
func (pl *planner) bindSQL(st *spec.Stage) (out Rel) {
	text := st.SQL
	if len(text.Value) > MaxSQLLen {
		pl.errf(spec.ErrLimit, text.Pos, "split the query into several stages",
			"SQL of stage %q is %d bytes, more than the limit of %d", st.Name, len(text.Value), MaxSQLLen)
		return nil
	}
	q := newQuery(text)
	stmt, err := parseSQL(text.Value)
	if err != nil {
		pl.add(q.syntaxDiag(err))
		return nil
	}
	b := &binder{pl: pl, q: q, st: st}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(depthPanic); !ok {
				panic(r)
			}
			pl.errf(spec.ErrLimit, text.Pos, "split the expression or the query into stages",
				"SQL of stage %q nests deeper than %d levels", st.Name, MaxSQLDepth)
			out = nil
		}
	}()
	switch s := stmt.(type) {
	case *sqlparser.Select:
		return b.bindSelect(s)
	case *sqlparser.Union:
		return b.bindUnion(s)
	case *sqlparser.ParenSelect:
		pl.errf(ErrUnsupported, q.pos(0), "remove the parentheses around the SELECT", "a parenthesized SELECT is not supported")
	default:
		pl.errf(ErrUnsupported, q.pos(0), "a SQL stage is one SELECT statement", "only SELECT is supported in a SQL stage")
	}
	return nil
}

type depthPanic struct{}

// parseSQL parses one statement; a panic in the parser becomes an error.
func parseSQL(src string) (stmt sqlparser.Statement, err error) {
	defer func() {
		if r := recover(); r != nil {
			stmt, err = nil, fmt.Errorf("syntax error at position 1")
		}
	}()
	return sqlparser.Parse(src)
}
