package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	jsapi "github.com/nats-io/nats.go/jetstream"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

func streamMsgs(t *testing.T, c *Conn, name string) uint64 {
	t.Helper()
	s, err := c.JS.Stream(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// Two publishers share a Conn whose flow control allows 8 outstanding
// publishes; every message is stored and acknowledged.
func TestPublishAsyncFlowControl(t *testing.T) {
	c := testConnMax(t, 8)
	ctx := t.Context()
	if _, err := c.EnsureStream(ctx, "FC", []string{"fc.>"}, true); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for g := range 2 {
		wg.Go(func() {
			for i := range 2000 {
				if err := c.PublishAsync(ctx, &nats.Msg{Subject: fmt.Sprintf("fc.%d", g), Data: fmt.Appendf(nil, "%d", i)}); err != nil {
					errs <- err
					return
				}
				if n := c.PublishPending(); n > 8 {
					errs <- fmt.Errorf("%d publishes outstanding, limit 8", n)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := c.PublishPending(); n != 0 {
		t.Fatalf("%d publishes pending after Flush", n)
	}
	if n := streamMsgs(t, c, "FC"); n != 4000 {
		t.Fatalf("stream holds %d messages, want 4000", n)
	}
}

// A stream that refuses messages: Flush reports the first refusal with
// its subject and the server's reason; what fits is stored.
func TestPublishAsyncRefusedNamesSubject(t *testing.T) {
	c := testConnMax(t, 0)
	ctx := t.Context()
	if _, err := c.JS.CreateStream(ctx, jsapi.StreamConfig{Name: "LIM", Subjects: []string{"lim.>"}, MaxMsgs: 5, Discard: jsapi.DiscardNew}); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := c.PublishAsync(ctx, &nats.Msg{Subject: "lim.a", Data: []byte{byte('0' + i)}}); err != nil {
			t.Fatal(err)
		}
	}
	err := c.Flush(ctx)
	if err == nil {
		t.Fatal("Flush: no error for 5 refused messages")
	}
	if !strings.Contains(err.Error(), "lim.a") || !strings.Contains(err.Error(), "maximum messages") {
		t.Fatalf("Flush error %q: want the subject lim.a and the server's reason", err)
	}
	if n := streamMsgs(t, c, "LIM"); n != 5 {
		t.Fatalf("stream holds %d messages, want 5", n)
	}
}

// No stream listens on the subject: the publish fails with no responders.
func TestPublishAsyncNoStream(t *testing.T) {
	c := testConnMax(t, 0)
	if err := c.PublishAsync(t.Context(), &nats.Msg{Subject: "nowhere.x", Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	err := c.Flush(t.Context())
	if !errors.Is(err, nats.ErrNoResponders) || !strings.Contains(err.Error(), "nowhere.x") {
		t.Fatalf("Flush error %v: want no responders for nowhere.x", err)
	}
}

// A subscriber that never answers: Flush gives up after the ack timeout
// instead of waiting forever.
func TestPublishAsyncAckTimeout(t *testing.T) {
	c := testConnMax(t, 0)
	c.acks.timeout = 200 * time.Millisecond
	sub, err := c.NC.SubscribeSync("silent.x")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := c.PublishAsync(t.Context(), &nats.Msg{Subject: "silent.x", Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err = c.Flush(ctx)
	if err == nil || !strings.Contains(err.Error(), "no publish ack") {
		t.Fatalf("Flush error %v: want the ack timeout", err)
	}
}

// Duplicates (same Nats-Msg-Id) are acknowledged, not errors, and stored
// once; more subjects than have their own reply subject all get acked.
func TestPublishAsyncDuplicatesAndManySubjects(t *testing.T) {
	c := testConnMax(t, 64)
	ctx := t.Context()
	if _, err := c.EnsureStream(ctx, "MANY", []string{"many.>"}, true); err != nil {
		t.Fatal(err)
	}
	n := maxReplySubjects + 100
	for round := range 2 {
		for i := range n {
			m := &nats.Msg{Subject: fmt.Sprintf("many.%d", i), Data: []byte("x"),
				Header: nats.Header{nats.MsgIdHdr: []string{fmt.Sprint("id-", i)}}}
			if err := c.PublishAsync(ctx, m); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := streamMsgs(t, c, "MANY"); got != uint64(n) {
		t.Fatalf("stream holds %d messages, want %d (duplicates dropped)", got, n)
	}
}

// A sink whose stream refuses messages stops at its next batch with the
// server's reason instead of publishing on until the final flush.
func TestSinkStopsAfterRefusedPublish(t *testing.T) {
	c := testConnMax(t, 0)
	ctx := t.Context()
	if _, err := c.JS.CreateStream(ctx, jsapi.StreamConfig{Name: "FULL", Subjects: []string{"full.>"}, MaxMsgs: 5, Discard: jsapi.DiscardNew}); err != nil {
		t.Fatal(err)
	}
	node := &planner.Node{ID: 1, Stage: "out", Op: &planner.SinkOp{Sink: "out", Stream: "FULL", Subject: "full.rows"}}
	in := planner.Schema{Columns: []planner.Column{{Name: "n", Type: udf.TypeBigint}}, EventTime: -1}
	sink, err := NewSink(ctx, c, "job", node, in, SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	batch := func(from int) *executor.Batch {
		b := &executor.Batch{}
		for i := from; i < from+10; i++ {
			b.Append(udf.Row{udf.Int(int64(i))}, uint64(i))
		}
		return b
	}
	if err := sink.Process(0, batch(0), nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; c.PublishErr() == nil; i++ {
		if i == 500 {
			t.Fatal("no publish error 5 s after publishing 10 messages into a stream of at most 5")
		}
		time.Sleep(10 * time.Millisecond)
	}
	err = sink.Process(0, batch(10), nil)
	if err == nil || !strings.Contains(err.Error(), "maximum messages") || !strings.Contains(err.Error(), "full.rows") {
		t.Fatalf("second batch: error %v, want the refusal of full.rows", err)
	}
	if n := streamMsgs(t, c, "FULL"); n != 5 {
		t.Fatalf("stream holds %d messages, want 5", n)
	}
}

// PublishLines skips empty lines and a CSV header, keeps every other line
// (a record of empty tab-separated fields included) and strips CR.
func TestPublishLines(t *testing.T) {
	c := testConnMax(t, 0)
	ctx := t.Context()
	if _, err := c.EnsureStream(ctx, "PL", []string{"pl.>"}, true); err != nil {
		t.Fatal(err)
	}
	n, err := c.PublishLines(ctx, "pl.x", strings.NewReader("a\tb\r\n1\t2\n\n\t\n3\t4"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("published %d records, want 3", n)
	}
	s, err := c.JS.Stream(ctx, "PL")
	if err != nil {
		t.Fatal(err)
	}
	for seq, want := range []string{"1\t2", "\t", "3\t4"} {
		m, err := s.GetMsg(ctx, uint64(seq+1))
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Data) != want {
			t.Errorf("record %d is %q, want %q", seq+1, m.Data, want)
		}
	}
}

// A reason quoting a huge value is cut to MaxReason bytes at a character
// boundary, saying how long it was.
func TestClipReason(t *testing.T) {
	if r := clipReason("short"); r != "short" {
		t.Fatalf("short reason changed: %q", r)
	}
	long := strings.Repeat("é", MaxReason) // 2 bytes each
	r := clipReason(long)
	if !strings.HasSuffix(r, fmt.Sprintf("… (%d bytes in all)", len(long))) || !utf8.ValidString(r) || len(r) > MaxReason+40 {
		t.Fatalf("clipped reason %d bytes, valid %v: ...%q", len(r), utf8.ValidString(r), r[max(0, len(r)-40):])
	}
}
