package planner

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/ with the current output")

// prelude is prepended to a case that does not start with apiVersion: the
// job envelope and the sources every case may read.
const prelude = `apiVersion: flowrun.dev/v1
kind: Pipeline
metadata:
  name: test
spec:
  parallelism: 2
  sources:
    - name: tx
      jetstream: {stream: TX}
      schema:
        tx_id: string
        user_id: string
        amount: double
        merchant: string
        country: string
        ts: timestamp
        is_fraud: {type: bool, nullable: true}
      eventTime: {column: ts, maxOutOfOrderness: 5s}
    - name: clicks
      jetstream: {stream: CLICKS, subjects: [clicks.>], durable: clicks_reader}
      schema:
        user_id: string
        url: string
        ts: timestamp
      eventTime: {column: ts}
    - name: users
      jetstream: {stream: USERS}
      format: csv
      csv: {header: true}
      schema:
        user_id: string
        name: string
        age: bigint
        signup: timestamp
`

// goldenCase is one case of a golden file:
//
//	case NAME [logical|physical|bound|plan]
//	<YAML: the rest of spec: (stages, sinks, models, functions) or a whole job>
//	----
//	<expected output: diagnostics, then the plans>
//	====
type goldenCase struct {
	name, mode, input, want string
}

func parseGolden(t *testing.T, path string) (header string, cases []goldenCase) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	i := 0
	for i < len(lines) && !strings.HasPrefix(lines[i], "case ") {
		header += lines[i]
		i++
	}
	for i < len(lines) {
		f := strings.Fields(lines[i])
		if len(f) == 0 {
			i++
			continue
		}
		if f[0] != "case" || len(f) < 2 {
			t.Fatalf("%s:%d: want 'case NAME [mode]', got %q", path, i+1, lines[i])
		}
		c := goldenCase{name: f[1], mode: "plan"}
		if len(f) > 2 {
			c.mode = f[2]
		}
		i++
		var in, out strings.Builder
		for i < len(lines) && strings.TrimRight(lines[i], "\n") != "----" {
			in.WriteString(lines[i])
			i++
		}
		i++
		for i < len(lines) && strings.TrimRight(lines[i], "\n") != "====" {
			out.WriteString(lines[i])
			i++
		}
		i++
		c.input, c.want = in.String(), out.String()
		cases = append(cases, c)
	}
	return header, cases
}

// runGolden plans one case and prints what the golden file holds.
func runGolden(c goldenCase) string {
	src := c.input
	if !strings.HasPrefix(src, "apiVersion:") {
		src = prelude + src
	}
	file := c.name + ".yaml"
	var b bytes.Buffer
	ps, ds := spec.Parse(file, []byte(src))
	show := func(ds spec.Diagnostics) {
		var keep spec.Diagnostics
		for _, d := range ds {
			// The prelude's sources are not all read by every case.
			if d.Severity == spec.Warning && errors.Is(d.Err, spec.ErrUnused) && strings.HasPrefix(d.Msg, "source ") {
				continue
			}
			keep = append(keep, d)
		}
		keep.Format(&b, func(string) []byte { return []byte(src) })
	}
	if ds.HasErrors() || len(ps) == 0 {
		show(ds)
		return b.String()
	}
	var opts []Option
	if c.mode == "bound" {
		opts = append(opts, WithRules())
	}
	for _, p := range ps {
		lp, ds := Logical(p, opts...)
		show(ds)
		if lp == nil {
			continue
		}
		if c.mode != "physical" {
			b.WriteString(lp.String())
		}
		if g, _ := Plan(p, opts...); g != nil {
			if err := g.Validate(); err != nil {
				fmt.Fprintf(&b, "INVALID GRAPH: %v\n", err)
			}
		}
		if c.mode == "physical" || c.mode == "plan" {
			g, _ := Plan(p, opts...)
			if c.mode == "plan" {
				b.WriteString("----\n")
			}
			b.WriteString(g.String())
		}
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, path := range files {
		header, cases := parseGolden(t, path)
		var out strings.Builder
		out.WriteString(header)
		for _, c := range cases {
			got := runGolden(c)
			t.Run(strings.TrimSuffix(filepath.Base(path), ".txt")+"/"+c.name, func(t *testing.T) {
				if !*update && got != c.want {
					t.Errorf("%s case %s: got\n%s\nwant\n%s", path, c.name, got, c.want)
				}
			})
			mode := ""
			if c.mode != "plan" {
				mode = " " + c.mode
			}
			fmt.Fprintf(&out, "case %s%s\n%s----\n%s====\n\n", c.name, mode, c.input, got)
		}
		if *update {
			if err := os.WriteFile(path, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestNexmark plans the Nexmark queries of pipelines/nexmark and compares
// their logical and physical plans with testdata/nexmark/<query>.txt.
func TestNexmark(t *testing.T) {
	files, _ := filepath.Glob("../pipelines/nexmark/*.yaml")
	if len(files) == 0 {
		t.Fatal("no Nexmark pipelines")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ps, ds := spec.Parse(filepath.Base(f), src)
			if ds.HasErrors() {
				t.Fatalf("%v", ds)
			}
			var b strings.Builder
			for _, p := range ps {
				lp, ds := Logical(p)
				if ds.HasErrors() {
					t.Fatalf("%v", ds)
				}
				g, _ := Plan(p)
				if err := g.Validate(); err != nil {
					t.Errorf("%s: %v", f, err)
				}
				fmt.Fprintf(&b, "%s----\n%s", lp, g)
			}
			golden := filepath.Join("testdata", "nexmark", name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./planner -update)", err)
			}
			if b.String() != string(want) {
				t.Errorf("plan of %s differs from %s:\n%s", f, golden, b.String())
			}
		})
	}
}
