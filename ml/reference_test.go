package ml

import (
	"bytes"
	"os"
	"testing"
)

// TestReferenceUpToDate fails when docs/ml-reference.md no longer matches
// the tables; regenerate it with `go generate ./ml`.
func TestReferenceUpToDate(t *testing.T) {
	var b bytes.Buffer
	if err := WriteReference(&b); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../docs/ml-reference.md")
	if err != nil {
		t.Fatalf("%v (run `go generate ./ml`)", err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Fatal("docs/ml-reference.md is stale: run `go generate ./ml` and commit the result")
	}
}
