package gen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestTransactionsDeterministic(t *testing.T) {
	cfg := DefaultTxConfig()
	cfg.Count = 5000
	var a, b bytes.Buffer
	tx1, l1 := Transactions(cfg)
	tx2, l2 := Transactions(cfg)
	if err := WriteTxJSONL(&a, tx1, true); err != nil {
		t.Fatal(err)
	}
	if err := WriteTxJSONL(&b, tx2, true); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed gave different transactions")
	}
	if len(l1) != len(l2) || l1[len(l1)-1] != l2[len(l2)-1] {
		t.Fatal("same seed gave different labels")
	}
	cfg.Seed = 2
	tx3, _ := Transactions(cfg)
	if tx3[10] == tx1[10] && tx3[100] == tx1[100] {
		t.Fatal("different seeds gave the same stream")
	}
}

func TestTransactionsShape(t *testing.T) {
	cfg := DefaultTxConfig()
	cfg.Count = 20000
	txs, labels := Transactions(cfg)
	if len(txs) != cfg.Count || len(labels) != cfg.Count {
		t.Fatalf("got %d transactions, %d labels; want %d", len(txs), len(labels), cfg.Count)
	}
	byID := map[string]Tx{}
	fraud := 0
	patterns := map[string]int{}
	var maxSeen time.Time
	for _, tx := range txs {
		if _, dup := byID[tx.ID]; dup {
			t.Fatalf("duplicate id %s", tx.ID)
		}
		byID[tx.ID] = tx
		if tx.Fraud {
			fraud++
			patterns[tx.Pattern]++
		}
		if tx.Time.After(maxSeen) {
			maxSeen = tx.Time
		}
		// Publish order is out of order by at most Disorder.
		if maxSeen.Sub(tx.Time) > cfg.Disorder {
			t.Fatalf("%s is %v behind the newest event, more than Disorder %v", tx.ID, maxSeen.Sub(tx.Time), cfg.Disorder)
		}
		if tx.Amount <= 0 {
			t.Fatalf("%s has amount %v", tx.ID, tx.Amount)
		}
	}
	share := float64(fraud) / float64(len(txs))
	if share < 0.005 || share > 0.05 {
		t.Errorf("fraud share %.4f outside [0.005, 0.05]", share)
	}
	for _, p := range []string{"card_testing", "burst", "unusual_amount"} {
		if patterns[p] == 0 {
			t.Errorf("no %s fraud generated", p)
		}
	}
	var prev time.Time
	for _, l := range labels {
		tx, ok := byID[l.TxID]
		if !ok {
			t.Fatalf("label for unknown tx %s", l.TxID)
		}
		if l.Fraud != tx.Fraud {
			t.Fatalf("label of %s says %v, tx says %v", l.TxID, l.Fraud, tx.Fraud)
		}
		d := l.Time.Sub(tx.Time)
		if d < cfg.LabelDelayMin || d > cfg.LabelDelayMax {
			t.Fatalf("label delay %v outside [%v, %v]", d, cfg.LabelDelayMin, cfg.LabelDelayMax)
		}
		if l.Time.Before(prev) {
			t.Fatal("labels not in arrival order")
		}
		prev = l.Time
	}
}

func TestTransactionsJSON(t *testing.T) {
	cfg := DefaultTxConfig()
	cfg.Count = 100
	txs, labels := Transactions(cfg)
	var buf bytes.Buffer
	if err := WriteTxJSONL(&buf, txs, false); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	n := 0
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		if _, err := time.Parse(time.RFC3339, m["ts"].(string)); err != nil {
			t.Fatal(err)
		}
		if _, has := m["is_fraud"]; has {
			t.Fatal("is_fraud written without labels")
		}
		n++
	}
	if n != len(txs) {
		t.Fatalf("%d lines, want %d", n, len(txs))
	}
	buf.Reset()
	if err := WriteLabelsJSONL(&buf, labels); err != nil {
		t.Fatal(err)
	}
	var l struct {
		TxID    string `json:"tx_id"`
		IsFraud *bool  `json:"is_fraud"`
	}
	if err := json.Unmarshal(bytes.SplitN(buf.Bytes(), []byte("\n"), 2)[0], &l); err != nil || l.TxID == "" || l.IsFraud == nil {
		t.Fatalf("bad label line: %v %+v", err, l)
	}
}

func TestNexmarkProportionsAndReferences(t *testing.T) {
	cfg := DefaultNexmarkConfig()
	cfg.Events = 50 * 200
	var p, a, b bytes.Buffer
	np, na, nb, err := Nexmark(cfg, NexmarkSink{Person: &p, Auction: &a, Bid: &b})
	if err != nil {
		t.Fatal(err)
	}
	if np != 200 || na != 600 || nb != 9200 {
		t.Fatalf("persons, auctions, bids = %d, %d, %d; want 200, 600, 9200 (1:3:46)", np, na, nb)
	}
	persons := map[int64]bool{}
	for _, line := range bytes.Split(bytes.TrimSpace(p.Bytes()), []byte("\n")) {
		var x struct{ ID int64 }
		if err := json.Unmarshal(line, &x); err != nil {
			t.Fatal(err)
		}
		persons[x.ID] = true
	}
	auctions := map[int64]bool{}
	for _, line := range bytes.Split(bytes.TrimSpace(a.Bytes()), []byte("\n")) {
		var x struct {
			ID       int64
			Seller   int64
			Category int64
		}
		if err := json.Unmarshal(line, &x); err != nil {
			t.Fatal(err)
		}
		if !persons[x.Seller] {
			t.Fatalf("auction %d sold by unknown person %d", x.ID, x.Seller)
		}
		if x.Category < 10 || x.Category >= 15 {
			t.Fatalf("category %d", x.Category)
		}
		auctions[x.ID] = true
	}
	lines := bytes.Split(bytes.TrimSpace(b.Bytes()), []byte("\n"))
	var last time.Time
	for _, line := range lines {
		var x struct {
			Auction, Bidder, Price int64
			DateTime               time.Time `json:"dateTime"`
		}
		if err := json.Unmarshal(line, &x); err != nil {
			t.Fatal(err)
		}
		if !auctions[x.Auction] || !persons[x.Bidder] {
			t.Fatalf("bid references unknown auction %d or bidder %d", x.Auction, x.Bidder)
		}
		if x.DateTime.Before(last) {
			t.Fatal("bids not in event-time order")
		}
		last = x.DateTime
	}
	// Same seed, same bytes.
	var b2 bytes.Buffer
	if _, _, _, err := Nexmark(cfg, NexmarkSink{Bid: &b2}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), b2.Bytes()) {
		t.Fatal("Nexmark not deterministic")
	}
}

func BenchmarkNexmark(b *testing.B) {
	cfg := DefaultNexmarkConfig()
	cfg.Events = b.N
	var buf bytes.Buffer
	b.ReportAllocs()
	if _, _, _, err := Nexmark(cfg, NexmarkSink{Person: &buf, Auction: &buf, Bid: &buf}); err != nil {
		b.Fatal(err)
	}
}
