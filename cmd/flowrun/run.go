package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/engine"
	"github.com/flowrun/flowrun/executor/eval"
	"github.com/flowrun/flowrun/executor/jetstream"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

func init() { register(runCmd) }

// runFlags are the flags of flowrun run.
type runFlags struct {
	nats, creds, token           string
	tlsCA, tlsCert, tlsKey       string
	store, listen                string
	inputs, outputs              []string
	dlq                          string
	bounded, quiet, createStream bool
	freshState                   bool
	parallelism, batch           int
	pipeline                     string
}

func runCmd() *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "run JOB",
		Short: "Run a job in this process (on an embedded JetStream unless --nats)",
		Long: `Run plans the job file and runs it in this process. With no --nats it starts
an embedded NATS server with JetStream storing in --store (no TCP port unless
--listen asks for one); with --nats it connects to that server.

Streams named by sources and sinks are created when missing (--create-streams).
--input SRC=FILE publishes a JSONL or CSV file (the source's format) into the
source's stream before the pipeline starts consuming; a gzip file (FILE.gz, or
any file that starts with gzip's magic bytes) is decompressed on the fly.
--output SINK=FILE (or - for stdout) also writes every row the sink publishes
as one JSON object per line. --dlq FILE writes each dead-lettered record as a
JSON line {"stage", "class", "reason", "data"}. In a live run both are flushed
every 200 ms, so they can be followed while the job runs.

With --bounded the run stops once every input is consumed and every window has
fired, and prints a summary per stage (rows in, out, late, dead-lettered).
Otherwise it runs until SIGINT or SIGTERM, then drains, saves the operators'
state (open windows, tables, join buffers, models) as a savepoint and exits;
the next run of the job on the same store resumes from it (--fresh-state
drops it).

Exit status: 0 ok, 1 invalid job or unusable input, 2 bad usage, 3 internal
fault.`,
		Example: `  flowrun run job.yaml --input orders=orders.jsonl --output alerts=- --bounded
  flowrun run job.yaml --store /var/lib/flowrun
  flowrun run job.yaml --nats nats://nats:4222 --creds app.creds
  flowrun run job.yaml --input events=ev.csv.gz --output totals=totals.jsonl --dlq dlq.jsonl --bounded`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runJob(cmd.Context(), args[0], &f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.nats, "nats", "", "URL of a NATS server with JetStream (default: embedded server)")
	fl.StringVar(&f.creds, "creds", "", "NATS credentials file")
	fl.StringVar(&f.token, "token", "", "NATS auth token")
	fl.StringVar(&f.tlsCA, "tls-ca", "", "CA certificate for TLS to --nats")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "client certificate for TLS to --nats")
	fl.StringVar(&f.tlsKey, "tls-key", "", "client key for TLS to --nats")
	fl.StringVar(&f.store, "store", jetstream.DefaultStoreDir, "store directory of the embedded server")
	fl.StringVar(&f.listen, "listen", "", "HOST:PORT for the embedded server to accept NATS clients on (default: none)")
	fl.StringArrayVar(&f.inputs, "input", nil, "SRC=FILE: publish a JSONL or CSV file (.gz ok) into source SRC's stream first (repeatable)")
	fl.StringArrayVar(&f.outputs, "output", nil, "SINK=FILE: also write the rows of sink SINK as JSON lines to FILE, - for stdout (repeatable)")
	fl.StringVar(&f.dlq, "dlq", "", "write dead-lettered records as JSON lines to FILE")
	fl.BoolVar(&f.bounded, "bounded", false, "stop when every input is consumed and every window fired; print a summary")
	fl.BoolVar(&f.freshState, "fresh-state", false, "drop the savepoint a graceful stop left and start with empty operator state")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress line, warnings and errors only")
	fl.BoolVar(&f.createStream, "create-streams", true, "create missing streams and buckets")
	fl.IntVar(&f.parallelism, "parallelism", 0, "tasks per keyed stage (default: the job's spec.parallelism)")
	fl.IntVar(&f.batch, "batch", jetstream.DefaultBatch, "records per source batch")
	fl.StringVar(&f.pipeline, "pipeline", "", "the pipeline to run when the file holds several")
	return c
}

// splitAssign splits "NAME=VALUE" of flag name.
func splitAssign(flag, s string) (string, string, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return "", "", usageError{fmt.Errorf("--%s %q: want NAME=FILE", flag, s)}
	}
	return k, v, nil
}

// printDiags prints diagnostics with snippets to w.
func printDiags(w io.Writer, ds spec.Diagnostics) {
	ds.Sort()
	cache := map[string][]byte{}
	ds.Format(w, func(file string) []byte {
		if b, ok := cache[file]; ok {
			return b
		}
		b, _ := os.ReadFile(file)
		cache[file] = b
		return b
	})
}

// planJob loads, checks and plans the job file.
func planJob(stderr io.Writer, path, name string, parallelism int) (*spec.Pipeline, *planner.Graph, error) {
	ps, ds := spec.LoadFile(path)
	if ds.HasErrors() {
		printDiags(stderr, ds)
		return nil, nil, userError{errSilent}
	}
	var p *spec.Pipeline
	switch {
	case name != "":
		for _, q := range ps {
			if q.Metadata.Name == name {
				p = q
			}
		}
		if p == nil {
			return nil, nil, usageError{fmt.Errorf("%s holds no pipeline %q", path, name)}
		}
	case len(ps) == 1:
		p = ps[0]
	case len(ps) == 0:
		return nil, nil, userError{fmt.Errorf("%s holds no pipeline", path)}
	default:
		return nil, nil, usageError{fmt.Errorf("%s holds %d pipelines: choose one with --pipeline", path, len(ps))}
	}
	if parallelism > 0 {
		p.Spec.Parallelism = parallelism
	}
	g, pds := planner.Plan(p)
	ds = append(ds, pds...)
	if ds.HasErrors() || g == nil {
		printDiags(stderr, ds)
		return nil, nil, userError{errSilent}
	}
	if len(ds) > 0 {
		printDiags(stderr, ds) // warnings
	}
	return p, g, nil
}

// userFuncs compiles the job's user functions for sink predicates and
// expressions (spec validation already reported their errors).
func userFuncs(p *spec.Pipeline) *udf.Env {
	var ufs []udf.UserFunc
	for _, f := range p.Spec.Functions {
		uf := udf.UserFunc{Name: f.Name, Expr: f.Expr.Value, Returns: udf.TypeAny}
		if t, ok := udf.ParseType(f.Returns); ok {
			uf.Returns = t
		}
		for _, pa := range f.Params {
			t, ok := udf.ParseType(pa.Type)
			if !ok {
				t = udf.TypeAny
			}
			uf.Params = append(uf.Params, udf.Param{Name: pa.Name, Type: t})
		}
		ufs = append(ufs, uf)
	}
	if len(ufs) == 0 {
		return nil
	}
	env, _ := udf.CompileUserFuncs(ufs)
	return env
}

// lineWriter writes JSON lines from several goroutines.
type lineWriter struct {
	mu   sync.Mutex
	w    *bufio.Writer
	c    io.Closer // nil for stdout
	buf  []byte
	stop chan struct{} // ends the flusher, if any
}

// flushEvery writes buffered lines out every d until close, so a live run's
// --output and --dlq can be followed (tail -f, or - on a terminal) while
// it runs.
func (lw *lineWriter) flushEvery(d time.Duration) {
	lw.stop = make(chan struct{})
	go func(stop chan struct{}) {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				lw.mu.Lock()
				if lw.w.Buffered() > 0 {
					_ = lw.w.Flush()
				}
				lw.mu.Unlock()
			}
		}
	}(lw.stop)
}

func openLines(path string, stdout io.Writer) (*lineWriter, error) {
	if path == "-" {
		return &lineWriter{w: bufio.NewWriterSize(stdout, 64<<10)}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, userError{err}
	}
	return &lineWriter{w: bufio.NewWriterSize(f, 256<<10), c: f}, nil
}

func (lw *lineWriter) rows(cols []planner.Column, rows []udf.Row) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	for _, r := range rows {
		lw.buf = jetstream.AppendJSON(lw.buf[:0], cols, r)
		lw.buf = append(lw.buf, '\n')
		lw.w.Write(lw.buf)
	}
}

func (lw *lineWriter) close() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.stop != nil {
		close(lw.stop)
		lw.stop = nil
	}
	err := lw.w.Flush()
	if lw.c != nil {
		if cerr := lw.c.Close(); err == nil {
			err = cerr
		}
		lw.c = nil
	}
	return err
}

// dlqLine is one line of --dlq FILE. Data is the record as a string.
func appendDLQLine(buf []byte, dl jetstream.DeadLetter) []byte {
	buf = append(buf, `{"stage":`...)
	buf = jetstream.AppendValueJSON(buf, udf.Str(dl.Stage))
	buf = append(buf, `,"class":`...)
	buf = jetstream.AppendValueJSON(buf, udf.Str(string(dl.Class)))
	buf = append(buf, `,"reason":`...)
	buf = jetstream.AppendValueJSON(buf, udf.Str(dl.Reason))
	buf = append(buf, `,"data":`...)
	buf = jetstream.AppendValueJSON(buf, udf.Str(string(dl.Data)))
	return append(buf, "}\n"...)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// runJob is flowrun run.
func runJob(ctx context.Context, path string, f *runFlags, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	level := slog.LevelInfo
	if f.quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	p, g, err := planJob(stderr, path, f.pipeline, f.parallelism)
	if err != nil {
		return err
	}
	// Resolve --input and --output against the plan before connecting.
	sources := map[string]*planner.SourceOp{}
	sinkStage := map[string]string{}
	for _, n := range g.Nodes {
		switch op := n.Op.(type) {
		case *planner.SourceOp:
			sources[op.Source] = op
		case *planner.SinkOp:
			sinkStage[op.Sink] = n.Stage
		}
	}
	type input struct {
		op   *planner.SourceOp
		file string
	}
	var inputs []input
	for _, s := range f.inputs {
		name, file, err := splitAssign("input", s)
		if err != nil {
			return err
		}
		op, ok := sources[name]
		if !ok {
			return usageError{fmt.Errorf("--input %s: the job has no source %q", s, name)}
		}
		inputs = append(inputs, input{op, file})
	}
	outputs := map[string]*lineWriter{} // by sink stage
	defer func() {
		for _, w := range outputs {
			w.close()
		}
	}()
	stdoutUsed := false
	for _, s := range f.outputs {
		name, file, err := splitAssign("output", s)
		if err != nil {
			return err
		}
		stage, ok := sinkStage[name]
		if !ok {
			return usageError{fmt.Errorf("--output %s: the job has no sink %q", s, name)}
		}
		w, err := openLines(file, stdout)
		if err != nil {
			return err
		}
		stdoutUsed = stdoutUsed || file == "-"
		if !f.bounded {
			w.flushEvery(200 * time.Millisecond)
		}
		outputs[stage] = w
	}
	var dlqOut *lineWriter
	if f.dlq != "" {
		if dlqOut, err = openLines(f.dlq, stdout); err != nil {
			return err
		}
		defer dlqOut.close()
		if !f.bounded {
			dlqOut.flushEvery(200 * time.Millisecond)
		}
		stdoutUsed = stdoutUsed || f.dlq == "-"
	}

	conn, err := jetstream.Connect(ctx, jetstream.Options{URL: f.nats, Creds: f.creds, Token: f.token,
		TLSCA: f.tlsCA, TLSCert: f.tlsCert, TLSKey: f.tlsKey, StoreDir: f.store, Listen: f.listen,
		Name: "flowrun run " + g.Job, Logger: log})
	if err != nil {
		return userError{err}
	}
	defer conn.Close()

	for _, in := range inputs {
		if err := publishInput(ctx, conn, in.op, in.file, f.createStream, log); err != nil {
			return err
		}
	}
	dlq, err := jetstream.NewDLQ(ctx, conn, g.Job, f.createStream)
	if err != nil {
		return userError{err}
	}
	if dlqOut != nil {
		dlq.SetTap(func(dl jetstream.DeadLetter) {
			dlqOut.mu.Lock()
			dlqOut.buf = appendDLQLine(dlqOut.buf[:0], dl)
			dlqOut.w.Write(dlqOut.buf)
			dlqOut.mu.Unlock()
		})
	}
	var tap func(string, []planner.Column, []udf.Row)
	if len(outputs) > 0 {
		tap = func(stage string, cols []planner.Column, rows []udf.Row) {
			if w := outputs[stage]; w != nil {
				w.rows(cols, rows)
			}
		}
	}
	funcs := userFuncs(p)
	sp, err := conn.Savepoints(ctx, f.createStream)
	if err != nil { // e.g. no permission to create the bucket: run without
		log.Warn("savepoints disabled: a graceful stop will not keep operator state", "err", err)
		sp = nil
	}
	if f.freshState && sp != nil {
		if err := sp.Delete(ctx, g.Job); err != nil {
			return err
		}
	}
	e, err := engine.New(ctx, g, engine.Options{Conn: conn, DLQ: dlq, Bounded: f.bounded, CreateStreams: f.createStream,
		Funcs: funcs, Env: &eval.Env{Funcs: funcs}, Tap: tap, Batch: f.batch, Logger: log, Savepoints: sp})
	if err != nil {
		if errors.Is(err, jetstream.ErrNoStream) || errors.Is(err, engine.ErrUnsupported) {
			return userError{err}
		}
		return err
	}
	defer e.MLClose() // before conn.Close: the model registry uses the connection
	for _, line := range e.Describe() {
		log.Debug("tasks", "group", line)
	}
	sctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("running", "job", g.Job, "tasks", e.Tasks(), "bounded", f.bounded)
	start := time.Now()
	progressDone := make(chan struct{})
	var progressWG sync.WaitGroup
	if ef, ok := stderr.(*os.File); ok && !f.quiet && isTerminal(ef) {
		progressWG.Add(1)
		go func() {
			defer progressWG.Done()
			progress(sctx, ef, e, progressDone)
		}()
	}
	runErr := e.Run(sctx)
	close(progressDone)
	progressWG.Wait()
	elapsed := time.Since(start)
	if runErr != nil {
		return runErr
	}
	for _, w := range outputs {
		if err := w.close(); err != nil {
			return err
		}
	}
	if sctx.Err() != nil && ctx.Err() == nil {
		log.Info("stopped by signal; drained")
	}
	if f.bounded {
		w := stdout
		if stdoutUsed {
			w = stderr
		}
		writeSummary(w, e.Stats(), elapsed)
		if n := e.Restored(); n > 0 {
			fmt.Fprintf(w, "resumed from the savepoint of the last graceful stop (%d operator states)\n", n)
		}
		if ms := e.MLSummary(); ms != nil {
			ms.WriteText(w)
		}
	}
	return nil
}

// publishInput publishes one --input file into its source's stream. A
// gzip file (named *.gz, or starting with gzip's magic bytes) is
// decompressed on the fly.
func publishInput(ctx context.Context, conn *jetstream.Conn, op *planner.SourceOp, file string, create bool, log *slog.Logger) error {
	fh, err := os.Open(file)
	if err != nil {
		return userError{fmt.Errorf("--input %s: %w", op.Source, err)}
	}
	defer fh.Close()
	r := bufio.NewReaderSize(fh, 1<<20)
	var gz *gzipReader
	if magic, _ := r.Peek(2); strings.HasSuffix(file, ".gz") || bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return userError{fmt.Errorf("--input %s=%s: not a gzip file: %w", op.Source, file, err)}
		}
		defer zr.Close()
		gz = &gzipReader{zr: zr}
		r = bufio.NewReaderSize(gz, 1<<20)
	}
	subjects := op.Subjects
	if len(subjects) == 0 {
		subjects = jetstream.DefaultSubjects(op.Stream)
	}
	if _, err := conn.EnsureStream(ctx, op.Stream, subjects, create); err != nil {
		return userError{err}
	}
	skip := 0
	if op.Format == "csv" && op.CSV.Header {
		warn, err := checkCSVHeader(r, op)
		if err != nil {
			return userError{fmt.Errorf("--input %s=%s: %w", op.Source, file, err)}
		}
		if warn != "" {
			log.Warn("input header differs from the schema", "source", op.Source, "file", file, "detail", warn)
		}
		skip = 1
	}
	subject := jetstream.InputSubject(op.Stream, op.Subjects)
	t0 := time.Now()
	n, err := conn.PublishLines(ctx, subject, r, skip)
	if err != nil {
		if gz != nil && gz.err != nil {
			return userError{fmt.Errorf("--input %s=%s: corrupt or truncated gzip file after %d records: %w", op.Source, file, n, gz.err)}
		}
		return fmt.Errorf("--input %s: %w", op.Source, err)
	}
	log.Info("input published", "source", op.Source, "file", file, "subject", subject, "records", n, "took", time.Since(t0).Round(time.Millisecond))
	return nil
}

// gzipReader reads a gzip stream and keeps its first error. The error is
// wrapped: gzip reports a truncated stream as io.ErrUnexpectedEOF, which
// a reader of lines would take for the end of the input.
type gzipReader struct {
	zr  *gzip.Reader
	err error
}

func (g *gzipReader) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	if err != nil && err != io.EOF {
		if g.err == nil {
			g.err = err
		}
		err = fmt.Errorf("gzip: %w", err)
	}
	return n, err
}

// progress redraws one status line on the terminal every second: rows/s
// into the sources, event-time position, lag (records not yet delivered).
func progress(ctx context.Context, w *os.File, e *engine.Engine, done <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var lastIn int64
	last := time.Now()
	for {
		select {
		case <-done:
			fmt.Fprint(w, "\r\033[K")
			return
		case <-tick.C:
		}
		var in int64
		pos := executor.MaxWatermark
		for _, s := range e.Stats() {
			if s.Kind == "source" {
				in += s.In
				pos = min(pos, s.Watermark)
			}
		}
		var lag uint64
		for _, s := range e.Sources() {
			ictx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			if n, err := s.Pending(ictx); err == nil {
				lag += n
			}
			cancel()
		}
		now := time.Now()
		rate := float64(in-lastIn) / now.Sub(last).Seconds()
		lastIn, last = in, now
		at := "-"
		switch {
		case pos == executor.MaxWatermark:
			at = "end"
		case pos > executor.MinWatermark:
			at = udf.FormatTime(pos)
		}
		fmt.Fprintf(w, "\r\033[K%10.0f rows/s  %d rows  event time %s  lag %d", rate, in, at, lag)
	}
}

// writeSummary prints the per-stage table of a bounded run.
func writeSummary(w io.Writer, stats []engine.StageStats, elapsed time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "STAGE\tKIND\tIN\tOUT\tLATE\tDEAD-LETTERED\t")
	var in int64
	for _, s := range stats {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t\n", s.Stage, s.Kind, s.In, s.Out, s.Late, s.DeadLettered)
		if s.Kind == "source" {
			in += s.In
		}
	}
	tw.Flush()
	rate := float64(in) / max(elapsed.Seconds(), 1e-9)
	fmt.Fprintf(w, "%d records in %v (%.0f records/s)\n", in, elapsed.Round(time.Millisecond), rate)
}

// checkCSVHeader checks the header line of a CSV input against the
// declared columns: records are published as they are and decoded by
// position, so a different number of columns, or a declared column at
// another position, is an error. Other names (compared ignoring case,
// quotes and punctuation) are only a warning: a schema may rename the
// columns of a file it reads.
func checkCSVHeader(r *bufio.Reader, op *planner.SourceOp) (warning string, err error) {
	line, perr := r.Peek(64 << 10) // a short file: all of it, with io.EOF
	if len(line) == 0 && perr != nil {
		return "", nil // empty file
	}
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	delim := ","
	if op.CSV.Delimiter != "" {
		delim = op.CSV.Delimiter
	}
	got := strings.Split(strings.TrimRight(string(line), "\r"), delim)
	var want []string
	for _, c := range op.Decl {
		want = append(want, c.Name)
	}
	if len(got) != len(want) {
		return "", fmt.Errorf("header has %d columns (%s), the source declares %d (%s)", len(got), strings.Join(got, delim), len(want), strings.Join(want, delim))
	}
	norm := func(s string) string {
		return strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
				return r
			case r >= 'A' && r <= 'Z':
				return r + 'a' - 'A'
			}
			return -1
		}, s)
	}
	pos := map[string]int{}
	for i, w := range want {
		pos[norm(w)] = i
	}
	var diff []string
	for i := range got {
		g := norm(got[i])
		if g == norm(want[i]) {
			continue
		}
		if j, ok := pos[g]; ok {
			// The file has the column, at another position: decoding by
			// position would put it in the wrong column.
			return "", fmt.Errorf("header column %d is %s, which the source declares as column %d (columns are read by position: reorder the schema or the file)", i+1, strings.TrimSpace(got[i]), j+1)
		}
		diff = append(diff, fmt.Sprintf("column %d is %s in the file, %s in the schema", i+1, strings.TrimSpace(got[i]), want[i]))
	}
	if len(diff) > 0 {
		return strings.Join(diff, "; ") + " (columns are read by position)", nil
	}
	return "", nil
}
