package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/udf"
)

const ordersSource = `
  sources:
    - name: orders
      jetstream: {stream: ORDERS, subjects: ["orders.>"]}
      format: json
      schema:
        id: bigint
        customer: string
        amount: double
        ts: timestamp
      eventTime: {column: ts, maxOutOfOrderness: 1s}
`

func writeJob(t *testing.T, name, parallelism, sql string) string {
	t.Helper()
	job := `apiVersion: flowrun.dev/v1
kind: Pipeline
metadata:
  name: ` + name + `
spec:
  parallelism: ` + parallelism + ordersSource + `
  stages:
    - name: result
      sql: |
        ` + strings.ReplaceAll(strings.TrimSpace(sql), "\n", "\n        ") + `
  sinks:
    - name: out
      from: result
      jetstream: {stream: OUT, subject: out.result}
`
	path := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(path, []byte(job), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type order struct {
	id       int64
	customer string
	amount   float64
	ts       int64
}

// ordersInput writes n orders (in event-time order, 50 customers) and a few
// malformed records; it returns the file and the good orders.
func ordersInput(t *testing.T, n int) (string, []order, int) {
	t.Helper()
	var b strings.Builder
	var good []order
	bad := 0
	for i := range n {
		switch i % 500 {
		case 17:
			b.WriteString(`{"id":` + strconv.Itoa(i) + `,"customer":` + "\n") // broken JSON (and a blank line)
			bad++
			continue
		case 42:
			fmt.Fprintf(&b, `{"id":"x%d","customer":"c","amount":1,"ts":%d}`+"\n", i, i*20)
			bad++
			continue
		}
		o := order{int64(i), fmt.Sprintf("c%02d", i%50), float64(i%100) + 0.25, int64(i * 20)}
		good = append(good, o)
		fmt.Fprintf(&b, `{"id":%d,"customer":%q,"amount":%s,"ts":"%s"}`+"\n", o.id, o.customer, strconv.FormatFloat(o.amount, 'g', -1, 64), udf.FormatTime(o.ts))
	}
	path := filepath.Join(t.TempDir(), "orders.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, good, bad
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func fmtF(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func runJobCLI(t *testing.T, job, input string, extra ...string) (out, dlq string) {
	t.Helper()
	dir := t.TempDir()
	out, dlq = filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "dlq.jsonl")
	args := append([]string{"run", job, "--store", filepath.Join(dir, "store"), "--input", "orders=" + input,
		"--output", "out=" + out, "--dlq", dlq, "--bounded", "--quiet"}, extra...)
	if code := run(args); code != 0 {
		t.Fatalf("flowrun %s: exit %d", strings.Join(args, " "), code)
	}
	return out, dlq
}

func TestRunSelectWhere(t *testing.T) {
	input, orders, bad := ordersInput(t, 3000)
	var want []string
	for _, o := range orders {
		if o.amount > 50 {
			want = append(want, fmt.Sprintf(`{"id":%d,"customer":%q,"doubled":%s,"ts":"%s"}`, o.id, o.customer, fmtF(o.amount*2), udf.FormatTime(o.ts)))
		}
	}
	for _, p := range []string{"1", "4"} {
		job := writeJob(t, "big-orders", p, "SELECT id, customer, amount * 2 AS doubled, ts FROM orders WHERE amount > 50")
		out, dlq := runJobCLI(t, job, input)
		got := readLines(t, out)
		if !slices.Equal(got, want) { // one source task: order is kept
			t.Fatalf("parallelism %s: %d rows, want %d\nfirst got  %q\nfirst want %q", p, len(got), len(want), got[:min(1, len(got))], want[0])
		}
		dl := readLines(t, dlq)
		if len(dl) != bad {
			t.Fatalf("dead letters %d, want %d", len(dl), bad)
		}
		var first struct{ Stage, Class, Reason, Data string }
		if err := json.Unmarshal([]byte(dl[0]), &first); err != nil {
			t.Fatal(err)
		}
		if first.Stage != "orders" || first.Class != "decode" || first.Data != `{"id":17,"customer":` {
			t.Fatalf("first dead letter %+v", first)
		}
	}
}

func TestRunTumble(t *testing.T) {
	input, orders, _ := ordersInput(t, 6000)
	type key struct {
		c  string
		ws int64
	}
	n, sum := map[key]int64{}, map[key]float64{}
	for _, o := range orders {
		if o.amount >= 10 {
			k := key{o.customer, o.ts / 1000 * 1000}
			n[k]++
			sum[k] += o.amount
		}
	}
	var want []string
	for k, c := range n {
		want = append(want, fmt.Sprintf(`{"customer":%q,"ws":"%s","n":%d,"total":%s}`, k.c, udf.FormatTime(k.ws), c, fmtF(sum[k])))
	}
	slices.Sort(want)
	const sql = `SELECT customer, TUMBLE_START(ts, INTERVAL 1 SECOND) AS ws, COUNT(*) AS n, SUM(amount) AS total
FROM orders WHERE amount >= 10
GROUP BY customer, TUMBLE(ts, INTERVAL 1 SECOND)`
	var results [][]string
	for _, p := range []string{"1", "4"} {
		out, _ := runJobCLI(t, writeJob(t, "tumble", p, sql), input)
		got := readLines(t, out)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("parallelism %s: %d rows, want %d\nfirst got  %q\nfirst want %q", p, len(got), len(want), got[:min(2, len(got))], want[:2])
		}
		results = append(results, got)
	}
	if !slices.Equal(results[0], results[1]) {
		t.Fatal("parallelism 1 and 4 differ")
	}
}

func TestRunUsageErrors(t *testing.T) {
	job := writeJob(t, "u", "1", "SELECT id FROM orders")
	bad := writeJob(t, "bad", "1", "SELECT nosuch FROM orders")
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"run", job, "--input", "nosuch=x.jsonl", "--store", t.TempDir()}, exitUsage},
		{[]string{"run", job, "--output", "out", "--store", t.TempDir()}, exitUsage},
		{[]string{"run", job, "--input", "orders=" + filepath.Join(t.TempDir(), "missing.jsonl"), "--store", t.TempDir()}, exitUser},
		{[]string{"run", bad, "--bounded", "--store", t.TempDir()}, exitUser},
	} {
		if code := run(tc.args); code != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.args, code, tc.code)
		}
	}
}

func TestRunCSVInput(t *testing.T) {
	job := `apiVersion: flowrun.dev/v1
kind: Pipeline
metadata:
  name: csvjob
spec:
  sources:
    - name: ev
      jetstream: {stream: EV}
      format: csv
      csv: {header: true}
      schema:
        k: string
        n: bigint
  stages:
    - name: big
      sql: SELECT k, n * 10 AS n10 FROM ev WHERE n > 1
  sinks:
    - name: out
      from: big
      jetstream: {stream: EVOUT, subject: evout.big}
`
	dir := t.TempDir()
	path := filepath.Join(dir, "job.yaml")
	good := filepath.Join(dir, "good.csv")
	bad := filepath.Join(dir, "bad.csv")
	out := filepath.Join(dir, "out.jsonl")
	for f, s := range map[string]string{path: job, good: "k,n\na,1\n\"b, \"\"q\"\"\",2\r\nc,x\n", bad: "n,k\n1,a\n"} {
		if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code := run([]string{"run", path, "--store", filepath.Join(dir, "s1"), "--input", "ev=" + bad, "--bounded", "--quiet"}); code != exitUser {
		t.Fatalf("header in another order: exit %d, want %d", code, exitUser)
	}
	if code := run([]string{"run", path, "--store", filepath.Join(dir, "s2"), "--input", "ev=" + good, "--output", "out=" + out, "--bounded", "--quiet"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if got := readLines(t, out); !slices.Equal(got, []string{`{"k":"b, \"q\"","n10":20}`}) {
		t.Fatalf("output %q", got)
	}
}
