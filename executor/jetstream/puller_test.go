package jetstream

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	jsapi "github.com/nats-io/nats.go/jetstream"
)

func TestStreamSeq(t *testing.T) {
	for _, c := range []struct {
		reply string
		seq   uint64
		ok    bool
	}{
		{"$JS.ACK.IN.cons.1.42.7.1735689600000000000.3", 42, true},
		{"$JS.ACK.hub.ACCHASH.IN.cons.1.43.8.1735689600000000000.3.xyz", 43, true},
		{"$JS.ACK.hub.ACCHASH.IN.cons.1.44.8.1735689600000000000.3", 44, true},
		{"$JS.ACK.IN.cons.1.x.7.1735689600000000000.3", 0, false},
		{"$JS.ACK.IN.cons.1", 0, false},
		{"_INBOX.abc", 0, false},
		{"", 0, false},
	} {
		seq, ok := streamSeq(c.reply)
		if seq != c.seq || ok != c.ok {
			t.Errorf("streamSeq(%q) = %d, %v; want %d, %v", c.reply, seq, ok, c.seq, c.ok)
		}
	}
}

// pullerFixture makes stream P with n messages and a durable AckAll
// consumer on it.
func pullerFixture(t *testing.T, n int) (*Conn, jsapi.Consumer) {
	t.Helper()
	c := testConnMax(t, 0)
	ctx := t.Context()
	if _, err := c.EnsureStream(ctx, "P", []string{"p.>"}, true); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := c.PublishAsync(ctx, &nats.Msg{Subject: "p.x", Data: fmt.Append(nil, i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cons, err := c.JS.CreateOrUpdateConsumer(ctx, "P", jsapi.ConsumerConfig{Durable: "d", AckPolicy: jsapi.AckAllPolicy})
	if err != nil {
		t.Fatal(err)
	}
	return c, cons
}

// readAll refills and takes until n messages arrived (or 10 s passed),
// acking each take; it checks the buffer never holds more than the
// credits and returns the stream sequences in order and how many
// requests were given up as lost.
func readAll(t *testing.T, p *puller, n int) (seqs []uint64, lost int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got []*nats.Msg
	for len(seqs) < n && time.Now().Before(deadline) {
		l, err := p.refill()
		if err != nil {
			t.Fatal(err)
		}
		if l {
			lost++
		}
		select {
		case <-p.notify:
		case <-time.After(20 * time.Millisecond):
		}
		if got, err = p.take(got[:0]); err != nil {
			t.Fatal(err)
		}
		if len(got) > p.credits {
			t.Fatalf("took %d messages at once with %d credits", len(got), p.credits)
		}
		for _, m := range got {
			seq, ok := streamSeq(m.Reply)
			if !ok {
				t.Fatalf("reply %q: no sequence", m.Reply)
			}
			seqs = append(seqs, seq)
		}
		if len(got) > 0 {
			if err := p.ack(got[len(got)-1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	return seqs, lost
}

// The puller reads every record once, in order, never holding more than
// its credits; the consumer's ack floor reaches the end.
func TestPullerReadsInOrder(t *testing.T) {
	const n = 5000
	c, cons := pullerFixture(t, n)
	p, err := newPuller(c.SubNC, "P", "d", 64)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	seqs, lost := readAll(t, p, n)
	if len(seqs) != n {
		t.Fatalf("read %d of %d records", len(seqs), n)
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("record %d has sequence %d", i, s)
		}
	}
	if lost != 0 {
		t.Errorf("%d pull requests given up as lost on a healthy server", lost)
	}
	// Acks are fire-and-forget: poll until the last one is in.
	var info *jsapi.ConsumerInfo
	for range 100 {
		if info, err = cons.Info(t.Context()); err != nil {
			t.Fatal(err)
		}
		if info.AckFloor.Stream == n {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if info.AckFloor.Stream != n || info.NumPending != 0 {
		t.Fatalf("ack floor %d, pending %d; want %d, 0", info.AckFloor.Stream, info.NumPending, n)
	}
}

// A pull request the server never serves (here: swallowed by a plain
// subscriber) is given up after two missed heartbeats and asked again.
func TestPullerRecoversLostRequest(t *testing.T) {
	const n = 300
	c, _ := pullerFixture(t, n)
	p, err := newPuller(c.SubNC, "P", "d", 100)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	p.hb = 50 * time.Millisecond
	swallow, err := c.NC.SubscribeSync("swallow.requests")
	if err != nil {
		t.Fatal(err)
	}
	defer swallow.Unsubscribe()
	good := p.next
	p.next = "swallow.requests"
	if _, err := p.refill(); err != nil {
		t.Fatal(err)
	}
	p.next = good
	seqs, lost := readAll(t, p, n)
	if len(seqs) != n || seqs[n-1] != n {
		t.Fatalf("read %d of %d records", len(seqs), n)
	}
	if lost == 0 {
		t.Fatal("the lost request was never given up")
	}
}

// Deleting the consumer under a waiting pull request ends the puller
// with an error instead of waiting forever.
func TestPullerConsumerDeleted(t *testing.T) {
	c, _ := pullerFixture(t, 0)
	p, err := newPuller(c.SubNC, "P", "d", 10)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	if _, err := p.refill(); err != nil {
		t.Fatal(err)
	}
	if err := c.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let the request reach the consumer
	if err := c.JS.DeleteConsumer(t.Context(), "P", "d"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.notify:
		case <-time.After(20 * time.Millisecond):
		}
		if _, err := p.take(nil); err != nil {
			if !strings.Contains(strings.ToLower(err.Error()), "deleted") {
				t.Fatalf("error %v: want consumer deleted", err)
			}
			return
		}
	}
	t.Fatal("no error 5 s after the consumer was deleted")
}
