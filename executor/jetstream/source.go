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
	c      *Conn
	job    string
	node   *planner.Node
	op     *planner.SourceOp
	opts   SourceOptions
	dec    *Decoder
	cons   jsapi.Consumer
	last   uint64 // bounded: stream's last sequence at start
	idBase uint64
	log    *slog.Logger
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
		Durable:       durable,
		AckPolicy:     jsapi.AckAllPolicy,
		MaxAckPending: 20 * opts.Batch,
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
	cons, err := c.JS.CreateOrUpdateConsumer(ctx, op.Stream, cc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: source %s: consumer %s on %s: %w", op.Source, durable, op.Stream, err)
	}
	s := &Source{c: c, job: job, node: node, op: op, opts: opts, dec: dec, cons: cons, log: opts.Logger,
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
			return emit(executor.Message{Kind: executor.MsgEndOfInput, Watermark: executor.MaxWatermark})
		}
	}
	iter, err := s.cons.Messages(jsapi.PullMaxMessages(2 * s.opts.Batch))
	if err != nil {
		return fmt.Errorf("jetstream: source %s: %w", s.op.Source, err)
	}
	msgs := make(chan jsapi.Msg, 2*s.opts.Batch)
	readErr := make(chan error, 1)
	go func() {
		defer close(msgs)
		for {
			m, err := iter.Next()
			if err != nil {
				if errors.Is(err, jsapi.ErrMsgIteratorClosed) {
					return
				}
				if ctx.Err() != nil {
					return
				}
				if errors.Is(err, nats.ErrConnectionClosed) {
					readErr <- err
					return
				}
				s.log.Warn("source read", "source", s.op.Source, "err", err)
				continue
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer iter.Stop()

	var (
		et         = s.node.Schema.EventTime
		maxOOO     = s.op.MaxOutOfOrderness.Std().Milliseconds()
		lateness   = s.op.AllowedLateness.Std().Milliseconds()
		idleAfter  = s.op.IdleTimeout.Std()
		maxTs      = executor.MinWatermark
		wm         = executor.MinWatermark
		sentWm     = executor.MinWatermark
		lastSeq    uint64
		idle       bool
		width      = s.dec.Width()
		pending    = make([]jsapi.Msg, 0, s.opts.Batch)
		checkEvery = 100 * time.Millisecond
	)
	if et >= len(s.node.Schema.Columns) {
		et = -1
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	lastData := time.Now()
	for {
		// Wait for the first record of a batch.
		wait := time.Hour
		if s.opts.Bounded {
			wait = checkEvery
		}
		if idleAfter > 0 && !idle {
			wait = min(wait, max(time.Until(lastData.Add(idleAfter)), time.Millisecond))
		}
		timer.Reset(wait)
		var first jsapi.Msg
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-readErr:
			return fmt.Errorf("jetstream: source %s: %w", s.op.Source, err)
		case m, ok := <-msgs:
			if !ok {
				if err := ctx.Err(); err != nil {
					return err
				}
				return fmt.Errorf("jetstream: source %s: consumer stopped", s.op.Source)
			}
			first = m
		case <-timer.C:
		}
		if first == nil {
			if idleAfter > 0 && !idle && time.Since(lastData) >= idleAfter {
				idle = true
				if err := emit(executor.Message{Kind: executor.MsgIdle}); err != nil {
					return err
				}
			}
			if s.opts.Bounded {
				done, err := s.boundedDone(ctx, lastSeq)
				if err != nil {
					return err
				}
				if done {
					return s.finish(ctx, emit)
				}
			}
			continue
		}
		pending = append(pending[:0], first)
	fill:
		for len(pending) < s.opts.Batch {
			select {
			case m, ok := <-msgs:
				if !ok {
					break fill
				}
				pending = append(pending, m)
			default:
				break fill
			}
		}
		lastData = time.Now()
		idle = false

		slab := make([]udf.Value, len(pending)*width)
		b := &executor.Batch{Rows: make([]udf.Row, 0, len(pending)), IDs: make([]uint64, 0, len(pending))}
		for i, m := range pending {
			md, err := m.Metadata()
			if err != nil {
				return fmt.Errorf("jetstream: source %s: metadata: %w", s.op.Source, err)
			}
			seq := md.Sequence.Stream
			lastSeq = seq
			row := udf.Row(slab[i*width : (i+1)*width : (i+1)*width])
			data := m.Data()
			if derr := s.dec.Decode(data, row); derr != nil {
				if err := s.deadLetter(ctx, derr.Class, derr.Reason, m.Subject(), seq, data); err != nil {
					return err
				}
				continue
			}
			if et >= 0 {
				v := row[et]
				if v.K != udf.TypeTimestamp {
					if err := s.deadLetter(ctx, executor.ClassType, fmt.Sprintf("column %q: event time is NULL", s.node.Schema.Columns[et].Name), m.Subject(), seq, data); err != nil {
						return err
					}
					continue
				}
				ts := v.I
				if wm != executor.MinWatermark && ts < wm-lateness {
					reason := fmt.Sprintf("event time %s is before the watermark %s minus allowed lateness %s",
						udf.FormatTime(ts), udf.FormatTime(wm), s.op.AllowedLateness.Std())
					if err := s.deadLetter(ctx, executor.ClassLate, reason, m.Subject(), seq, data); err != nil {
						return err
					}
					continue
				}
				if ts > maxTs {
					maxTs = ts
					wm = maxTs - maxOOO
				}
			}
			b.Append(row, RowID(s.op.Stream, seq))
		}
		if st := s.opts.Stats; st != nil {
			st.In.Add(int64(len(pending)))
		}
		if b.Len() > 0 {
			if err := emit(executor.Message{Kind: executor.MsgData, Batch: b}); err != nil {
				return err
			}
		}
		// AckAll: acking the last record acks the whole batch.
		if err := pending[len(pending)-1].Ack(); err != nil {
			return fmt.Errorf("jetstream: source %s: ack: %w", s.op.Source, err)
		}
		clear(pending)
		if wm > sentWm {
			sentWm = wm
			if st := s.opts.Stats; st != nil {
				st.EventTime.Store(wm)
			}
			if err := emit(executor.Message{Kind: executor.MsgWatermark, Watermark: wm}); err != nil {
				return err
			}
		}
		if s.opts.Bounded && lastSeq >= s.last {
			return s.finish(ctx, emit)
		}
	}
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
