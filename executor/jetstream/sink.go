package jetstream

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	jsapi "github.com/nats-io/nats.go/jetstream"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

// SinkOptions configure a Sink.
type SinkOptions struct {
	// CreateStreams creates the stream (or KV bucket) when missing.
	CreateStreams bool
	// Env holds the job's user functions for the where: predicate.
	Env *udf.Env
	// Tap, if set, receives every row the sink publishes (for --output),
	// from the sink task's goroutine; with several tasks it must be safe
	// for concurrent use. The rows must not be kept.
	Tap func(stage string, cols []planner.Column, rows []udf.Row)
	// Stats counts rows in (before where:) and out (published).
	Stats *executor.Stats
}

// Sink publishes rows as JSON (or CSV) to a JetStream subject, or upserts
// them into a KV bucket, asynchronously with flow control. Every message
// carries Nats-Msg-Id <job>.<stage>.<row id as 16 hex digits>, so a replay
// of the same rows is dropped by the stream's duplicate window.
type Sink struct {
	c       *Conn
	ctx     context.Context
	job     string
	stage   string
	op      *planner.SinkOp
	cols    []planner.Column
	where   *udf.Program
	csv     bool
	subject string // stream subject, or "$KV.<bucket>." for KV
	opts    SinkOptions
	idPre   string
	buf     []byte
	tapRows []udf.Row
}

var _ executor.Operator = (*Sink)(nil)

// NewSink returns the sink of node (a *planner.SinkOp) whose input rows
// have schema in. It creates the stream or bucket when missing and
// allowed. ctx bounds publishing (flow-control waits) for the sink's life.
func NewSink(ctx context.Context, c *Conn, job string, node *planner.Node, in planner.Schema, opts SinkOptions) (*Sink, error) {
	op, ok := node.Op.(*planner.SinkOp)
	if !ok {
		return nil, fmt.Errorf("jetstream: node %d is %s, not a sink", node.ID, node.Op.Name())
	}
	s := &Sink{c: c, ctx: ctx, job: job, stage: node.Stage, op: op, cols: in.Columns, opts: opts,
		idPre: job + "." + node.Stage + "."}
	switch op.Format {
	case "", "json":
	case "csv":
		s.csv = true
	default:
		return nil, fmt.Errorf("jetstream: sink %s: unknown format %q", op.Sink, op.Format)
	}
	if w := strings.TrimSpace(op.Where.Value); w != "" {
		cols := make([]udf.Column, len(in.Columns))
		for i, c := range in.Columns {
			cols[i] = udf.Column{Name: c.Name, Type: c.Type}
		}
		prog, errs := udf.CompilePredicate(op.Where.Value, cols, opts.Env)
		if len(errs) > 0 {
			return nil, fmt.Errorf("jetstream: sink %s: where: %v", op.Sink, errs[0])
		}
		s.where = prog
	}
	switch {
	case op.Bucket != "":
		if _, err := c.JS.KeyValue(ctx, op.Bucket); err != nil {
			if !opts.CreateStreams {
				return nil, fmt.Errorf("jetstream: sink %s: bucket %s: %w", op.Sink, op.Bucket, err)
			}
			if _, err := c.JS.CreateOrUpdateKeyValue(ctx, jsapi.KeyValueConfig{Bucket: op.Bucket}); err != nil {
				return nil, fmt.Errorf("jetstream: sink %s: create bucket %s: %w", op.Sink, op.Bucket, err)
			}
		}
		s.subject = "$KV." + op.Bucket + "."
	case op.Stream != "" || op.Subject != "":
		subject := op.Subject
		if subject == "" {
			subject = strings.ToLower(op.Stream) + "." + node.Stage
		}
		if op.Stream != "" {
			if _, err := c.EnsureStream(ctx, op.Stream, []string{subject}, opts.CreateStreams); err != nil {
				return nil, err
			}
		}
		s.subject = subject
	default:
		return nil, fmt.Errorf("jetstream: sink %s: neither stream nor bucket", op.Sink)
	}
	return s, nil
}

// MsgID returns the Nats-Msg-Id of the row with id published by stage of
// job: "<job>.<stage>.<id as 16 hex digits>".
func MsgID(job, stage string, id uint64) string {
	var b [16]byte
	const hex = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		b[i] = hex[id&0xF]
		id >>= 4
	}
	return job + "." + stage + "." + string(b[:])
}

// Process publishes the rows of b that pass where:.
func (s *Sink) Process(_ int, b *executor.Batch, out executor.Collector) error {
	if s.opts.Stats != nil {
		s.opts.Stats.In.Add(int64(b.Len()))
	}
	// One buffer per batch: async publishes keep referring to their data.
	buf := make([]byte, 0, b.Len()*(64+16*len(s.cols)))
	s.tapRows = s.tapRows[:0]
	var n int64
	for i, row := range b.Rows {
		if s.where != nil {
			v, err := s.where.Eval(row)
			if err != nil {
				out.DeadLetter(executor.ClassExpr, "where: "+err.Error(), row, nil)
				continue
			}
			if !v.AsBool() {
				continue
			}
		}
		start := len(buf)
		if s.csv {
			buf = AppendCSV(buf, row)
		} else {
			buf = AppendJSON(buf, s.cols, row)
		}
		data := buf[start:len(buf):len(buf)]
		subject := s.subject
		if s.op.Bucket != "" {
			subject += s.kvKey(row)
		}
		m := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{nats.MsgIdHdr: []string{MsgID(s.job, s.stage, b.IDs[i])}}}
		if err := s.c.PublishAsync(s.ctx, m); err != nil {
			return fmt.Errorf("sink %s: %w", s.op.Sink, err)
		}
		n++
		if s.opts.Tap != nil {
			s.tapRows = append(s.tapRows, row)
		}
	}
	if s.opts.Stats != nil {
		s.opts.Stats.Out.Add(n)
	}
	if s.opts.Tap != nil && len(s.tapRows) > 0 {
		s.opts.Tap(s.stage, s.cols, s.tapRows)
	}
	clear(s.tapRows)
	return nil
}

// kvKey builds a KV key from the key columns: their values joined by '.',
// characters a key may not hold replaced by '_'.
func (s *Sink) kvKey(row udf.Row) string {
	var b strings.Builder
	keys := s.op.Key
	if len(keys) == 0 {
		keys = []int{0}
	}
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('.')
		}
		var str string
		if k < len(row) {
			v := row[k]
			switch v.K {
			case udf.TypeString:
				str = v.S
			case udf.TypeNull:
				str = "null"
			case udf.TypeBigint:
				str = strconv.FormatInt(v.I, 10)
			default:
				str = v.String()
			}
		}
		if str == "" {
			str = "_"
		}
		for _, r := range str {
			if r == '-' || r == '_' || r == '=' || r == '/' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
	}
	return b.String()
}

// OnWatermark does nothing: a sink publishes as rows arrive.
func (s *Sink) OnWatermark(int64, executor.Collector) error { return nil }

// Snapshot returns no state: a sink keeps none.
func (s *Sink) Snapshot() ([]byte, error) { return nil, nil }

// Restore accepts the empty snapshot.
func (s *Sink) Restore([]byte) error { return nil }

// Close waits (up to a minute) until every publish is acknowledged and
// returns the first publish error.
func (s *Sink) Close(executor.Collector) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.c.Flush(ctx); err != nil {
		return fmt.Errorf("sink %s: %w", s.op.Sink, err)
	}
	return nil
}
