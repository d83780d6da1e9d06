package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
)

// quoteNoneJob reads label<TAB>text<TAB>n with csv.quote: none and a
// header (the SMS Spam Collection's shape, with a number).
const quoteNoneJob = `apiVersion: flowrun.dev/v1
kind: Pipeline
metadata: {name: tsv}
spec:
  sources:
    - name: sms
      jetstream: {stream: SMS, subjects: ["sms.in"]}
      format: csv
      csv: {delimiter: "\t", quote: none, header: true}
      schema:
        label: {type: string, nullable: true}
        text: string
        n: {type: bigint, nullable: true}
  stages:
    - name: rows
      sql: SELECT label, text, n FROM sms
  sinks:
    - {name: out, from: rows, jetstream: {stream: OUT, subject: out.rows}}
`

// readJSONRows reads a sink's JSON lines as maps.
func readJSONRows(t *testing.T, path string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range readLines(t, path) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// TestRunCSVQuoteNone runs a csv.quote: none source from --input files
// (plain and gzip-compressed) on the embedded JetStream: every '"' is
// text, an empty field is NULL for a nullable column, a tab inside
// would-be quotes splits the field (a dead letter: too many fields), and a
// header with an unbalanced quote is read without quoting.
func TestRunCSVQuoteNone(t *testing.T) {
	dir := t.TempDir()
	job := filepath.Join(dir, "job.yaml")
	writeTestFile(t, job, quoteNoneJob)
	in := "label\t\"text\tn\n" + // header: an unbalanced quote, no warning, no error
		"ham\t\"Hello\" she said\t1\n" +
		"spam\t\"FREE entry, txt WIN now\t2\r\n" +
		"\tno label, \"quoted\" words\t\n" +
		"ham\ta \"\"b\"\" c\"\t3\n" +
		"ham\t\"\"\t4\n" +
		"ham\t\t5\n" +
		"ham\t\"x\ty\"\t6\n" + // the tab splits: 4 fields
		"ham\tquoted number\t\"7\"\n" // a quote is not taken off a number
	want := []map[string]any{
		{"label": "ham", "text": `"Hello" she said`, "n": 1.0},
		{"label": "spam", "text": `"FREE entry, txt WIN now`, "n": 2.0},
		{"label": nil, "text": `no label, "quoted" words`, "n": nil},
		{"label": "ham", "text": `a ""b"" c"`, "n": 3.0},
		{"label": "ham", "text": `""`, "n": 4.0},
		{"label": "ham", "text": "", "n": 5.0},
	}
	wantDL := []deadLetter{
		{Stage: "sms", Class: "decode", Reason: "CSV record has 4 fields, want 3", Data: "ham\t\"x\ty\"\t6"},
		{Stage: "sms", Class: "type", Reason: `column "n": want bigint, got "\"7\""`, Data: "ham\tquoted number\t\"7\""},
	}
	// The header check splits the header at the delimiter, quotes and all.
	op := &planner.SourceOp{Format: "csv", CSV: spec.CSVOptions{Delimiter: "\t", Quote: spec.CSVQuoteNone, Header: true},
		Decl: []spec.Column{{Name: "label"}, {Name: "text"}, {Name: "n"}}}
	if warn, err := checkCSVHeader(bufio.NewReader(strings.NewReader(in)), op); warn != "" || err != nil {
		t.Fatalf("header check: warning %q, error %v", warn, err)
	}
	for _, name := range []string{"sms.tsv", "sms.tsv.gz"} {
		t.Run(name, func(t *testing.T) {
			sub := t.TempDir()
			input := filepath.Join(sub, name)
			if strings.HasSuffix(name, ".gz") {
				writeGzip(t, input, in)
			} else {
				writeTestFile(t, input, in)
			}
			if err := runBounded(t, sub, job, []string{"sms=" + input}, "out"); err != nil {
				t.Fatal(err)
			}
			if got := readJSONRows(t, filepath.Join(sub, "out-out.jsonl")); !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %v\nwant %v", got, want)
			}
			got := readDeadLetters(t, filepath.Join(sub, "dlq.jsonl"))
			if len(got) != len(wantDL) {
				t.Fatalf("dead letters %+v, want %+v", got, wantDL)
			}
			for i, d := range got {
				w := wantDL[i]
				if d.Stage != w.Stage || d.Class != w.Class || d.Reason != w.Reason || strings.TrimSpace(d.Data) != w.Data {
					t.Errorf("dead letter %d: %+v, want %+v", i, d, w)
				}
			}
		})
	}
}

// TestRunCSVQuoteChar runs a source quoted with ' instead of ".
func TestRunCSVQuoteChar(t *testing.T) {
	dir := t.TempDir()
	job := filepath.Join(dir, "job.yaml")
	writeTestFile(t, job, strings.Replace(quoteNoneJob, `csv: {delimiter: "\t", quote: none, header: true}`, `csv: {quote: "'"}`, 1))
	input := filepath.Join(dir, "sms.csv")
	writeTestFile(t, input, "ham,'a, b',1\n"+
		"spam,'it''s \"free\"',2\n"+
		",\"x\",\n"+
		"ham,'',4\n")
	if err := runBounded(t, dir, job, []string{"sms=" + input}, "out"); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"label": "ham", "text": "a, b", "n": 1.0},
		{"label": "spam", "text": `it's "free"`, "n": 2.0},
		{"label": nil, "text": `"x"`, "n": nil},
		{"label": "ham", "text": "", "n": 4.0},
	}
	if got := readJSONRows(t, filepath.Join(dir, "out-out.jsonl")); !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}

// TestFlowrunTestCSVQuote: `flowrun test` writes rows: for a source with
// csv.quote: none unquoted (and refuses a value holding the delimiter),
// sorts a file by splitting its records as the source does, leaves a
// quoting: none file as it is, and quotes rows with a source's own quote
// character.
func TestFlowrunTestCSVQuote(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "pipeline.yaml"), quoteNoneJob)
	if err := os.MkdirAll(filepath.Join(dir, "tests"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dir, "tests", "sms.tsv"), "label\ttext\tn\n"+
		"ham\t\"b\" second\t2\n"+
		"spam\t\"a first\t1\n"+
		"\t\"c\"\t3\n")
	writeTestFile(t, filepath.Join(dir, "tests", "rows.yaml"), `name: rows
inputs:
  sms:
    rows:
      - {label: ham, text: '"Hello" she said', n: 1}
      - {text: 'unbalanced " quote'}
expect:
  out:
    ordered: true
    rows:
      - {label: ham, text: '"Hello" she said', n: 1}
      - {label: null, text: 'unbalanced " quote', n: null}
deadLetters: {count: 0}
`)
	writeTestFile(t, filepath.Join(dir, "tests", "sorted.yaml"), `name: sorted
inputs:
  sms: {file: sms.tsv, sortBy: text, quoting: none}
expect:
  out:
    ordered: true
    rows:
      - {label: spam, text: '"a first', n: 1}
      - {label: ham, text: '"b" second', n: 2}
      - {label: null, text: '"c"', n: 3}
deadLetters: {count: 0}
`)
	code, out := captureRun(t, "test", dir)
	if code != exitOK || !strings.Contains(out, "2 passed, 0 failed") {
		t.Fatalf("exit %d, want 0 with both cases passing; output:\n%s", code, out)
	}

	// A row value holding the delimiter cannot be written unquoted.
	writeTestFile(t, filepath.Join(dir, "tests", "tab.yaml"), `name: tab in a value
inputs:
  sms:
    rows:
      - {label: ham, text: "a\tb", n: 1}
expect:
  out: {count: 1}
`)
	code, out = captureRun(t, "test", filepath.Join(dir, "tests", "tab.yaml"))
	if code == exitOK || !strings.Contains(out, `column text: "a\tb" holds the delimiter or a line end, which a source with csv.quote: none cannot read`) {
		t.Fatalf("exit %d, want a failure naming the column; output:\n%s", code, out)
	}

	// A source quoted with ': rows holding the delimiter and quotes.
	qdir := t.TempDir()
	writeTestFile(t, filepath.Join(qdir, "pipeline.yaml"), strings.Replace(quoteNoneJob, `csv: {delimiter: "\t", quote: none, header: true}`, `csv: {quote: "'"}`, 1))
	if err := os.MkdirAll(filepath.Join(qdir, "tests"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(qdir, "tests", "sms.csv"), "ham,'b, second',2\nspam,'a ''first''',1\n")
	writeTestFile(t, filepath.Join(qdir, "tests", "quoted.yaml"), `name: quoted with '
inputs:
  sms:
    rows:
      - {label: ham, text: "it's, \"x\"", n: 1}
expect:
  out:
    rows:
      - {label: ham, text: "it's, \"x\"", n: 1}
deadLetters: {count: 0}
`)
	writeTestFile(t, filepath.Join(qdir, "tests", "sorted.yaml"), `name: sorted by n
inputs:
  sms: {file: sms.csv, sortBy: n}
expect:
  out:
    ordered: true
    rows:
      - {label: spam, text: "a 'first'", n: 1}
      - {label: ham, text: "b, second", n: 2}
deadLetters: {count: 0}
`)
	code, out = captureRun(t, "test", qdir)
	if code != exitOK || !strings.Contains(out, "2 passed, 0 failed") {
		t.Fatalf("exit %d, want 0 with both cases passing; output:\n%s", code, out)
	}
}

// TestValidateCSVQuote: a bad csv.quote is an error at its position.
func TestValidateCSVQuote(t *testing.T) {
	dir := t.TempDir()
	job := filepath.Join(dir, "job.yaml")
	writeTestFile(t, job, strings.Replace(quoteNoneJob, "quote: none", "quote: nope", 1))
	code, out := captureRun(t, "validate", job)
	want := "job.yaml:9:37: error: bad csv quote \"nope\"" // line 9: `      csv: {delimiter: "\t", quote: nope, ...`
	if code == exitOK || !strings.Contains(out, want) || !strings.Contains(out, `did you mean "none"?`) {
		t.Fatalf("exit %d, want %q and a suggestion; output:\n%s", code, want, out)
	}
}
