package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// Severity says whether a Diagnostic makes a job invalid.
type Severity uint8

// The severities of a Diagnostic.
const (
	Error Severity = iota
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// MarshalText makes a Severity print as its name in JSON.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses "error" or "warning".
func (s *Severity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "error":
		*s = Error
	case "warning":
		*s = Warning
	default:
		return fmt.Errorf("spec: unknown severity %q", b)
	}
	return nil
}

// Sentinel errors: every Diagnostic wraps one of them (Diagnostic.Err), so
// callers can tell kinds apart with errors.Is on a Diagnostics value.
var (
	ErrSyntax     = errors.New("yaml syntax error")
	ErrUnknown    = errors.New("unknown field")
	ErrType       = errors.New("wrong value type")
	ErrValue      = errors.New("bad value")
	ErrReference  = errors.New("unknown reference")
	ErrDuplicate  = errors.New("duplicate name")
	ErrCycle      = errors.New("cycle")
	ErrSQL        = errors.New("sql error")
	ErrExpr       = errors.New("expression error")
	ErrMissing    = errors.New("missing field")
	ErrLimit      = errors.New("limit exceeded")
	ErrInterp     = errors.New("interpolation error")
	ErrIO         = errors.New("cannot read job file")
	ErrUnused     = errors.New("unused")
	ErrInvalidJob = errors.New("invalid job")
)

// Diagnostic is one problem found in a job file.
type Diagnostic struct {
	Pos      Pos      `json:"pos"`
	Severity Severity `json:"severity"`
	Msg      string   `json:"message"`
	// Hint is an optional second line, e.g. `did you mean "x"?`.
	Hint string `json:"hint,omitempty"`
	// Err is the sentinel kind of the problem (ErrUnknown, ErrSQL, ...).
	Err error `json:"-"`
}

// MarshalJSON adds "kind", the text of the sentinel error (e.g. "unknown
// field", "sql error"), to the fields of d.
func (d Diagnostic) MarshalJSON() ([]byte, error) {
	type plain Diagnostic
	kind := ""
	if d.Err != nil {
		kind = d.Err.Error()
	}
	return json.Marshal(struct {
		plain
		Kind string `json:"kind,omitempty"`
	}{plain(d), kind})
}

// Error formats d as file:line:col: severity: message.
func (d Diagnostic) Error() string {
	s := fmt.Sprintf("%s: %s: %s", d.Pos, d.Severity, d.Msg)
	if d.Hint != "" {
		s += " (" + d.Hint + ")"
	}
	return s
}

// Unwrap returns the sentinel kind of d.
func (d Diagnostic) Unwrap() error { return d.Err }

// Diagnostics is a list of problems. A non-empty Diagnostics is an error;
// errors.Is(ds, ErrSQL) reports whether any of them is of that kind. Sort
// orders them by position.
type Diagnostics []Diagnostic

// Error joins the diagnostics, one per line.
func (ds Diagnostics) Error() string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.Error())
	}
	return b.String()
}

// Unwrap returns the diagnostics as errors (for errors.Is and errors.As).
func (ds Diagnostics) Unwrap() []error {
	out := make([]error, len(ds))
	for i, d := range ds {
		out[i] = d
	}
	return out
}

// Err returns ds as an error, or nil when it holds no error (warnings
// alone are not an error).
func (ds Diagnostics) Err() error {
	if ds.HasErrors() {
		return ds
	}
	return nil
}

// HasErrors reports whether any diagnostic has severity Error.
func (ds Diagnostics) HasErrors() bool { return ds.Count(Error) > 0 }

// Count returns how many diagnostics have severity s.
func (ds Diagnostics) Count(s Severity) int {
	n := 0
	for _, d := range ds {
		if d.Severity == s {
			n++
		}
	}
	return n
}

// Len, Swap and Less make Diagnostics a sort.Interface ordered by file,
// line, column, then errors before warnings.
func (ds Diagnostics) Len() int { return len(ds) }

// Swap swaps two diagnostics.
func (ds Diagnostics) Swap(i, j int) { ds[i], ds[j] = ds[j], ds[i] }

// Less orders by position, then severity, then message.
func (ds Diagnostics) Less(i, j int) bool {
	a, b := ds[i], ds[j]
	if a.Pos != b.Pos {
		return a.Pos.Before(b.Pos)
	}
	if a.Severity != b.Severity {
		return a.Severity < b.Severity
	}
	return a.Msg < b.Msg
}

// Sort sorts ds by position and drops exact duplicates.
func (ds *Diagnostics) Sort() {
	sort.Stable(*ds)
	out := (*ds)[:0]
	for i, d := range *ds {
		if i > 0 {
			p := out[len(out)-1]
			if p.Pos == d.Pos && p.Msg == d.Msg && p.Severity == d.Severity {
				continue
			}
		}
		out = append(out, d)
	}
	*ds = out
}

// Format writes each diagnostic as
//
//	file:line:col: error: message
//	  12 |     from: scord
//	     |           ^
//	  did you mean "scored"?
//
// src returns the text of a file for the snippet; it may be nil or return
// nil, and then the snippet is left out.
func (ds Diagnostics) Format(w io.Writer, src func(file string) []byte) {
	for _, d := range ds {
		fmt.Fprintf(w, "%s: %s: %s\n", d.Pos, d.Severity, d.Msg)
		if src != nil && d.Pos.Line > 0 {
			if text := src(d.Pos.File); text != nil {
				if line, ok := sourceLine(text, d.Pos.Line); ok {
					num := fmt.Sprint(d.Pos.Line)
					pad := strings.Repeat(" ", len(num))
					line = strings.ReplaceAll(line, "\t", " ")
					col := min(max(d.Pos.Col-1, 0), len(line))
					line, col = window(line, col)
					fmt.Fprintf(w, "  %s | %s\n", num, line)
					fmt.Fprintf(w, "  %s | %s^\n", pad, strings.Repeat(" ", utf8.RuneCountInString(line[:col])))
				}
			}
		}
		if d.Hint != "" {
			fmt.Fprintf(w, "  %s\n", d.Hint)
		}
	}
}

// maxSnippet is the widest source line a snippet shows; a longer line is
// cut to a window around the column.
const maxSnippet = 160

// window cuts a long line to maxSnippet bytes around col and returns the
// new line and the column in it.
func window(line string, col int) (string, int) {
	if len(line) <= maxSnippet {
		return line, col
	}
	start := max(col-maxSnippet/2, 0)
	for start > 0 && !utf8.RuneStart(line[start]) {
		start--
	}
	end := min(start+maxSnippet, len(line))
	for end < len(line) && !utf8.RuneStart(line[end]) {
		end++
	}
	out, c := line[start:end], col-start
	if start > 0 {
		out, c = "..."+out, c+3
	}
	if end < len(line) {
		out += "..."
	}
	return out, c
}

// sourceLine returns line n (1-based) of text without its line break.
func sourceLine(text []byte, n int) (string, bool) {
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(text, '\n')
		if j < 0 {
			return "", false
		}
		text = text[j+1:]
	}
	if j := bytes.IndexByte(text, '\n'); j >= 0 {
		text = text[:j]
	}
	return strings.TrimRight(string(text), "\r"), true
}

// diagf makes an error diagnostic.
func diagf(kind error, p Pos, format string, args ...any) Diagnostic {
	return Diagnostic{Pos: p, Severity: Error, Msg: fmt.Sprintf(format, args...), Err: kind}
}

// warnf makes a warning diagnostic.
func warnf(kind error, p Pos, format string, args ...any) Diagnostic {
	return Diagnostic{Pos: p, Severity: Warning, Msg: fmt.Sprintf(format, args...), Err: kind}
}

// maxArgLen is the longest string argument put into a message.
const maxArgLen = 80

// short cuts a value the user wrote to maxArgLen bytes for a message.
func short(s string) string {
	if len(s) <= maxArgLen {
		return s
	}
	cut := maxArgLen - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// withHint returns d with a hint line.
func (d Diagnostic) withHint(h string) Diagnostic {
	d.Hint = h
	return d
}
