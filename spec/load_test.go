package spec

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const minimal = `apiVersion: flowrun.dev/v1
kind: Pipeline
metadata: {name: NAME}
spec:
  sources:
    - name: s
      jetstream: {stream: S}
      schema: {v: double}
  sinks:
    - name: out
      from: s
      jetstream: {stream: O, subject: o}
`

func TestLoadDirectory(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"b/job.yml":         strings.Replace(minimal, "NAME", "b", 1),
		"a.yaml":            strings.Replace(minimal, "NAME", "a", 1),
		"a/tests/case.yaml": "not: a job",
		"notes.txt":         "ignored",
		"c.yaml":            strings.Replace(minimal, "NAME", "a", 1), // duplicate pipeline name
	})
	files, ds := Files(dir)
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	var rel []string
	for _, f := range files {
		r, _ := filepath.Rel(dir, f)
		rel = append(rel, filepath.ToSlash(r))
	}
	if strings.Join(rel, ",") != "a.yaml,b/job.yml,c.yaml" {
		t.Errorf("files = %v", rel)
	}
	ps, ds := Load(dir)
	if len(ps) != 3 {
		t.Errorf("%d pipelines", len(ps))
	}
	if len(ds) != 1 || !errors.Is(ds, ErrDuplicate) || !strings.HasSuffix(ds[0].Pos.File, "c.yaml") || ds[0].Pos.Line != 3 {
		t.Errorf("diagnostics = %v", ds)
	}
}

func TestLoadMissing(t *testing.T) {
	_, ds := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if len(ds) != 1 || !errors.Is(ds, ErrIO) || !strings.Contains(ds[0].Msg, "no such file") {
		t.Errorf("diagnostics = %v", ds)
	}
	_, ds = LoadFile(t.TempDir())
	if !errors.Is(ds, ErrIO) {
		t.Errorf("directory: %v", ds)
	}
}

func TestDiagnostics(t *testing.T) {
	ds := Diagnostics{
		warnf(ErrUnused, Pos{File: "b.yaml", Line: 1, Col: 1}, "w"),
		diagf(ErrSQL, Pos{File: "a.yaml", Line: 2, Col: 5}, "e2"),
		diagf(ErrSQL, Pos{File: "a.yaml", Line: 2, Col: 5}, "e2"), // duplicate
		diagf(ErrValue, Pos{File: "a.yaml", Line: 1, Col: 9}, "e1").withHint(`did you mean "x"?`),
	}
	ds.Sort()
	if len(ds) != 3 || ds[0].Msg != "e1" || ds[2].Severity != Warning {
		t.Fatalf("sorted = %v", ds)
	}
	if !ds.HasErrors() || ds.Count(Warning) != 1 || ds.Err() == nil || (Diagnostics{ds[2]}).Err() != nil {
		t.Error("counts")
	}
	if !errors.Is(ds, ErrSQL) || errors.Is(ds, ErrCycle) {
		t.Error("errors.Is")
	}
	var d Diagnostic
	if !errors.As(ds, &d) || d.Msg != "e1" {
		t.Error("errors.As")
	}
	if got := ds[0].Error(); got != `a.yaml:1:9: error: e1 (did you mean "x"?)` {
		t.Errorf("Error() = %q", got)
	}
	var b strings.Builder
	src := map[string]string{"a.yaml": "key:\tval\n  two: 2\n"}
	ds.Format(&b, func(f string) []byte {
		if s, ok := src[f]; ok {
			return []byte(s)
		}
		return nil
	})
	want := "a.yaml:1:9: error: e1\n  1 | key: val\n    |         ^\n  did you mean \"x\"?\n" +
		"a.yaml:2:5: error: e2\n  2 |   two: 2\n    |     ^\n" +
		"b.yaml:1:1: warning: w\n"
	if b.String() != want {
		t.Errorf("Format:\n%s\nwant:\n%s", b.String(), want)
	}
	sort.Sort(ds)
}
