package spec

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flowrun/flowrun/udf"
)

const fraud = `# yaml-language-server: $schema=../docs/schema/pipeline.schema.json
apiVersion: flowrun.dev/v1
kind: Pipeline
metadata:
  name: fraud-detection
  labels: {team: risk}
spec:
  parallelism: 2
  sources:
    - name: tx
      jetstream: {stream: TX, subjects: ["tx.>"]}
      format: json
      schema:
        tx_id: string
        user_id: string
        amount: double
        merchant: string
        ts: timestamp
        is_fraud: {type: bool, nullable: true}
      eventTime: {column: ts, maxOutOfOrderness: 5s, idleTimeout: 30s}
      startFrom: earliest
  functions:
    - name: risk_bucket
      params: [amount]
      expr: 'amount > 1000 ? "high" : (amount > 100 ? "mid" : "low")'
  stages:
    - name: clean_tx
      from: tx
      clean:
        dedup: {key: [tx_id], within: 10m}
        impute: {amount: median, merchant: {constant: unknown}}
        outliers: {amount: {method: zscore, threshold: 6, action: clip}}
    - name: scored
      sql: |
        SELECT t.tx_id, t.amount
        FROM clean_tx AS t
  models:
    - name: fraud
      algorithm: logistic_regression
      from: clean_tx
      features: [amount]
      label: is_fraud
      training: {mode: online, optimizer: ftrl, alpha: 0.05, l1: 1.0, l2: 1.0, warmup: 500}
      evaluation: {metrics: [auc, logloss], window: 10m}
  sinks:
    - name: alerts
      from: scored
      where: fraud_score > 0.9
      jetstream: {stream: ALERTS, subject: alerts.fraud}
`

func TestDecodeFraud(t *testing.T) {
	ps, ds := Parse("fraud.yaml", []byte(fraud), WithoutValidation())
	if len(ds) > 0 {
		t.Fatalf("diagnostics:\n%v", ds)
	}
	if len(ps) != 1 {
		t.Fatalf("%d pipelines", len(ps))
	}
	p := ps[0]
	src := p.Spec.Sources[0]
	if len(src.Schema) != 6 || src.Schema[4].Type != udf.TypeTimestamp || !src.Schema[5].Nullable || src.Schema[5].Type != udf.TypeBool {
		t.Errorf("schema = %+v", src.Schema)
	}
	if src.Schema[2].Pos.Line != 16 || src.Schema[2].Pos.Col != 9 {
		t.Errorf("amount column pos = %v", src.Schema[2].Pos)
	}
	if src.EventTime.MaxOutOfOrderness.Std() != 5*time.Second {
		t.Errorf("eventTime = %+v", src.EventTime)
	}
	cl := p.Spec.Stages[0].Clean
	if len(cl.Impute) != 2 || cl.Impute[1].Method != "constant" || cl.Impute[1].Value != "unknown" {
		t.Errorf("impute = %+v", cl.Impute)
	}
	if len(cl.Outliers) != 1 || cl.Outliers[0].Threshold != 6 || cl.Outliers[0].Action != "clip" {
		t.Errorf("outliers = %+v", cl.Outliers)
	}
	m := p.Spec.Models[0]
	if m.Training.Mode != "online" || m.Training.Warmup != 500 || m.Params["optimizer"] != "ftrl" || m.Params["alpha"] != 0.05 {
		t.Errorf("model = %+v %+v", m, m.Training)
	}
	if pp := m.ParamPos["alpha"]; pp.Line != 43 || pp.Col != 49 {
		t.Errorf("ParamPos[alpha] = %v", pp)
	}
	sql := p.Spec.Stages[1].SQL
	if sql.Pos.Line != 35 || sql.Pos.Col != 9 {
		t.Errorf("sql pos = %v", sql.Pos)
	}
	if got := p.PosOf("spec.sinks[0].from"); got.Line != 47 || got.Col != 13 {
		t.Errorf("PosOf(sink from) = %v", got)
	}
	if got := p.Spec.Sinks[0].FromPos; got.Line != 47 || got.Col != 13 {
		t.Errorf("FromPos = %v", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	src := `apiVersion: flowrun.dev/v1
kind: Pipeline
spec:
  sources:
    - name: tx
      formt: json
      format: xml
      schema:
        a: doubel
        b: {type: string, nulable: true}
      eventTime: {column: a, maxOutOfOrderness: 5x}
  stages:
    - name: s
      clean:
        impute: {a: meen}
      features:
        - onehott: {input: a}
  models:
    - name: m
      algorithm: x
      training: {mode: offline, warmup: many}
`
	_, ds := Parse("e.yaml", []byte(src), WithoutValidation())
	var buf bytes.Buffer
	ds.Format(&buf, func(string) []byte { return []byte(src) })
	want := []string{
		`e.yaml:6:7: error: unknown field "formt" in source`,
		`did you mean "format"?`,
		`e.yaml:7:15: error: bad value "xml" for format: want one of json, csv`,
		`e.yaml:9:12: error: unknown column type "doubel" for column a`,
		`did you mean "double"?`,
		`e.yaml:10:27: error: unknown field "nulable" in column`,
		`e.yaml:11:49: error: maxOutOfOrderness: bad duration "5x": unknown unit "x"`,
		`e.yaml:15:21: error: bad value "meen" for impute method`,
		`e.yaml:17:11: error: unknown field "onehott" in feature`,
		`e.yaml:21:24: error: bad value "offline" for mode`,
		`e.yaml:21:41: error: warmup must be an integer, not the string "many"`,
	}
	out := buf.String()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("missing %q", w)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
	if !errors.Is(ds, ErrUnknown) || !errors.Is(ds, ErrValue) {
		t.Errorf("errors.Is failed")
	}
}

func TestInterpolation(t *testing.T) {
	src := "apiVersion: ${API:-flowrun.dev/v1}\nkind: Pipeline\nmetadata: {name: '${NAME}'}\nspec:\n  functions:\n    - name: f\n      expr: '\"$${HOME}\" + x'\n    - name: ${MISSING}\n"
	ps, ds := Parse("i.yaml", []byte(src), WithoutValidation(), WithEnv(func(k string) (string, bool) {
		if k == "NAME" {
			return "job", true
		}
		return "", false
	}))
	if len(ds) != 1 || ds[0].Pos.Line != 8 || ds[0].Pos.Col != 13 || !errors.Is(ds, ErrInterp) {
		t.Fatalf("diagnostics = %v", ds)
	}
	p := ps[0]
	if p.APIVersion != APIVersion || p.Metadata.Name != "job" || p.Spec.Functions[0].Expr.Value != `"${HOME}" + x` {
		t.Errorf("got %q %q %q", p.APIVersion, p.Metadata.Name, p.Spec.Functions[0].Expr.Value)
	}
}

func TestParseDuration(t *testing.T) {
	for s, want := range map[string]time.Duration{"500ms": 500 * time.Millisecond, "5s": 5 * time.Second, "10m": 10 * time.Minute,
		"1h": time.Hour, "1d": 24 * time.Hour, "1d12h": 36 * time.Hour, "1h30m": 90 * time.Minute, "0": 0, "1.5s": 1500 * time.Millisecond} {
		d, err := ParseDuration(s)
		if err != nil || d.Std() != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", s, d.Std(), err, want)
		}
	}
	for _, s := range []string{"", "5", "5x", "s", "1h-", "-5s", "1e9999h"} {
		if _, err := ParseDuration(s); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", s)
		}
	}
	if s := Duration(36 * time.Hour).String(); s != "36h" {
		t.Errorf("String = %q", s)
	}
	if s := Duration(48 * time.Hour).String(); s != "2d" {
		t.Errorf("String = %q", s)
	}
}

func TestMultiDocument(t *testing.T) {
	src := "apiVersion: flowrun.dev/v1\nkind: Pipeline\nmetadata: {name: a}\n---\napiVersion: flowrun.dev/v1\nkind: Pipeline\nmetadata: {name: b}\nspec: {parallelism: 3}\n---\n"
	ps, ds := Parse("m.yaml", []byte(src), WithoutValidation())
	if len(ds) > 0 || len(ps) != 2 || ps[1].Metadata.Name != "b" || ps[1].Spec.Parallelism != 3 {
		t.Fatalf("%v %v", ps, ds)
	}
	if ps[1].Pos.Line != 5 {
		t.Errorf("doc 2 pos = %v", ps[1].Pos)
	}
}
