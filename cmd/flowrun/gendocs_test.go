package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestCLIDocUpToDate regenerates docs/cli.md and fails when the committed
// file differs.
func TestCLIDocUpToDate(t *testing.T) {
	clearFlowrunEnv(t)
	var b bytes.Buffer
	if err := writeCLIDoc(&b, rootCmd()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "docs", "cli.md")
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: run make generate", err)
	}
	if !bytes.Equal(have, b.Bytes()) {
		hl, wl := strings.Split(string(have), "\n"), strings.Split(b.String(), "\n")
		i := 0
		for i < len(hl) && i < len(wl) && hl[i] == wl[i] {
			i++
		}
		line := func(ls []string) string {
			if i < len(ls) {
				return ls[i]
			}
			return "(end of file)"
		}
		t.Fatalf("docs/cli.md is out of date: run make generate (or go generate ./cmd/flowrun)\nfirst difference at line %d:\n  file:      %q\n  generated: %q",
			i+1, line(hl), line(wl))
	}
}

// clearFlowrunEnv empties the FLOWRUN_ variables that flag defaults read,
// as flowrun gendocs does.
func clearFlowrunEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "FLOWRUN_") {
			t.Setenv(k, "")
		}
	}
}

// verbsWithoutExample are visible verbs known to lack an Example. Each is a
// TODO for the owner of its file; the list must only shrink.
var verbsWithoutExample = map[string]string{}

// TestEveryVerbHasExample checks that --help shows examples for every
// visible verb and sub-verb.
func TestEveryVerbHasExample(t *testing.T) {
	var missing []string
	for _, c := range visibleCommands(rootCmd()) {
		path := c.CommandPath()
		if strings.TrimSpace(c.Example) != "" {
			if _, ok := verbsWithoutExample[path]; ok {
				t.Errorf("%s has an Example now: remove it from verbsWithoutExample", path)
			}
			continue
		}
		if owner, ok := verbsWithoutExample[path]; ok {
			t.Logf("TODO(%s): %s has no Example", owner, path)
			continue
		}
		missing = append(missing, path)
	}
	if len(missing) > 0 {
		t.Errorf("verbs without an Example (--help shows none): %s", strings.Join(missing, ", "))
	}
}

// TestCLIDocCoversEveryVerb checks the generated reference's shape: a
// section per visible verb, no hidden verb, the exit-status table.
func TestCLIDocCoversEveryVerb(t *testing.T) {
	root := rootCmd()
	var b bytes.Buffer
	if err := writeCLIDoc(&b, root); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	for _, c := range visibleCommands(root) {
		if !strings.Contains(doc, "\n## "+c.CommandPath()+"\n") {
			t.Errorf("no section for %s", c.CommandPath())
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, s := range c.Commands() {
			if s.Hidden && strings.Contains(doc, "## "+s.CommandPath()+"\n") {
				t.Errorf("hidden verb %s is documented", s.CommandPath())
			}
			walk(s)
		}
	}
	walk(root)
	for _, want := range []string{"| 0 | success |", "| 1 | user error", "| 2 | usage error", "| 3 | internal fault"} {
		if !strings.Contains(doc, want) {
			t.Errorf("exit-status table lacks %q", want)
		}
	}
	if !strings.Contains(doc, "| `--bounded` |") {
		t.Error("flags table of run lacks --bounded")
	}
}

func TestGendocsVerb(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cli.md")
	if code := run([]string{"gendocs", "cli", "-o", out}); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	b, err := os.ReadFile(out)
	if err != nil || !bytes.HasPrefix(b, []byte("# flowrun command line\n")) {
		t.Fatalf("%v: %.40q", err, b)
	}
	if code := run([]string{"gendocs", "nosuch"}); code != exitUsage {
		t.Fatalf("gendocs nosuch: exit %d, want %d", code, exitUsage)
	}
}
