package planner

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flowrun/flowrun/spec"
)

// describe prints an operator on one line for EXPLAIN. in holds the input
// schemas (by port) when known, used to name key columns.
func describe(op Op, in []Schema, out Schema) string {
	inSchema := func(i int) Schema {
		if i < len(in) {
			return in[i]
		}
		return Schema{EventTime: -1}
	}
	switch op := op.(type) {
	case *SourceOp:
		s := "Source " + op.Source + " stream=" + op.Stream
		if len(op.Subjects) > 0 {
			s += " subjects=" + strings.Join(op.Subjects, ",")
		}
		s += " format=" + op.Format
		if tf := op.TimestampFormat; tf != "" {
			if strings.ContainsAny(tf, " \t\"") {
				tf = strconv.Quote(tf)
			}
			s += " timestampFormat=" + tf
		}
		names := make([]string, len(op.Columns))
		for j, i := range op.Columns {
			names[j] = op.Decl[i].Name
			if j == out.EventTime {
				names[j] += "*"
			}
		}
		s += " columns=[" + strings.Join(names, ", ") + "]"
		if op.Filter != nil {
			s += " filter=" + op.Filter.String()
		}
		return s
	case *FilterOp:
		return "Filter " + op.Pred.String()
	case *ProjectOp:
		return describeProject(op.Exprs, out.Names())
	case *ChainOp:
		parts := make([]string, len(op.Ops))
		for i, o := range op.Ops {
			// Inner schemas are not kept; project names come from the
			// chain's output for the last op only.
			var sch Schema
			if i == len(op.Ops)-1 {
				sch = out
			}
			parts[i] = "[" + describe(o, nil, sch) + "]"
		}
		return "Chain " + strings.Join(parts, " → ")
	case *WindowAggOp:
		names := out.Names()
		// Output: keys, window_start, window_end, aggs.
		var an []string
		if len(names) >= len(op.Keys)+2 {
			an = append(append([]string(nil), names[:len(op.Keys)]...), names[len(op.Keys)+2:]...)
		}
		return describeAggIn("WindowAgg", &op.Window, op.Keys, op.Aggs, an, inSchema(0))
	case *GroupAggOp:
		return describeAgg("GroupAgg", nil, op.Keys, op.Aggs, out.Names())
	case *JoinOp:
		return describeJoin(op, inSchema(0), inSchema(1))
	case *UnionOp:
		return "Union"
	case *CleanOp:
		return describeClean(&op.Spec)
	case *FeaturesOp:
		return describeFeatures(op.Spec)
	case *TrainOp:
		m := &op.Model
		mode := "online"
		if m.Training != nil && m.Training.Mode != "" {
			mode = m.Training.Mode
		}
		s := "Train " + m.Name + " algorithm=" + m.Algorithm + " mode=" + mode
		is := inSchema(0)
		s += " features=[" + colList(op.Features, is) + "]"
		if op.Label >= 0 {
			s += " label=" + colList([]int{op.Label}, is)
		}
		return s
	case *SinkOp:
		s := "Sink " + op.Sink
		switch {
		case op.Bucket != "":
			s += " kv=" + op.Bucket
			if len(op.Key) > 0 {
				s += " key=[" + colList(op.Key, inSchema(0)) + "]"
			}
		default:
			s += " stream=" + op.Stream + " subject=" + op.Subject
			if op.DuplicateWindow > 0 {
				s += " duplicateWindow=" + op.DuplicateWindow.Std().String()
			}
		}
		s += " format=" + op.Format
		if op.Where.Value != "" {
			s += " where=" + strconv.Quote(strings.TrimSpace(op.Where.Value))
		}
		return s
	}
	if op == nil {
		return "<nil>"
	}
	return op.Name()
}

func describeProject(exprs []Expr, names []string) string {
	parts := make([]string, len(exprs))
	for i, e := range exprs {
		s := e.String()
		name := ""
		if i < len(names) {
			name = names[i]
		}
		if name != "" && !strings.HasSuffix(s, ":"+name) {
			s += " AS " + name
		}
		parts[i] = s
	}
	return "Project " + strings.Join(parts, ", ")
}

func describeAgg(op string, w *Window, keys []Expr, aggs []AggCall, names []string) string {
	return describeAggIn(op, w, keys, aggs, names, Schema{EventTime: -1})
}

func describeAggIn(op string, w *Window, keys []Expr, aggs []AggCall, names []string, in Schema) string {
	var b strings.Builder
	b.WriteString(op)
	if w != nil {
		b.WriteString(" " + windowString(*w, in))
	}
	ks := make([]string, len(keys))
	for i, k := range keys {
		ks[i] = k.String()
	}
	b.WriteString(" keys=[" + strings.Join(ks, ", ") + "]")
	as := make([]string, len(aggs))
	for i, a := range aggs {
		as[i] = a.String()
		if j := len(keys) + i; j < len(names) {
			as[i] += " AS " + names[j]
		}
	}
	b.WriteString(" aggs=[" + strings.Join(as, ", ") + "]")
	return b.String()
}

// String prints an aggregate call, e.g. COUNT(DISTINCT #1:x).
func (a AggCall) String() string {
	name := "?"
	if a.Func != nil {
		name = a.Func.Name
	}
	var args []string
	for _, e := range a.Args {
		args = append(args, e.String())
	}
	for _, c := range a.Consts {
		args = append(args, literalString(c))
	}
	s := strings.Join(args, ", ")
	if len(a.Args) == 0 && name == "COUNT" {
		s = "*"
	}
	if a.Distinct {
		s = "DISTINCT " + s
	}
	return name + "(" + s + ")"
}

func windowString(w Window, in Schema) string {
	col := "#" + strconv.Itoa(w.TimeCol)
	if w.TimeCol >= 0 && w.TimeCol < len(in.Columns) {
		col += ":" + in.Columns[w.TimeCol].Name
	}
	switch w.Kind {
	case Tumble:
		return "TUMBLE(" + col + ", " + fmtMillis(w.Size) + ")"
	case Hop:
		return "HOP(" + col + ", slide " + fmtMillis(w.Slide) + ", size " + fmtMillis(w.Size) + ")"
	case Session:
		return "SESSION(" + col + ", gap " + fmtMillis(w.Gap) + ")"
	}
	return "Window(" + strconv.Itoa(int(w.Kind)) + ")"
}

// windowSQL prints a window as it is written in SQL, with the time column
// named col: TUMBLE(ts, INTERVAL 1 MINUTE).
func windowSQL(w Window, col string) string {
	switch w.Kind {
	case Tumble:
		return "TUMBLE(" + col + ", " + intervalSQL(w.Size) + ")"
	case Hop:
		return "HOP(" + col + ", " + intervalSQL(w.Slide) + ", " + intervalSQL(w.Size) + ")"
	case Session:
		return "SESSION(" + col + ", " + intervalSQL(w.Gap) + ")"
	}
	return windowString(w, Schema{})
}

// intervalSQL prints milliseconds as INTERVAL n UNIT in the largest exact unit.
func intervalSQL(ms int64) string {
	for _, u := range []struct {
		n    int64
		name string
	}{{7 * 86400000, "WEEK"}, {86400000, "DAY"}, {3600000, "HOUR"}, {60000, "MINUTE"}, {1000, "SECOND"}} {
		if ms != 0 && ms%u.n == 0 {
			return "INTERVAL " + strconv.FormatInt(ms/u.n, 10) + " " + u.name
		}
	}
	return "INTERVAL " + strconv.FormatInt(ms, 10) + " MILLISECOND"
}

var joinKindNames = [...]string{IntervalJoin: "interval", WindowJoin: "window", TableJoin: "table"}

func describeJoin(op *JoinOp, l, r Schema) string {
	var b strings.Builder
	b.WriteString("Join ")
	if int(op.Kind) < len(joinKindNames) {
		b.WriteString(joinKindNames[op.Kind])
	}
	if op.Left {
		b.WriteString(" left")
	} else {
		b.WriteString(" inner")
	}
	var on []string
	for i := range op.LeftKeys {
		if i < len(op.RightKeys) {
			on = append(on, colList([]int{op.LeftKeys[i]}, l)+" = "+colList([]int{op.RightKeys[i]}, r))
		}
	}
	b.WriteString(" on=[" + strings.Join(on, ", ") + "]")
	switch op.Kind {
	case IntervalJoin:
		b.WriteString(" right.time in [left.time" + signedMillis(op.Lower) + ", left.time" + signedMillis(op.Upper) + "]")
	case WindowJoin:
		b.WriteString(" window=" + windowString(op.Window, l))
	}
	if op.Residual != nil {
		b.WriteString(" residual=" + op.Residual.String())
	}
	return b.String()
}

func signedMillis(ms int64) string {
	switch {
	case ms > 0:
		return " + " + fmtMillis(ms)
	case ms < 0:
		return " - " + fmtMillis(-ms)
	}
	return ""
}

func describeClean(c *spec.Clean) string {
	var parts []string
	if c.Dedup != nil {
		parts = append(parts, "dedup="+bracketNames(c.Dedup.Key)+" within "+fmtDuration(c.Dedup.Within))
	}
	if len(c.Impute) > 0 {
		var xs []string
		for _, im := range c.Impute {
			s := im.Column + ":" + im.Method
			if im.Method == "constant" {
				s += "(" + fmt.Sprint(im.Value) + ")"
			}
			if len(im.By) > 0 {
				s += " by " + bracketNames(im.By)
			}
			xs = append(xs, s)
		}
		parts = append(parts, "impute=["+strings.Join(xs, ", ")+"]")
	}
	if len(c.Outliers) > 0 {
		var xs []string
		for _, o := range c.Outliers {
			action := o.Action
			if action == "" {
				action = "drop"
			}
			s := o.Column + ":" + o.Method
			if o.Threshold != 0 {
				s += "(" + strconv.FormatFloat(o.Threshold, 'g', -1, 64) + ")"
			}
			if o.Lower != nil || o.Upper != nil {
				s += "[" + fmtOptFloat(o.Lower) + ", " + fmtOptFloat(o.Upper) + "]"
			}
			xs = append(xs, s+" "+action)
		}
		parts = append(parts, "outliers=["+strings.Join(xs, ", ")+"]")
	}
	if c.Filter != nil {
		parts = append(parts, "filter="+strconv.Quote(strings.TrimSpace(c.Filter.Value)))
	}
	if c.DeadLetter {
		parts = append(parts, "deadLetter")
	}
	return strings.TrimSpace("Clean " + strings.Join(parts, " "))
}

func fmtOptFloat(f *float64) string {
	if f == nil {
		return "-inf"
	}
	return strconv.FormatFloat(*f, 'g', -1, 64)
}

func describeFeatures(fs []spec.Feature) string {
	var parts []string
	for _, f := range fs {
		switch {
		case f.OneHot != nil:
			parts = append(parts, "onehot("+f.OneHot.Input+" → "+oneHotOutput(f.OneHot)+")")
		case f.Hash != nil:
			parts = append(parts, fmt.Sprintf("hash(%s → %s, dims %d)", strings.Join(f.Hash.Inputs, ", "), f.Hash.Output, hashDims(f.Hash)))
		case f.Scale != nil:
			m := f.Scale.Method
			if m == "" {
				m = "standard"
			}
			outs := scaleOutputs(f.Scale)
			parts = append(parts, "scale("+strings.Join(f.Scale.Inputs, ", ")+" → "+strings.Join(outs, ", ")+", "+m+")")
		case f.TFIDF != nil:
			parts = append(parts, fmt.Sprintf("tfidf(%s → %s, dims %d, ngrams %d)", f.TFIDF.Input, f.TFIDF.Output, tfidfDims(f.TFIDF), max(f.TFIDF.Ngrams, 1)))
		case f.Window != nil:
			w := f.Window
			s := "window(" + w.Input + " → " + w.Output
			if len(w.Key) > 0 {
				s += " by " + bracketNames(w.Key)
			}
			if w.Duration > 0 {
				s += ", last " + fmtDuration(w.Duration)
			} else {
				s += ", last " + strconv.Itoa(windowSize(w)) + " points"
			}
			if len(w.Stats) > 0 {
				s += ", stats " + bracketNames(w.Stats)
			}
			if w.Lags > 0 {
				s += ", lags " + strconv.Itoa(w.Lags)
			}
			if w.FFT > 0 {
				s += ", fft " + strconv.Itoa(w.FFT)
			}
			parts = append(parts, s+")")
		}
	}
	return "Features " + strings.Join(parts, ", ")
}

func bracketNames(ns []string) string { return "[" + strings.Join(ns, ", ") + "]" }

// colList prints column indexes as #i:name using s for names.
func colList(idx []int, s Schema) string {
	parts := make([]string, len(idx))
	for j, i := range idx {
		parts[j] = "#" + strconv.Itoa(i)
		if i >= 0 && i < len(s.Columns) {
			parts[j] += ":" + s.Columns[i].Name
		}
	}
	return strings.Join(parts, ", ")
}

// routingString prints an edge routing, e.g. hash(#1:user_id).
func routingString(r Routing, keys []int, from Schema) string {
	switch r {
	case Forward:
		return "forward"
	case Broadcast:
		return "broadcast"
	case Hash:
		if len(keys) == 0 {
			return "gather"
		}
		return "hash(" + colList(keys, from) + ")"
	}
	return "routing(" + strconv.Itoa(int(r)) + ")"
}

func fmtDuration(d spec.Duration) string { return fmtMillis(time.Duration(d).Milliseconds()) }

// fmtMillis prints a duration in milliseconds in the job-file style: 500ms,
// 10s, 5m, 1h, 1d, or combinations like 1h30m.
func fmtMillis(ms int64) string {
	if ms == 0 {
		return "0s"
	}
	neg := ms < 0
	if neg {
		ms = -ms
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	units := []struct {
		n    int64
		name string
	}{{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}}
	for _, u := range units {
		if ms >= u.n {
			b.WriteString(strconv.FormatInt(ms/u.n, 10) + u.name)
			ms %= u.n
		}
	}
	return b.String()
}
