package spec_test

import (
	"fmt"
	"os"

	"github.com/flowrun/flowrun/spec"
)

func ExampleParse() {
	src := []byte(`apiVersion: flowrun.dev/v1
kind: Pipeline
metadata: {name: demo}
spec:
  sources:
    - name: tx
      jetstream: {stream: TX}
      schema: {user_id: string, amount: double, ts: timestamp}
      eventTime: {column: ts, maxOutOfOrderness: 5s}
  stages:
    - name: big
      sql: |
        SELECT user_id, amount
        FROM tx2 WHERE amount > 100
  sinks:
    - name: out
      from: big
      jetstream: {stream: BIG, subject: big}
`)
	ps, ds := spec.Parse("job.yaml", src)
	ds.Format(os.Stdout, func(string) []byte { return src })
	fmt.Println(len(ps), "pipeline,", ds.Count(spec.Error), "error")
	// Output:
	// job.yaml:14:14: error: unknown name "tx2" in FROM of stage big
	//   14 |         FROM tx2 WHERE amount > 100
	//      |              ^
	//   did you mean "tx"?
	// 1 pipeline, 1 error
}

func ExampleText_PosAt() {
	src := []byte(`apiVersion: flowrun.dev/v1
kind: Pipeline
metadata: {name: demo}
spec:
  stages:
    - name: s
      sql: >
        SELECT a,
          b
        FROM t
`)
	ps, _ := spec.Parse("job.yaml", src, spec.WithoutValidation())
	sql := ps[0].Spec.Stages[0].SQL
	fmt.Printf("%q\n", sql.Value)
	fmt.Println(sql.PosAt(len("SELECT a,\n  ")))     // b
	fmt.Println(sql.PosAt(len("SELECT a,\n  b\nF"))) // the R of FROM
	// Output:
	// "SELECT a,\n  b\nFROM t\n"
	// job.yaml:9:11
	// job.yaml:10:10
}
