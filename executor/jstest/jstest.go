// Package jstest starts real embedded NATS servers with JetStream for tests.
// It is the one place tests get a server from; never mock JetStream.
//
//	srv := jstest.RunServer(t)
//	nc := jstest.Connect(t, srv)
//	js, _ := jetstream.New(nc)
package jstest

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// RunServer starts a nats-server with JetStream on a random port
// (Port: -1) storing in t.TempDir(), and shuts it down at the end of the
// test. Modeled on nats-server's RunBasicJetStreamServer.
func RunServer(t testing.TB) *server.Server {
	t.Helper()
	opts := &server.Options{
		ServerName: "flowrun-test",
		Host:       "127.0.0.1",
		Port:       -1,
		NoLog:      true,
		NoSigs:     true,
		JetStream:  true,
		StoreDir:   t.TempDir(),
		// Generous limits: tests publish a few MB at most.
		JetStreamMaxMemory: 256 << 20,
		JetStreamMaxStore:  1 << 30,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("jstest: new server: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		t.Fatal("jstest: server not ready after 10s")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// Connect connects to s (over TCP, like an external client) and closes the
// connection at the end of the test.
func Connect(t testing.TB, s *server.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatalf("jstest: connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// Eventually polls cond every 10ms until it returns true or the deadline
// passes, then fails the test with msg.
func Eventually(t testing.TB, d time.Duration, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("jstest: after %v: %s", d, msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
