package jetstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	jsapi "github.com/nats-io/nats.go/jetstream"
)

// The raw-JetStream baselines of `flowrun bench` and the Go benchmarks: the
// ceiling for any pipeline on the same machine, client and server. They
// use nats.go's JetStream API the way a minimal program would
// (PublishMsgAsync with 4096 outstanding, PublishAsyncComplete, a pull
// consumer's Messages iterator), not the Conn's own publish path.

// baselineJS returns the baselines' JetStream context on c's connection.
func baselineJS(c *Conn) (jsapi.JetStream, error) {
	return jsapi.New(c.NC, jsapi.WithPublishAsyncMaxPending(4096))
}

// baselinePublish publishes m with nats.go's PublishMsgAsync, waiting
// while too many publishes are outstanding.
func baselinePublish(ctx context.Context, js jsapi.JetStream, m *nats.Msg) error {
	for {
		_, err := js.PublishMsgAsync(m)
		if err == nil {
			return nil
		}
		if !errors.Is(err, jsapi.ErrTooManyStalledMsgs) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-js.PublishAsyncComplete():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// baselineFlush waits for every publish ack of js.
func baselineFlush(ctx context.Context, js jsapi.JetStream) error {
	select {
	case <-js.PublishAsyncComplete():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// BaselinePublish publishes every line of recs (JSONL) as one message to
// subject and waits for all acks; it returns how long it took.
func BaselinePublish(ctx context.Context, c *Conn, subject string, recs []byte) (time.Duration, error) {
	js, err := baselineJS(c)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	for len(recs) > 0 {
		line := recs
		if i := bytes.IndexByte(recs, '\n'); i >= 0 {
			line, recs = recs[:i], recs[i+1:]
		} else {
			recs = nil
		}
		if len(line) == 0 {
			continue
		}
		if err := baselinePublish(ctx, js, &nats.Msg{Subject: subject, Data: line}); err != nil {
			return 0, err
		}
	}
	if err := baselineFlush(ctx, js); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// BaselineConsume reads n messages of stream with a fresh pull consumer
// (Messages iterator, AckAll every batch messages) and returns how long it
// took.
func BaselineConsume(ctx context.Context, c *Conn, stream string, n, batch int) (time.Duration, error) {
	return baselineRun(ctx, c, stream, n, batch, nil, nil)
}

// BaselinePassThrough reads n messages of stream and publishes each one
// unchanged to subject (async, flow control), then waits for every
// publish ack. It returns how long it took.
func BaselinePassThrough(ctx context.Context, c *Conn, stream, subject string, n, batch int) (time.Duration, error) {
	js, err := baselineJS(c)
	if err != nil {
		return 0, err
	}
	return baselineRun(ctx, c, stream, n, batch, js, func(m jsapi.Msg) error {
		return baselinePublish(ctx, js, &nats.Msg{Subject: subject, Data: m.Data()})
	})
}

// BaselinePassThroughIDs is BaselinePassThrough with a Nats-Msg-Id on
// every message (as flowrun's sinks publish), to show what the stream's
// duplicate tracking costs.
func BaselinePassThroughIDs(ctx context.Context, c *Conn, stream, subject string, n, batch int) (time.Duration, error) {
	js, err := baselineJS(c)
	if err != nil {
		return 0, err
	}
	return baselineRun(ctx, c, stream, n, batch, js, func(m jsapi.Msg) error {
		md, err := m.Metadata()
		if err != nil {
			return err
		}
		id := MsgID("baseline", "pass", md.Sequence.Stream)
		return baselinePublish(ctx, js, &nats.Msg{Subject: subject, Data: m.Data(), Header: nats.Header{nats.MsgIdHdr: []string{id}}})
	})
}

func baselineRun(ctx context.Context, c *Conn, stream string, n, batch int, js jsapi.JetStream, each func(jsapi.Msg) error) (time.Duration, error) {
	if batch <= 0 {
		batch = DefaultBatch
	}
	cons, err := c.JS.CreateConsumer(ctx, stream, jsapi.ConsumerConfig{AckPolicy: jsapi.AckAllPolicy, MaxAckPending: 1 << 20})
	if err != nil {
		return 0, fmt.Errorf("jetstream: baseline consumer: %w", err)
	}
	defer c.JS.DeleteConsumer(context.Background(), stream, cons.CachedInfo().Name)
	start := time.Now()
	iter, err := cons.Messages(jsapi.PullMaxMessages(2*batch), jsapi.PullExpiry(PullExpiry))
	if err != nil {
		return 0, err
	}
	defer iter.Stop()
	for i := 1; i <= n; i++ {
		m, err := iter.Next()
		if err != nil {
			if errors.Is(err, jsapi.ErrMsgIteratorClosed) {
				return 0, err
			}
			continue
		}
		if each != nil {
			if err := each(m); err != nil {
				return 0, err
			}
		}
		if i%batch == 0 || i == n {
			if err := m.Ack(); err != nil {
				return 0, err
			}
		}
	}
	if js != nil {
		if err := baselineFlush(ctx, js); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// BenchSchema is the schema of BenchRecords, as a job file writes it.
const BenchSchema = `id: bigint
account: string
amount: double
ts: timestamp
region: string
note: string
qty: bigint`

// BenchRecords returns n JSONL records of about 250 bytes over keys keys,
// one millisecond of event time apart, deterministic.
func BenchRecords(n, keys int) []byte {
	regions := []string{"eu-west-1", "us-east-1", "ap-south-1", "sa-east-1"}
	const note = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua ut enim ad"
	const t0 = 1735689600000 // 2025-01-01
	buf := make([]byte, 0, n*256)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range n {
		x = mix64(x + uint64(i))
		buf = fmt.Appendf(buf, `{"id":%d,"account":"acct-%06d","amount":%d.%02d,"ts":"%s","region":%q,"note":%q,"qty":%d}`+"\n",
			i, int(x%uint64(keys)), x>>40%10000, x>>20%100, time.UnixMilli(t0+int64(i)).UTC().Format("2006-01-02T15:04:05.000Z"),
			regions[x>>8%4], note, x>>32%100)
	}
	return buf
}
