// Command gen writes the JSON Schema of job files and the field reference
// of docs/job-file.md from the Go types of package spec. It is run by
// `go generate ./spec` (and `make generate`).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/flowrun/flowrun/spec"
)

func main() {
	schema := flag.String("schema", "", "write the JSON Schema to this file")
	doc := flag.String("doc", "", "replace the generated reference section of this Markdown file")
	flag.Parse()
	if *schema != "" {
		if err := os.WriteFile(*schema, spec.JSONSchema(), 0o644); err != nil {
			fail(err)
		}
	}
	if *doc != "" {
		old, err := os.ReadFile(*doc)
		if err != nil {
			fail(err)
		}
		out, err := spec.ReplaceReference(old)
		if err != nil {
			fail(err)
		}
		if !bytes.Equal(old, out) {
			if err := os.WriteFile(*doc, out, 0o644); err != nil {
				fail(err)
			}
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gen:", err)
	os.Exit(1)
}
