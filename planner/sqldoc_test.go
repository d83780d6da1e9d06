package planner

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var docMarker = regexp.MustCompile(`(?s)<!-- (golden ([a-z]+)/([a-z0-9-]+)|rules) -->\n.*?<!-- end -->\n`)

// TestSQLDoc keeps the examples of docs/sql.md equal to the planner's
// output: each `<!-- golden FILE/CASE -->` block shows that golden case's
// job fragment and its logical plan; `<!-- rules -->` lists Rules.
// go test ./planner -run SQLDoc -update rewrites the blocks.
func TestSQLDoc(t *testing.T) {
	const path = "../docs/sql.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s is committed and generated from the golden files: %v", path, err)
	}
	cases := map[string]goldenCase{}
	files, _ := filepath.Glob("testdata/*.txt")
	for _, f := range files {
		_, cs := parseGolden(t, f)
		for _, c := range cs {
			cases[strings.TrimSuffix(filepath.Base(f), ".txt")+"/"+c.name] = c
		}
	}
	doc := string(b)
	out := docMarker.ReplaceAllStringFunc(doc, func(block string) string {
		m := docMarker.FindStringSubmatch(block)
		var body strings.Builder
		if m[1] == "rules" {
			body.WriteString("| # | rule | what it does |\n|---|---|---|\n")
			for i, r := range Rules {
				fmt.Fprintf(&body, "| %d | `%s` | %s |\n", i+1, r.Name, r.Doc)
			}
		} else {
			key := m[2] + "/" + m[3]
			c, ok := cases[key]
			if !ok {
				t.Errorf("%s: no golden case %s", path, key)
				return block
			}
			c.mode = "logical"
			fmt.Fprintf(&body, "```yaml\n%s```\n\n```text\n%s```\n", c.input, runGolden(c))
		}
		return "<!-- " + m[1] + " -->\n" + body.String() + "<!-- end -->\n"
	})
	if *update {
		if out != doc {
			if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	if out != doc {
		t.Errorf("%s is out of date: run go test ./planner -run SQLDoc -update", path)
	}
}
