package jetstream

import (
	"bytes"
	"context"
	"testing"
)

func TestBenchRecordsSize(t *testing.T) {
	b := BenchRecords(1000, 10000)
	if n := bytes.Count(b, []byte("\n")); n != 1000 {
		t.Fatalf("%d lines", n)
	}
	if avg := len(b) / 1000; avg < 240 || avg > 260 {
		t.Fatalf("average record %d bytes, want about 250", avg)
	}
}

// BenchmarkBaseline measures raw JetStream per message (ns/op = ns per
// message): publish, consume, and consume+republish of 250-byte records
// with nats.go's JetStream API; publish-lines is the same publish through
// the Conn's own ack tracking (what --input and the sinks use).
func BenchmarkBaseline(b *testing.B) {
	for _, mode := range []string{"publish", "publish-lines", "consume", "passthrough", "passthrough-msgid"} {
		b.Run(mode, func(b *testing.B) {
			c := testConnB(b)
			ctx := context.Background()
			if _, err := c.EnsureStream(ctx, "IN", []string{"in.>"}, true); err != nil {
				b.Fatal(err)
			}
			if _, err := c.EnsureStream(ctx, "OUT", []string{"out.>"}, true); err != nil {
				b.Fatal(err)
			}
			recs := BenchRecords(b.N, 10000)
			if mode != "publish" && mode != "publish-lines" {
				b.StopTimer()
				if _, err := c.PublishLines(ctx, "in.x", bytes.NewReader(recs), 0); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportAllocs()
			b.ResetTimer()
			var err error
			switch mode {
			case "publish":
				_, err = BaselinePublish(ctx, c, "in.x", recs)
			case "publish-lines":
				_, err = c.PublishLines(ctx, "in.x", bytes.NewReader(recs), 0)
			case "consume":
				_, err = BaselineConsume(ctx, c, "IN", b.N, DefaultBatch)
			case "passthrough":
				_, err = BaselinePassThrough(ctx, c, "IN", "out.x", b.N, DefaultBatch)
			case "passthrough-msgid":
				_, err = BaselinePassThroughIDs(ctx, c, "IN", "out.x", b.N, DefaultBatch)
			}
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
