package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplain runs flowrun explain in each output form on a Nexmark job.
func TestExplain(t *testing.T) {
	t.Chdir("../..")
	job := "pipelines/nexmark/q8.yaml"
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"explain", job}, []string{"Sink out", "Join window inner", "Stage new_people", "WindowAgg TUMBLE"}},
		{[]string{"explain", "--physical", job}, []string{"job nexmark-q8 parallelism=2", "[left hash(#0:id)]", "state=[left(#0), right(#0)]"}},
		{[]string{"explain", "--raw", job}, []string{"Stage new_users"}},
		{[]string{"explain", "--trace", job}, []string{"== as bound ==", "== after insert_exchanges ==", "Exchange hash"}},
		{[]string{"explain", "-o", "dot", job}, []string{"digraph \"nexmark-q8\" {", "->"}},
	} {
		code, out := runCLI(t, tc.args...)
		if code != exitOK {
			t.Errorf("%v: exit status %d", tc.args, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, w, out)
			}
		}
	}
	code, out := runCLI(t, "explain", "--physical", "-o", "json", job)
	if code != exitOK {
		t.Fatalf("exit status %d", code)
	}
	var g struct {
		Job   string `json:"job"`
		Nodes []struct {
			Op struct {
				Op string `json:"op"`
			} `json:"op"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(out), &g); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	if g.Job != "nexmark-q8" || len(g.Nodes) == 0 || g.Nodes[0].Op.Op != "Source" {
		t.Errorf("unexpected graph: %+v", g)
	}
}

// TestExplainErrors checks that a job with an SQL error prints it and exits 1.
func TestExplainErrors(t *testing.T) {
	src, err := os.ReadFile("../../pipelines/nexmark/q0.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(src), "SELECT auction, bidder", "SELECT auction, bider", 1)
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _ := runCLI(t, "explain", path); code != exitUser {
		t.Errorf("exit status %d, want %d", code, exitUser)
	}
	if code, _ := runCLI(t, "explain", "-o", "yaml", path); code != exitUsage {
		t.Errorf("bad -o: exit status %d, want %d", code, exitUsage)
	}
}
