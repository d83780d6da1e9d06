package main

import (
	"bytes"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowrun/flowrun/internal/gen"
)

func TestFraudReport(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	txs := []gen.Tx{
		{ID: "a", Fraud: true, Pattern: "burst", Time: at},
		{ID: "b", Fraud: true, Pattern: "card_testing", Time: at.Add(time.Minute)},
		{ID: "c", Time: at.Add(2 * time.Minute)},
		{ID: "d", Time: at.Add(3 * time.Minute)},
		{ID: "e", Time: at.Add(4 * time.Minute)},
	}
	scores := []map[string]any{
		{"tx_id": "a", "fraud_score": 0.9, "model_version": 2.0},
		{"tx_id": "b", "fraud_score": 0.4, "model_version": 2.0},
		{"tx_id": "c", "fraud_score": 0.7, "model_version": 3.0},
		{"tx_id": "d", "fraud_score": 0.1, "model_version": 3.0},
		{"tx_id": "e", "fraud_score": nil}, // before the first version
	}
	alerts := []map[string]any{{"tx_id": "a"}, {"tx_id": "c"}}
	r := fraudReport(txs, scores, alerts, 0.5)
	if r.scored != 4 || r.unscored != 1 {
		t.Fatalf("scored %d, unscored %d; want 4, 1", r.scored, r.unscored)
	}
	// Above 0.5: a (fraud) and c (genuine): precision 1/2, recall 1/2.
	if r.flagged != 2 || r.flaggedTrue != 1 || r.frauds != 2 {
		t.Fatalf("flagged %d (true %d) of %d frauds", r.flagged, r.flaggedTrue, r.frauds)
	}
	if r.alerts != 2 || r.alertsTrue != 1 {
		t.Fatalf("alerts %d (true %d)", r.alerts, r.alertsTrue)
	}
	// Pairs (fraud, genuine): (a,c) (a,d) (b,d) ranked right, (b,c) wrong: AUC 3/4.
	if math.Abs(r.auc-0.75) > 1e-12 {
		t.Fatalf("AUC %v, want 0.75", r.auc)
	}
	if p := r.patterns["burst"]; p != [2]int{1, 1} {
		t.Fatalf("burst recall %v", p)
	}
	var b bytes.Buffer
	r.print(&b)
	for _, want := range []string{"precision 50.0%, recall 50.0%", "ROC AUC         0.750", "card testing 0.0%"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

// TestDemoEndToEnd runs the fraud-detection job of `make run` over a
// generated stream on an embedded JetStream and checks what it achieves
// against the generator's ground truth.
func TestDemoEndToEnd(t *testing.T) {
	cfg := gen.DefaultTxConfig()
	cfg.Count = 30_000
	var out, errOut bytes.Buffer
	dir := t.TempDir()
	r, err := runDemo(t.Context(), &out, &errOut, cfg, dir, "../../pipelines/fraud-detection/pipeline.yaml", 0.5, true)
	if err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	t.Logf("\n%s", out.String())
	// Every transaction is scored exactly once (dedup, nothing late).
	if r.scored+r.unscored != cfg.Count {
		t.Errorf("scored %d + unscored %d, want %d", r.scored, r.unscored, cfg.Count)
	}
	// How many are scored before the first model version depends on how far
	// the replay of the transactions runs ahead of the labels, which arrive
	// 2-10 minutes later in event time: 300 to 3,000 of 30,000 here,
	// more when the machine is loaded. A model that never came would leave
	// all of them unscored.
	if r.unscored > cfg.Count/5 {
		t.Errorf("%d of %d transactions scored before the first model version; warmup is 200 labelled rows", r.unscored, cfg.Count)
	}
	// The online model must be useful: fraud is ~1.3% of transactions.
	// (30k transactions: AUC about 0.99, recall about 0.86.)
	if r.auc < 0.95 {
		t.Errorf("ROC AUC %.3f, want >= 0.95", r.auc)
	}
	// Precision is about 0.97 here (0.99 over the 200k of make run), but in
	// a short run the first model versions, learned from a few hundred
	// labels, score a share of the stream that depends on timing: one CI
	// run under load raised 428 alerts instead of about 315. 0.6 is still
	// 45 times the base rate.
	if r.alerts == 0 || float64(r.alertsTrue)/float64(r.alerts) < 0.6 {
		t.Errorf("alerts %d with %d true: precision below 0.6", r.alerts, r.alertsTrue)
	}
	if float64(r.flaggedTrue)/float64(r.frauds) < 0.6 {
		t.Errorf("recall %d/%d below 0.6", r.flaggedTrue, r.frauds)
	}
	// Generated input is clean and within maxOutOfOrderness: nothing may
	// be dead-lettered (no late rows at the joins and windows).
	if dl, err := readJSONL(filepath.Join(dir, "out", "dlq.jsonl")); err != nil || len(dl) > 0 {
		t.Errorf("dead letters: %v %d, first %v", err, len(dl), dl[:min(1, len(dl))])
	}
}
