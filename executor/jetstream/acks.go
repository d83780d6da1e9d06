package jetstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// AckTimeout is how long Flush and a publish waiting for room wait without
// any publish ack arriving before they give up with an error.
const AckTimeout = 30 * time.Second

// acker publishes asynchronously to JetStream and tracks the publish acks
// itself, on one wildcard reply subscription, instead of through nats.go's
// JetStream PublishMsgAsync. Two costs go away that way:
//
//   - nats.go gives every publish its own reply subject. The server routes
//     each PubAck through its subject index, whose cache never hits a
//     subject seen only once; in a pass-through job that routing ran on
//     the output stream's own goroutine, the bottleneck, and took a
//     quarter of it. Here all publishes to one subject share one reply
//     subject, and acks are counted, not matched.
//   - nats.go decodes every PubAck with encoding/json and keeps a map of
//     futures. Here a successful ack, which starts with {"stream", is only
//     counted; anything else is decoded and, when it reports an error,
//     kept as the Conn's publish error, naming the subject.
//
// Flow control is the count of outstanding publishes.
type acker struct {
	nc     *nats.Conn
	prefix string // reply subject prefix, "_INBOX.<nuid>."
	sub    *nats.Subscription
	max    int
	// timeout is how long a wait goes without any ack (AckTimeout).
	timeout time.Duration

	mu       sync.Mutex
	out      int               // publishes without an ack
	replies  map[string]string // subject -> its reply subject
	shared   string            // the reply subject of the subjects beyond maxReplySubjects
	subjects []string          // reply token -> subject
	progress chan struct{}     // closed and replaced when waiters should look again
	err      error             // first failed publish
	lastAck  time.Time         // when the last ack arrived (or the first publish went out)
}

// maxReplySubjects bounds the subjects with a reply subject of their own
// (a KV sink publishes to one subject per key); the rest share one, and a
// failure among them is reported without its subject.
const maxReplySubjects = 1024

func newAcker(nc *nats.Conn, max int) (*acker, error) {
	a := &acker{nc: nc, prefix: nc.NewInbox() + ".", max: max, timeout: AckTimeout, replies: map[string]string{},
		progress: make(chan struct{})}
	a.shared = a.prefix + strconv.Itoa(maxReplySubjects)
	sub, err := nc.Subscribe(a.prefix+"*", a.onAck)
	if err != nil {
		return nil, fmt.Errorf("jetstream: publish ack subscription: %w", err)
	}
	// Acks never outnumber max outstanding publishes; never drop one.
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	a.sub = sub
	return a, nil
}

// publish sends m with a reply subject of the acker, waiting while max
// publishes are outstanding, until ctx ends or no ack arrives for
// AckTimeout. m.Reply is overwritten.
func (a *acker) publish(ctx context.Context, m *nats.Msg) error {
	a.mu.Lock()
	for a.out >= a.max {
		wait, since := a.progress, a.lastAck
		a.mu.Unlock()
		if err := a.waitProgress(ctx, wait, since); err != nil {
			return fmt.Errorf("jetstream: publish to %s: %w", m.Subject, err)
		}
		a.mu.Lock()
	}
	if a.out == 0 {
		a.lastAck = time.Now()
	}
	a.out++
	reply, ok := a.replies[m.Subject]
	if !ok {
		if len(a.subjects) < maxReplySubjects {
			reply = a.prefix + strconv.Itoa(len(a.subjects))
			a.replies[m.Subject] = reply
			a.subjects = append(a.subjects, m.Subject)
		} else {
			reply = a.shared
		}
	}
	a.mu.Unlock()

	m.Reply = reply
	if err := a.nc.PublishMsg(m); err != nil {
		a.mu.Lock()
		a.out--
		a.signal()
		a.mu.Unlock()
		return fmt.Errorf("jetstream: publish to %s: %w", m.Subject, err)
	}
	return nil
}

// waitProgress waits until the progress channel wait is closed, ctx ends
// or a.timeout passes since the last ack.
func (a *acker) waitProgress(ctx context.Context, wait chan struct{}, since time.Time) error {
	t := time.NewTimer(max(time.Until(since.Add(a.timeout)), time.Millisecond))
	defer t.Stop()
	select {
	case <-wait:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		a.mu.Lock()
		n, last := a.out, a.lastAck
		a.mu.Unlock()
		if n > 0 && time.Since(last) >= a.timeout {
			return fmt.Errorf("no publish ack for %v with %d publishes outstanding", a.timeout, n)
		}
		return nil
	}
}

// flush waits until no publish is outstanding.
func (a *acker) flush(ctx context.Context) error {
	for {
		a.mu.Lock()
		n, wait, since := a.out, a.progress, a.lastAck
		a.mu.Unlock()
		if n == 0 {
			return nil
		}
		if err := a.waitProgress(ctx, wait, since); err != nil {
			return fmt.Errorf("jetstream: waiting for %d publish acks: %w", n, err)
		}
	}
}

func (a *acker) pending() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.out
}

// signal wakes everyone waiting for progress. a.mu must be held.
func (a *acker) signal() {
	close(a.progress)
	a.progress = make(chan struct{})
}

var pubAckOK = []byte(`{"stream"`)

// onAck runs on the subscription's goroutine for every publish ack.
func (a *acker) onAck(m *nats.Msg) {
	var err error
	if !bytes.HasPrefix(m.Data, pubAckOK) {
		err = pubAckError(m)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.out == 0 {
		return // not one of ours
	}
	a.out--
	a.lastAck = time.Now()
	if err != nil {
		subject := "one of many subjects"
		if tok, perr := strconv.Atoi(m.Subject[min(len(a.prefix), len(m.Subject)):]); perr == nil && tok < len(a.subjects) {
			subject = a.subjects[tok]
		}
		if a.err == nil {
			a.err = fmt.Errorf("jetstream: publish to %s: %w", subject, err)
		}
	}
	// Waking waiters on every ack would cost a channel per message; wake
	// them when room opens up (flow control) or everything is acked (flush).
	if a.out == 0 || a.out == a.max-1 || a.out%64 == 0 || err != nil {
		a.signal()
	}
}

// pubAckError returns the error a publish reply reports, nil for a
// successful ack in an unusual shape.
func pubAckError(m *nats.Msg) error {
	if len(m.Data) == 0 {
		if st := m.Header.Get("Status"); st != "" {
			if st == "503" {
				return nats.ErrNoResponders
			}
			return fmt.Errorf("status %s %s", st, m.Header.Get("Description"))
		}
		return errors.New("empty publish ack")
	}
	var r struct {
		Error *struct {
			Code        int    `json:"code"`
			ErrCode     int    `json:"err_code"`
			Description string `json:"description"`
		} `json:"error"`
		Stream string `json:"stream"`
	}
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return fmt.Errorf("bad publish ack %q: %w", m.Data, err)
	}
	if r.Error != nil {
		return fmt.Errorf("%s (code %d, error code %d)", r.Error.Description, r.Error.Code, r.Error.ErrCode)
	}
	if r.Stream == "" {
		return fmt.Errorf("bad publish ack %q", m.Data)
	}
	return nil
}

func (a *acker) close() {
	if a.sub != nil {
		_ = a.sub.Unsubscribe()
	}
}
