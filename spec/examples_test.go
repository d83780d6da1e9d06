package spec

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestExamples validates every example job file under pipelines/ and
// expects no errors.
func TestExamples(t *testing.T) {
	files, ds := Files("../pipelines")
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if len(files) == 0 {
		t.Fatal("no example job files found")
	}
	for _, f := range files {
		t.Run(filepath.ToSlash(f), func(t *testing.T) {
			ps, ds := LoadFile(f)
			var buf bytes.Buffer
			ds.Format(&buf, func(string) []byte { b, _ := os.ReadFile(f); return b })
			if ds.HasErrors() || len(ps) == 0 {
				t.Errorf("%s:\n%s", f, buf.String())
			} else if len(ds) > 0 {
				t.Logf("%s", buf.String())
			}
		})
	}
}
