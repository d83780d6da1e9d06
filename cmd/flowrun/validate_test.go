package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// runCLI runs the CLI with args and returns its exit status and stdout.
func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	code := run(args)
	w.Close()
	os.Stdout = old
	return code, string(<-done)
}

// golden compares got with the golden file, or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/flowrun -run %s -update)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("output differs from %s (rerun with -update and review the diff):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// TestValidateSevenMistakes is the acceptance test of `flowrun validate`:
// a job file with seven different mistakes on seven lines gets all seven
// reported with their line:col, and exit status 1.
func TestValidateSevenMistakes(t *testing.T) {
	t.Chdir("../..")
	code, out := runCLI(t, "validate", "spec/testdata/seven-mistakes.yaml")
	if code != exitUser {
		t.Errorf("exit status %d, want %d", code, exitUser)
	}
	for _, want := range []string{
		"seven-mistakes.yaml:11:15: error: bad value \"jsn\"",
		"seven-mistakes.yaml:14:17: error: unknown column type \"doubel\"",
		"seven-mistakes.yaml:16:50: error: maxOutOfOrderness: bad duration",
		"seven-mistakes.yaml:22:24: error: SQL syntax error",
		"seven-mistakes.yaml:26:14: error: unknown name \"bigg\" in FROM",
		"seven-mistakes.yaml:28:7: error: unknown field \"tabel\"",
		"seven-mistakes.yaml:31:13: error: unknown name \"per_usr\"",
		"1 file, 1 pipeline: 7 errors, 0 warnings",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
	golden(t, "spec/testdata/seven-mistakes.golden", out)
}

func TestValidateExamples(t *testing.T) {
	t.Chdir("../..")
	code, out := runCLI(t, "validate", "pipelines/")
	if code != exitOK {
		t.Errorf("exit status %d, want 0:\n%s", code, out)
	}
	if !strings.Contains(out, "pipelines: ") && !strings.Contains(out, "pipeline: ") {
		t.Errorf("no summary line:\n%s", out)
	}
}

func TestValidateJSON(t *testing.T) {
	code, out := runCLI(t, "validate", "-o", "json", filepath.Join("..", "..", "spec", "testdata", "seven-mistakes.yaml"))
	if code != exitUser {
		t.Errorf("exit status %d, want 1", code)
	}
	var rep validateReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if rep.Valid || rep.Errors != 7 || len(rep.Diagnostics) != 7 || rep.Diagnostics[0].Pos.Line != 11 {
		t.Errorf("report = %+v", rep)
	}
}

func TestValidateUsage(t *testing.T) {
	if code, _ := runCLI(t, "validate"); code != exitUsage {
		t.Errorf("no paths: exit %d, want %d", code, exitUsage)
	}
	if code, _ := runCLI(t, "validate", "-o", "yaml", "x.yaml"); code != exitUsage {
		t.Errorf("bad -o: exit %d, want %d", code, exitUsage)
	}
	code, out := runCLI(t, "validate", filepath.Join(t.TempDir(), "missing.yaml"))
	if code != exitUser || !strings.Contains(out, "cannot read") {
		t.Errorf("missing file: exit %d, out %q", code, out)
	}
}

func TestValidateLimitFlag(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "job.yaml")
	if err := os.WriteFile(f, bytes.Repeat([]byte("# padding\n"), 200), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := runCLI(t, "validate", "--max-file-size=100", f)
	if code != exitUser || !strings.Contains(out, "max file size") || !strings.Contains(out, "--max-file-size") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
