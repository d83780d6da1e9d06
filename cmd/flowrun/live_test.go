package main

import (
	"bytes"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// Without --bounded a run goes on until SIGINT or SIGTERM, then drains and
// returns cleanly: every record published before the signal reached the
// output, and a second run on the same store finds nothing left to read
// (the durable consumer was acknowledged to the end). It signals its own
// process, so no test of this package may run in parallel with it.
func TestRunLiveStopsOnSignal(t *testing.T) {
	// Keep the signals from ever killing the test binary, even if the run
	// has already stopped listening.
	guard := make(chan os.Signal, 4)
	signal.Notify(guard, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(guard)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			input, orders, bad := ordersInput(t, 2000)
			job := writeJob(t, "live", "2", "SELECT id FROM orders")
			dir := t.TempDir()
			out := filepath.Join(dir, "out.jsonl")
			f := runFlags{store: filepath.Join(dir, "store"), quiet: true, createStream: true,
				inputs: []string{"orders=" + input}, outputs: []string{"out=" + out}}
			var stderr bytes.Buffer
			done := make(chan error, 1)
			go func() { done <- runJob(t.Context(), job, &f, &bytes.Buffer{}, &stderr) }()
			// Wait until every good record is out, then signal.
			deadline := time.Now().Add(20 * time.Second)
			for {
				if b, _ := os.ReadFile(out); bytes.Count(b, []byte("\n")) == len(orders) {
					break
				}
				select {
				case err := <-done:
					t.Fatalf("the live run ended by itself: %v\n%s", err, stderr.String())
				default:
				}
				if time.Now().After(deadline) {
					t.Fatalf("not all rows out after 20 s:\n%s", stderr.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err := syscall.Kill(os.Getpid(), sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("run after %v: %v\n%s", sig, err, stderr.String())
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("run did not stop 20 s after %v", sig)
			}
			ids := readLines(t, out)
			if len(ids) != len(orders) || len(slices.Compact(slices.Sorted(slices.Values(ids)))) != len(orders) {
				t.Fatalf("%d rows (%d distinct), want %d", len(ids), len(slices.Compact(slices.Sorted(slices.Values(ids)))), len(orders))
			}
			// The same store again, bounded: nothing is left unread.
			out2 := filepath.Join(dir, "out2.jsonl")
			f2 := runFlags{store: f.store, quiet: true, createStream: true, bounded: true, outputs: []string{"out=" + out2}}
			if err := runJob(t.Context(), job, &f2, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
				t.Fatal(err)
			}
			if rest := readLines(t, out2); len(rest) != 0 {
				t.Fatalf("second run read %d rows the first had consumed (%d malformed records were dead-lettered)", len(rest), bad)
			}
		})
	}
}
