// Command gendoc writes the generated ML reference (docs/ml-reference.md).
// It is run by `go generate ./ml`.
package main

import (
	"bytes"
	"flag"
	"log"
	"os"

	"github.com/flowrun/flowrun/ml"
)

func main() {
	out := flag.String("o", "../docs/ml-reference.md", "output file")
	flag.Parse()
	var b bytes.Buffer
	if err := ml.WriteReference(&b); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
