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
	buf     []byte // the encoded row being published
	idBuf   []byte // its Nats-Msg-Id: "<job>.<stage>." and the row id
	idPre   int    // length of the "<job>.<stage>." prefix in idBuf
	msg     nats.Msg
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
	s := &Sink{c: c, ctx: ctx, job: job, stage: node.Stage, op: op, cols: in.Columns, opts: opts}
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
			if _, err := c.EnsureStreamDup(ctx, op.Stream, []string{subject}, opts.CreateStreams, op.DuplicateWindow.Std()); err != nil {
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
	return string(appendHex16([]byte(job+"."+stage+"."), id))
}

// appendHex16 appends id as 16 lower-case hex digits.
func appendHex16(b []byte, id uint64) []byte {
	const hex = "0123456789abcdef"
	var d [16]byte
	for i := 15; i >= 0; i-- {
		d[i] = hex[id&0xF]
		id >>= 4
	}
	return append(b, d[:]...)
}

// Process publishes the rows of b that pass where:.
func (s *Sink) Process(_ int, b *executor.Batch, out executor.Collector) error {
	// A refused publish (stream full, no stream) stops the run at the next
	// batch rather than at the final flush.
	if err := s.c.PublishErr(); err != nil {
		return fmt.Errorf("sink %s: %w", s.op.Sink, err)
	}
	if s.opts.Stats != nil {
		s.opts.Stats.In.Add(int64(b.Len()))
	}
	// One message, header and buffer for every row: the connection copies
	// what it publishes, and acks are tracked by count (Conn.PublishAsync).
	m := &s.msg
	if m.Header == nil {
		m.Header = nats.Header{nats.MsgIdHdr: []string{""}}
		s.idBuf = append(s.idBuf[:0], s.job+"."+s.stage+"."...)
		s.idPre = len(s.idBuf)
	}
	ids := m.Header[nats.MsgIdHdr]
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
		if s.csv {
			s.buf = AppendCSV(s.buf[:0], row)
		} else {
			s.buf = AppendJSON(s.buf[:0], s.cols, row)
		}
		m.Subject, m.Data = s.subject, s.buf
		if s.op.Bucket != "" {
			m.Subject += s.kvKey(row)
		}
		s.idBuf = appendHex16(s.idBuf[:s.idPre], b.IDs[i])
		ids[0] = string(s.idBuf)
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
