package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"
)

func init() { register(testCmd) }

// TestCase is one file of pipelines/<name>/tests/*.yaml: rows to publish
// into the job's sources and what its sinks must emit.
type TestCase struct {
	// Name describes the case; defaults to the file name.
	Name string `yaml:"name"`
	// Pipeline is the job file, relative to the test file (default
	// ../pipeline.yaml).
	Pipeline string `yaml:"pipeline"`
	// Parallelism overrides the job's spec.parallelism.
	Parallelism int `yaml:"parallelism"`
	// Inputs holds per source either rows (a list of mappings) or a file
	// (a JSONL or CSV path relative to the test file).
	Inputs map[string]TestInput `yaml:"inputs"`
	// Expect holds per sink what it must emit.
	Expect map[string]TestExpect `yaml:"expect"`
	// DeadLetters, when set, is the exact number of dead-lettered records,
	// and Classes the number per class.
	DeadLetters *TestDLQ `yaml:"deadLetters"`
}

// TestInput is the data of one source.
type TestInput struct {
	Rows []map[string]any `yaml:"rows"`
	File string           `yaml:"file"`
}

// TestExpect is what one sink must emit. Rows are compared as a multiset
// (in order when Ordered), each on the columns it names only; numbers within
// Tolerance (relative, default 1e-9). Count checks the number of rows alone;
// MinCount and MaxCount bound it.
type TestExpect struct {
	Rows      []map[string]any `yaml:"rows"`
	Ordered   bool             `yaml:"ordered"`
	Count     *int             `yaml:"count"`
	MinCount  *int             `yaml:"minCount"`
	MaxCount  *int             `yaml:"maxCount"`
	Tolerance float64          `yaml:"tolerance"`
}

// TestDLQ bounds the dead letters of a case.
type TestDLQ struct {
	Count   *int           `yaml:"count"`
	Classes map[string]int `yaml:"classes"`
}

type testResult struct {
	file, name string
	elapsed    time.Duration
	failures   []string
	err        error // the case could not run
}

func testCmd() *cobra.Command {
	var output string
	var keep bool
	c := &cobra.Command{
		Use:   "test PATH...",
		Short: "Run pipeline test cases on an embedded JetStream",
		Long: `test runs test cases: YAML files (by convention pipelines/<name>/tests/*.yaml)
that give input rows per source and the rows each sink must emit. Every case
runs its job bounded, on a fresh embedded JetStream, with no outside service.
A directory is searched recursively for tests/*.yaml files.

A case file:

  name: large amounts are flagged
  pipeline: ../pipeline.yaml          # default
  inputs:
    tx:
      rows:
        - {tx_id: t1, user_id: u1, amount: 12.5, ts: "2026-01-01T00:00:00Z"}
    labels: {file: labels.jsonl}      # or a JSONL/CSV file
  expect:
    alerts:
      rows:                           # compared as a multiset, on the named columns
        - {tx_id: t1, bucket: low}
      # ordered: true, count: N, minCount: N, maxCount: N, tolerance: 1e-6
  deadLetters: {count: 0}             # or classes: {decode: 1}

Exit status 1 when a case fails, with a diff of missing and unexpected rows.`,
		Example: `  flowrun test pipelines/
  flowrun test pipelines/nexmark/tests/q1.yaml
  flowrun test -o junit pipelines/ > report.xml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "junit" {
				return usageError{fmt.Errorf("-o %q: want text or junit", output)}
			}
			files, err := findTestFiles(args)
			if err != nil {
				return err
			}
			if len(files) == 0 {
				return userError{fmt.Errorf("no test cases under %s", strings.Join(args, ", "))}
			}
			var results []testResult
			for _, f := range files {
				r := runTestCase(cmd.Context(), f, keep)
				results = append(results, r)
				if output == "text" {
					printTestResult(cmd.OutOrStdout(), r)
				}
			}
			failed := 0
			for _, r := range results {
				if r.err != nil || len(r.failures) > 0 {
					failed++
				}
			}
			if output == "junit" {
				if err := writeJUnit(cmd.OutOrStdout(), results); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "%d passed, %d failed\n", len(results)-failed, failed)
			}
			if failed > 0 {
				return userError{errSilent}
			}
			return nil
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "text", "text or junit")
	c.Flags().BoolVar(&keep, "keep", false, "keep each case's work directory (store, inputs, outputs) and print it")
	return c
}

// findTestFiles expands the arguments: files as they are, directories to
// every */tests/*.yaml below them, sorted.
func findTestFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, userError{err}
		}
		if !fi.IsDir() {
			out = append(out, a)
			continue
		}
		err = filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && filepath.Base(filepath.Dir(p)) == "tests" &&
				(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, userError{err}
		}
	}
	sort.Strings(out)
	return out, nil
}

func loadTestCase(path string) (*TestCase, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var tc TestCase
	if err := yaml.UnmarshalWithOptions(b, &tc, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%s: %s", path, yaml.FormatError(err, false, true))
	}
	if tc.Name == "" {
		tc.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if tc.Pipeline == "" {
		tc.Pipeline = "../pipeline.yaml"
	}
	if len(tc.Expect) == 0 && tc.DeadLetters == nil {
		return nil, fmt.Errorf("%s: the case expects nothing (add expect: or deadLetters:)", path)
	}
	return &tc, nil
}

func runTestCase(ctx context.Context, file string, keep bool) (r testResult) {
	r.file, r.name = file, file
	start := time.Now()
	defer func() { r.elapsed = time.Since(start) }()
	tc, err := loadTestCase(file)
	if err != nil {
		r.err = err
		return
	}
	r.name = tc.Name
	dir, err := os.MkdirTemp("", "flowrun-test-")
	if err != nil {
		r.err = err
		return
	}
	if keep {
		fmt.Fprintf(os.Stderr, "%s: work directory %s\n", file, dir)
	} else {
		defer os.RemoveAll(dir)
	}
	base := filepath.Dir(file)
	f := runFlags{store: filepath.Join(dir, "store"), bounded: true, quiet: true, createStream: true,
		parallelism: tc.Parallelism, batch: 256, dlq: filepath.Join(dir, "dlq.jsonl")}
	names := sortedKeys(tc.Inputs)
	for _, src := range names {
		in := tc.Inputs[src]
		path := filepath.Join(dir, "in-"+src+".jsonl")
		switch {
		case in.File != "":
			path = filepath.Join(base, in.File)
		default:
			if err := writeJSONL(path, in.Rows); err != nil {
				r.err = err
				return
			}
		}
		f.inputs = append(f.inputs, src+"="+path)
	}
	for _, sink := range sortedKeys(tc.Expect) {
		f.outputs = append(f.outputs, sink+"="+filepath.Join(dir, "out-"+sink+".jsonl"))
	}
	var stderr bytes.Buffer
	if err := runJob(ctx, filepath.Join(base, tc.Pipeline), &f, io.Discard, &stderr); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if !errors.Is(err, errSilent) {
			msg = strings.TrimSpace(msg + "\n" + err.Error())
		}
		r.err = fmt.Errorf("run %s: %s", tc.Pipeline, msg)
		return
	}
	for _, sink := range sortedKeys(tc.Expect) {
		got, err := readJSONL(filepath.Join(dir, "out-"+sink+".jsonl"))
		if err != nil {
			r.err = err
			return
		}
		r.failures = append(r.failures, compareSink(sink, tc.Expect[sink], got)...)
	}
	if d := tc.DeadLetters; d != nil {
		dl, err := readJSONL(filepath.Join(dir, "dlq.jsonl"))
		if err != nil && !os.IsNotExist(err) {
			r.err = err
			return
		}
		if d.Count != nil && len(dl) != *d.Count {
			r.failures = append(r.failures, fmt.Sprintf("dead letters: got %d, want %d%s", len(dl), *d.Count, dlqSample(dl)))
		}
		if len(d.Classes) > 0 {
			got := map[string]int{}
			for _, x := range dl {
				c, _ := x["class"].(string)
				got[c]++
			}
			for _, c := range sortedKeys(d.Classes) {
				if got[c] != d.Classes[c] {
					r.failures = append(r.failures, fmt.Sprintf("dead letters of class %s: got %d, want %d%s", c, got[c], d.Classes[c], dlqSample(dl)))
				}
			}
		}
	}
	return
}

func dlqSample(dl []map[string]any) string {
	if len(dl) == 0 {
		return ""
	}
	var b strings.Builder
	for i, x := range dl {
		if i == 3 {
			fmt.Fprintf(&b, "\n      … %d more", len(dl)-3)
			break
		}
		fmt.Fprintf(&b, "\n      %s: %s", x["class"], x["reason"])
	}
	return b.String()
}

// compareSink checks the rows a sink emitted against the expectation and
// returns one message per failure.
func compareSink(sink string, want TestExpect, got []map[string]any) []string {
	var fails []string
	n := len(got)
	if want.Count != nil && n != *want.Count {
		fails = append(fails, fmt.Sprintf("%s: got %d rows, want %d", sink, n, *want.Count))
	}
	if want.MinCount != nil && n < *want.MinCount {
		fails = append(fails, fmt.Sprintf("%s: got %d rows, want at least %d", sink, n, *want.MinCount))
	}
	if want.MaxCount != nil && n > *want.MaxCount {
		fails = append(fails, fmt.Sprintf("%s: got %d rows, want at most %d", sink, n, *want.MaxCount))
	}
	if want.Rows == nil {
		return fails
	}
	tol := want.Tolerance
	if tol == 0 {
		tol = 1e-9
	}
	if want.Ordered {
		for i := 0; i < max(len(want.Rows), len(got)); i++ {
			switch {
			case i >= len(got):
				fails = append(fails, fmt.Sprintf("%s: row %d missing: %s", sink, i+1, showRow(want.Rows[i])))
			case i >= len(want.Rows):
				fails = append(fails, fmt.Sprintf("%s: unexpected row %d: %s", sink, i+1, showRow(got[i])))
			case !rowMatches(want.Rows[i], got[i], tol):
				fails = append(fails, fmt.Sprintf("%s: row %d\n      want %s\n      got  %s", sink, i+1, showRow(want.Rows[i]), showRow(got[i])))
			}
		}
		return fails
	}
	used := make([]bool, len(got))
	var missing []string
	for _, w := range want.Rows {
		found := false
		for j, g := range got {
			if !used[j] && rowMatches(w, g, tol) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			missing = append(missing, showRow(w))
		}
	}
	var extra []string
	for j, g := range got {
		if !used[j] {
			extra = append(extra, showRow(g))
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "%s: rows differ (%d expected, %d emitted)", sink, len(want.Rows), len(got))
		for _, m := range missing {
			b.WriteString("\n      - " + m)
		}
		for _, x := range extra {
			b.WriteString("\n      + " + x)
		}
		fails = append(fails, b.String())
	}
	return fails
}

// rowMatches compares the columns want names.
func rowMatches(want, got map[string]any, tol float64) bool {
	for k, wv := range want {
		gv, ok := got[k]
		if !ok || !valueMatches(wv, gv, tol) {
			return false
		}
	}
	return true
}

func valueMatches(want, got any, tol float64) bool {
	if want == nil || got == nil {
		return want == nil && got == nil
	}
	if wf, ok := toFloat64(want); ok {
		gf, ok := toFloat64(got)
		if !ok {
			return false
		}
		if math.IsNaN(wf) || math.IsNaN(gf) {
			return math.IsNaN(wf) && math.IsNaN(gf)
		}
		return math.Abs(wf-gf) <= tol*math.Max(1, math.Max(math.Abs(wf), math.Abs(gf)))
	}
	switch w := want.(type) {
	case string:
		g, ok := got.(string)
		if !ok {
			return false
		}
		if w == g {
			return true
		}
		// Timestamps: compare instants, whatever the notation.
		wt, err1 := time.Parse(time.RFC3339Nano, w)
		gt, err2 := time.Parse(time.RFC3339Nano, g)
		return err1 == nil && err2 == nil && wt.Equal(gt)
	case time.Time:
		g, ok := got.(string)
		if !ok {
			return false
		}
		gt, err := time.Parse(time.RFC3339Nano, g)
		return err == nil && w.Equal(gt)
	case bool:
		g, ok := got.(bool)
		return ok && g == w
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !valueMatches(w[i], g[i], tol) {
				return false
			}
		}
		return true
	}
	return fmt.Sprint(want) == fmt.Sprint(got)
}

func toFloat64(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

func showRow(m map[string]any) string {
	keys := sortedKeys(m)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		v, _ := json.Marshal(normalizeYAML(m[k]))
		fmt.Fprintf(&b, "%s: %s", k, v)
	}
	b.WriteByte('}')
	return b.String()
}

// normalizeYAML turns YAML-decoded values into what encoding/json writes.
func normalizeYAML(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	case uint64:
		return float64(x)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = normalizeYAML(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizeYAML(e)
		}
		return out
	}
	return v
}

func writeJSONL(path string, rows []map[string]any) error {
	var b bytes.Buffer
	for _, r := range rows {
		line, err := json.Marshal(normalizeYAML(r))
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func readJSONL(path string) ([]map[string]any, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var out []map[string]any
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func printTestResult(w io.Writer, r testResult) {
	switch {
	case r.err != nil:
		fmt.Fprintf(w, "ERROR %s (%s)\n      %s\n", r.name, r.file, strings.ReplaceAll(r.err.Error(), "\n", "\n      "))
	case len(r.failures) > 0:
		fmt.Fprintf(w, "FAIL  %s (%s)\n", r.name, r.file)
		for _, f := range r.failures {
			fmt.Fprintf(w, "    %s\n", f)
		}
	default:
		fmt.Fprintf(w, "ok    %s (%s, %v)\n", r.name, r.file, r.elapsed.Round(time.Millisecond))
	}
}

// writeJUnit writes the results as a JUnit XML report, one suite per
// directory of cases.
func writeJUnit(w io.Writer, results []testResult) error {
	type failure struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Time      string   `xml:"time,attr"`
		Failure   *failure `xml:"failure,omitempty"`
		Error     *failure `xml:"error,omitempty"`
	}
	type suite struct {
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Errors   int        `xml:"errors,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	type suites struct {
		XMLName xml.Name `xml:"testsuites"`
		Suites  []suite  `xml:"testsuite"`
	}
	bySuite := map[string]*suite{}
	var order []string
	for _, r := range results {
		name := filepath.Dir(r.file)
		s := bySuite[name]
		if s == nil {
			s = &suite{Name: name}
			bySuite[name] = s
			order = append(order, name)
		}
		tc := testcase{Name: r.name, Classname: name, Time: strconv.FormatFloat(r.elapsed.Seconds(), 'f', 3, 64)}
		switch {
		case r.err != nil:
			tc.Error = &failure{Message: "could not run", Text: r.err.Error()}
			s.Errors++
		case len(r.failures) > 0:
			tc.Failure = &failure{Message: r.failures[0], Text: strings.Join(r.failures, "\n")}
			s.Failures++
		}
		s.Tests++
		s.Cases = append(s.Cases, tc)
	}
	var all suites
	for _, n := range order {
		all.Suites = append(all.Suites, *bySuite[n])
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
