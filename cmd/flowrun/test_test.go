package main

import (
	"bytes"
	"encoding/xml"
	"os"
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
