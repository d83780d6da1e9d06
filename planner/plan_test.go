package planner

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/flowrun/flowrun/spec"
)

// TestExamplePipelines plans every example pipeline of the repository.
func TestExamplePipelines(t *testing.T) {
	files, _ := filepath.Glob("../pipelines/*/*.yaml")
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ps, ds := spec.Parse(f, src)
			if ds.HasErrors() {
				t.Skipf("spec errors: %v", ds)
			}
			for _, p := range ps {
				g, ds := Plan(p)
				if ds.HasErrors() {
					t.Fatalf("plan errors:\n%v", ds)
				}
				if g == nil || len(g.Nodes) == 0 {
					t.Fatal("empty graph")
				}
			}
		})
	}
}
