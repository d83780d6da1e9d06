package planner

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/flowrun/flowrun/spec"
	"github.com/xwb1989/sqlparser"
)

// Error kinds of the planner. Each wraps a kind of spec, so errors.Is works
// with either (errors.Is(d, planner.ErrUnsupported) and errors.Is(d,
// spec.ErrSQL) are both true for an unsupported construct).
var (
	ErrSyntax      = fmt.Errorf("%w: syntax", spec.ErrSQL)
	ErrUnsupported = fmt.Errorf("%w: unsupported", spec.ErrSQL)
	ErrUnknown     = fmt.Errorf("%w: unknown name", spec.ErrReference)
	ErrAmbiguous   = fmt.Errorf("%w: ambiguous name", spec.ErrReference)
	ErrType        = fmt.Errorf("%w: type", spec.ErrSQL)
	ErrGrouping    = fmt.Errorf("%w: grouping", spec.ErrSQL)
	ErrJoin        = fmt.Errorf("%w: join", spec.ErrSQL)
	ErrWindow      = fmt.Errorf("%w: window", spec.ErrSQL)
	ErrCycle       = fmt.Errorf("%w: stages", spec.ErrCycle)
	ErrExpr        = fmt.Errorf("%w: expr-lang", spec.ErrExpr)
	ErrStage       = fmt.Errorf("%w: stage", spec.ErrValue)
)

// token is one token of a SQL text with its byte range.
type token struct {
	typ        int
	val        string // identifiers as written (keywords lower-cased)
	start, end int
}

// tokenize splits sql into tokens with byte offsets (best effort: it stops
// at the first lexical error).
func tokenize(sql string) []token {
	tkn := sqlparser.NewStringTokenizer(sql)
	var out []token
	prevEnd := 0
	for i := 0; i < 100000; i++ {
		typ, val := tkn.Scan()
		if typ == 0 {
			break
		}
		end := tkn.Position - 1
		if end > len(sql) {
			end = len(sql)
		}
		start := prevEnd
		for start < end && isSpace(sql[start]) {
			start++
		}
		prevEnd = end
		if typ == sqlparser.LEX_ERROR {
			break
		}
		if typ == sqlparser.COMMENT {
			continue
		}
		out = append(out, token{typ: typ, val: string(val), start: start, end: end})
	}
	return out
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// query is the SQL text of one stage with what is needed to put errors at
// the position of the identifier they are about.
type query struct {
	text   *spec.Text
	toks   []token // offsets in text.Value
	clause int     // offset where the clause being bound starts
	base   int     // offset where the SELECT being bound starts (UNION ALL)
	// cursor holds, per searched word sequence, the offset of the
	// occurrence bound last (see advance).
	cursor map[string]int
}

func newQuery(t *spec.Text) *query {
	return &query{text: t, toks: tokenize(t.Value)}
}

// pos returns the file position of byte offset off of the query.
func (q *query) pos(off int) spec.Pos {
	if q == nil || q.text == nil {
		return spec.Pos{}
	}
	return q.text.PosAt(off)
}

// find returns the offset of the first token sequence spelling words
// (identifiers compared ignoring case; "." matches a dot), searching from
// the current clause first, then from the start. -1 if absent.
func (q *query) find(words ...string) int {
	if q == nil || len(words) == 0 {
		return -1
	}
	key := strings.ToLower(strings.Join(words, " "))
	starts := []int{q.clause, 0}
	if c, ok := q.cursor[key]; ok && c >= q.clause {
		starts = []int{c + 1, q.clause, 0}
	}
	for _, from := range starts {
		for i := range q.toks {
			if q.toks[i].start < from {
				continue
			}
			// An unqualified name does not match the column of t.name.
			if len(words) == 1 && i > 0 && q.toks[i-1].val == "." {
				continue
			}
			if q.match(i, words) {
				return q.toks[i].start
			}
		}
	}
	return -1
}

// advance records that words were just bound at their next occurrence, so
// that a later error about the same words points at a later occurrence.
func (q *query) advance(words ...string) {
	if q == nil {
		return
	}
	if off := q.find(words...); off >= 0 {
		if q.cursor == nil {
			q.cursor = map[string]int{}
		}
		q.cursor[strings.ToLower(strings.Join(words, " "))] = off
	}
}

func (q *query) match(i int, words []string) bool {
	for j, w := range words {
		if i+j >= len(q.toks) {
			return false
		}
		t := q.toks[i+j]
		if w == "." {
			if t.val != "." && t.typ != '.' {
				return false
			}
			continue
		}
		if t.val == "" && len(w) == 1 && t.typ == int(w[0]) {
			continue // a one-character operator token
		}
		if !strings.EqualFold(t.val, w) {
			return false
		}
	}
	return true
}

// posOf returns the position of the first occurrence of words, or of the
// clause (or the query) when they are not found.
func (q *query) posOf(words ...string) spec.Pos {
	if off := q.find(words...); off >= 0 {
		return q.pos(off)
	}
	return q.pos(q.clauseStart())
}

func (q *query) clauseStart() int {
	if q == nil {
		return 0
	}
	for _, t := range q.toks {
		if t.start >= q.clause {
			return t.start
		}
	}
	return q.clause
}

// setClause moves the search start to the first token kw (a keyword such as
// "where") at or after the current clause; unchanged when absent.
func (q *query) setClause(kw string) {
	if q == nil {
		return
	}
	for _, t := range q.toks {
		if t.start >= q.clause && strings.EqualFold(t.val, kw) {
			q.clause = t.start
			q.cursor = nil
			return
		}
	}
}

var syntaxErrRE = regexp.MustCompile(`^(.*) at position (\d+)(?: near '(.*)')?$`)

// syntaxDiag turns a sqlparser error into a diagnostic at the offending
// token, with a hint for the MySQL dialect's usual surprises.
func (q *query) syntaxDiag(err error) spec.Diagnostic {
	msg := err.Error()
	off := 0
	near := ""
	if m := syntaxErrRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[2])
		near = m[3]
		e := n - 1
		off = e
		if near != "" {
			off -= len(near)
		}
		for _, t := range q.toks {
			if t.end == e {
				off = t.start
				break
			}
		}
		msg = m[1]
		if near != "" {
			msg += " near " + strconv.Quote(near)
		}
	}
	off = max(0, min(off, len(q.text.Value)))
	d := spec.Diagnostic{Pos: q.pos(off), Severity: spec.Error, Msg: "SQL " + msg, Err: ErrSyntax}
	d.Hint = syntaxHint(q.text.Value, off, strings.ToLower(near))
	return d
}

// castTypeWords are type names people write in CAST that the MySQL grammar
// does not accept.
var castTypeWords = map[string]string{
	"double": "DECIMAL", "float": "DECIMAL", "real": "DECIMAL", "bigint": "SIGNED", "int": "SIGNED",
	"integer": "SIGNED", "string": "CHAR", "varchar": "CHAR", "text": "CHAR", "timestamp": "DATETIME",
	"boolean": "", "bool": "",
}

func syntaxHint(sql string, off int, near string) string {
	before := strings.ToLower(strings.TrimSpace(sql[:off]))
	if strings.HasSuffix(before, " as") {
		if to, ok := castTypeWords[near]; ok {
			if to == "" {
				return "CAST to bool is not supported: compare instead, e.g. x <> 0"
			}
			return fmt.Sprintf("CAST takes MySQL type names: write CAST(x AS %s) (SIGNED = bigint, DECIMAL = double, CHAR = string, DATETIME = timestamp)", to)
		}
	}
	words := strings.Fields(before)
	prev := ""
	if len(words) > 0 {
		prev = words[len(words)-1]
	}
	if prev == "over" {
		near = "over"
	}
	if reservedNames[prev] && !reservedNames[near] {
		// "SELECT interval FROM t" fails at FROM: blame the word before.
		near = prev
	}
	switch near {
	case "with":
		return "WITH is not supported: make each common table expression its own stage and select FROM it"
	case "over", "partition":
		return "window functions (OVER) are not supported: use GROUP BY with TUMBLE, HOP or SESSION, or a features: window transform"
	case "":
		return ""
	}
	if isWord(near) {
		return fmt.Sprintf("%s is a reserved word: if it is a column name, quote it with backticks, `%s`", near, near)
	}
	return ""
}

// reservedNames are reserved words that people use as column names.
var reservedNames = map[string]bool{
	"interval": true, "key": true, "end": true, "order": true, "group": true, "desc": true,
	"asc": true, "limit": true, "values": true, "default": true, "index": true, "table": true,
	"column": true, "database": true, "schema": true, "primary": true, "unique": true, "to": true,
	"left": true, "right": true, "join": true, "case": true, "when": true, "then": true, "else": true,
}

func isWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// didYouMean returns a hint naming the closest candidate, or listing the
// candidates when there are few.
func didYouMean(s string, candidates []string) string {
	if c := spec.Suggest(s, candidates); c != "" {
		return fmt.Sprintf("did you mean %q?", c)
	}
	if len(candidates) > 0 && len(candidates) <= 8 {
		return "known: " + strings.Join(candidates, ", ")
	}
	return ""
}

// isKind reports whether d is of kind k.
func isKind(d spec.Diagnostic, k error) bool { return errors.Is(d.Err, k) }

// reset starts searching from the beginning of the query again.
func (q *query) reset() {
	if q != nil {
		q.clause = q.base
		q.cursor = nil
	}
}

// posOfBound returns the position of the occurrence of words bound last
// (see advance), else of the next one: for errors about an expression whose
// operands were just bound.
func (q *query) posOfBound(words ...string) spec.Pos {
	if c, ok := q.cursor[strings.ToLower(strings.Join(words, " "))]; ok && c >= q.clause {
		return q.pos(c)
	}
	return q.posOf(words...)
}

// nthToken returns the offset of the n-th (1-based) token spelled word, or -1.
func (q *query) nthToken(word string, n int) int {
	for _, t := range q.toks {
		if strings.EqualFold(t.val, word) {
			n--
			if n == 0 {
				return t.start
			}
		}
	}
	return -1
}
