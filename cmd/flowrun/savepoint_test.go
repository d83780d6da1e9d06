package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowrun/flowrun/executor/jetstream"
)

// A live run stopped gracefully saves its operators' state; the next run
// on the same store restores it, so a window open at the stop still
// counts the rows it had. Oracle: one bounded run over all the input.
func TestRunSavepointAcrossStop(t *testing.T) {
	input, orders, _ := ordersInput(t, 9000) // 20 ms apart: windows [0,60s) [60s,120s) [120s,180s)
	lines := readLines(t, input)
	half := len(lines) / 2
	dir := t.TempDir()
	first, second := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	if err := os.WriteFile(first, []byte(strings.Join(lines[:half], "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(second, []byte(strings.Join(lines[half:], "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	job := writeJob(t, "windows", "2", `SELECT customer, TUMBLE_END(ts, INTERVAL 1 MINUTE) AS wend, COUNT(*) AS n, SUM(amount) AS total
FROM orders GROUP BY customer, TUMBLE(ts, INTERVAL 1 MINUTE)`)

	// The oracle: everything in one bounded run.
	want, _ := runJobCLI(t, job, input)
	wantRows := readLines(t, want)
	slices.Sort(wantRows)
	if len(wantRows) < 150 || len(orders) < 8900 {
		t.Fatalf("oracle: %d window rows from %d orders", len(wantRows), len(orders))
	}
	firstWindow := 0 // rows of the window [0, 60 s)
	for _, r := range wantRows {
		if strings.Contains(r, `"wend":"1970-01-01T00:01:00.000Z"`) {
			firstWindow++
		}
	}
	if firstWindow < 50 {
		t.Fatalf("oracle: %d rows in the first window", firstWindow)
	}

	// Run 1, live, over the first half (event time up to 90 s): the first
	// window fires, the second is open when the run is stopped.
	store := filepath.Join(dir, "store")
	out1 := filepath.Join(dir, "out1.jsonl")
	ctx, cancel := context.WithCancel(t.Context())
	f1 := runFlags{store: store, quiet: true, createStream: true, inputs: []string{"orders=" + first}, outputs: []string{"out=" + out1}}
	var stderr1 bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- runJob(ctx, job, &f1, &bytes.Buffer{}, &stderr1) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, _ := os.ReadFile(out1); bytes.Count(b, []byte("\n")) >= firstWindow {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("the first window did not fire in 20 s:\n%s", stderr1.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run 1: %v\n%s", err, stderr1.String())
	}
	rows1 := readLines(t, out1)
	if len(rows1) != firstWindow {
		t.Fatalf("run 1 emitted %d rows, want the %d of the first window", len(rows1), firstWindow)
	}

	// The savepoint is listed.
	list, err := flowrunCLI(t, "savepoints", "list", "--store", store, "-o", "json")
	if err != nil || !strings.Contains(list, `"job": "windows"`) {
		t.Fatalf("savepoints list after run 1: %v\n%s", err, list)
	}

	// Run 2, bounded, over the second half: restores the open window.
	out2 := filepath.Join(dir, "out2.jsonl")
	f2 := runFlags{store: store, quiet: true, createStream: true, bounded: true, inputs: []string{"orders=" + second}, outputs: []string{"out=" + out2}}
	var stdout2, stderr2 bytes.Buffer
	if err := runJob(t.Context(), job, &f2, &stdout2, &stderr2); err != nil {
		t.Fatalf("run 2: %v\n%s", err, stderr2.String())
	}
	if !strings.Contains(stdout2.String(), "resumed from the savepoint of the last graceful stop") {
		t.Errorf("run 2's summary does not say it resumed:\n%s", stdout2.String())
	}
	got := append(rows1, readLines(t, out2)...)
	slices.Sort(got)
	if !slices.Equal(got, wantRows) {
		t.Fatalf("runs 1 and 2 emitted %d rows, the oracle %d; first differences:\n%s", len(got), len(wantRows), firstDiff(got, wantRows))
	}

	// The savepoint was consumed: none is listed, dropping it is an error,
	// and a third run starts empty and, with no new input, emits nothing.
	if list, err := flowrunCLI(t, "savepoints", "list", "--store", store); err != nil || strings.Contains(list, "windows") {
		t.Fatalf("savepoints list after run 2: %v\n%s", err, list)
	}
	if out, err := flowrunCLI(t, "savepoints", "drop", "windows", "--store", store); err == nil {
		t.Fatalf("savepoints drop of a consumed savepoint succeeded: %s", out)
	}
	out3 := filepath.Join(dir, "out3.jsonl")
	f3 := runFlags{store: store, quiet: true, createStream: true, bounded: true, outputs: []string{"out=" + out3}}
	if err := runJob(t.Context(), job, &f3, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if rest := readLines(t, out3); len(rest) != 0 {
		t.Fatalf("run 3 emitted %d rows", len(rest))
	}
}

func firstDiff(got, want []string) string {
	var b strings.Builder
	for i := 0; i < max(len(got), len(want)) && b.Len() < 600; i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			b.WriteString("got  " + g + "\nwant " + w + "\n")
		}
	}
	return b.String()
}

// savepoints drop removes a stored savepoint; list shows it before.
func TestSavepointsDrop(t *testing.T) {
	store := t.TempDir()
	c, err := jetstream.Connect(t.Context(), jetstream.Options{StoreDir: store})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := c.Savepoints(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Save(t.Context(), "job-a", map[string][]byte{"1/fp/1/0": []byte("state")}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if out, err := flowrunCLI(t, "savepoints", "list", "--store", store); err != nil || !strings.Contains(out, "job-a") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if out, err := flowrunCLI(t, "savepoints", "drop", "job-a", "--store", store); err != nil || !strings.Contains(out, "dropped the savepoint of job-a") {
		t.Fatalf("drop: %v\n%s", err, out)
	}
	if out, err := flowrunCLI(t, "savepoints", "list", "--store", store); err != nil || strings.Contains(out, "job-a") {
		t.Fatalf("list after drop: %v\n%s", err, out)
	}
}
