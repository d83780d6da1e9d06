package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowrun/flowrun/internal/gen"
	"github.com/flowrun/flowrun/ml"
)

func init() { register(demoCmd) }

func demoCmd() *cobra.Command {
	cfg := gen.DefaultTxConfig()
	var dir, job string
	var threshold float64
	var seed uint64
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run the real-time fraud-detection demo on an embedded JetStream",
		Long: `demo generates a realistic card-transaction stream (card holders with habits;
fraud as card testing, bursts and unusual amounts; labels arriving minutes
later), runs the fraud-detection job over it on an embedded JetStream — clean,
per-user sliding-window features, an online logistic regression that learns
as labels arrive, a score for every transaction, alerts — and prints what the
job achieved: events, alerts, precision and recall of the alerts against the
labels, the model's AUC over time and the throughput.

Everything stays under --dir (default .flowrun/demo): the generated data,
the JetStream store and the JSON lines the sinks wrote.`,
		Example: `  flowrun demo
  flowrun demo --count 500000 --users 20000
  flowrun demo --threshold 0.7`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Seed = seed
			if cfg.Count <= 0 || cfg.Users <= 0 {
				return usageError{fmt.Errorf("--count and --users must be positive")}
			}
			_, err := runDemo(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), cfg, dir, job, threshold, false)
			return err
		},
	}
	f := c.Flags()
	f.IntVar(&cfg.Count, "count", 200_000, "transactions to generate")
	f.IntVar(&cfg.Users, "users", cfg.Users, "card holders")
	f.Uint64Var(&seed, "seed", cfg.Seed, "random seed of the generator")
	f.StringVar(&dir, "dir", filepath.Join(".flowrun", "demo"), "work directory (data, store, outputs); its store is recreated")
	f.StringVar(&job, "job", filepath.Join("pipelines", "fraud-detection", "pipeline.yaml"), "the fraud-detection job file")
	f.Float64Var(&threshold, "threshold", 0.5, "score above which the report counts a transaction as alerted (the job's alerts sink has its own where:)")
	return c
}

// runDemo generates the data, runs the job and returns what it measured.
func runDemo(ctx context.Context, stdout, stderr io.Writer, cfg gen.TxConfig, dir, job string, threshold float64, quiet bool) (*demoReport, error) {
	if _, err := os.Stat(job); err != nil {
		return nil, userError{fmt.Errorf("the demo job %s: %w (run from the repository root, or pass --job)", job, err)}
	}
	data := filepath.Join(dir, "data")
	store := filepath.Join(dir, "store")
	out := filepath.Join(dir, "out")
	if err := os.RemoveAll(store); err != nil {
		return nil, userError{err}
	}
	for _, d := range []string{data, out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, userError{err}
		}
	}
	fmt.Fprintf(stdout, "generating %d transactions for %d card holders ...\n", cfg.Count, cfg.Users)
	txs, labels := gen.Transactions(cfg)
	txFile, labelFile := filepath.Join(data, "tx.jsonl"), filepath.Join(data, "labels.jsonl")
	if err := writeFile(txFile, func(f *os.File) error { return gen.WriteTxJSONL(f, txs, false) }); err != nil {
		return nil, err
	}
	if err := writeFile(labelFile, func(f *os.File) error { return gen.WriteLabelsJSONL(f, labels) }); err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "running %s on an embedded JetStream (store %s) ...\n", job, store)
	scoresFile, alertsFile := filepath.Join(out, "scores.jsonl"), filepath.Join(out, "alerts.jsonl")
	f := runFlags{store: store, bounded: true, createStream: true, batch: 512,
		inputs:  []string{"tx=" + txFile, "labels=" + labelFile},
		outputs: []string{"scores=" + scoresFile, "alerts=" + alertsFile},
		dlq:     filepath.Join(out, "dlq.jsonl"), quiet: quiet}
	start := time.Now()
	if err := runJob(ctx, job, &f, stdout, stderr); err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	scores, err := readJSONL(scoresFile)
	if err != nil {
		return nil, userError{err}
	}
	alerts, err := readJSONL(alertsFile)
	if err != nil {
		return nil, userError{err}
	}
	rep := fraudReport(txs, scores, alerts, threshold)
	rep.elapsed = elapsed
	rep.print(stdout)
	fmt.Fprintf(stdout, "\nInspect the results:\n")
	for _, l := range [][2]string{
		{"head " + scoresFile, "every scored transaction"},
		{"head " + alertsFile, "what the alerts sink published"},
		{os.Args[0] + " models list --store " + store, "the model versions the job published"},
		{os.Args[0] + " models get fraud --store " + store, "one model's metrics and history"},
	} {
		fmt.Fprintf(stdout, "  %-58s # %s\n", l[0], l[1])
	}
	return rep, nil
}

// demoReport is what the demo measured against the generator's truth.
type demoReport struct {
	events, frauds, scored, unscored int
	alerts, alertsTrue               int // rows of the alerts sink, and those that are fraud
	flagged, flaggedTrue             int // scored rows above the report threshold
	threshold                        float64
	auc                              float64
	buckets                          []aucBucket
	patterns                         map[string][2]int // pattern -> flagged, total
	elapsed                          time.Duration
}

type aucBucket struct {
	start          time.Time
	n, pos         int
	auc            float64
	minVer, maxVer int64
}

func fraudReport(txs []gen.Tx, scores, alerts []map[string]any, threshold float64) *demoReport {
	truth := make(map[string]gen.Tx, len(txs))
	r := &demoReport{events: len(txs), threshold: threshold, patterns: map[string][2]int{}}
	for _, tx := range txs {
		truth[tx.ID] = tx
		if tx.Fraud {
			r.frauds++
		}
	}
	type scoredTx struct {
		at    time.Time
		y, s  float64
		ver   int64
		fraud bool
	}
	var all []scoredTx
	for _, row := range scores {
		id, _ := row["tx_id"].(string)
		tx, ok := truth[id]
		if !ok {
			continue
		}
		s, ok := toFloat64(row["fraud_score"])
		if !ok {
			r.unscored++ // warm-up: no model version yet
			continue
		}
		ver, _ := toFloat64(row["model_version"])
		y := 0.0
		if tx.Fraud {
			y = 1
		}
		all = append(all, scoredTx{tx.Time, y, s, int64(ver), tx.Fraud})
		if s > threshold {
			r.flagged++
			if tx.Fraud {
				r.flaggedTrue++
			}
		}
		if tx.Fraud {
			p := r.patterns[tx.Pattern]
			p[1]++
			if s > threshold {
				p[0]++
			}
			r.patterns[tx.Pattern] = p
		}
	}
	r.scored = len(all)
	for _, row := range alerts {
		id, _ := row["tx_id"].(string)
		r.alerts++
		if truth[id].Fraud {
			r.alertsTrue++
		}
	}
	if len(all) == 0 {
		return r
	}
	ys, ss := make([]float64, len(all)), make([]float64, len(all))
	for i, x := range all {
		ys[i], ss[i] = x.y, x.s
	}
	r.auc = ml.ROCAUC(ys, ss)
	// AUC over event time, in ten equal buckets.
	sort.Slice(all, func(i, j int) bool { return all[i].at.Before(all[j].at) })
	first, last := all[0].at, all[len(all)-1].at
	width := last.Sub(first)/10 + time.Millisecond
	for b, i := 0, 0; b < 10 && i < len(all); b++ {
		end := first.Add(width * time.Duration(b+1))
		bk := aucBucket{start: first.Add(width * time.Duration(b)), minVer: math.MaxInt64}
		var by, bs []float64
		for ; i < len(all) && all[i].at.Before(end); i++ {
			by, bs = append(by, all[i].y), append(bs, all[i].s)
			bk.n++
			if all[i].fraud {
				bk.pos++
			}
			bk.minVer, bk.maxVer = min(bk.minVer, all[i].ver), max(bk.maxVer, all[i].ver)
		}
		bk.auc = math.NaN()
		if bk.pos > 0 && bk.pos < bk.n {
			bk.auc = ml.ROCAUC(by, bs)
		}
		r.buckets = append(r.buckets, bk)
	}
	return r
}

func pct(a, b int) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
}

func (r *demoReport) print(w io.Writer) {
	fmt.Fprintf(w, "\nfraud-detection demo\n")
	fmt.Fprintf(w, "  events          %d transactions (%d fraudulent), %d labels\n", r.events, r.frauds, r.events)
	fmt.Fprintf(w, "  scored          %d (%d before the first model version)\n", r.scored, r.unscored)
	fmt.Fprintf(w, "  alerts sink     %d alerts: precision %s\n", r.alerts, pct(r.alertsTrue, r.alerts))
	fmt.Fprintf(w, "  score > %.2f    %d flagged: precision %s, recall %s\n", r.threshold, r.flagged, pct(r.flaggedTrue, r.flagged), pct(r.flaggedTrue, r.frauds))
	if len(r.patterns) > 0 {
		var ps []string
		for _, name := range sortedKeys(r.patterns) {
			p := r.patterns[name]
			ps = append(ps, fmt.Sprintf("%s %s", strings.ReplaceAll(name, "_", " "), pct(p[0], p[1])))
		}
		fmt.Fprintf(w, "  recall by kind  %s\n", strings.Join(ps, ", "))
	}
	fmt.Fprintf(w, "  ROC AUC         %.3f over all scored transactions\n", r.auc)
	if r.elapsed > 0 {
		fmt.Fprintf(w, "  throughput      %.0f transactions/s end to end (%v, labels included)\n", float64(r.events)/r.elapsed.Seconds(), r.elapsed.Round(time.Millisecond))
	}
	if len(r.buckets) > 0 {
		fmt.Fprintf(w, "\n  AUC over event time:\n")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "    from\tscored\tfraud\tAUC\tmodel versions\t")
		for _, b := range r.buckets {
			auc := "-"
			if !math.IsNaN(b.auc) {
				auc = fmt.Sprintf("%.3f", b.auc)
			}
			vers := "-"
			if b.maxVer > 0 {
				vers = fmt.Sprintf("v%d..v%d", b.minVer, b.maxVer)
			}
			fmt.Fprintf(tw, "    %s\t%d\t%d\t%s\t%s\t\n", b.start.UTC().Format("15:04:05"), b.n, b.pos, auc, vers)
		}
		tw.Flush()
	}
}
