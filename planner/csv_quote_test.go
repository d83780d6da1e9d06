package planner

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/spec"
)

// TestCSVQuoteCarried: the source's csv.quote reaches the SourceOp; the
// default, written or not, plans the same (no quote in the JSON plan).
func TestCSVQuoteCarried(t *testing.T) {
	job := func(csv string) string {
		return `apiVersion: flowrun.dev/v1
kind: Pipeline
metadata: {name: q}
spec:
  sources:
    - name: sms
      jetstream: {stream: SMS}
      format: csv
      csv: {delimiter: "\t"` + csv + `}
      schema: {label: string, text: string}
  sinks:
    - {name: out, from: sms, jetstream: {stream: OUT, subject: out}}
`
	}
	plan := func(csv string) (*SourceOp, string, string) {
		t.Helper()
		ps, ds := spec.Parse("q.yaml", []byte(job(csv)))
		if ds.HasErrors() {
			t.Fatal(ds)
		}
		g, ds := Plan(ps[0])
		if g == nil || ds.HasErrors() {
			t.Fatal(ds)
		}
		for _, n := range g.Nodes {
			if op, ok := n.Op.(*SourceOp); ok {
				b, err := json.Marshal(g)
				if err != nil {
					t.Fatal(err)
				}
				return op, string(b), g.String()
			}
		}
		t.Fatal("no source")
		return nil, "", ""
	}
	none, noneJSON, _ := plan(", quote: none")
	if none.CSV.Quote != spec.CSVQuoteNone || none.CSV.Delimiter != "\t" || !strings.Contains(noneJSON, `"quote":"none"`) {
		t.Errorf("quote none: csv %+v\n%s", none.CSV, noneJSON)
	}
	if op, _, _ := plan(`, quote: "'"`); op.CSV.Quote != "'" {
		t.Errorf("quote ': csv %+v", op.CSV)
	}
	def, defJSON, defText := plan("")
	dq, dqJSON, dqText := plan(`, quote: '"'`)
	if def.CSV.Quote != "" || dq.CSV.Quote != "" || strings.Contains(defJSON, `"quote"`) || defJSON != dqJSON || defText != dqText {
		t.Errorf("default quote: %+v / %+v\n%s\n%s", def.CSV, dq.CSV, defJSON, dqJSON)
	}
}
