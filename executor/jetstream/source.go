package jetstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

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
			return s.finish(ctx, emit)
		}
	}
	// The consumer's callback appends to an inbox; the loop below takes
	// everything in it at once, so the two goroutines meet about once per
	// batch, not once per record.
	in := newInbox(8 * s.opts.Batch)
	cc, err := s.cons.Consume(in.put,
		jsapi.PullMaxMessages(2*s.opts.Batch),
		// Short pull requests: a pull the client believes open but the
		// server no longer serves costs at most this long (the default, 30s,
		// showed up as rare 30s stalls under load).
		jsapi.PullExpiry(PullExpiry),
		jsapi.ConsumeErrHandler(func(_ jsapi.ConsumeContext, err error) {
			if ctx.Err() == nil {
				s.log.Warn("source read", "source", s.op.Source, "err", err)
			}
		}))
	if err != nil {
		return fmt.Errorf("jetstream: source %s: %w", s.op.Source, err)
	}
	defer func() {
		in.close()
		cc.Stop()
	}()
	closed := cc.Closed()

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
	var got []jsapi.Msg
	for {
		wait := time.Second
		if s.opts.Bounded {
			wait = 100 * time.Millisecond
		}
		if idleAfter > 0 && !idle {
			wait = min(wait, max(time.Until(lastData.Add(idleAfter)), time.Millisecond))
		}
		timer.Reset(wait)
		got = got[:0]
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-closed:
			if err := ctx.Err(); err != nil {
				return err
			}
			return fmt.Errorf("jetstream: source %s: consumer stopped", s.op.Source)
		case <-in.notify:
			got = in.take(got)
		case <-timer.C:
			got = in.take(got) // never rely on the token alone
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
			if err := s.batch(ctx, got[:k], emit, st); err != nil {
				return err
			}
			clear(got[:k])
			got = got[k:]
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
func (s *Source) batch(ctx context.Context, pending []jsapi.Msg, emit func(executor.Message) error, st *runState) error {
	width := s.dec.Width()
	slab := make([]udf.Value, len(pending)*width)
	b := &executor.Batch{Rows: make([]udf.Row, 0, len(pending)), IDs: make([]uint64, 0, len(pending))}

	for i, m := range pending {
		md, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("jetstream: source %s: metadata: %w", s.op.Source, err)
		}
		seq := md.Sequence.Stream
		st.lastSeq = seq
		row := udf.Row(slab[i*width : (i+1)*width : (i+1)*width])
		data := m.Data()
		if derr := s.dec.Decode(data, row); derr != nil {
			if err := s.deadLetter(ctx, derr.Class, derr.Reason, m.Subject(), seq, data); err != nil {
				return err
			}
			continue
		}
		if st.et >= 0 {
			v := row[st.et]
			if v.K != udf.TypeTimestamp {
				if err := s.deadLetter(ctx, executor.ClassType, fmt.Sprintf("column %q: event time is NULL", s.node.Schema.Columns[st.et].Name), m.Subject(), seq, data); err != nil {
					return err
				}
				continue
			}
			ts := v.I
			if st.wm != executor.MinWatermark && ts < st.wm-st.lateness {
				reason := fmt.Sprintf("event time %s is before the watermark %s minus allowed lateness %s",
					udf.FormatTime(ts), udf.FormatTime(st.wm), s.op.AllowedLateness.Std())
				if err := s.deadLetter(ctx, executor.ClassLate, reason, m.Subject(), seq, data); err != nil {
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
	if err := pending[len(pending)-1].Ack(); err != nil {
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

// inbox hands messages from the consumer's callback goroutine to the
// source loop in bulk. put blocks while the inbox holds max messages
// (back-pressure on the consumer); close releases it.
type inbox struct {
	mu     sync.Mutex
	cond   *sync.Cond
	msgs   []jsapi.Msg
	max    int
	closed bool
	notify chan struct{} // a token when msgs became non-empty
}

func newInbox(max int) *inbox {
	in := &inbox{max: max, notify: make(chan struct{}, 1)}
	in.cond = sync.NewCond(&in.mu)
	return in
}

func (in *inbox) put(m jsapi.Msg) {
	in.mu.Lock()
	for len(in.msgs) >= in.max && !in.closed {
		in.cond.Wait()
	}
	if in.closed {
		in.mu.Unlock()
		return
	}
	in.msgs = append(in.msgs, m)
	first := len(in.msgs) == 1
	in.mu.Unlock()
	if first {
		select {
		case in.notify <- struct{}{}:
		default:
		}
	}
}

// take appends every message of the inbox to dst and empties it.
func (in *inbox) take(dst []jsapi.Msg) []jsapi.Msg {
	in.mu.Lock()
	dst = append(dst, in.msgs...)
	clear(in.msgs)
	in.msgs = in.msgs[:0]
	in.cond.Broadcast()
	in.mu.Unlock()
	return dst
}

func (in *inbox) close() {
	in.mu.Lock()
	in.closed = true
	in.cond.Broadcast()
	in.mu.Unlock()
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
