package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowrun/flowrun/internal/gen"
)

func init() { register(genCmd) }

func genCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "gen",
		Short: "Generate demo and benchmark event streams as JSON lines",
		Long: `gen writes deterministic event streams as JSONL files (the same flags give the
same bytes), ready for flowrun run --input SRC=FILE.`,
		Example: `  flowrun gen transactions --count 100000 --out demo/
  flowrun gen nexmark --events 1000000 --out nexmark/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{fmt.Errorf("gen needs a generator: transactions or nexmark")}
		},
	}
	c.AddCommand(genTxCmd(), genNexmarkCmd())
	return c
}

func genTxCmd() *cobra.Command {
	cfg := gen.DefaultTxConfig()
	var out, start string
	var inline bool
	var seed uint64
	c := &cobra.Command{
		Use:   "transactions",
		Short: "Card transactions with fraud patterns and late labels",
		Long: `transactions writes DIR/tx.jsonl (tx_id, user_id, amount, merchant, category,
country, ts) in publish order — out of event-time order by at most --disorder —
and DIR/labels.jsonl (tx_id, is_fraud, ts) in arrival order, each label
arriving --label-delay-min..--label-delay-max after its transaction.

Genuine card holders buy at a few habitual merchants with log-normal amounts;
fraud comes in episodes: card testing (runs of tiny amounts at new merchants),
bursts (quick series of large purchases abroad) and single unusual amounts.`,
		Example: `  flowrun gen transactions --out demo/
  flowrun gen transactions --count 1000000 --users 20000 --seed 7 --out big/
  flowrun gen transactions --inline-labels --out labelled/   # is_fraud inside tx.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if start != "" {
				t, err := time.Parse(time.RFC3339, start)
				if err != nil {
					return usageError{fmt.Errorf("--start: %w", err)}
				}
				cfg.Start = t
			}
			cfg.Seed = seed
			if cfg.Count <= 0 || cfg.Users <= 0 || cfg.Merchants <= 0 || cfg.Rate <= 0 {
				return usageError{fmt.Errorf("--count, --users, --merchants and --rate must be positive")}
			}
			txs, labels := gen.Transactions(cfg)
			if err := os.MkdirAll(out, 0o755); err != nil {
				return userError{err}
			}
			if err := writeFile(filepath.Join(out, "tx.jsonl"), func(f *os.File) error { return gen.WriteTxJSONL(f, txs, inline) }); err != nil {
				return err
			}
			if err := writeFile(filepath.Join(out, "labels.jsonl"), func(f *os.File) error { return gen.WriteLabelsJSONL(f, labels) }); err != nil {
				return err
			}
			fraud := 0
			for _, tx := range txs {
				if tx.Fraud {
					fraud++
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d transactions (%d fraudulent, %.2f%%) to %s and %d labels to %s\n",
				len(txs), fraud, 100*float64(fraud)/float64(len(txs)), filepath.Join(out, "tx.jsonl"),
				len(labels), filepath.Join(out, "labels.jsonl"))
			return nil
		},
	}
	f := c.Flags()
	f.IntVar(&cfg.Count, "count", cfg.Count, "transactions to generate")
	f.IntVar(&cfg.Users, "users", cfg.Users, "card holders")
	f.IntVar(&cfg.Merchants, "merchants", cfg.Merchants, "merchants")
	f.Float64Var(&cfg.Rate, "rate", cfg.Rate, "transactions per second of event time")
	f.Float64Var(&cfg.FraudRate, "fraud-rate", cfg.FraudRate, "approximate share of fraudulent transactions")
	f.DurationVar(&cfg.Disorder, "disorder", cfg.Disorder, "maximum out-of-orderness of the stream")
	f.DurationVar(&cfg.LabelDelayMin, "label-delay-min", cfg.LabelDelayMin, "earliest label arrival after its transaction")
	f.DurationVar(&cfg.LabelDelayMax, "label-delay-max", cfg.LabelDelayMax, "latest label arrival after its transaction")
	f.StringVar(&start, "start", "", "event time of the first transaction (RFC 3339; default 2026-01-01T00:00:00Z)")
	f.Uint64Var(&seed, "seed", cfg.Seed, "random seed")
	f.BoolVar(&inline, "inline-labels", false, "also write is_fraud into tx.jsonl")
	f.StringVarP(&out, "out", "o", ".", "output directory")
	return c
}

func genNexmarkCmd() *cobra.Command {
	cfg := gen.DefaultNexmarkConfig()
	var out string
	var seed uint64
	c := &cobra.Command{
		Use:   "nexmark",
		Short: "Nexmark auction events: persons, auctions and bids (1:3:46)",
		Long: `nexmark writes DIR/person.jsonl, DIR/auction.jsonl and DIR/bid.jsonl following
the standard Nexmark generator (proportions 1:3:46, hot auctions, hot bidders
and hot sellers), in event-time order at --rate events per second.

Columns:
  person:  id, name, emailAddress, creditCard, city, state, dateTime, extra
  auction: id, itemName, description, initialBid, reserve, dateTime, expires, seller, category, extra
  bid:     auction, bidder, price, channel, url, dateTime, extra`,
		Example: `  flowrun gen nexmark --events 100000 --out nexmark/
  flowrun run pipelines/nexmark/q5.yaml --input bid=nexmark/bid.jsonl --output out=- --bounded`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Events <= 0 || cfg.Rate <= 0 {
				return usageError{fmt.Errorf("--events and --rate must be positive")}
			}
			cfg.Seed = seed
			if err := os.MkdirAll(out, 0o755); err != nil {
				return userError{err}
			}
			files := map[string]*os.File{}
			for _, n := range []string{"person", "auction", "bid"} {
				f, err := os.Create(filepath.Join(out, n+".jsonl"))
				if err != nil {
					return userError{err}
				}
				defer f.Close()
				files[n] = f
			}
			p, a, b, err := gen.Nexmark(cfg, gen.NexmarkSink{Person: files["person"], Auction: files["auction"], Bid: files["bid"]})
			if err != nil {
				return userError{err}
			}
			for _, f := range files {
				if err := f.Close(); err != nil {
					return userError{err}
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d persons, %d auctions and %d bids to %s\n", p, a, b, out)
			return nil
		},
	}
	f := c.Flags()
	f.IntVar(&cfg.Events, "events", cfg.Events, "events to generate")
	f.Float64Var(&cfg.Rate, "rate", cfg.Rate, "events per second of event time")
	f.IntVar(&cfg.ExtraBytes, "extra-bytes", 0, "padding of each event's extra field")
	f.Uint64Var(&seed, "seed", cfg.Seed, "random seed")
	f.StringVarP(&out, "out", "o", ".", "output directory")
	return c
}

// writeFile creates path and calls write on it, closing it and reporting
// the first error as a user error.
func writeFile(path string, write func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return userError{err}
	}
	if err := write(f); err != nil {
		f.Close()
		return userError{fmt.Errorf("write %s: %w", path, err)}
	}
	if err := f.Close(); err != nil {
		return userError{err}
	}
	return nil
}
