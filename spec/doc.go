// Package spec holds the Go types of a flowrun job file, decodes job files
// strictly while keeping the position of every value, and validates them,
// reporting every problem at once with file:line:col.
//
// A job file is YAML, one pipeline per document:
//
//	apiVersion: flowrun.dev/v1
//	kind: Pipeline
//	metadata: {name: demo}
//	spec:
//	  sources:
//	    - name: tx
//	      jetstream: {stream: TX}
//	      schema: {user_id: string, amount: double, ts: timestamp}
//	      eventTime: {column: ts, maxOutOfOrderness: 5s}
//	  stages:
//	    - name: big
//	      sql: |
//	        SELECT user_id, amount
//	        FROM tx2 WHERE amount > 100
//	  sinks:
//	    - name: out
//	      from: big
//	      jetstream: {stream: BIG, subject: big}
//
// Loading it:
//
//	ps, ds := spec.LoadFile("job.yaml")
//	ds.Format(os.Stderr, func(string) []byte { return ps[0].Src })
//	if ds.HasErrors() { ... }
//
// prints every problem, here one (see ExampleParse):
//
//	job.yaml:14:14: error: unknown name "tx2" in FROM of stage big
//	  14 |         FROM tx2 WHERE amount > 100
//	     |              ^
//	  did you mean "tx"?
//
// Decoding (Parse, LoadFile, Load) works on the goccy/go-yaml AST: ${VAR}
// references are interpolated first (an offset map keeps positions in the
// original text), then limits are checked (file size, nesting depth, nodes
// with aliases expanded), then the AST is walked into the types of this
// package guided by their json and enum struct tags. Text values (SQL,
// expressions) keep a map from each byte of the value back to the file, so
// that SQL and expr-lang error offsets are reported where they are written,
// also inside | and > block scalars.
//
// Validate runs the checks of this package and then every Check added with
// RegisterCheck (the planner adds its binder that way, so that spec does
// not import the planner).
package spec
