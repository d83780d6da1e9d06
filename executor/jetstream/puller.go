package jetstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// PullHeartbeat is the idle heartbeat a source asks the server for while a
// pull request waits. Two missed heartbeats with records requested mean
// the server holds no request the puller counts on: it asks again.
const PullHeartbeat = time.Second

// puller reads a durable pull consumer with pull requests of its own
// instead of nats.go's Consume. It keeps a fixed number of records
// requested or buffered (credit-based flow control), so the subscription
// callback never blocks: it only appends to a buffer, and every
// heartbeat and status message is seen as it arrives. nats.go's Consume,
// whose callback had to block for back-pressure, now and then lost track
// of its open pull requests and waited out a 5 s pull expiry with "no
// heartbeat received".
//
// Accounting: a record delivered or reported unfulfilled (the
// Nats-Pending-Messages of a 408 or 409 status) gives its credit back.
// Any status it cannot account for, and two heartbeats missed while
// records are requested, reset the requested count to zero; the next
// refill then asks again. An over-count is harmless: the server ends
// every request after PullExpiry.
type puller struct {
	nc      *nats.Conn
	next    string // $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>
	inbox   string
	sub     *nats.Subscription
	credits int // records requested or buffered at most
	expires time.Duration
	hb      time.Duration

	mu        sync.Mutex
	msgs      []*nats.Msg
	requested int       // records asked for and not yet delivered or reported unfulfilled
	lastSeen  time.Time // last message of any kind on the inbox
	err       error     // terminal: the consumer is gone
	notify    chan struct{}
}

func newPuller(nc *nats.Conn, stream, consumer string, credits int) (*puller, error) {
	p := &puller{nc: nc, next: "$JS.API.CONSUMER.MSG.NEXT." + stream + "." + consumer, inbox: nc.NewInbox(),
		credits: credits, expires: PullExpiry, hb: PullHeartbeat, notify: make(chan struct{}, 1), lastSeen: time.Now()}
	sub, err := nc.Subscribe(p.inbox, p.onMsg)
	if err != nil {
		return nil, err
	}
	// The credits bound what arrives; never drop a delivery as a slow consumer.
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	p.sub = sub
	return p, nil
}

func (p *puller) stop() { _ = p.sub.Unsubscribe() }

// onMsg runs on the subscription's goroutine; it never blocks.
func (p *puller) onMsg(m *nats.Msg) {
	status := ""
	if len(m.Data) == 0 && m.Header != nil {
		status = m.Header.Get("Status")
	}
	p.mu.Lock()
	p.lastSeen = time.Now()
	switch status {
	case "":
		p.msgs = append(p.msgs, m)
		p.requested = max(p.requested-1, 0)
		if len(p.msgs) == 1 {
			select {
			case p.notify <- struct{}{}:
			default:
			}
		}
	case "100": // idle heartbeat
	case "408", "409":
		desc := strings.ToLower(m.Header.Get("Description"))
		if strings.Contains(desc, "consumer deleted") || strings.Contains(desc, "push based") {
			p.err = fmt.Errorf("pull request: %s %s", status, m.Header.Get("Description"))
			p.notifyLocked()
			break
		}
		if n, err := strconv.Atoi(m.Header.Get("Nats-Pending-Messages")); err == nil {
			p.requested = max(p.requested-n, 0)
		} else {
			p.requested = 0
		}
		p.notifyLocked()
	default: // 404 and anything unforeseen: start over
		p.requested = 0
		p.notifyLocked()
	}
	p.mu.Unlock()
}

func (p *puller) notifyLocked() {
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// take appends the buffered messages to dst and empties the buffer.
func (p *puller) take(dst []*nats.Msg) ([]*nats.Msg, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	dst = append(dst, p.msgs...)
	clear(p.msgs)
	p.msgs = p.msgs[:0]
	return dst, p.err
}

// refill asks for more records when at least a quarter of the credits
// are free, after giving up on requests whose heartbeats stopped. It
// returns whether it gave a request up.
func (p *puller) refill() (lost bool, err error) {
	p.mu.Lock()
	if p.err != nil {
		p.mu.Unlock()
		return false, p.err
	}
	if p.requested > 0 && time.Since(p.lastSeen) > 2*p.hb {
		p.requested = 0
		p.lastSeen = time.Now()
		lost = true
	}
	free := p.credits - p.requested - len(p.msgs)
	if free < max(p.credits/4, 1) {
		p.mu.Unlock()
		return lost, nil
	}
	if p.requested == 0 {
		p.lastSeen = time.Now() // heartbeats count from the request on
	}
	p.requested += free
	p.mu.Unlock()
	req, _ := json.Marshal(struct {
		Batch     int           `json:"batch"`
		Expires   time.Duration `json:"expires"`
		Heartbeat time.Duration `json:"idle_heartbeat"`
	}{free, p.expires, p.hb})
	if err := p.nc.PublishRequest(p.next, p.inbox, req); err != nil {
		p.mu.Lock()
		p.requested = max(p.requested-free, 0)
		p.mu.Unlock()
		return lost, fmt.Errorf("pull request: %w", err)
	}
	return lost, nil
}

// ack acknowledges m and, the consumer acking all, everything before it.
func (p *puller) ack(m *nats.Msg) error {
	if m.Reply == "" {
		return errors.New("ack: message without a reply subject")
	}
	return p.nc.Publish(m.Reply, []byte("+ACK"))
}

// streamSeq returns the stream sequence of a delivered message from its
// reply subject: $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.
// <consumer seq>.<time>.<pending>, or the newer form with domain and
// account hash after $JS.ACK (and a random token at the end).
func streamSeq(reply string) (uint64, bool) {
	const prefix = "$JS.ACK."
	if !strings.HasPrefix(reply, prefix) {
		return 0, false
	}
	var toks [12]string
	n := 0
	rest := reply[len(prefix):]
	for n < len(toks) {
		i := strings.IndexByte(rest, '.')
		if i < 0 {
			toks[n] = rest
			n++
			break
		}
		toks[n], rest = rest[:i], rest[i+1:]
		n++
	}
	var tok string
	switch {
	case n == 7: // stream consumer delivered sseq cseq ts pending
		tok = toks[3]
	case n >= 9: // domain acchash stream consumer delivered sseq ...
		tok = toks[5]
	default:
		return 0, false
	}
	seq, err := strconv.ParseUint(tok, 10, 64)
	return seq, err == nil
}
