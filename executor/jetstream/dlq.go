package jetstream

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/nats-io/nats.go"

	"github.com/flowrun/flowrun/executor"
)

// The dead-letter stream and its headers.
const (
	DLQStream        = "FLOWRUN_DLQ"
	DLQSubjectPrefix = "flowrun.dlq."
	HeaderClass      = "Flowrun-Class"
	HeaderReason     = "Flowrun-Reason"
	HeaderStage      = "Flowrun-Stage"
	HeaderSubject    = "Flowrun-Subject"
	HeaderSeq        = "Flowrun-Seq"
)

// DeadLetter is one record that could not be processed.
type DeadLetter struct {
	Stage   string
	Class   executor.Class
	Reason  string
	Subject string // original subject, "" when not from a source
	Seq     uint64 // original stream sequence, 0 when not from a source
	Data    []byte // the raw record, or the row as JSON
}

// DLQ publishes dead letters of one job to FLOWRUN_DLQ, subject
// flowrun.dlq.<job>.<stage>, and counts them per stage and class. It is
// safe for concurrent use.
type DLQ struct {
	c   *Conn
	job string

	mu     sync.Mutex
	counts map[string]map[executor.Class]int64
	tap    func(DeadLetter)
}

// NewDLQ returns the dead-letter queue of job, creating the stream
// FLOWRUN_DLQ (subjects flowrun.dlq.>) when create is true and it is
// missing.
func NewDLQ(ctx context.Context, c *Conn, job string, create bool) (*DLQ, error) {
	if _, err := c.EnsureStream(ctx, DLQStream, []string{DLQSubjectPrefix + ">"}, create); err != nil {
		return nil, err
	}
	return &DLQ{c: c, job: job, counts: map[string]map[executor.Class]int64{}}, nil
}

// SetTap makes the DLQ call f with every dead letter (for --dlq FILE),
// serialized. Call it before the pipeline starts.
func (d *DLQ) SetTap(f func(DeadLetter)) { d.tap = f }

// MaxReason is the longest reason a dead letter carries; a longer one (a
// reason quoting a huge value) is cut, at a character boundary, with a
// note of its length.
const MaxReason = 1024

// clipReason cuts r to MaxReason bytes.
func clipReason(r string) string {
	if len(r) <= MaxReason {
		return r
	}
	cut := MaxReason
	for cut > 0 && !utf8.RuneStart(r[cut]) {
		cut--
	}
	return r[:cut] + fmt.Sprintf("… (%d bytes in all)", len(r))
}

// Send publishes one dead letter asynchronously.
func (d *DLQ) Send(ctx context.Context, dl DeadLetter) error {
	dl.Reason = clipReason(dl.Reason)
	m := &nats.Msg{
		Subject: DLQSubjectPrefix + d.job + "." + dl.Stage,
		Data:    dl.Data,
		Header:  nats.Header{},
	}
	m.Header.Set(HeaderClass, string(dl.Class))
	m.Header.Set(HeaderReason, dl.Reason)
	m.Header.Set(HeaderStage, dl.Stage)
	if dl.Subject != "" {
		m.Header.Set(HeaderSubject, dl.Subject)
	}
	if dl.Seq != 0 {
		m.Header.Set(HeaderSeq, strconv.FormatUint(dl.Seq, 10))
		// A replay dead-letters the same record again; let JetStream drop it.
		m.Header.Set(nats.MsgIdHdr, fmt.Sprintf("dlq.%s.%s.%s.%d", d.job, dl.Stage, dl.Subject, dl.Seq))
	}
	d.mu.Lock()
	cs := d.counts[dl.Stage]
	if cs == nil {
		cs = map[executor.Class]int64{}
		d.counts[dl.Stage] = cs
	}
	cs[dl.Class]++
	if d.tap != nil {
		d.tap(dl)
	}
	d.mu.Unlock()
	return d.c.PublishAsync(ctx, m)
}

// Count returns the dead letters of stage with class (all classes if
// class is "").
func (d *DLQ) Count(stage string, class executor.Class) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if class != "" {
		return d.counts[stage][class]
	}
	var n int64
	for _, c := range d.counts[stage] {
		n += c
	}
	return n
}

// Counts returns a copy of the counts per stage and class.
func (d *DLQ) Counts() map[string]map[executor.Class]int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]map[executor.Class]int64, len(d.counts))
	for s, cs := range d.counts {
		m := make(map[executor.Class]int64, len(cs))
		for c, n := range cs {
			m[c] = n
		}
		out[s] = m
	}
	return out
}
