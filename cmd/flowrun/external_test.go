package main

import (
	"fmt"
	"net"
	"slices"
	"testing"

	"github.com/nats-io/nats.go"
	jsapi "github.com/nats-io/nats.go/jetstream"

	"github.com/flowrun/flowrun/executor/jetstream"
	"github.com/flowrun/flowrun/udf"
)

// --nats: the same job against a server reached over TCP (sources and
// sinks on their two connections) gives the same rows and dead letters as
// on the embedded default, and its durable consumer is acked to the end.
func TestRunExternalServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv, err := jetstream.StartServer(t.TempDir(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()

	input, orders, bad := ordersInput(t, 3000)
	var want []string
	for _, o := range orders {
		if o.amount > 50 {
			want = append(want, fmt.Sprintf(`{"id":%d,"customer":%q,"doubled":%s,"ts":"%s"}`, o.id, o.customer, fmtF(o.amount*2), udf.FormatTime(o.ts)))
		}
	}
	job := writeJob(t, "big-orders", "2", "SELECT id, customer, amount * 2 AS doubled, ts FROM orders WHERE amount > 50")
	out, dlq := runJobCLI(t, job, input, "--nats", "nats://"+addr)
	if got := readLines(t, out); !slices.Equal(got, want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	if dl := readLines(t, dlq); len(dl) != bad {
		t.Fatalf("dead letters %d, want %d", len(dl), bad)
	}

	nc, err := nats.Connect("nats://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jsapi.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := js.Consumer(t.Context(), "ORDERS", jetstream.DurableName("big-orders", "orders"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if total := uint64(len(orders) + bad); info.AckFloor.Stream != total || info.NumPending != 0 {
		t.Fatalf("consumer ack floor %d, pending %d; want %d, 0", info.AckFloor.Stream, info.NumPending, total)
	}
	out2, err := js.Stream(t.Context(), "OUT")
	if err != nil {
		t.Fatal(err)
	}
	si, err := out2.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if si.State.Msgs != uint64(len(want)) {
		t.Fatalf("OUT holds %d messages, want %d", si.State.Msgs, len(want))
	}
}
