package mlops

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/flowrun/flowrun/executor/jstest"
	"github.com/flowrun/flowrun/executor/registry"
	"github.com/flowrun/flowrun/ml"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

var creditCols = []string{"id", "limit_bal", "sex", "education", "marriage", "age",
	"pay_0", "pay_2", "pay_3", "pay_4", "pay_5", "pay_6",
	"bill_amt1", "bill_amt2", "bill_amt3", "bill_amt4", "bill_amt5", "bill_amt6",
	"pay_amt1", "pay_amt2", "pay_amt3", "pay_amt4", "pay_amt5", "pay_amt6", "defaulted"}

// creditJob is a job whose model default_risk is trained in batch with
// grid search over 3-fold cross-validation.
func creditJob() string {
	var schema, feats strings.Builder
	for i, c := range creditCols {
		fmt.Fprintf(&schema, "        %s: bigint\n", c)
		if i > 0 && i < len(creditCols)-1 {
			if feats.Len() > 0 {
				feats.WriteString(", ")
			}
			feats.WriteString(c)
		}
	}
	return `apiVersion: flowrun.dev/v1
kind: Pipeline
metadata:
  name: credit
spec:
  sources:
    - name: clients
      jetstream: {stream: CLIENTS, subjects: ["clients.>"]}
      format: csv
      csv: {header: true}
      schema:
` + schema.String() + `  stages:
    - name: scored
      sql: SELECT id, defaulted, PREDICT(default_risk, ` + feats.String() + `) AS p FROM clients
  models:
    - name: default_risk
      algorithm: decision_tree
      from: clients
      features: [` + feats.String() + `]
      label: defaulted
      params: {min_samples_leaf: 20}
      training: {mode: batch}
      evaluation: {metrics: [auc, accuracy]}
      tuning:
        method: grid
        params: {max_depth: [3, 4, 5, 6]}
        metric: auc
        validation: {kfold: 3}
  sinks:
    - name: out
      from: scored
      jetstream: {stream: SCORED, subject: scored.out}
`
}

// TestCreditTrainThenPredict trains on clients 1–24,000 with TrainBatch
// (what `flowrun train` runs), registers the winner in a real JetStream
// registry, then scores clients 24,001–30,000 with PREDICT through the
// Runtime (champion via a registry Handle): AUC ≥ 0.73.
func TestCreditTrainThenPredict(t *testing.T) {
	all := lines(t, "uci-credit-default/default_of_credit_card_clients.csv.gz")
	dir := t.TempDir()
	train := filepath.Join(dir, "train.csv")
	if err := os.WriteFile(train, []byte(strings.Join(all[:24001], "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	job := filepath.Join(dir, "credit.yaml")
	if err := os.WriteFile(job, []byte(creditJob()), 0o644); err != nil {
		t.Fatal(err)
	}
	ps, ds := spec.LoadFile(job)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	srv := jstest.RunServer(t)
	js, err := jetstream.New(jstest.Connect(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Open(t.Context(), js)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	res, err := TrainBatch(t.Context(), ps[0], "default_risk", BatchOptions{Inputs: map[string]string{"clients": train}, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range res.Trials {
		t.Logf("trial %v: auc %.4f %v", tr.Params, tr.Score, tr.FoldScores)
	}
	t.Logf("winner %v, validation %v, version %d of %d rows", res.Params, res.Metrics, res.Version, res.Rows)
	if res.Rows != 24000 || len(res.Trials) != 4 || res.Version != 1 || !res.Promoted {
		t.Fatalf("result %+v", res)
	}
	// The version records the bigint label's classes.
	e, err := reg.Get(t.Context(), "default_risk")
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Latest().Labels.String(); got != "0, 1 (bigint)" {
		t.Fatalf("version labels %q, want 0, 1 (bigint)", got)
	}

	// Score the held-out clients with PREDICT as the job's SQL stage does.
	g, pds := planner.Plan(ps[0])
	if g == nil {
		t.Fatal(pds)
	}
	rt, err := New(g, Options{Registry: reg, Models: ps[0].Spec.Models})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	var y, p []float64
	for _, l := range all[24001:] {
		f := strings.Split(l, ",")
		args := make([]udf.Value, 0, 23)
		for _, x := range f[1:24] {
			var v int64
			fmt.Sscan(x, &v)
			args = append(args, udf.Int(v))
		}
		s, err := rt.Predict(planner.Predict, "default_risk", args)
		if err != nil || s.K != udf.TypeDouble {
			t.Fatalf("PREDICT = %v, %v", s, err)
		}
		p = append(p, s.F)
		y = append(y, map[bool]float64{true: 1}[f[24] == "1"])
	}
	auc := ml.ROCAUC(y, p)
	t.Logf("held-out AUC over %d clients: %.4f", len(y), auc)
	if auc < 0.73 {
		t.Errorf("AUC %.4f < 0.73", auc)
	}
	if v, _ := rt.Predict(planner.ModelVersion, "default_risk", nil); v.I != 1 {
		t.Errorf("MODEL_VERSION = %v", v)
	}
}
