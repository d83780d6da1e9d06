package udf

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite ../docs/functions.md")

// TestDocsUpToDate fails when docs/functions.md is not what the tables
// generate: run `make generate` (or go test ./udf -update).
func TestDocsUpToDate(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	const path = "../docs/functions.md"
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: run make generate", err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Fatalf("%s is stale: run make generate (go generate ./udf)", path)
	}
}

func TestDescribe(t *testing.T) {
	for _, n := range []string{"substr", "COUNT", "approx_percentile", "case", "ceiling"} {
		s, ok := Describe(n)
		if !ok || !strings.Contains(s, "Example") {
			t.Errorf("Describe(%q) = %q, %v", n, s, ok)
		}
	}
	if _, ok := Describe("nosuch"); ok {
		t.Error("Describe(nosuch) ok")
	}
	var b bytes.Buffer
	if err := WriteIndex(&b); err != nil || !strings.Contains(b.String(), "SUBSTRING(s string") {
		t.Errorf("index: %v\n%s", err, b.String())
	}
}
