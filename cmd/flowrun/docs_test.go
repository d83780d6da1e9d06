package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// codeBlocks returns the fenced code blocks of a Markdown file with the
// given info string, in order.
func codeBlocks(t *testing.T, path, lang string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```")
	var out []string
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	return out
}

// TestReadmeJobIsValid keeps the README's taste of a job file valid.
func TestReadmeJobIsValid(t *testing.T) {
	blocks := codeBlocks(t, "../../README.md", "yaml")
	if len(blocks) == 0 {
		t.Fatal("README.md has no yaml block")
	}
	path := filepath.Join(t.TempDir(), "readme.yaml")
	if err := os.WriteFile(path, []byte(blocks[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := captureRun(t, "validate", path); code != exitOK || !strings.Contains(out, ": ok") {
		t.Fatalf("README job: exit %d\n%s", code, out)
	}
}

// TestGettingStarted runs the tutorial: its job validates, runs on its
// input with the output it shows, and its test case passes.
func TestGettingStarted(t *testing.T) {
	yamls := codeBlocks(t, "../../docs/getting-started.md", "yaml")
	jsons := codeBlocks(t, "../../docs/getting-started.md", "json")
	if len(yamls) < 2 || len(jsons) < 2 {
		t.Fatalf("getting-started.md: %d yaml and %d json blocks", len(yamls), len(jsons))
	}
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	job := write("shop.yaml", yamls[0])
	input := write("orders.jsonl", jsons[0])
	var testCase string
	for _, y := range yamls {
		if strings.HasPrefix(y, "name: ") {
			testCase = y
		}
	}
	if testCase == "" {
		t.Fatal("no test case block")
	}
	write("tests/totals.yaml", testCase)
	if code, out := captureRun(t, "validate", job); code != exitOK {
		t.Fatalf("validate: exit %d\n%s", code, out)
	}
	outFile := filepath.Join(dir, "totals.jsonl")
	if code, out := captureRun(t, "run", job, "--store", filepath.Join(dir, "store"), "--input", "orders="+input,
		"--output", "totals="+outFile, "--bounded", "--quiet"); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	got, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	// The first line of the shown output is the sink's row.
	want := strings.SplitN(jsons[1], "\n", 2)[0]
	if strings.TrimSpace(string(got)) != want {
		t.Fatalf("run output\n%s\nwant the tutorial's\n%s", got, want)
	}
	if code, out := captureRun(t, "test", filepath.Join(dir, "tests")); code != exitOK {
		t.Fatalf("test: exit %d\n%s", code, out)
	}
}
