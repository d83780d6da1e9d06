package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowrun/flowrun/udf"
)

// writeGzip writes data gzip-compressed to path.
func writeGzip(t *testing.T, path, data string) {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeTestFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runBounded runs job bounded on a fresh embedded JetStream with the
// inputs (SRC=FILE) and writes each sink's rows to dir/out-SINK.jsonl and
// dead letters to dir/dlq.jsonl.
func runBounded(t *testing.T, dir, job string, inputs []string, sinks ...string) error {
	t.Helper()
	f := &runFlags{store: filepath.Join(dir, "store"), inputs: inputs, dlq: filepath.Join(dir, "dlq.jsonl"),
		bounded: true, quiet: true, createStream: true, batch: 64}
	for _, s := range sinks {
		f.outputs = append(f.outputs, s+"="+filepath.Join(dir, "out-"+s+".jsonl"))
	}
	var stderr bytes.Buffer
	err := runJob(context.Background(), job, f, io.Discard, &stderr)
	if err != nil && stderr.Len() > 0 {
		t.Logf("stderr:\n%s", stderr.String())
	}
	return err
}

type deadLetter struct{ Stage, Class, Reason, Data string }

func readDeadLetters(t *testing.T, path string) []deadLetter {
	t.Helper()
	var out []deadLetter
	for _, l := range readLines(t, path) {
		var d deadLetter
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// TestRunEpochSecondsGzip runs a JSON source in timestampFormat
// epochSeconds from a .gz input: every row's time, the one-minute
// windows over it, and the dead letter of a value that is not a number.
func TestRunEpochSecondsGzip(t *testing.T) {
	dir := t.TempDir()
	job := filepath.Join(dir, "job.yaml")
	writeTestFile(t, job, `apiVersion: flowrun.dev/v1
kind: Pipeline
metadata: {name: epochs}
spec:
  sources:
    - name: ev
      jetstream: {stream: EV, subjects: ["ev.>"]}
      timestampFormat: epochSeconds
      schema: {id: bigint, k: string, ts: timestamp}
      eventTime: {column: ts}
  stages:
    - name: rows
      sql: SELECT id, k, ts FROM ev
    - name: per_minute
      sql: |
        SELECT k, TUMBLE_START(ts, INTERVAL 1 MINUTE) AS ws, COUNT(*) AS n
        FROM ev GROUP BY k, TUMBLE(ts, INTERVAL 1 MINUTE)
  sinks:
    - {name: out, from: rows, jetstream: {stream: OUT, subject: out.rows}}
    - {name: windows, from: per_minute, jetstream: {stream: WIN, subject: win.rows}}
`)
	// 200 events 750 ms apart from 2024-03-05 06:07:00 UTC, written as
	// epoch seconds: integers, fractions, and numbers in strings.
	base := time.Date(2024, 3, 5, 6, 7, 0, 0, time.UTC)
	var in strings.Builder
	var want []string
	type wkey struct {
		k  string
		ws int64
	}
	counts := map[wkey]int{}
	for i := range 200 {
		at := base.Add(time.Duration(i) * 750 * time.Millisecond)
		k := string(rune('a' + i%3))
		sec := at.Unix()
		var ts string
		switch frac := at.Nanosecond() / 1e6; {
		case frac == 0:
			ts = fmt.Sprint(sec)
		case i%4 == 1:
			ts = fmt.Sprintf(`"%d.%03d"`, sec, frac)
		default:
			ts = fmt.Sprintf("%d.%03d", sec, frac)
		}
		fmt.Fprintf(&in, `{"id":%d,"k":%q,"ts":%s}`+"\n", i, k, ts)
		ms := at.UnixMilli()
		want = append(want, fmt.Sprintf(`{"id":%d,"k":%q,"ts":%q}`, i, k, udf.FormatTime(ms)))
		counts[wkey{k, at.Truncate(time.Minute).UnixMilli()}]++
		if i == 100 {
			in.WriteString(`{"id":1000,"k":"a","ts":"soon"}` + "\n")
		}
	}
	var wantWin []string
	for w, n := range counts {
		wantWin = append(wantWin, fmt.Sprintf(`{"k":%q,"ws":%q,"n":%d}`, w.k, udf.FormatTime(w.ws), n))
	}
	slices.Sort(wantWin)
	input := filepath.Join(dir, "ev.jsonl.gz")
	writeGzip(t, input, in.String())

	if err := runBounded(t, dir, job, []string{"ev=" + input}, "out", "windows"); err != nil {
		t.Fatal(err)
	}
	if got := readLines(t, filepath.Join(dir, "out-out.jsonl")); !slices.Equal(got, want) {
		t.Fatalf("%d rows, want %d\nfirst got  %q\nfirst want %q", len(got), len(want), got[:min(3, len(got))], want[:3])
	}
	gotWin := readLines(t, filepath.Join(dir, "out-windows.jsonl"))
	slices.Sort(gotWin)
	if !slices.Equal(gotWin, wantWin) {
		t.Fatalf("windows:\ngot  %q\nwant %q", gotWin, wantWin)
	}
	dl := readDeadLetters(t, filepath.Join(dir, "dlq.jsonl"))
	wantDL := deadLetter{"ev", "type", `column "ts": "soon" is not a number of epoch seconds (timestampFormat epochSeconds)`, `{"id":1000,"k":"a","ts":"soon"}`}
	if len(dl) != 1 || dl[0] != wantDL {
		t.Fatalf("dead letters %+v, want [%+v]", dl, wantDL)
	}
}

// TestRunLayoutGzipCSV runs a CSV source with a header in a Go layout
// timestampFormat, from gzip inputs named *.gz and not (found by the magic
// bytes), and checks that the header of a gzipped file is still checked.
func TestRunLayoutGzipCSV(t *testing.T) {
	dir := t.TempDir()
	job := filepath.Join(dir, "job.yaml")
	writeTestFile(t, job, `apiVersion: flowrun.dev/v1
kind: Pipeline
metadata: {name: layouts}
spec:
  sources:
    - name: ev
      jetstream: {stream: EV}
      format: csv
      csv: {header: true}
      timestampFormat: "02/01/2006 15:04:05"
      schema: {id: bigint, ts: timestamp, amount: double}
      eventTime: {column: ts}
  stages:
    - name: rows
      sql: SELECT id, ts, amount * 2 AS doubled FROM ev
  sinks:
    - {name: out, from: rows, jetstream: {stream: OUT, subject: out.rows}}
`)
	in := "id,ts,amount\r\n" + // in event-time order: no row is late
		"1,31/12/1999 00:00:00,1.5\r\n" +
		"2,29/02/2024 23:59:59,2\n" +
		"3,2024-03-05 06:07:08,3\n" + // not the layout
		"4,05/03/2024 06:07:08,4\n"
	want := []string{
		fmt.Sprintf(`{"id":1,"ts":%q,"doubled":3}`, udf.FormatTime(time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC).UnixMilli())),
		fmt.Sprintf(`{"id":2,"ts":%q,"doubled":4}`, udf.FormatTime(time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC).UnixMilli())),
		fmt.Sprintf(`{"id":4,"ts":%q,"doubled":8}`, udf.FormatTime(time.Date(2024, 3, 5, 6, 7, 8, 0, time.UTC).UnixMilli())),
	}
	for _, name := range []string{"ev.csv.gz", "ev-compressed.csv"} {
		t.Run(name, func(t *testing.T) {
			sub := t.TempDir()
			input := filepath.Join(sub, name)
			writeGzip(t, input, in)
			if err := runBounded(t, sub, job, []string{"ev=" + input}, "out"); err != nil {
				t.Fatal(err)
			}
			if got := readLines(t, filepath.Join(sub, "out-out.jsonl")); !slices.Equal(got, want) {
				t.Fatalf("got  %q\nwant %q", got, want)
			}
			dl := readDeadLetters(t, filepath.Join(sub, "dlq.jsonl"))
			wantDL := deadLetter{"ev", "type", `column "ts": "2024-03-05 06:07:08" does not match timestampFormat "02/01/2006 15:04:05"`, "3,2024-03-05 06:07:08,3"}
			if len(dl) != 1 || dl[0] != wantDL {
				t.Fatalf("dead letters %+v, want [%+v]", dl, wantDL)
			}
		})
	}
	// The header of a gzipped CSV is checked like a plain one's.
	sub := t.TempDir()
	swapped := filepath.Join(sub, "swapped.csv.gz")
	writeGzip(t, swapped, "id,amount,ts\n1,1.5,05/03/2024 06:07:08\n")
	err := runBounded(t, sub, job, []string{"ev=" + swapped}, "out")
	if _, ok := err.(userError); !ok || !strings.Contains(err.Error(), "header column 2 is amount") {
		t.Fatalf("swapped header: err %v, want a user error about the header", err)
	}
}

// TestRunGzipErrors: a truncated gzip input and a .gz file that is not
// gzip are the user's errors, not silently shorter inputs.
func TestRunGzipErrors(t *testing.T) {
	dir := t.TempDir()
	job := writeJob(t, "gz", "1", "SELECT id FROM orders")
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	for i := range 20000 {
		fmt.Fprintf(zw, `{"id":%d,"customer":"c%d","amount":%d.5,"ts":%d}`+"\n", i, i%7, i, i*1000)
	}
	zw.Close()
	truncated := filepath.Join(dir, "truncated.jsonl.gz")
	writeTestFile(t, truncated, b.String()[:b.Len()/2])
	notGzip := filepath.Join(dir, "plain.jsonl.gz")
	writeTestFile(t, notGzip, `{"id":1,"customer":"c","amount":1,"ts":1}`+"\n")
	for file, want := range map[string]string{
		truncated: "corrupt or truncated gzip file after",
		notGzip:   "not a gzip file",
	} {
		err := runBounded(t, t.TempDir(), job, []string{"orders=" + file})
		if _, ok := err.(userError); !ok || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want a user error with %q", filepath.Base(file), err, want)
		}
	}
}

// TestFlowrunTestGzipLayout runs a `flowrun test` case whose input is a
// gzipped CSV in a Go layout timestampFormat: once as it is (published by
// run --input) and once sorted by the timestamp column, which must order
// the layout's times as instants, not as text.
func TestFlowrunTestGzipLayout(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "pipeline.yaml"), `apiVersion: flowrun.dev/v1
kind: Pipeline
metadata: {name: gzcase}
spec:
  sources:
    - name: ev
      jetstream: {stream: EV}
      format: csv
      timestampFormat: "02/01/2006 15:04"
      schema: {id: bigint, ts: timestamp}
  stages:
    - name: rows
      sql: SELECT id, ts FROM ev
  sinks:
    - {name: out, from: rows, jetstream: {stream: OUT, subject: out.rows}}
`)
	if err := os.MkdirAll(filepath.Join(dir, "tests"), 0o755); err != nil {
		t.Fatal(err)
	}
	// In text order 01/02 < 02/01 < 03/01; in time order 02/01 (2 Jan)
	// < 03/01 (3 Jan) < 01/02 (1 Feb).
	writeGzip(t, filepath.Join(dir, "tests", "ev.csv.gz"), "1,01/02/2024 00:00\n2,03/01/2024 12:30\n3,02/01/2024 08:15\n")
	writeTestFile(t, filepath.Join(dir, "tests", "as-is.yaml"), `name: gzipped layout times
inputs:
  ev: {file: ev.csv.gz}
expect:
  out:
    ordered: true
    rows:
      - {id: 1, ts: "2024-02-01T00:00:00Z"}
      - {id: 2, ts: "2024-01-03T12:30:00Z"}
      - {id: 3, ts: "2024-01-02T08:15:00Z"}
deadLetters: {count: 0}
`)
	writeTestFile(t, filepath.Join(dir, "tests", "sorted.yaml"), `name: sorted by time
inputs:
  ev: {file: ev.csv.gz, sortBy: ts}
expect:
  out:
    ordered: true
    rows:
      - {id: 3, ts: "2024-01-02T08:15:00Z"}
      - {id: 2, ts: "2024-01-03T12:30:00Z"}
      - {id: 1, ts: "2024-02-01T00:00:00Z"}
`)
	code, out := captureRun(t, "test", dir)
	if code != exitOK || !strings.Contains(out, "2 passed, 0 failed") {
		t.Fatalf("exit %d, want 0 with both cases passing; output:\n%s", code, out)
	}
}
