package jetstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	jsapi "github.com/nats-io/nats.go/jetstream"
)

// Errors of this package, checked with errors.Is.
var (
	ErrServerNotReady = errors.New("jetstream: embedded server not ready")
	ErrNoStream       = errors.New("jetstream: stream does not exist")
)

// Options say where JetStream is: an external server (URL set) or an
// embedded one (URL empty).
type Options struct {
	// URL of an external NATS server; empty starts an embedded server.
	URL string
	// Creds is a credentials file (external server).
	Creds string
	// Token is an auth token (external server).
	Token string
	// TLSCA, TLSCert and TLSKey configure TLS to an external server.
	TLSCA, TLSCert, TLSKey string
	// StoreDir is the embedded server's JetStream store ("./.flowrun" if empty).
	StoreDir string
	// Listen is HOST:PORT for the embedded server to accept clients on; empty
	// means no TCP listener (in-process connection only).
	Listen string
	// Name is the client connection name.
	Name string
	// MaxPending bounds outstanding async publishes (flow control); 0 = 4096.
	MaxPending int
	// Logger receives connection events; nil is slog.Default().
	Logger *slog.Logger
}

// Conn is a connection to JetStream, with the embedded server it started
// (if any). It is safe for concurrent use.
type Conn struct {
	NC *nats.Conn
	JS jsapi.JetStream
	// SubNC and SubJS are a second connection that sources consume on, so
	// that pull requests and deliveries never queue behind sink publishes.
	SubNC *nats.Conn
	SubJS jsapi.JetStream
	Srv   *server.Server // nil for an external server
	log   *slog.Logger

	acks   *acker // asynchronous publishes and their acks
	unlock func() // releases the embedded server's store lock

	streamMu sync.Mutex // serializes EnsureStream's read-modify-write of a stream's subjects
}

// DefaultStoreDir is the embedded server's store when none is given.
const DefaultStoreDir = ".flowrun"

// StartServer starts an embedded nats-server with JetStream storing in
// dir. listen is HOST:PORT for client connections, or "" for none
// (connect with nats.InProcessServer).
func StartServer(dir, listen string) (*server.Server, error) {
	if dir == "" {
		dir = DefaultStoreDir
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("jetstream: store: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	opts := &server.Options{
		ServerName: "flowrun",
		JetStream:  true,
		StoreDir:   abs,
		NoLog:      true,
		NoSigs:     true,
		MaxPayload: 8 << 20,
	}
	if listen == "" {
		opts.DontListen = true
	} else {
		host, port, err := net.SplitHostPort(listen)
		if err != nil {
			return nil, fmt.Errorf("jetstream: --listen %q: %w", listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("jetstream: --listen %q: bad port", listen)
		}
		opts.Host, opts.Port = host, p
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("jetstream: embedded server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(15 * time.Second) {
		s.Shutdown()
		return nil, ErrServerNotReady
	}
	return s, nil
}

// Connect connects to JetStream as o says, starting an embedded server when
// o.URL is empty.
func Connect(ctx context.Context, o Options) (*Conn, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	name := o.Name
	if name == "" {
		name = "flowrun"
	}
	nopts := []nats.Option{nats.Name(name), nats.MaxReconnects(-1)}
	var srv *server.Server
	url := o.URL
	unlock := func() {}
	if url == "" {
		var err error
		if unlock, err = LockStore(o.StoreDir, o.Listen); err != nil {
			return nil, err
		}
		s, err := StartServer(o.StoreDir, o.Listen)
		if err != nil {
			unlock()
			return nil, err
		}
		srv = s
		nopts = append(nopts, nats.InProcessServer(s))
		log.Info("embedded JetStream started", "store", s.JetStreamConfig().StoreDir, "listen", o.Listen)
	} else {
		if o.Creds != "" {
			nopts = append(nopts, nats.UserCredentials(o.Creds))
		}
		if o.Token != "" {
			nopts = append(nopts, nats.Token(o.Token))
		}
		if o.TLSCA != "" {
			nopts = append(nopts, nats.RootCAs(o.TLSCA))
		}
		if o.TLSCert != "" || o.TLSKey != "" {
			nopts = append(nopts, nats.ClientCert(o.TLSCert, o.TLSKey))
		}
	}
	nc, err := nats.Connect(url, nopts...)
	if err != nil {
		if srv != nil {
			srv.Shutdown()
			srv.WaitForShutdown()
		}
		unlock()
		return nil, fmt.Errorf("jetstream: connect %s: %w", displayURL(url), err)
	}
	c, err := NewConn(nc, o.MaxPending)
	if err != nil {
		nc.Close()
		if srv != nil {
			srv.Shutdown()
			srv.WaitForShutdown()
		}
		unlock()
		return nil, err
	}
	c.Srv, c.log, c.unlock = srv, log, unlock
	snc, err := nats.Connect(url, append(nopts, nats.Name(name+" (consume)"))...)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("jetstream: connect %s: %w", displayURL(url), err)
	}
	sjs, err := jsapi.New(snc)
	if err != nil {
		snc.Close()
		c.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	c.SubNC, c.SubJS = snc, sjs
	// Fail early when JetStream is not enabled on an external server.
	if _, err := c.JS.AccountInfo(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("jetstream: account info at %s: %w", displayURL(url), err)
	}
	return c, nil
}

// NewConn wraps an existing connection (tests, embedding programs).
// maxPending bounds outstanding async publishes; 0 means 4096. Sources
// consume on nc too; Connect gives them a second connection (SubNC),
// which a program under load should do as well (docs/operations.md).
func NewConn(nc *nats.Conn, maxPending int) (*Conn, error) {
	if maxPending <= 0 {
		maxPending = 4096
	}
	c := &Conn{NC: nc, SubNC: nc, log: slog.Default()}
	js, err := jsapi.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	c.JS, c.SubJS = js, js
	if c.acks, err = newAcker(nc, maxPending); err != nil {
		return nil, err
	}
	return c, nil
}

// PublishErr returns the first asynchronous publish that failed, or nil.
func (c *Conn) PublishErr() error {
	c.acks.mu.Lock()
	defer c.acks.mu.Unlock()
	return c.acks.err
}

// PublishAsync publishes m asynchronously to JetStream, waiting while too
// many publishes are outstanding (flow control) until ctx ends. Its ack is
// tracked by the Conn (m.Reply is set): a failure shows up in PublishErr
// and Flush.
func (c *Conn) PublishAsync(ctx context.Context, m *nats.Msg) error {
	return c.acks.publish(ctx, m)
}

// PublishPending returns the number of asynchronous publishes not yet
// acknowledged.
func (c *Conn) PublishPending() int { return c.acks.pending() }

// Flush waits until every asynchronous publish is acknowledged (or ctx
// ends, or no ack arrives for AckTimeout) and returns the first publish
// error.
func (c *Conn) Flush(ctx context.Context) error {
	if err := c.acks.flush(ctx); err != nil {
		return err
	}
	return c.PublishErr()
}

func displayURL(u string) string {
	if u == "" {
		return "embedded server"
	}
	return u
}

// Close flushes and closes the connection and shuts the embedded server
// down (waiting for it).
func (c *Conn) Close() {
	if c.acks != nil {
		c.acks.close()
	}
	if c.SubNC != nil && !c.SubNC.IsClosed() {
		c.SubNC.Close()
	}
	if c.NC != nil && !c.NC.IsClosed() {
		_ = c.NC.FlushTimeout(5 * time.Second)
		c.NC.Close()
	}
	if c.Srv != nil {
		c.Srv.Shutdown()
		c.Srv.WaitForShutdown()
	}
	if c.unlock != nil {
		c.unlock()
		c.unlock = nil
	}
}

// DefaultSubjects returns the subjects of a stream a job names without
// subjects: "<stream lower-case>.>".
func DefaultSubjects(stream string) []string {
	return []string{strings.ToLower(stream) + ".>"}
}

// DefaultDuplicateWindow is the duplicate window of the streams flowrun
// creates (JetStream's default).
const DefaultDuplicateWindow = 2 * time.Minute

// EnsureStream creates the stream with subjects when it does not exist
// (create true); an existing stream is left as it is. With create false a
// missing stream is ErrNoStream.
func (c *Conn) EnsureStream(ctx context.Context, name string, subjects []string, create bool) (jsapi.Stream, error) {
	return c.EnsureStreamDup(ctx, name, subjects, create, 0)
}

// EnsureStreamDup is EnsureStream creating the stream with duplicate
// window dup (0: DefaultDuplicateWindow). An existing stream keeps its
// window; a different one than asked is logged.
func (c *Conn) EnsureStreamDup(ctx context.Context, name string, subjects []string, create bool, dup time.Duration) (jsapi.Stream, error) {
	if dup <= 0 {
		dup = DefaultDuplicateWindow
	}
	c.streamMu.Lock()
	defer c.streamMu.Unlock()
	s, err := c.JS.Stream(ctx, name)
	if err == nil {
		if have := s.CachedInfo().Config.Duplicates; have != dup && dup != DefaultDuplicateWindow {
			c.log.Warn("existing stream keeps its duplicate window", "stream", name, "window", have, "asked", dup)
		}
		return c.addSubjects(ctx, s, subjects, create)
	}
	if !errors.Is(err, jsapi.ErrStreamNotFound) {
		return nil, fmt.Errorf("jetstream: stream %s: %w", name, err)
	}
	if !create {
		return nil, fmt.Errorf("%w: %s (run with --create-streams)", ErrNoStream, name)
	}
	if len(subjects) == 0 {
		subjects = DefaultSubjects(name)
	}
	s, err = c.JS.CreateStream(ctx, jsapi.StreamConfig{
		Name:       name,
		Subjects:   subjects,
		Storage:    jsapi.FileStorage,
		Duplicates: dup,
	})
	if errors.Is(err, jsapi.ErrStreamNameAlreadyInUse) {
		return c.JS.Stream(ctx, name)
	}
	if err != nil {
		return nil, fmt.Errorf("jetstream: create stream %s %v: %w", name, subjects, err)
	}
	c.log.Info("stream created", "stream", name, "subjects", subjects)
	return s, nil
}

// addSubjects makes an existing stream take every subject of subjects
// (several sources or sinks may share one stream with different
// subjects). A subject already matched by one of the stream's subjects is
// left alone; the others are added when create is set, else it is an error.
func (c *Conn) addSubjects(ctx context.Context, s jsapi.Stream, subjects []string, create bool) (jsapi.Stream, error) {
	cfg := s.CachedInfo().Config
	var missing []string
	for _, subj := range subjects {
		covered := false
		for _, have := range cfg.Subjects {
			if subjectCovers(have, subj) {
				covered = true
				break
			}
		}
		if !covered {
			missing = append(missing, subj)
		}
	}
	if len(missing) == 0 {
		return s, nil
	}
	if !create {
		return nil, fmt.Errorf("%w: stream %s does not take subjects %v (add them, or run with --create-streams)", ErrNoStream, cfg.Name, missing)
	}
	cfg.Subjects = append(cfg.Subjects, missing...)
	s, err := c.JS.UpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("jetstream: add subjects %v to stream %s: %w", missing, cfg.Name, err)
	}
	c.log.Info("stream subjects added", "stream", cfg.Name, "subjects", missing)
	return s, nil
}

// subjectCovers reports whether every subject matching pattern sub also
// matches pattern have (NATS wildcards: * one token, > the rest).
func subjectCovers(have, sub string) bool {
	ht, st := strings.Split(have, "."), strings.Split(sub, ".")
	for i, h := range ht {
		if h == ">" {
			return i < len(st)
		}
		if i >= len(st) {
			return false
		}
		switch {
		case h == "*":
			if st[i] == ">" {
				return false
			}
		case h != st[i]:
			return false
		}
	}
	return len(ht) == len(st)
}
