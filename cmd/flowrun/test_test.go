package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// captureRun runs the CLI with args and returns its exit status and what it
// wrote to stdout.
func captureRun(t *testing.T, args ...string) (int, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() {
		var b bytes.Buffer
		b.ReadFrom(r)
		done <- b.Bytes()
	}()
	code := run(args)
	w.Close()
	os.Stdout = old
	return code, string(<-done)
}

func TestFlowrunTestPasses(t *testing.T) {
	code, out := captureRun(t, "test", "testdata/casejob")
	if code != exitOK {
		t.Fatalf("exit %d, want 0; output:\n%s", code, out)
	}
	if !strings.Contains(out, "1 passed, 0 failed") {
		t.Fatalf("no summary line in:\n%s", out)
	}
}

func TestFlowrunTestReportsDiff(t *testing.T) {
	code, out := captureRun(t, "test", "testdata/casejob-fail")
	if code != exitUser {
		t.Fatalf("exit %d, want 1; output:\n%s", code, out)
	}
	for _, want := range []string{
		"FAIL  wrong expectation",
		`- {customer: "a", n: 1, total: 11}`,
		`+ {customer: "a", n: 1, total: 10, window_end: "2026-01-01T00:01:00.000Z"}`,
		"0 passed, 1 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `- {customer: "b"`) {
		t.Errorf("the matching row of b is reported as missing:\n%s", out)
	}
}

func TestFlowrunTestJUnit(t *testing.T) {
	code, out := captureRun(t, "test", "-o", "junit", "testdata/casejob", "testdata/casejob-fail")
	if code != exitUser {
		t.Fatalf("exit %d, want 1", code)
	}
	var doc struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("bad JUnit XML: %v\n%s", err, out)
	}
	tests, failures := 0, 0
	for _, s := range doc.Suites {
		tests += s.Tests
		failures += s.Failures
	}
	if tests != 2 || failures != 1 {
		t.Fatalf("JUnit says %d tests, %d failures; want 2, 1", tests, failures)
	}
}

func TestFlowrunTestUsage(t *testing.T) {
	if code, _ := captureRun(t, "test"); code != exitUsage {
		t.Fatalf("no args: exit %d, want 2", code)
	}
	if code, _ := captureRun(t, "test", "-o", "xml", "testdata/casejob"); code != exitUsage {
		t.Fatalf("-o xml: exit %d, want 2", code)
	}
}

// TestFlowrunTestMetrics: a gzip TSV input with literal quotes, sorted,
// cut by offset and limit, and metric thresholds that hold; the measured
// figures are on the ok line. Rows of a CSV source are written as CSV.
func TestFlowrunTestMetrics(t *testing.T) {
	code, out := captureRun(t, "test", "testdata/metrics")
	if code != exitOK {
		t.Fatalf("exit %d, want 0; output:\n%s", code, out)
	}
	for _, want := range []string{
		"ok    metrics over a prepared input (",
		"accuracy 0.7500 ≥ 0.75",
		"auc 0.8125 ≥ 0.8",
		"rmse 0.4161 ≤ 0.42",
		"second half: accuracy 0.7500 in [0.7, 0.8]",
		"windows 1 of 2 ≥ 1, false alarms 1 ≤ 1",
		"ok    rows into a CSV source (accuracy 1.0000 ≥ 1;",
		"2 passed, 0 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestFlowrunTestMetricsFail: thresholds that do not hold fail the case
// with the measured figure; a string label without positive: is an error
// of that metric.
func TestFlowrunTestMetricsFail(t *testing.T) {
	code, out := captureRun(t, "test", "testdata/metrics-fail")
	if code != exitUser {
		t.Fatalf("exit %d, want 1; output:\n%s", code, out)
	}
	for _, want := range []string{
		"FAIL  thresholds not met",
		"out: accuracy 0.6250 < 0.7 (min)",
		`label label: "no" is a string: set positive:`,
		"out: windows 1 of 2 < 2 (min), false alarms 1",
		"0 passed, 1 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "auc") {
		t.Errorf("the auc threshold holds but is reported:\n%s", out)
	}
}

// TestFlowrunTestSkip: a case whose required data is missing is skipped,
// not failed, and JUnit marks it skipped.
func TestFlowrunTestSkip(t *testing.T) {
	code, out := captureRun(t, "test", "testdata/metrics-skip")
	if code != exitOK {
		t.Fatalf("exit %d, want 0; output:\n%s", code, out)
	}
	if !strings.Contains(out, "skip  needs data that is not here") || !strings.Contains(out, "missing ../no-such-data/file.tsv.gz") ||
		!strings.Contains(out, "0 passed, 0 failed, 1 skipped") {
		t.Fatalf("output:\n%s", out)
	}
	_, out = captureRun(t, "test", "-o", "junit", "testdata/metrics-skip")
	if !strings.Contains(out, `skipped="1"`) || !strings.Contains(out, `<skipped message="missing`) {
		t.Fatalf("JUnit:\n%s", out)
	}
}

func TestCheckMetricErrors(t *testing.T) {
	rows := []map[string]any{{"p": 0.9, "y": true}, {"p": 0.1, "y": false}, {"p": nil, "y": true}}
	one := 1.0
	for _, tc := range []struct {
		name string
		m    TestMetric
		want string
	}{
		{"unknown", TestMetric{Score: "p", Label: "y"}, `unknown metric "nope"`},
		{"no columns", TestMetric{Metric: "auc"}, "score: and label:"},
		{"skip range", TestMetric{Metric: "auc", Score: "p", Label: "y", Skip: 1}, "skip 1"},
		{"no time", TestMetric{Metric: "windows"}, "time:"},
		{"no windows", TestMetric{Metric: "windows", Time: "t"}, "no windows"},
		{"all null", TestMetric{Metric: "auc", Score: "p", Label: "y", Skip: 0.9}, "no rows with a score and a label"},
	} {
		_, _, err := checkMetric(".", "nope", tc.m, rows)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
	fig, fail, err := checkMetric(".", "accuracy", TestMetric{Score: "p", Label: "y", Min: &one}, rows)
	if err != nil || fail || fig != "accuracy 1.0000 ≥ 1" {
		t.Errorf("accuracy: %q %v %v", fig, fail, err)
	}
}

// TestFlowrunTestSinksShareStream: two sinks of a job on one stream with
// different subjects. The stream is created with the first sink's subject
// only (jetstream.Conn.EnsureStream returns an existing stream without
// checking that it covers the subject), so the second sink fails with
// "nats: no response from stream".
func TestFlowrunTestSinksShareStream(t *testing.T) {
	code, out := captureRun(t, "test", "testdata/shared-stream")
	if code != exitOK {
		t.Fatalf("exit %d, want 0; output:\n%s", code, out)
	}
}

// TestFlowrunTestTrainStep: a train: step registers a model on the case's
// store; the job's PREDICT scores with it (version 1), and the JUnit
// report carries the measured figure.
func TestFlowrunTestTrainStep(t *testing.T) {
	code, out := captureRun(t, "test", "-o", "junit", "testdata/trainjob")
	if code != exitOK {
		t.Fatalf("exit %d, want 0; output:\n%s", code, out)
	}
	if !strings.Contains(out, "<system-out>auc 1.0000 ≥ 0.9</system-out>") {
		t.Fatalf("JUnit lacks the figure:\n%s", out)
	}
}

// TestRunSourceNoStall runs a plain 100,000-record CSV job bounded five
// times; no run may log a lost pull request. With sources and
// sinks sharing one in-process connection, about half of the runs stalled
// for one pull expiry (jetstream.PullExpiry, 5 s) after "source read: nats:
// no heartbeat received": pull requests and deliveries queued behind the
// sink's publishes. Sources now consume on a connection of their own.
func TestRunSourceNoStall(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&b, "%d\t%d\t%d\t%d\n", i%943, i%1682, 1+i%5, 874724710+i)
	}
	in := filepath.Join(dir, "in.tsv")
	job := filepath.Join(dir, "job.yaml")
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(job, []byte(`apiVersion: flowrun.dev/v1
kind: Pipeline
metadata:
  name: plain
spec:
  sources:
    - name: ratings
      jetstream: {stream: RATINGS, subjects: ["ratings.>"]}
      format: csv
      csv: {delimiter: "\t"}
      schema: {user_id: bigint, item_id: bigint, rating: double, epoch: bigint}
  stages:
    - name: p
      sql: SELECT user_id, item_id, rating * 2 AS r FROM ratings
  sinks:
    - name: out
      from: p
      jetstream: {stream: OUT, subject: out.p}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		f := runFlags{store: filepath.Join(dir, fmt.Sprint("store", i)), bounded: true, quiet: true, createStream: true,
			batch: 256, inputs: []string{"ratings=" + in}}
		var stderr bytes.Buffer
		if err := runJob(t.Context(), job, &f, io.Discard, &stderr); err != nil {
			t.Fatal(err, stderr.String())
		}
		if strings.Contains(stderr.String(), "no heartbeat") {
			t.Errorf("run %d lost a pull request:\n%s", i+1, stderr.String())
		}
	}
}
