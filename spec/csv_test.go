package spec

import (
	"errors"
	"strings"
	"testing"
)

// csvJob is a job whose CSV source has the csv options opts (a flow
// mapping's content).
func csvJob(opts string) string {
	return `apiVersion: flowrun.dev/v1
kind: Pipeline
metadata: {name: csvq}
spec:
  sources:
    - name: sms
      jetstream: {stream: SMS}
      format: csv
      csv: {` + opts + `}
      schema: {label: string, text: string}
  sinks:
    - {name: out, from: sms, jetstream: {stream: OUT, subject: out}}
`
}

func TestCSVQuoteValid(t *testing.T) {
	for _, tt := range []struct{ opts, want string }{
		{``, ""},
		{`quote: none`, "none"},
		{`delimiter: "\t", quote: none`, "none"},
		{`quote: '"'`, `"`},
		{`quote: "'"`, "'"},
		{`quote: "|"`, "|"},
		{`delimiter: ";", quote: "'"`, "'"},
		{`quote: "#", header: true`, "#"},
	} {
		p, ds := Parse("csv.yaml", []byte(csvJob(tt.opts)))
		if len(ds) > 0 {
			t.Errorf("csv {%s}: %v", tt.opts, ds)
			continue
		}
		if got := p[0].Spec.Sources[0].CSV.Quote; got != tt.want {
			t.Errorf("csv {%s}: quote %q, want %q", tt.opts, got, tt.want)
		}
	}
}

func TestCSVQuoteErrors(t *testing.T) {
	for _, tt := range []struct {
		opts, value string // value: the quote as written, to find its column
		msg, hint   string
	}{
		{`delimiter: "\t", quote: None`, `None`, `bad csv quote "None": want none or one ASCII character (" by default)`, `did you mean "none"?`},
		{`quote: nonee`, `nonee`, `bad csv quote "nonee": want none or one ASCII character (" by default)`, `did you mean "none"?`},
		{`quote: off`, `off`, `bad csv quote "off": want none or one ASCII character (" by default)`, `quote: none reads every " as text`},
		{`quote: "''"`, `"''"`, `bad csv quote "''": want none or one ASCII character (" by default)`, `quote: none reads every " as text`},
		{`quote: " "`, `" "`, `bad csv quote " ": want none or one ASCII character (" by default)`, `quote: none reads every " as text`},
		{`quote: "\t"`, `"\t"`, `bad csv quote "\t": want none or one ASCII character (" by default)`, `quote: none reads every " as text`},
		{`quote: "é"`, `"é"`, `bad csv quote "é": want none or one ASCII character (" by default)`, `quote: none reads every " as text`},
		{`delimiter: ";", quote: ";"`, `";"`, `csv quote ";" is also the delimiter`, `quote: none reads every " as text`},
		{`quote: ","`, `","`, `csv quote "," is also the delimiter`, `quote: none reads every " as text`},
	} {
		t.Run(tt.opts, func(t *testing.T) {
			src := csvJob(tt.opts)
			_, ds := Parse("csv.yaml", []byte(src))
			if len(ds) != 1 {
				t.Fatalf("want one diagnostic, got %d:\n%v", len(ds), ds)
			}
			d := ds[0]
			if d.Severity != Error || !errors.Is(d.Err, ErrValue) || d.Msg != tt.msg || !strings.HasPrefix(d.Hint, tt.hint) {
				t.Fatalf("got %s %q (hint %q), want error %q (hint %q)", d.Severity, d.Msg, d.Hint, tt.msg, tt.hint)
			}
			// The value's position: line 9, the column of the value
			// after "quote: ".
			line := strings.Split(src, "\n")[8]
			col := strings.Index(line, "quote: "+tt.value) + len("quote: ") + 1
			if d.Pos.File != "csv.yaml" || d.Pos.Line != 9 || d.Pos.Col != col {
				t.Fatalf("at %v, want csv.yaml:9:%d", d.Pos, col)
			}
		})
	}
}

// A bad quote of a source that is not CSV is ignored, with the warning
// that csv options are.
func TestCSVQuoteNotCSV(t *testing.T) {
	src := strings.Replace(csvJob(`quote: nope`), "format: csv", "format: json", 1)
	_, ds := Parse("csv.yaml", []byte(src))
	if len(ds) != 1 || ds[0].Severity != Warning || ds[0].Msg != "csv options are ignored unless format is csv" {
		t.Fatalf("got %v, want one warning", ds)
	}
}

func TestCheckCSVQuote(t *testing.T) {
	for _, tt := range []struct {
		quote, delim string
		want         byte
		err          bool
	}{
		{"", "", '"', false},
		{"", `"`, '"', false}, // the default is not checked against the delimiter (as before)
		{`"`, "", '"', false},
		{"none", "\t", 0, false},
		{"'", ",", '\'', false},
		{"~", "", '~', false},
		{"!", "", '!', false},
		{"NONE", "", 0, true},
		{" ", "", 0, true},
		{"\x7f", "", 0, true},
		{"'", "'", 0, true},
	} {
		got, err := CheckCSVQuote(tt.quote, tt.delim)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("CheckCSVQuote(%q, %q) = %q, %v; want %q, error %v", tt.quote, tt.delim, got, err, tt.want, tt.err)
		}
	}
}
