package jetstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	jsapi "github.com/nats-io/nats.go/jetstream"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

// PullExpiry is how long one pull request of a source stays open.
const PullExpiry = 5 * time.Second

// DefaultBatch is the number of records a source hands on at most per
// batch (and fetches ahead).
const DefaultBatch = 500

// SourceOptions configure a Source.
type SourceOptions struct {
	// Bounded makes the source stop at the stream's last sequence at start
	// and send end-of-input.
	Bounded bool
	// Batch is the largest batch (default DefaultBatch).
	Batch int
	// MaxRecord is the record size limit (default DefaultMaxRecord).
	MaxRecord int
	// CreateStreams creates the stream when it is missing.
	CreateStreams bool
	// DLQ receives records that fail to decode and late rows. Required.
	DLQ *DLQ
	// Stats counts records in and the event-time position (optional).
	Stats *executor.Stats
	// Logger (nil: slog.Default()).
	Logger *slog.Logger
}

// Source reads a JetStream stream with a durable pull consumer and turns
// records into batches of typed rows, watermarks, idle markers and (when
// bounded) end-of-input.
type Source struct {
	c       *Conn
	job     string
	node    *planner.Node
	op      *planner.SourceOp
	opts    SourceOptions
	dec     *Decoder
	cons    jsapi.Consumer
	durable string
	last    uint64 // bounded: stream's last sequence at start
	idBase  uint64
	log     *slog.Logger
}

// DurableName returns the default durable consumer of a job's source.
func DurableName(job, source string) string {
	r := strings.NewReplacer(".", "_", "*", "_", ">", "_", " ", "_")
	return r.Replace("flowrun_" + job + "_" + source)
}

// NewSource prepares the source of node (a *planner.SourceOp): it makes
// sure the stream exists and creates or updates the durable consumer.
func NewSource(ctx context.Context, c *Conn, job string, node *planner.Node, opts SourceOptions) (*Source, error) {
	op, ok := node.Op.(*planner.SourceOp)
	if !ok {
		return nil, fmt.Errorf("jetstream: node %d is %s, not a source", node.ID, node.Op.Name())
	}
	if opts.DLQ == nil {
		return nil, errors.New("jetstream: source needs a DLQ")
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	dec, err := NewDecoder(op, opts.MaxRecord)
	if err != nil {
		return nil, err
	}
	if dec.Width() != len(node.Schema.Columns) {
		return nil, fmt.Errorf("jetstream: source %s decodes %d columns, node schema has %d", op.Source, dec.Width(), len(node.Schema.Columns))
	}
	subjects := op.Subjects
	if len(subjects) == 0 {
		subjects = DefaultSubjects(op.Stream)
	}
	stream, err := c.EnsureStream(ctx, op.Stream, subjects, opts.CreateStreams)
	if err != nil {
		return nil, err
	}
	durable := op.Durable
	if durable == "" {
		durable = DurableName(job, op.Source)
	}
	cc := jsapi.ConsumerConfig{
		Durable:   durable,
		AckPolicy: jsapi.AckAllPolicy,
		// Not the binding limit: the client's buffer (2 batches) and the
		// inbox (8 batches) bound what is in flight. A tight MaxAckPending
		// stalled the pull consumer until its 30s pull expiry.
		MaxAckPending: 1 << 20,
		AckWait:       time.Minute,
	}
	if len(op.Subjects) == 1 {
		cc.FilterSubject = op.Subjects[0]
	} else if len(op.Subjects) > 1 {
		cc.FilterSubjects = op.Subjects
	}
	switch op.StartFrom {
	case "", "earliest":
		cc.DeliverPolicy = jsapi.DeliverAllPolicy
	case "latest":
		cc.DeliverPolicy = jsapi.DeliverNewPolicy
	default:
		t, err := time.Parse(time.RFC3339Nano, op.StartFrom)
		if err != nil {
			return nil, fmt.Errorf("jetstream: source %s: startFrom %q: want earliest, latest or an RFC 3339 time", op.Source, op.StartFrom)
		}
		cc.DeliverPolicy = jsapi.DeliverByStartTimePolicy
		cc.OptStartTime = &t
	}
	cons, err := c.SubJS.CreateOrUpdateConsumer(ctx, op.Stream, cc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: source %s: consumer %s on %s: %w", op.Source, durable, op.Stream, err)
	}
	s := &Source{c: c, job: job, node: node, op: op, opts: opts, dec: dec, cons: cons, durable: durable, log: opts.Logger,
		idBase: fnv64(op.Stream)}
	if opts.Bounded {
		info, err := stream.Info(ctx)
		if err != nil {
			return nil, fmt.Errorf("jetstream: source %s: stream info: %w", op.Source, err)
		}
		s.last = info.State.LastSeq
	}
	return s, nil
}

// Stage returns the source's stage name.
func (s *Source) Stage() string { return s.node.Stage }

// RowID is the deterministic id of the row decoded from stream sequence
// seq of stream: a 64-bit mix of both, so rows of different streams that
// meet in one sink keep distinct Nats-Msg-Ids.
func RowID(stream string, seq uint64) uint64 { return mix64(fnv64(stream) + seq) }

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// mix64 is the splitmix64 finalizer: a bijection on uint64.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Run reads records and calls emit with data batches (in stream order),
// watermarks (after the batch that advanced them), idle markers and, when
// bounded, end-of-input, after which it returns nil. Each batch is acked
// (AckAll) after emit returns. Run returns ctx.Err() when ctx ends, or
// emit's error. emit is called from Run's goroutine only.
//
// The watermark is max event time seen − maxOutOfOrderness, advanced per
// row in stream order; a row with event time < watermark −
// allowedLateness at its arrival is dead-lettered with class late.
func (s *Source) Run(ctx context.Context, emit func(executor.Message) error) error {
	if s.opts.Bounded {
		done, err := s.boundedDone(ctx, 0)
		if err != nil {
			return err
		}
		if done {
			return s.finish(ctx, emit)
		}
	}
	// The puller's callback only appends to a buffer; the loop below takes
	// everything in it at once, so the two goroutines meet about once per
	// batch, not once per record.
	pl, err := newPuller(s.c.SubNC, s.op.Stream, s.durable, 2*s.opts.Batch)
	if err != nil {
		return fmt.Errorf("jetstream: source %s: %w", s.op.Source, err)
	}
	defer pl.stop()

	st := &runState{maxTs: executor.MinWatermark, wm: executor.MinWatermark, sentWm: executor.MinWatermark,
		et: s.node.Schema.EventTime, maxOOO: s.op.MaxOutOfOrderness.Std().Milliseconds(),
		lateness: s.op.AllowedLateness.Std().Milliseconds()}
	if st.et >= len(s.node.Schema.Columns) {
		st.et = -1
	}
	idleAfter := s.op.IdleTimeout.Std()
	idle := false
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	lastData := time.Now()
	refill := func() error {
		lost, err := pl.refill()
		if err != nil {
			return fmt.Errorf("jetstream: source %s: %w", s.op.Source, err)
		}
		if lost {
			s.log.Warn("source read: no heartbeat while records are requested; pulling again", "source", s.op.Source, "after", 2*PullHeartbeat)
		}
		return nil
	}
	var got []*nats.Msg
	for {
		if err := refill(); err != nil {
			return err
		}
		wait := time.Second
		if s.opts.Bounded {
			wait = 100 * time.Millisecond
		}
		if idleAfter > 0 && !idle {
			wait = min(wait, max(time.Until(lastData.Add(idleAfter)), time.Millisecond))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-pl.notify:
		case <-timer.C:
		}
		var err error
		if got, err = pl.take(got[:0]); err != nil {
			return fmt.Errorf("jetstream: source %s: %w", s.op.Source, err)
		}
		if len(got) == 0 {
			// Idle means the stream has no new data, not that delivery is
			// slow: a bounded source replays a fixed range and is never
			// idle, and a live source with records still pending in its
			// stream has a backlog (under load, or after a stalled pull)
			// and must keep holding the watermark back, or its rows would
			// arrive late downstream.
			if idleAfter > 0 && !idle && !s.opts.Bounded && time.Since(lastData) >= idleAfter {
				if n, err := s.Pending(ctx); err == nil && n > 0 {
					lastData = time.Now()
				} else {
					idle = true
					if err := emit(executor.Message{Kind: executor.MsgIdle}); err != nil {
						return err
					}
				}
			}
			if s.opts.Bounded {
				done, err := s.boundedDone(ctx, st.lastSeq)
				if err != nil {
					return err
				}
				if done {
					return s.finish(ctx, emit)
				}
			}
			continue
		}
		lastData = time.Now()
		idle = false
		for len(got) > 0 {
			k := min(len(got), s.opts.Batch)
			if err := s.batch(ctx, pl, got[:k], emit, st); err != nil {
				return err
			}
			clear(got[:k])
			got = got[k:]
			if err := refill(); err != nil {
				return err
			}
			if s.opts.Bounded && st.lastSeq >= s.last {
				return s.finish(ctx, emit)
			}
		}
	}
}

// runState is the event-time state of a running source.
type runState struct {
	et                int // event-time column, -1 for none
	maxOOO, lateness  int64
	maxTs, wm, sentWm int64
	lastSeq           uint64
}

// batch decodes, checks and emits one batch, acks it and emits the
// watermark if it advanced.
func (s *Source) batch(ctx context.Context, pl *puller, pending []*nats.Msg, emit func(executor.Message) error, st *runState) error {
	width := s.dec.Width()
	slab := make([]udf.Value, len(pending)*width)
	b := &executor.Batch{Rows: make([]udf.Row, 0, len(pending)), IDs: make([]uint64, 0, len(pending))}

	for i, m := range pending {
		seq, ok := streamSeq(m.Reply)
		if !ok {
			return fmt.Errorf("jetstream: source %s: delivery with reply subject %q: no stream sequence", s.op.Source, m.Reply)
		}
		st.lastSeq = seq
		row := udf.Row(slab[i*width : (i+1)*width : (i+1)*width])
		data := m.Data
		if derr := s.dec.Decode(data, row); derr != nil {
			if err := s.deadLetter(ctx, derr.Class, derr.Reason, m.Subject, seq, data); err != nil {
				return err
			}
			continue
		}
		if st.et >= 0 {
			v := row[st.et]
			if v.K != udf.TypeTimestamp {
				if err := s.deadLetter(ctx, executor.ClassType, fmt.Sprintf("column %q: event time is NULL", s.node.Schema.Columns[st.et].Name), m.Subject, seq, data); err != nil {
					return err
				}
				continue
			}
			ts := v.I
			if st.wm != executor.MinWatermark && ts < st.wm-st.lateness {
				reason := fmt.Sprintf("event time %s is before the watermark %s minus allowed lateness %s",
					udf.FormatTime(ts), udf.FormatTime(st.wm), s.op.AllowedLateness.Std())
				if err := s.deadLetter(ctx, executor.ClassLate, reason, m.Subject, seq, data); err != nil {
					return err
				}
				continue
			}
			if ts > st.maxTs {
				st.maxTs = ts
				st.wm = st.maxTs - st.maxOOO
			}
		}
		b.Append(row, mix64(s.idBase+seq))
	}
	if s.opts.Stats != nil {
		s.opts.Stats.In.Add(int64(len(pending)))
	}
	if b.Len() > 0 {
		if err := emit(executor.Message{Kind: executor.MsgData, Batch: b}); err != nil {
			return err
		}
	}
	// AckAll: acking the last record acks the whole batch.
	if err := pl.ack(pending[len(pending)-1]); err != nil {
		return fmt.Errorf("jetstream: source %s: ack: %w", s.op.Source, err)
	}
	if st.wm > st.sentWm {
		st.sentWm = st.wm
		if s.opts.Stats != nil {
			s.opts.Stats.EventTime.Store(st.wm)
		}
		if err := emit(executor.Message{Kind: executor.MsgWatermark, Watermark: st.wm}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Source) finish(ctx context.Context, emit func(executor.Message) error) error {
	if st := s.opts.Stats; st != nil {
		st.EventTime.Store(executor.MaxWatermark)
	}
	return emit(executor.Message{Kind: executor.MsgEndOfInput, Watermark: executor.MaxWatermark})
}

// boundedDone reports whether a bounded source has read everything: the
// stream's last sequence at start, or (when the filter leaves the last
// messages out) nothing pending and everything delivered received.
func (s *Source) boundedDone(ctx context.Context, lastSeq uint64) (bool, error) {
	if s.last == 0 || lastSeq >= s.last {
		return true, nil
	}
	info, err := s.cons.Info(ctx)
	if err != nil {
		return false, fmt.Errorf("jetstream: source %s: consumer info: %w", s.op.Source, err)
	}
	if info.NumPending == 0 && info.NumAckPending == 0 && info.Delivered.Stream <= max(lastSeq, info.AckFloor.Stream) {
		return true, nil
	}
	return info.NumPending == 0 && lastSeq >= info.Delivered.Stream && lastSeq > 0, nil
}

func (s *Source) deadLetter(ctx context.Context, class executor.Class, reason, subject string, seq uint64, data []byte) error {
	return s.opts.DLQ.Send(ctx, DeadLetter{Stage: s.node.Stage, Class: class, Reason: reason, Subject: subject, Seq: seq, Data: data})
}

// Pending returns how many records of the stream the consumer has not
// delivered yet: the source's lag.
func (s *Source) Pending(ctx context.Context) (uint64, error) {
	info, err := s.cons.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.NumPending, nil
}

// Name returns the source's name in the job.
func (s *Source) Name() string { return s.op.Source }
