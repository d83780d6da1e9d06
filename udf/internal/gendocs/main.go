// Command gendocs writes docs/functions.md from udf's function tables. It
// runs from udf's go:generate directive (make generate).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/flowrun/flowrun/udf"
)

func main() {
	out := flag.String("o", "", "output file (default stdout)")
	flag.Parse()
	var b bytes.Buffer
	if err := udf.WriteMarkdown(&b); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
	if *out == "" {
		os.Stdout.Write(b.Bytes())
		return
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}
