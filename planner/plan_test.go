package planner

import (
	"encoding/json"
	"github.com/flowrun/flowrun/udf"
	"os"
	"path/filepath"
	"strings"
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
				if err := g.Validate(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestJSONRoundTrip checks that a graph's JSON reads back to the same JSON.
func TestJSONRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("../pipelines/*/*.yaml")
	for _, f := range files {
		src, _ := os.ReadFile(f)
		ps, ds := spec.Parse(f, src)
		if ds.HasErrors() {
			continue
		}
		for _, p := range ps {
			g, ds := Plan(p)
			if ds.HasErrors() {
				continue
			}
			b1, err := json.Marshal(g)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var g2 Graph
			if err := json.Unmarshal(b1, &g2); err != nil {
				t.Fatalf("%s: %v\n%s", f, err, b1)
			}
			b2, err := json.Marshal(&g2)
			if err != nil {
				t.Fatal(err)
			}
			if string(b1) != string(b2) {
				t.Errorf("%s: JSON does not round-trip:\n%s\n%s", f, b1, b2)
			}
			if g.String() != g2.String() {
				t.Errorf("%s: text differs after round trip:\n%s\n%s", f, g, &g2)
			}
		}
	}
}

// BenchmarkPlan plans the fraud-detection example (validation, binding,
// rules and lowering).
func BenchmarkPlan(b *testing.B) {
	src, err := os.ReadFile("../pipelines/fraud-detection/pipeline.yaml")
	if err != nil {
		b.Skip(err)
	}
	ps, ds := spec.Parse("pipeline.yaml", src)
	if ds.HasErrors() || len(ps) == 0 {
		b.Skip(ds)
	}
	b.ReportAllocs()
	for b.Loop() {
		if g, ds := Plan(ps[0]); g == nil {
			b.Fatal(ds)
		}
	}
}

// TestFingerprints checks that a node's fingerprint depends on what it
// computes, not on the rest of the job.
func TestFingerprints(t *testing.T) {
	base := prelude + `  stages:
    - name: counts
      sql: |
        SELECT user_id, TUMBLE_END(ts, INTERVAL 1 MINUTE) AS window_end, COUNT(*) AS n
        FROM tx GROUP BY user_id, TUMBLE(ts, INTERVAL 1 MINUTE)
  sinks:
    - name: out
      from: counts
      jetstream: {stream: OUT, subject: out.counts}
`
	plan := func(src string) map[string]string {
		ps, ds := spec.Parse("f.yaml", []byte(src))
		if ds.HasErrors() {
			t.Fatal(ds)
		}
		g, ds := Plan(ps[0])
		if g == nil {
			t.Fatal(ds)
		}
		out := map[string]string{}
		for _, n := range g.Nodes {
			out[n.Stage+"/"+n.Op.Name()] = n.Fingerprint
		}
		return out
	}
	a := plan(base)
	b := plan(base + `    - name: raw
      from: clicks
      jetstream: {stream: OUT, subject: out.raw}
`)
	c := plan(strings.Replace(base, "COUNT(*) AS n", "COUNT(*) AS n, MAX(amount) AS m", 1))
	if a["counts/WindowAgg"] == "" || a["counts/WindowAgg"] != b["counts/WindowAgg"] {
		t.Errorf("an unrelated sink changed the fingerprint: %v vs %v", a, b)
	}
	if a["counts/WindowAgg"] == c["counts/WindowAgg"] {
		t.Errorf("a new aggregate kept the fingerprint")
	}
}

// TestValidateCatches checks that Graph.Validate reports broken graphs.
func TestValidateCatches(t *testing.T) {
	src, err := os.ReadFile("../pipelines/nexmark/q5.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ps, ds := spec.Parse("q5.yaml", src)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	for _, breakIt := range []func(g *Graph){
		func(g *Graph) { g.Nodes[1].Parallelism = 7 },
		func(g *Graph) { g.Edges[0].From, g.Edges[0].To = g.Edges[0].To, g.Edges[0].From },
		func(g *Graph) { g.Nodes[len(g.Nodes)-1].Schema.EventTime = 99 },
		func(g *Graph) {
			for _, n := range g.Nodes {
				if p, ok := n.Op.(*ProjectOp); ok {
					p.Exprs = append(p.Exprs, &ColumnRef{Index: 42, Name: "x", T: udf.TypeBigint})
					return
				}
			}
		},
		func(g *Graph) {
			for _, n := range g.Nodes {
				if j, ok := n.Op.(*JoinOp); ok {
					j.RightKeys = append(j.RightKeys, 0)
					return
				}
			}
		},
	} {
		g, _ := Plan(ps[0])
		if err := g.Validate(); err != nil {
			t.Fatalf("valid graph reported: %v", err)
		}
		breakIt(g)
		if err := g.Validate(); err == nil {
			t.Errorf("broken graph passed Validate:\n%s", g)
		}
	}
}
