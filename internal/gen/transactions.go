package gen

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"
)

// TxConfig configures Transactions.
type TxConfig struct {
	Count     int           // transactions to generate
	Users     int           // card holders
	Merchants int           // merchant catalogue size
	Start     time.Time     // event time of the first transaction
	Rate      float64       // transactions per second of event time
	FraudRate float64       // share of users' time in a fraud episode, roughly the fraud share of transactions
	Disorder  time.Duration // max out-of-orderness of the published stream
	// LabelDelayMin and LabelDelayMax bound how long after a transaction its
	// label (fraud or not) arrives, in event time.
	LabelDelayMin, LabelDelayMax time.Duration
	Seed                         uint64
}

// DefaultTxConfig is the configuration of the demo stream.
func DefaultTxConfig() TxConfig {
	return TxConfig{
		Count:         100_000,
		Users:         2_000,
		Merchants:     400,
		Start:         time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Rate:          20,
		FraudRate:     0.015,
		Disorder:      3 * time.Second,
		LabelDelayMin: 2 * time.Minute,
		LabelDelayMax: 10 * time.Minute,
		Seed:          1,
	}
}

// Tx is one generated card transaction.
type Tx struct {
	ID       string
	User     string
	Amount   float64
	Merchant string
	Category string
	Country  string
	Time     time.Time
	Fraud    bool
	// Pattern names the fraud pattern ("" for a genuine transaction):
	// card_testing, burst, unusual_amount.
	Pattern string
}

// Label is the late-arriving ground truth of a transaction.
type Label struct {
	TxID  string
	Fraud bool
	Time  time.Time
}

var categories = []string{"grocery", "fuel", "restaurant", "online", "travel", "electronics", "pharmacy", "clothing"}
var countries = []string{"US", "GB", "DE", "FR", "ES", "IT", "NL", "SE", "PL", "JP"}

type user struct {
	id        string
	country   string
	merchants []int
	mu, sigma float64 // log-normal amount
	weight    float64 // relative activity
}

// Transactions generates cfg.Count transactions in publish order (event time
// with bounded disorder) and their labels in arrival order.
//
// Genuine card holders buy at a few habitual merchants in their country with
// log-normally distributed amounts. Fraud comes in episodes of three
// patterns: card testing (a run of tiny amounts at new merchants), bursts (a
// quick series of large purchases abroad) and single unusual amounts (10–40
// times the holder's typical spend at a new merchant).
func Transactions(cfg TxConfig) ([]Tx, []Label) {
	if cfg.Count <= 0 {
		return nil, nil
	}
	if cfg.Users <= 0 || cfg.Merchants <= 0 || cfg.Rate <= 0 {
		panic("gen: Users, Merchants and Rate must be positive")
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))
	users := make([]user, cfg.Users)
	cum := make([]float64, cfg.Users)
	total := 0.0
	for i := range users {
		u := &users[i]
		u.id = fmt.Sprintf("u%05d", i)
		u.country = countries[int(math.Min(float64(len(countries)-1), rng.ExpFloat64()*2))]
		n := 3 + rng.IntN(4)
		for range n {
			u.merchants = append(u.merchants, rng.IntN(cfg.Merchants))
		}
		u.mu = math.Log(15 + rng.Float64()*90)
		u.sigma = 0.35 + rng.Float64()*0.3
		u.weight = 0.2 + rng.ExpFloat64()
		total += u.weight
		cum[i] = total
	}
	pick := func() int {
		x := rng.Float64() * total
		return sort.SearchFloat64s(cum, x)
	}
	merchantCat := func(m int) string { return categories[m%len(categories)] }

	txs := make([]Tx, 0, cfg.Count)
	step := float64(time.Second) / cfg.Rate
	t := cfg.Start
	seq := 0
	next := func(u *user, amount float64, merchant int, country string, at time.Time, pattern string) {
		if len(txs) >= cfg.Count {
			return
		}
		seq++
		txs = append(txs, Tx{
			ID:       fmt.Sprintf("t%08d", seq),
			User:     u.id,
			Amount:   math.Round(amount*100) / 100,
			Merchant: fmt.Sprintf("m%04d", merchant),
			Category: merchantCat(merchant),
			Country:  country,
			Time:     at,
			Fraud:    pattern != "",
			Pattern:  pattern,
		})
	}
	for len(txs) < cfg.Count {
		t = t.Add(time.Duration(rng.ExpFloat64() * step))
		u := &users[pick()]
		// A fraud episode starts with probability such that roughly
		// FraudRate of all transactions are fraudulent (episodes average
		// about 6 transactions).
		if rng.Float64() < cfg.FraudRate/6 {
			newMerchant := func() int { return rng.IntN(cfg.Merchants) }
			switch rng.IntN(3) {
			case 0: // card testing: tiny amounts, seconds apart
				n := 5 + rng.IntN(8)
				at := t
				for range n {
					next(u, 0.5+rng.Float64()*2.5, newMerchant(), u.country, at, "card_testing")
					at = at.Add(time.Duration(5+rng.IntN(40)) * time.Second)
				}
			case 1: // burst: large purchases abroad within minutes
				n := 4 + rng.IntN(6)
				at := t
				abroad := countries[rng.IntN(len(countries))]
				for range n {
					next(u, math.Exp(u.mu)*(4+rng.Float64()*6), newMerchant(), abroad, at, "burst")
					at = at.Add(time.Duration(20+rng.IntN(100)) * time.Second)
				}
			default: // one unusual amount at a new merchant
				next(u, math.Exp(u.mu)*(10+rng.Float64()*30), newMerchant(), u.country, t, "unusual_amount")
			}
			continue
		}
		amount := math.Exp(u.mu + u.sigma*rng.NormFloat64())
		next(u, amount, u.merchants[rng.IntN(len(u.merchants))], u.country, t, "")
	}
	// Publish order: event time plus a bounded random delay, so the stream
	// is out of order by at most Disorder.
	type keyed struct {
		at time.Time
		i  int
	}
	order := make([]keyed, len(txs))
	for i := range txs {
		d := time.Duration(0)
		if cfg.Disorder > 0 {
			d = time.Duration(rng.Int64N(int64(cfg.Disorder)))
		}
		order[i] = keyed{txs[i].Time.Add(d), i}
	}
	sort.SliceStable(order, func(a, b int) bool { return order[a].at.Before(order[b].at) })
	out := make([]Tx, len(txs))
	for i, k := range order {
		out[i] = txs[k.i]
	}
	labels := make([]Label, len(txs))
	span := cfg.LabelDelayMax - cfg.LabelDelayMin
	for i, tx := range txs {
		d := cfg.LabelDelayMin
		if span > 0 {
			d += time.Duration(rng.Int64N(int64(span)))
		}
		labels[i] = Label{TxID: tx.ID, Fraud: tx.Fraud, Time: tx.Time.Add(d)}
	}
	sort.SliceStable(labels, func(a, b int) bool { return labels[a].Time.Before(labels[b].Time) })
	return out, labels
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	return append(b, '"')
}

// WriteTxJSONL writes transactions as JSON lines. With labels, each line
// also carries is_fraud (for jobs that train without a label join).
func WriteTxJSONL(w io.Writer, txs []Tx, withLabels bool) error {
	bw := bufio.NewWriter(w)
	var b []byte
	for _, tx := range txs {
		b = b[:0]
		b = append(b, `{"tx_id":"`...)
		b = append(b, tx.ID...)
		b = append(b, `","user_id":"`...)
		b = append(b, tx.User...)
		b = append(b, `","amount":`...)
		b = strconv.AppendFloat(b, tx.Amount, 'f', 2, 64)
		b = append(b, `,"merchant":"`...)
		b = append(b, tx.Merchant...)
		b = append(b, `","category":"`...)
		b = append(b, tx.Category...)
		b = append(b, `","country":"`...)
		b = append(b, tx.Country...)
		b = append(b, `","ts":`...)
		b = appendTime(b, tx.Time)
		if withLabels {
			b = append(b, `,"is_fraud":`...)
			b = strconv.AppendBool(b, tx.Fraud)
		}
		b = append(b, "}\n"...)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteLabelsJSONL writes labels as JSON lines in arrival order.
func WriteLabelsJSONL(w io.Writer, labels []Label) error {
	bw := bufio.NewWriter(w)
	var b []byte
	for _, l := range labels {
		b = b[:0]
		b = append(b, `{"tx_id":"`...)
		b = append(b, l.TxID...)
		b = append(b, `","is_fraud":`...)
		b = strconv.AppendBool(b, l.Fraud)
		b = append(b, `,"ts":`...)
		b = appendTime(b, l.Time)
		b = append(b, "}\n"...)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}
