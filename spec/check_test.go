package spec

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestCheckGolden validates each testdata/check/*.yaml and compares the
// formatted diagnostics with the .golden file next to it.
func TestCheckGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/check/*.yaml")
	if len(files) == 0 {
		t.Fatal("no test files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, ds := Parse(filepath.Base(f), src)
			var buf bytes.Buffer
			ds.Format(&buf, func(string) []byte { return src })
			for _, d := range ds {
				if d.Pos.Line == 0 {
					t.Errorf("diagnostic without a line: %v", d)
				}
			}
			g := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(g, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(g)
			if err != nil {
				t.Fatalf("%v (run go test ./spec -run TestCheckGolden -update)", err)
			}
			if buf.String() != string(want) {
				t.Errorf("diagnostics differ from %s (rerun with -update and review the diff):\n--- got\n%s--- want\n%s", g, buf.String(), want)
			}
		})
	}
}
