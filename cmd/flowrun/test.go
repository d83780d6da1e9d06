package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
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

	"github.com/flowrun/flowrun/executor/jetstream"
	"github.com/flowrun/flowrun/ml"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
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
	// Requires lists files or directories (relative to the test file) the
	// case needs, such as data sets kept outside the repository; when one
	// is missing the case is skipped, not failed.
	Requires []string `yaml:"requires"`
	// Train holds `flowrun train` steps run, in order, before the job on
	// the same store, so that the job's PREDICT scores with their models.
	Train []TestTrain `yaml:"train"`
	// Inputs holds per source either rows (a list of mappings) or a file
	// (a JSONL or CSV path relative to the test file).
	Inputs map[string]TestInput `yaml:"inputs"`
	// Expect holds per sink what it must emit.
	Expect map[string]TestExpect `yaml:"expect"`
	// DeadLetters, when set, is the exact number of dead-lettered records,
	// and Classes the number per class.
	DeadLetters *TestDLQ `yaml:"deadLetters"`
}

// TestInput is the data of one source: Rows, or a File in the source's
// format. A file may be gzip-compressed (.gz). The options below make the
// harness prepare a copy in the case's work directory: SortBy replays the
// records ordered by one column of the source's schema (stable; numbers
// compared as numbers); Offset skips the first records of the replay and
// Limit keeps the next ones (a CSV header is kept); Quoting "none" reads a delimited
// file whose fields are not quoted (a '"' is a literal character and the
// last column takes the rest of the line, as in most TSV exports) and
// quotes it for the CSV decoder (a source with csv.quote: none reads such
// a file as it is: it is then not re-quoted).
type TestInput struct {
	Rows    []map[string]any `yaml:"rows"`
	File    string           `yaml:"file"`
	Limit   int              `yaml:"limit"`
	Offset  int              `yaml:"offset"`
	SortBy  string           `yaml:"sortBy"`
	Quoting string           `yaml:"quoting"`
}

// TestTrain is one `flowrun train` step of a case.
type TestTrain struct {
	Model  string               `yaml:"model"`
	Inputs map[string]TestInput `yaml:"inputs"`
}

// TestExpect is what one sink must emit. Rows are compared as a multiset
// (in order when Ordered), each on the columns it names only; numbers within
// Tolerance (relative, default 1e-9). Count checks the number of rows alone;
// MinCount and MaxCount bound it. Metrics are thresholds on metrics computed
// over the emitted rows, by name.
type TestExpect struct {
	Rows      []map[string]any      `yaml:"rows"`
	Ordered   bool                  `yaml:"ordered"`
	Count     *int                  `yaml:"count"`
	MinCount  *int                  `yaml:"minCount"`
	MaxCount  *int                  `yaml:"maxCount"`
	Tolerance float64               `yaml:"tolerance"`
	Metrics   map[string]TestMetric `yaml:"metrics"`
}

// TestMetric is a threshold on a metric of a sink's rows. The metric is
// Metric, or the key it is listed under: one of ml.Metrics (auc, accuracy,
// precision, recall, f1, logloss, rmse, mae, r2) or windows.
//
// For ml metrics, Score names the predicted column (a probability, a value,
// or a bool class) and Label the true one (bool, number, or a string whose
// Positive value is class 1). Classes are score > Threshold (default 0.5).
// Skip is the fraction of leading rows, in emission order, left out (0.5:
// the second half, for prequential scores); rows with a NULL score or label
// are left out too.
//
// windows counts labelled event windows (Windows inline, or Labels from a
// NAB-style JSON file) that hold at least one alarm: an emitted row whose
// Time column falls in the window and whose Score is true (bool) or above
// Threshold; without Score every emitted row is an alarm. Alarms outside
// every window are false alarms, merged into one when less than the mean
// window length apart; MaxFalseAlarms bounds their number.
type TestMetric struct {
	Metric    string   `yaml:"metric"`
	Score     string   `yaml:"score"`
	Label     string   `yaml:"label"`
	Positive  any      `yaml:"positive"`
	Threshold *float64 `yaml:"threshold"`
	Skip      float64  `yaml:"skip"`
	Min       *float64 `yaml:"min"`
	Max       *float64 `yaml:"max"`

	Time           string          `yaml:"time"`
	Windows        [][2]string     `yaml:"windows"`
	Labels         *TestWindowFile `yaml:"labels"`
	MaxFalseAlarms *int            `yaml:"maxFalseAlarms"`
}

// TestWindowFile names the windows of one series in a JSON file of the
// NAB labels shape: {"<series>": [["start", "end"], ...], ...}.
type TestWindowFile struct {
	File string `yaml:"file"`
	Key  string `yaml:"key"`
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
	figures    []string // measured metrics, shown on the ok line
	skipped    string   // why the case did not run
	err        error    // the case could not run
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
A directory is searched recursively for tests/*.yaml files. Paths in a case
are relative to the case file.

A case file:

  name: large amounts are flagged
  pipeline: ../pipeline.yaml          # default
  requires: [../../../data/tx.csv.gz] # skip the case when a file is missing
  inputs:
    tx:
      rows:
        - {tx_id: t1, user_id: u1, amount: 12.5, ts: "2026-01-01T00:00:00Z"}
    labels:                           # or a file in the source's format
      file: labels.csv.gz             # .gz is decompressed
      sortBy: ts                      # replay ordered by a schema column
      offset: 100                     # skip the first 100 records,
      limit: 5000                     # then keep 5000
      quoting: none                   # CSV/TSV whose fields are never quoted
  expect:
    alerts:
      rows:                           # compared as a multiset, on the named columns
        - {tx_id: t1, bucket: low}
      # ordered: true, count: N, minCount: N, maxCount: N, tolerance: 1e-6
    scores:
      metrics:                        # thresholds on metrics of the emitted rows
        accuracy: {score: p_fraud, label: is_fraud, skip: 0.5, min: 0.97}
        auc: {score: p_fraud, label: is_fraud, min: 0.9}
  deadLetters: {count: 0}             # or classes: {decode: 1}

Metrics: auc, accuracy, precision, recall, f1, logloss, rmse, mae, r2 (the
ml package's functions) over the rows in emission order; score: is the
predicted column, label: the true one (bool, number, or a string with
positive: naming class 1); threshold: turns scores into classes (score >
threshold, default 0.5); skip: is the fraction of leading rows left out
(0.5 = the second half of a prequential run); rows with a NULL score or
label are left out; min: and max: bound the value. A metric may be listed
under another key with metric: NAME. The windows metric counts labelled
event windows holding an alarm (a row whose time: column falls inside and
whose score: is true or above threshold; every row without score:):

    anomalies:
      metrics:
        windows:
          time: timestamp
          labels: {file: combined_windows.json, key: series.csv}  # or windows: [[start, end], ...]
          min: 3                      # windows detected
          maxFalseAlarms: 2           # alarm groups outside every window

A train: list runs "flowrun train" steps on the case's store before the job:

  train:
    - model: default_risk
      inputs: {clients: {file: clients.csv.gz, limit: 24000}}

The ok line shows each measured metric. Exit status 1 when a case fails, with
a diff of missing and unexpected rows or the metric that missed its bound.`,
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
			failed, skipped := 0, 0
			for _, r := range results {
				switch {
				case r.err != nil || len(r.failures) > 0:
					failed++
				case r.skipped != "":
					skipped++
				}
			}
			if output == "junit" {
				if err := writeJUnit(cmd.OutOrStdout(), results); err != nil {
					return err
				}
			} else {
				sk := ""
				if skipped > 0 {
					sk = fmt.Sprintf(", %d skipped", skipped)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d passed, %d failed%s\n", len(results)-failed-skipped, failed, sk)
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
	base := filepath.Dir(file)
	for _, req := range tc.Requires {
		if _, err := os.Stat(resolvePath(base, req)); err != nil {
			r.skipped = "missing " + req
			return
		}
	}
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
	jobPath := resolvePath(base, tc.Pipeline)
	ps, ds := spec.LoadFile(jobPath)
	if ds.HasErrors() || len(ps) != 1 {
		var b bytes.Buffer
		printDiags(&b, ds)
		r.err = fmt.Errorf("%s: want one valid pipeline\n%s", tc.Pipeline, strings.TrimSpace(b.String()))
		return
	}
	sources := map[string]*spec.Source{}
	for i := range ps[0].Spec.Sources {
		sources[ps[0].Spec.Sources[i].Name] = &ps[0].Spec.Sources[i]
	}
	store := filepath.Join(dir, "store")
	for i, st := range tc.Train {
		tf := &trainFlags{model: st.Model}
		tf.reg.store = store
		tf.out.format = "text"
		for _, src := range sortedKeys(st.Inputs) {
			path, err := prepareInput(base, dir, fmt.Sprintf("train%d-%s", i+1, src), sources[src], st.Inputs[src])
			if err != nil {
				r.err = fmt.Errorf("train %s: input %s: %w", st.Model, src, err)
				return
			}
			tf.inputs = append(tf.inputs, src+"="+path)
		}
		var out bytes.Buffer
		if err := trainJob(ctx, jobPath, tf, &out, &out); err != nil {
			msg := strings.TrimSpace(out.String())
			if !errors.Is(err, errSilent) {
				msg = strings.TrimSpace(msg + "\n" + err.Error())
			}
			r.err = fmt.Errorf("train %s: %s", st.Model, msg)
			return
		}
		if keep {
			fmt.Fprintf(os.Stderr, "%s: train %s:\n%s", file, st.Model, out.String())
		}
	}
	f := runFlags{store: store, bounded: true, quiet: true, createStream: true,
		parallelism: tc.Parallelism, batch: 256, dlq: filepath.Join(dir, "dlq.jsonl")}
	for _, src := range sortedKeys(tc.Inputs) {
		in := tc.Inputs[src]
		path, err := prepareInput(base, dir, "in-"+src, sources[src], in)
		if err != nil {
			r.err = fmt.Errorf("input %s: %w", src, err)
			return
		}
		f.inputs = append(f.inputs, src+"="+path)
	}
	for _, sink := range sortedKeys(tc.Expect) {
		f.outputs = append(f.outputs, sink+"="+filepath.Join(dir, "out-"+sink+".jsonl"))
	}
	var stderr bytes.Buffer
	if err := runJob(ctx, jobPath, &f, io.Discard, &stderr); err != nil {
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
		want := tc.Expect[sink]
		r.failures = append(r.failures, compareSink(sink, want, got)...)
		for _, name := range sortedKeys(want.Metrics) {
			fig, fail, err := checkMetric(base, name, want.Metrics[name], got)
			switch {
			case err != nil:
				r.failures = append(r.failures, fmt.Sprintf("%s: metric %s: %v", sink, name, err))
			case fail:
				r.failures = append(r.failures, fmt.Sprintf("%s: %s", sink, fig))
			default:
				r.figures = append(r.figures, fig)
			}
		}
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

// resolvePath resolves a path of a case file against the case's directory.
func resolvePath(base, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// prepareInput returns the file to publish for one input: its rows written
// in the source's format, the file itself (gzip-compressed or not), or a
// copy in dir made by decompressing, sorting, cutting (offset, limit) and
// re-quoting it as the input asks.
func prepareInput(base, dir, name string, src *spec.Source, in TestInput) (string, error) {
	if src == nil {
		return "", errors.New("the job has no such source")
	}
	if in.File == "" {
		if src.Format == "csv" {
			path := filepath.Join(dir, name+".csv")
			return path, writeCSV(path, src, in.Rows)
		}
		path := filepath.Join(dir, name+".jsonl")
		return path, writeJSONL(path, in.Rows)
	}
	if in.Limit < 0 || in.Offset < 0 {
		return "", errors.New("limit and offset must be ≥ 0")
	}
	if in.Quoting != "" && in.Quoting != "none" {
		return "", fmt.Errorf("quoting %q: want none (or leave it out for RFC 4180 CSV)", in.Quoting)
	}
	csvFmt := src.Format == "csv"
	if in.Quoting != "" && !csvFmt {
		return "", errors.New("quoting applies to CSV sources only")
	}
	delim, header, quote, err := csvSyntax(src)
	if err != nil {
		return "", err
	}
	requote := in.Quoting == "none" && quote != 0 // a source with csv.quote: none reads the file as it is
	path := resolvePath(base, in.File)
	gz := strings.HasSuffix(path, ".gz")
	if in.Limit == 0 && in.Offset == 0 && in.SortBy == "" && !requote {
		return path, nil // run --input and train --input read .gz files themselves
	}
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	var rd io.Reader = fh
	if gz {
		zr, err := gzip.NewReader(fh)
		if err != nil {
			return "", fmt.Errorf("%s: %w", in.File, err)
		}
		defer zr.Close()
		rd = zr
	}
	var head string
	var recs []string
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	first, n := true, 0
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if first && csvFmt && header {
			head, first = line, false
			continue
		}
		first = false
		if line == "" { // as run --input: a line of blanks is a record
			continue
		}
		n++
		if in.SortBy == "" && n <= in.Offset {
			continue
		}
		if in.SortBy == "" && in.Limit > 0 && len(recs) == in.Limit {
			break
		}
		if requote {
			line = quoteCSV(strings.SplitN(line, string(delim), max(len(src.Schema), 1)), delim, quote)
		}
		recs = append(recs, line)
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("%s: %w", in.File, err)
	}
	if in.SortBy != "" {
		if err := sortRecords(recs, src, in.SortBy, delim, quote); err != nil {
			return "", err
		}
		recs = recs[min(in.Offset, len(recs)):]
		if in.Limit > 0 && len(recs) > in.Limit {
			recs = recs[:in.Limit]
		}
	}
	ext := ".jsonl"
	if csvFmt {
		ext = ".csv"
	}
	out := filepath.Join(dir, name+ext)
	var b bytes.Buffer
	if head != "" {
		b.WriteString(head + "\n")
	}
	for _, l := range recs {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return out, os.WriteFile(out, b.Bytes(), 0o644)
}

// csvSyntax returns the delimiter, the header flag and the quote
// character (0: csv.quote none) of a source's CSV options.
func csvSyntax(src *spec.Source) (delim byte, header bool, quote byte, err error) {
	delim, quote = ',', '"'
	if src.Format != "csv" || src.CSV == nil {
		return delim, false, quote, nil
	}
	if src.CSV.Delimiter != "" {
		delim = src.CSV.Delimiter[0]
	}
	quote, err = spec.CheckCSVQuote(src.CSV.Quote, string(delim))
	return delim, src.CSV.Header, quote, err
}

// quoteCSV joins fields as one RFC 4180 record, quoted with quote ('"'
// unless the source says otherwise).
func quoteCSV(fields []string, delim, quote byte) string {
	var b strings.Builder
	q := string(quote)
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(delim)
		}
		if strings.ContainsAny(f, q+"\n\r"+string(delim)) {
			b.WriteByte(quote)
			b.WriteString(strings.ReplaceAll(f, q, q+q))
			b.WriteByte(quote)
			continue
		}
		b.WriteString(f)
	}
	return b.String()
}

// sortRecords sorts records (stably) by a column of the source: numbers as
// numbers, other values as text.
func sortRecords(recs []string, src *spec.Source, col string, delim, quote byte) error {
	idx := -1
	for i, c := range src.Schema {
		if c.Name == col {
			idx = i
		}
	}
	if idx < 0 {
		return fmt.Errorf("sortBy %s: the source has no such column", col)
	}
	keys := make([]string, len(recs))
	for i, l := range recs {
		if src.Format == "csv" && quote != '"' {
			// Split as the source's decoder does (csv.quote: none or
			// another quote character).
			f, err := jetstream.SplitCSV(*src.CSV, []byte(l))
			if err != nil || idx >= len(f) {
				return fmt.Errorf("sortBy %s: record %d: cannot read the column", col, i+1)
			}
			keys[i] = f[idx]
			continue
		}
		if src.Format == "csv" {
			cr := csv.NewReader(strings.NewReader(l))
			cr.Comma = rune(delim)
			cr.FieldsPerRecord = -1
			f, err := cr.Read()
			if err != nil || idx >= len(f) {
				return fmt.Errorf("sortBy %s: record %d: cannot read the column", col, i+1)
			}
			keys[i] = f[idx]
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			return fmt.Errorf("sortBy %s: record %d: %w", col, i+1, err)
		}
		keys[i] = fmt.Sprint(m[col])
	}
	order := make([]int, len(recs))
	nums := make([]float64, len(recs))
	numeric := true
	// Timestamps in a layout or an epoch unit of the source's
	// timestampFormat sort as the instants they are.
	tsFormat := ""
	if src.Schema[idx].Type == udf.TypeTimestamp && src.TimestampFormat != "" && src.TimestampFormat != spec.TimestampAuto {
		tsFormat = src.TimestampFormat
	}
	for i := range order {
		order[i] = i
		if tsFormat != "" {
			ms, err := jetstream.ParseTimestamp(tsFormat, strings.TrimSpace(keys[i]))
			nums[i] = float64(ms)
			numeric = numeric && err == nil
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(keys[i]), 64)
		nums[i] = f
		numeric = numeric && err == nil
	}
	sort.SliceStable(order, func(a, b int) bool {
		if numeric {
			return nums[order[a]] < nums[order[b]]
		}
		return keys[order[a]] < keys[order[b]]
	})
	sorted := make([]string, len(recs))
	for i, j := range order {
		sorted[i] = recs[j]
	}
	copy(recs, sorted)
	return nil
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

// checkMetric computes the metric a TestMetric names over the rows of a
// sink. It returns the figure as text ("accuracy 0.9812 ≥ 0.975"), whether
// the threshold failed, or an error when the metric cannot be computed.
func checkMetric(base, key string, m TestMetric, rows []map[string]any) (fig string, fail bool, err error) {
	name := m.Metric
	if name == "" {
		name = key
	}
	if m.Skip < 0 || m.Skip >= 1 {
		return "", false, fmt.Errorf("skip %v: want a fraction in [0, 1)", m.Skip)
	}
	rows = rows[int(m.Skip*float64(len(rows))):]
	thr := 0.5
	if m.Threshold != nil {
		thr = *m.Threshold
	}
	var v float64
	var detail, extra string
	if name == "windows" {
		var detected, total, falseAlarms int
		if detected, total, falseAlarms, err = windowsMetric(base, m, rows, thr); err != nil {
			return "", false, err
		}
		v = float64(detected)
		detail = fmt.Sprintf("windows %d of %d", detected, total)
		extra = fmt.Sprintf(", false alarms %d", falseAlarms)
		if m.MaxFalseAlarms != nil {
			if falseAlarms > *m.MaxFalseAlarms {
				return fmt.Sprintf("%s, false alarms %d > %d (maxFalseAlarms)", detail, falseAlarms, *m.MaxFalseAlarms), true, nil
			}
			extra += fmt.Sprintf(" ≤ %d", *m.MaxFalseAlarms)
		}
	} else {
		info, ok := ml.LookupMetric(name)
		if !ok || info.Kind == "clustering" {
			return "", false, fmt.Errorf("unknown metric %q (want auc, accuracy, precision, recall, f1, logloss, rmse, mae, r2 or windows)", name)
		}
		if m.Score == "" || m.Label == "" {
			return "", false, errors.New("score: and label: name the predicted and the true column")
		}
		var y, p []float64
		for i, r := range rows {
			sv, lv := r[m.Score], r[m.Label]
			if sv == nil || lv == nil {
				continue
			}
			s, err := metricNumber(sv, nil)
			if err != nil {
				return "", false, fmt.Errorf("row %d: score %s: %v", i+1, m.Score, err)
			}
			var pos any
			if info.Kind == "classification" {
				pos = m.Positive
			}
			l, err := metricNumber(lv, pos)
			if err != nil {
				return "", false, fmt.Errorf("row %d: label %s: %v", i+1, m.Label, err)
			}
			if info.Kind == "classification" {
				switch name {
				case "accuracy", "precision", "recall", "f1":
					s = b2f(s > thr)
				}
			}
			y, p = append(y, l), append(p, s)
		}
		if len(y) == 0 {
			return "", false, fmt.Errorf("no rows with a score and a label (of %d)", len(rows))
		}
		if v, err = ml.Score(name, y, p); err != nil {
			return "", false, err
		}
		detail = fmt.Sprintf("%s %.4f", name, v)
	}
	if key != name {
		detail = key + ": " + detail
	}
	switch {
	case math.IsNaN(v):
		return detail + " (undefined)", true, nil
	case m.Min != nil && v < *m.Min:
		return fmt.Sprintf("%s < %v (min)%s", detail, *m.Min, extra), true, nil
	case m.Max != nil && v > *m.Max:
		return fmt.Sprintf("%s > %v (max)%s", detail, *m.Max, extra), true, nil
	case m.Min != nil && m.Max != nil:
		return fmt.Sprintf("%s in [%v, %v]%s", detail, *m.Min, *m.Max, extra), false, nil
	case m.Min != nil:
		return fmt.Sprintf("%s ≥ %v%s", detail, *m.Min, extra), false, nil
	case m.Max != nil:
		return fmt.Sprintf("%s ≤ %v%s", detail, *m.Max, extra), false, nil
	}
	return detail + extra, false, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// metricNumber turns a JSON value into a number: bools are 0/1; with
// positive set, a value equal to it is 1 and any other 0.
func metricNumber(v, positive any) (float64, error) {
	if positive != nil {
		return b2f(fmt.Sprint(normalizeYAML(positive)) == fmt.Sprint(v) || valueMatches(positive, v, 0)), nil
	}
	switch x := v.(type) {
	case bool:
		return b2f(x), nil
	case string:
		return 0, fmt.Errorf("%q is a string: set positive: to the value of class 1", x)
	}
	if f, ok := toFloat64(v); ok {
		return f, nil
	}
	return 0, fmt.Errorf("%v is not a number or bool", v)
}

// windowsMetric counts the labelled windows with an alarm among rows and
// the false alarms (alarms outside every window, merged when less than the
// mean window length apart).
func windowsMetric(base string, m TestMetric, rows []map[string]any, thr float64) (detected, total, falseAlarms int, err error) {
	if m.Time == "" {
		return 0, 0, 0, errors.New("time: names the column with each row's time")
	}
	spans := m.Windows
	if m.Labels != nil {
		b, err := os.ReadFile(resolvePath(base, m.Labels.File))
		if err != nil {
			return 0, 0, 0, err
		}
		var all map[string][][2]string
		if err := json.Unmarshal(b, &all); err != nil {
			return 0, 0, 0, fmt.Errorf("%s: %w", m.Labels.File, err)
		}
		w, ok := all[m.Labels.Key]
		if !ok {
			return 0, 0, 0, fmt.Errorf("%s has no windows for %q", m.Labels.File, m.Labels.Key)
		}
		spans = append(append([][2]string(nil), spans...), w...)
	}
	if len(spans) == 0 {
		return 0, 0, 0, errors.New("no windows: give windows: [[start, end], ...] or labels: {file, key}")
	}
	type span struct{ a, z int64 }
	ws := make([]span, len(spans))
	var width int64
	for i, s := range spans {
		a, ok1 := parseMetricTime(s[0])
		z, ok2 := parseMetricTime(s[1])
		if !ok1 || !ok2 || z < a {
			return 0, 0, 0, fmt.Errorf("window %d: [%s, %s] is not a time range", i+1, s[0], s[1])
		}
		ws[i] = span{a, z}
		width += z - a
	}
	width /= int64(len(ws))
	hit := make([]bool, len(ws))
	var outside []int64
	for i, r := range rows {
		if m.Score != "" {
			sv := r[m.Score]
			if sv == nil {
				continue
			}
			s, err := metricNumber(sv, nil)
			if err != nil {
				return 0, 0, 0, fmt.Errorf("row %d: %s: %v", i+1, m.Score, err)
			}
			if _, isBool := sv.(bool); (isBool && s == 0) || (!isBool && s <= thr) {
				continue
			}
		}
		ts, ok := r[m.Time].(string)
		t, ok2 := parseMetricTime(ts)
		if !ok || !ok2 {
			if f, isNum := toFloat64(r[m.Time]); isNum {
				t, ok2 = int64(f), true
			}
		}
		if !ok2 {
			return 0, 0, 0, fmt.Errorf("row %d: %s = %v is not a time", i+1, m.Time, r[m.Time])
		}
		in := false
		for k, w := range ws {
			if t >= w.a && t <= w.z {
				hit[k], in = true, true
			}
		}
		if !in {
			outside = append(outside, t)
		}
	}
	for _, h := range hit {
		if h {
			detected++
		}
	}
	sort.Slice(outside, func(a, b int) bool { return outside[a] < outside[b] })
	for i, t := range outside {
		if i == 0 || t-outside[i-1] >= width {
			falseAlarms++
		}
	}
	return detected, len(ws), falseAlarms, nil
}

// parseMetricTime parses the times of rows and windows: RFC 3339, the same
// with a space and no zone (UTC, as NAB writes them), or epoch milliseconds.
func parseMetricTime(s string) (int64, bool) {
	for _, l := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UnixMilli(), true
		}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ms, true
	}
	return 0, false
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

// writeCSV writes rows as the CSV records of a source: fields in schema
// order (a missing or null value is an empty field), a header first when
// the source expects one. For a source with csv.quote: none the fields
// are written as they are, and a value holding the delimiter or a line
// end is an error.
func writeCSV(path string, src *spec.Source, rows []map[string]any) error {
	delim, header, quote, err := csvSyntax(src)
	if err != nil {
		return err
	}
	record := func(fields []string) (string, error) {
		if quote != 0 {
			return quoteCSV(fields, delim, quote), nil
		}
		for i, f := range fields {
			if strings.ContainsAny(f, "\n\r"+string(delim)) {
				return "", fmt.Errorf("column %s: %q holds the delimiter or a line end, which a source with csv.quote: none cannot read", src.Schema[i].Name, f)
			}
		}
		return strings.Join(fields, string(delim)), nil
	}
	var b bytes.Buffer
	fields := make([]string, len(src.Schema))
	if header {
		for i, c := range src.Schema {
			fields[i] = c.Name
		}
		line, err := record(fields)
		if err != nil {
			return fmt.Errorf("header: %w", err)
		}
		b.WriteString(line + "\n")
	}
	for n, r := range rows {
		for i, c := range src.Schema {
			switch v := normalizeYAML(r[c.Name]).(type) {
			case nil:
				fields[i] = ""
			case string:
				fields[i] = v
			default:
				j, err := json.Marshal(v)
				if err != nil {
					return err
				}
				fields[i] = string(j)
			}
		}
		line, err := record(fields)
		if err != nil {
			return fmt.Errorf("row %d: %w", n+1, err)
		}
		b.WriteString(line + "\n")
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
	case r.skipped != "":
		fmt.Fprintf(w, "skip  %s (%s: %s)\n", r.name, r.file, r.skipped)
	default:
		figs := ""
		if len(r.figures) > 0 {
			figs = strings.Join(r.figures, "; ") + "; "
		}
		fmt.Fprintf(w, "ok    %s (%s%s, %v)\n", r.name, figs, r.file, r.elapsed.Round(time.Millisecond))
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
		Skipped   *failure `xml:"skipped,omitempty"`
		SystemOut string   `xml:"system-out,omitempty"`
	}
	type suite struct {
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Errors   int        `xml:"errors,attr"`
		Skipped  int        `xml:"skipped,attr"`
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
		tc := testcase{Name: r.name, Classname: name, Time: strconv.FormatFloat(r.elapsed.Seconds(), 'f', 3, 64),
			SystemOut: strings.Join(r.figures, "\n")}
		switch {
		case r.err != nil:
			tc.Error = &failure{Message: "could not run", Text: r.err.Error()}
			s.Errors++
		case len(r.failures) > 0:
			tc.Failure = &failure{Message: r.failures[0], Text: strings.Join(r.failures, "\n")}
			s.Failures++
		case r.skipped != "":
			tc.Skipped = &failure{Message: r.skipped}
			s.Skipped++
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
