package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowrun/flowrun/executor/engine"
	"github.com/flowrun/flowrun/executor/eval"
	"github.com/flowrun/flowrun/executor/jetstream"
	"github.com/flowrun/flowrun/executor/window/pathbench"
	"github.com/flowrun/flowrun/planner"
)

func init() { register(benchCmd) }

// benchFlags are the flags of flowrun bench.
type benchFlags struct {
	records, keys, rounds, parallelism, batch int
	output                                    string
	dir, cpuProfile                           string
}

// benchResult is one measured figure.
type benchResult struct {
	Name    string  `json:"name"`
	Records int     `json:"records"`
	Seconds float64 `json:"seconds"`
	Rate    float64 `json:"rate"` // records per second
	// Ratio is Rate over the baseline named in Against (flowrun figures).
	Ratio   float64 `json:"ratio,omitempty"`
	Against string  `json:"against,omitempty"`
	Target  float64 `json:"target,omitempty"`
	// The executor-alone figure: allocations per row and the targets
	// (at least MinRate rows/s on one core, at most MaxAllocs per row).
	AllocsPerRow *float64 `json:"allocsPerRow,omitempty"`
	MinRate      float64  `json:"minRate,omitempty"`
	MaxAllocs    float64  `json:"maxAllocs,omitempty"`
}

// benchReport is the -o json output.
type benchReport struct {
	Records     int           `json:"records"`
	RecordBytes int           `json:"recordBytes"`
	Keys        int           `json:"keys"`
	Rounds      int           `json:"rounds"`
	Parallelism int           `json:"parallelism"`
	Results     []benchResult `json:"results"`
}

func benchCmd() *cobra.Command {
	var f benchFlags
	c := &cobra.Command{
		Use:   "bench",
		Short: "Measure flowrun against raw JetStream on this machine",
		Long: `Bench measures, in one run and on embedded JetStream servers (fresh store each):

  baseline publish        publish N JSONL records (about 250 bytes) into a stream
  baseline consume        read them with a pull consumer
  baseline pass-through   read them and publish each unchanged into another stream
  baseline pass-through+id  the same with a Nats-Msg-Id on every message, as
                          flowrun's sinks publish (the stream tracks duplicates)
  flowrun SELECT *        "SELECT * FROM events" run --bounded over the N records
                          already in the stream (target: >= 0.8x pass-through)
  flowrun filter+TUMBLE   publish the N records (--input) and run a WHERE filter
                          and a 1-minute TUMBLE aggregate by key over --keys keys,
                          --bounded (target: >= 0.7x publish-then-consume)
  flowrun executor alone  raw JSON records in memory -> decode -> TUMBLE aggregate
                          over 1,000 keys -> in-memory sink, on one core
                          (target: >= 1.5M rows/s, <= 2 allocations per row)

Figures are records per second; ratios compare figures of the same run, since
the machine may be noisy. With --rounds R each figure is the best of R rounds,
baselines and flowrun interleaved.`,
		Example: `  flowrun bench
  flowrun bench --records 1000000 --rounds 3
  flowrun bench -o json > bench.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.output != "text" && f.output != "json" {
				return usageError{fmt.Errorf("bad -o %q: want text or json", f.output)}
			}
			if f.records <= 0 || f.keys <= 0 || f.rounds <= 0 {
				return usageError{fmt.Errorf("--records, --keys and --rounds must be positive")}
			}
			rep, err := runBench(cmd.Context(), &f, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if f.output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			writeBench(cmd.OutOrStdout(), rep)
			return nil
		},
	}
	fl := c.Flags()
	fl.IntVar(&f.records, "records", 200_000, "records per measurement")
	fl.IntVar(&f.keys, "keys", 10_000, "distinct keys of the TUMBLE aggregate")
	fl.IntVar(&f.rounds, "rounds", 3, "rounds; each figure is the best round")
	fl.IntVar(&f.parallelism, "parallelism", 1, "parallelism of the flowrun jobs")
	fl.IntVar(&f.batch, "batch", jetstream.DefaultBatch, "records per source batch")
	fl.StringVarP(&f.output, "output", "o", "text", "text or json")
	fl.StringVar(&f.dir, "dir", "", "directory for the temporary stores (default: the system's)")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the first round's flowrun SELECT * run (server and client) to `FILE`")
	return c
}

const benchSource = `apiVersion: flowrun.dev/v1
kind: Pipeline
metadata:
  name: %s
spec:
  parallelism: %d
  sources:
    - name: events
      jetstream: {stream: IN, subjects: ["in.>"]}
      format: json
      schema:
%s
      eventTime: {column: ts, maxOutOfOrderness: 1s}
  stages:
    - name: result
      sql: %s
  sinks:
    - name: out
      from: result
      jetstream: {stream: OUT, subject: out.result}
`

// The flowrun jobs of the benchmark.
const (
	benchStarSQL   = `SELECT * FROM events`
	benchTumbleSQL = `SELECT account, TUMBLE_END(ts, INTERVAL 1 MINUTE) AS window_end, COUNT(*) AS n, SUM(amount) AS total FROM events WHERE qty > 10 GROUP BY account, TUMBLE(ts, INTERVAL 1 MINUTE)`
)

func benchJob(dir, name, sql string, parallelism int) (string, error) {
	schema := "        " + strings.ReplaceAll(jetstream.BenchSchema, "\n", "\n        ")
	path := filepath.Join(dir, name+".yaml")
	return path, os.WriteFile(path, fmt.Appendf(nil, benchSource, name, parallelism, schema, sql), 0o644)
}

// benchServer starts an embedded server with a fresh store under dir.
func benchServer(ctx context.Context, dir string) (*jetstream.Conn, func(), error) {
	store, err := os.MkdirTemp(dir, "flowrun-bench-")
	if err != nil {
		return nil, nil, err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := jetstream.Connect(ctx, jetstream.Options{StoreDir: store, Name: "flowrun bench", Logger: log})
	if err != nil {
		os.RemoveAll(store)
		return nil, nil, err
	}
	return c, func() { c.Close(); os.RemoveAll(store) }, nil
}

func runBench(ctx context.Context, f *benchFlags, stderr io.Writer) (*benchReport, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	jobDir, err := os.MkdirTemp(f.dir, "flowrun-bench-jobs-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(jobDir)
	recs := jetstream.BenchRecords(f.records, f.keys)
	inFile := filepath.Join(jobDir, "events.jsonl")
	if err := os.WriteFile(inFile, recs, 0o644); err != nil {
		return nil, err
	}
	starJob, err := benchJob(jobDir, "bench-star", benchStarSQL, f.parallelism)
	if err != nil {
		return nil, err
	}
	tumbleJob, err := benchJob(jobDir, "bench-tumble", benchTumbleSQL, f.parallelism)
	if err != nil {
		return nil, err
	}
	best := map[string]time.Duration{}
	keep := func(name string, d time.Duration) {
		if b, ok := best[name]; !ok || d < b {
			best[name] = d
		}
		fmt.Fprintf(stderr, "  %-24s %8.0f records/s\n", name, float64(f.records)/d.Seconds())
	}
	n := f.records
	for round := 1; round <= f.rounds; round++ {
		fmt.Fprintf(stderr, "round %d of %d, %d records\n", round, f.rounds, n)
		// Baselines: raw JetStream, same client and embedded server.
		c, done, err := benchServer(ctx, f.dir)
		if err != nil {
			return nil, err
		}
		for _, s := range []string{"IN", "OUT"} {
			if _, err := c.EnsureStream(ctx, s, []string{strings.ToLower(s) + ".>"}, true); err != nil {
				done()
				return nil, err
			}
		}
		d, err := jetstream.BaselinePublish(ctx, c, "in.x", recs)
		if err != nil {
			done()
			return nil, err
		}
		keep("baseline publish", d)
		d, err = jetstream.BaselineConsume(ctx, c, "IN", n, f.batch)
		if err != nil {
			done()
			return nil, err
		}
		keep("baseline consume", d)
		d, err = jetstream.BaselinePassThrough(ctx, c, "IN", "out.x", n, f.batch)
		if err != nil {
			done()
			return nil, err
		}
		keep("baseline pass-through", d)
		d, err = jetstream.BaselinePassThroughIDs(ctx, c, "IN", "out.x", n, f.batch)
		if err != nil {
			done()
			return nil, err
		}
		keep("baseline pass-through+id", d)
		done()

		// flowrun SELECT *: records already in the stream.
		profile := ""
		if round == 1 {
			profile = f.cpuProfile
		}
		if d, err = benchFlowrun(ctx, f, starJob, inFile, false, profile); err != nil {
			return nil, err
		}
		keep("flowrun SELECT *", d)
		// flowrun filter + TUMBLE: publish (--input) and run.
		if d, err = benchFlowrun(ctx, f, tumbleJob, inFile, true, ""); err != nil {
			return nil, err
		}
		keep("flowrun filter+TUMBLE", d)
	}
	// The executor alone, once: in-memory JSON records -> decode -> TUMBLE
	// aggregate -> in-memory sink, on one core.
	en := max(n, 1_000_000)
	ed, allocs, err := benchExecutor(en)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "  %-24s %8.0f rows/s\n", "flowrun executor alone", float64(en)/ed.Seconds())
	rate := func(name string) float64 { return float64(n) / best[name].Seconds() }
	rep := &benchReport{Records: n, RecordBytes: len(recs) / n, Keys: f.keys, Rounds: f.rounds, Parallelism: f.parallelism}
	for _, name := range []string{"baseline publish", "baseline consume", "baseline pass-through", "baseline pass-through+id"} {
		rep.Results = append(rep.Results, benchResult{Name: name, Records: n, Seconds: best[name].Seconds(), Rate: rate(name)})
	}
	pt := rate("baseline pass-through")
	ptc := float64(n) / (best["baseline publish"] + best["baseline consume"]).Seconds()
	rep.Results = append(rep.Results,
		benchResult{Name: "baseline publish-then-consume", Records: n, Seconds: (best["baseline publish"] + best["baseline consume"]).Seconds(), Rate: ptc},
		benchResult{Name: "flowrun SELECT *", Records: n, Seconds: best["flowrun SELECT *"].Seconds(), Rate: rate("flowrun SELECT *"),
			Ratio: rate("flowrun SELECT *") / pt, Against: "baseline pass-through", Target: 0.8},
		benchResult{Name: "flowrun SELECT *", Records: n, Seconds: best["flowrun SELECT *"].Seconds(), Rate: rate("flowrun SELECT *"),
			Ratio: rate("flowrun SELECT *") / rate("baseline pass-through+id"), Against: "baseline pass-through+id"},
		benchResult{Name: "flowrun filter+TUMBLE", Records: n, Seconds: best["flowrun filter+TUMBLE"].Seconds(), Rate: rate("flowrun filter+TUMBLE"),
			Ratio: rate("flowrun filter+TUMBLE") / ptc, Against: "baseline publish-then-consume", Target: 0.7},
		benchResult{Name: "flowrun executor alone", Records: en, Seconds: ed.Seconds(), Rate: float64(en) / ed.Seconds(),
			AllocsPerRow: &allocs, MinRate: 1.5e6, MaxAllocs: 2})
	return rep, nil
}

// benchExecutor runs the executor's hot path (executor/window/pathbench:
// raw JSON records decoded into rows, a TUMBLE aggregate over 1,000 keys,
// a counting sink) over n records with GOMAXPROCS 1 and returns how long
// it took and the heap allocations per row.
func benchExecutor(n int) (time.Duration, float64, error) {
	p, err := pathbench.New(1000)
	if err != nil {
		return 0, 0, err
	}
	if _, err := p.Run(1 << 16); err != nil { // warm up: windows, maps
		return 0, 0, err
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	t0 := time.Now()
	if _, err := p.Run(n); err != nil {
		return 0, 0, err
	}
	d := time.Since(t0)
	runtime.ReadMemStats(&m1)
	return d, float64(m1.Mallocs-m0.Mallocs) / float64(n), nil
}

// benchFlowrun runs a job on a fresh embedded server. With timeInput the
// publishing of the input is part of the measurement. A non-empty profile
// is a file to write a CPU profile of the timed part to.
func benchFlowrun(ctx context.Context, f *benchFlags, job, inFile string, timeInput bool, profile string) (time.Duration, error) {
	_, g, err := planJob(os.Stderr, job, "", 0)
	if err != nil {
		return 0, fmt.Errorf("bench job %s: %w", filepath.Base(job), err)
	}
	c, done, err := benchServer(ctx, f.dir)
	if err != nil {
		return 0, err
	}
	defer done()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	t0 := time.Now()
	for _, n := range g.Nodes {
		if s, ok := n.Op.(*planner.SourceOp); ok {
			if err := publishInput(ctx, c, s, inFile, true, log); err != nil {
				return 0, err
			}
		}
	}
	if !timeInput {
		t0 = time.Now()
	}
	stopProfile, err := startProfile(profile)
	if err != nil {
		return 0, err
	}
	defer stopProfile()
	dlq, err := jetstream.NewDLQ(ctx, c, g.Job, true)
	if err != nil {
		return 0, err
	}
	e, err := engine.New(ctx, g, engine.Options{Conn: c, DLQ: dlq, Bounded: true, CreateStreams: true,
		Env: &eval.Env{}, Batch: f.batch, Logger: log})
	if err != nil {
		return 0, err
	}
	if err := e.Run(ctx); err != nil {
		return 0, err
	}
	d := time.Since(t0)
	if st := e.Stats(); len(st) == 0 || st[0].In != int64(f.records) {
		return 0, fmt.Errorf("bench job %s read %d of %d records", g.Job, st[0].In, f.records)
	}
	return d, nil
}

// startProfile starts a CPU profile into path (nothing when path is
// empty) and returns its stop function.
func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	out, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); out.Close() }, nil
}

func writeBench(w io.Writer, rep *benchReport) {
	fmt.Fprintf(w, "%d records of %d bytes, %d keys, parallelism %d, best of %d round(s)\n\n",
		rep.Records, rep.RecordBytes, rep.Keys, rep.Parallelism, rep.Rounds)
	for _, r := range rep.Results {
		line := fmt.Sprintf("%-30s %9.0f records/s  %7.2fs", r.Name, r.Rate, r.Seconds)
		switch {
		case r.AllocsPerRow != nil:
			verdict := "ok"
			if r.Rate < r.MinRate || *r.AllocsPerRow > r.MaxAllocs {
				verdict = "BELOW TARGET"
			}
			line = fmt.Sprintf("%-30s %9.0f rows/s     %7.2fs  %.2f allocs/row, one core (target >= %.1fM rows/s, <= %.0f allocs/row: %s)",
				r.Name, r.Rate, r.Seconds, *r.AllocsPerRow, r.MinRate/1e6, r.MaxAllocs, verdict)
		case r.Against != "" && r.Target > 0:
			verdict := "ok"
			if r.Ratio < r.Target {
				verdict = "BELOW TARGET"
			}
			line += fmt.Sprintf("  %.2fx %s (target %.2fx: %s)", r.Ratio, r.Against, r.Target, verdict)
		case r.Against != "":
			line += fmt.Sprintf("  %.2fx %s", r.Ratio, r.Against)
		}
		fmt.Fprintln(w, line)
	}
}
