package main

import (
	"bytes"
	"math"
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
