package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Handle follows the current version of one model (champion, else latest)
// and swaps it in atomically: Current returns either the previous or the
// next fully loaded and validated version, never a half-loaded one. A
// version that fails validation (corrupt JSON, digest mismatch, wrong
// algorithm or feature count) is refused and logged, and the version
// already loaded keeps serving.
//
// Current and Wait are safe for concurrent use; the Loaded they return
// stays valid after a swap (it is simply no longer current).
type Handle struct {
	r      *Registry
	name   string
	algo   string // expected algorithm, "" for any
	nfeat  int    // expected feature count, 0 for any
	cur    atomic.Pointer[Loaded]
	ready  chan struct{}
	once   sync.Once
	cancel context.CancelFunc
	done   chan struct{}

	refused atomic.Int64
	swaps   atomic.Int64
	lastErr atomic.Pointer[error]
}

// HandleOption configures a Handle.
type HandleOption func(*Handle)

// Expect makes a Handle refuse versions whose algorithm is not algorithm
// (when not "") or whose metadata does not list exactly features features
// (when > 0): what a predict operator was planned for.
func Expect(algorithm string, features int) HandleOption {
	return func(h *Handle) { h.algo, h.nfeat = algorithm, features }
}

// Handle starts following model name; the model need not exist yet. Stop
// it with Close (Registry.Close stops all handles).
func (r *Registry) Handle(name string, opts ...HandleOption) *Handle {
	ctx, cancel := context.WithCancel(context.Background())
	h := &Handle{r: r, name: name, ready: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	for _, o := range opts {
		o(h)
	}
	r.mu.Lock()
	if r.closed {
		cancel()
	} else {
		r.handles[h] = struct{}{}
	}
	r.mu.Unlock()
	go h.run(ctx)
	return h
}

// Name returns the model name.
func (h *Handle) Name() string { return h.name }

// Current returns the version serving now, or nil before the first one is
// loaded.
func (h *Handle) Current() *Loaded { return h.cur.Load() }

// Wait returns the current version, waiting until one is loaded or ctx is
// done.
func (h *Handle) Wait(ctx context.Context) (*Loaded, error) {
	select {
	case <-h.ready:
		return h.cur.Load(), nil
	case <-ctx.Done():
		if p := h.lastErr.Load(); p != nil {
			return nil, fmt.Errorf("model %q not loaded: %w (last error: %v)", h.name, ctx.Err(), *p)
		}
		return nil, fmt.Errorf("model %q not loaded: %w", h.name, ctx.Err())
	case <-h.done:
		return nil, fmt.Errorf("model %q: handle closed", h.name)
	}
}

// Refused returns how many versions the handle refused.
func (h *Handle) Refused() int64 { return h.refused.Load() }

// Swaps returns how many versions the handle loaded.
func (h *Handle) Swaps() int64 { return h.swaps.Load() }

// Close stops following the model and waits for the watcher to exit.
// Current keeps returning the last version.
func (h *Handle) Close() {
	h.cancel()
	<-h.done
	h.r.mu.Lock()
	delete(h.r.handles, h)
	h.r.mu.Unlock()
}

func (h *Handle) run(ctx context.Context) {
	defer close(h.done)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		ch, err := h.r.Watch(ctx, h.name)
		if err != nil {
			h.fail(err)
		} else {
			backoff = 100 * time.Millisecond
			h.follow(ctx, ch)
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
			backoff = min(2*backoff, 5*time.Second)
		}
	}
}

// follow swaps in each version ch sends. A version that could not be read
// (a transient error, not a validation failure) is tried again with
// backoff until it loads or another version becomes current.
func (h *Handle) follow(ctx context.Context, ch <-chan Current) {
	var want Current
	var retry <-chan time.Time
	backoff := 100 * time.Millisecond
	for {
		select {
		case c, ok := <-ch:
			if !ok {
				return
			}
			want, retry, backoff = c, nil, 100*time.Millisecond
		case <-retry:
			retry = nil
		}
		if !h.swap(ctx, want) && ctx.Err() == nil {
			retry = time.After(backoff)
			backoff = min(2*backoff, 5*time.Second)
		}
	}
}

// swap loads and validates version c and makes it current. It returns
// false when the version could not be read and is worth trying again.
func (h *Handle) swap(ctx context.Context, c Current) bool {
	if old := h.cur.Load(); old != nil && old.Version == c.Version {
		return true
	}
	l, err := h.r.Load(ctx, h.name, c.Version)
	if err != nil && !isValidationError(err) {
		if ctx.Err() == nil {
			h.fail(err)
			h.r.log.Warn("registry: cannot read model version; will retry", "model", h.name, "version", c.Version, "err", err)
		}
		return false
	}
	if err == nil {
		err = h.check(l)
	}
	if err != nil {
		if ctx.Err() != nil {
			return true
		}
		h.refused.Add(1)
		h.fail(err)
		serving := 0
		if old := h.cur.Load(); old != nil {
			serving = old.Version
		}
		h.r.log.Error("registry: refused model version; keeping the one serving",
			"model", h.name, "version", c.Version, "serving", serving, "err", err)
		return true
	}
	h.cur.Store(l)
	h.swaps.Add(1)
	h.once.Do(func() { close(h.ready) })
	h.r.log.Info("registry: serving model version", "model", h.name, "version", l.Version, "champion", c.Champion)
	return true
}

func (h *Handle) check(l *Loaded) error {
	if h.algo != "" && l.Meta.Algorithm != h.algo {
		return fmt.Errorf("%w: version %d is %s, expected %s", ErrIncompatible, l.Version, l.Meta.Algorithm, h.algo)
	}
	if h.nfeat > 0 && len(l.Meta.Features) != h.nfeat {
		return fmt.Errorf("%w: version %d has %d features, expected %d", ErrIncompatible, l.Version, len(l.Meta.Features), h.nfeat)
	}
	return nil
}

func (h *Handle) fail(err error) { h.lastErr.Store(&err) }

func isValidationError(err error) bool {
	if errors.As(err, new(errMissing)) {
		return false
	}
	return errors.Is(err, ErrCorrupt) || errors.Is(err, ErrIncompatible) || errors.Is(err, ErrVersionNotFound) || errors.Is(err, ErrNotFound)
}
