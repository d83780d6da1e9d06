package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/user"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/flowrun/flowrun/ml"
)

// The JetStream buckets of the registry (DESIGN §6).
const (
	ModelBucket = "flowrun-models"      // Object Store: <model>/v<N>.json, the ml JSON envelope
	IndexBucket = "flowrun-model-index" // KV: <model> → Entry as JSON
)

// MaxModelBytes caps the size of a model read by Import and PublishRaw.
const MaxModelBytes = 256 << 20

// Errors returned (wrapped) by the registry; check them with errors.Is.
var (
	ErrNotFound        = errors.New("registry: model not found")
	ErrVersionNotFound = errors.New("registry: model version not found")
	ErrInvalidName     = errors.New("registry: invalid model name")
	ErrCorrupt         = errors.New("registry: corrupt model")
	ErrIncompatible    = errors.New("registry: incompatible model")
	ErrNoPrevious      = errors.New("registry: no previous champion to roll back to")
	ErrConflict        = errors.New("registry: too many concurrent updates")
	ErrTooLarge        = errors.New("registry: model too large")
)

// errMissing is a ready version whose object is not in the store: corrupt
// for Load, but a Handle retries it (the store may be restoring or
// catching up).
type errMissing struct{ object string }

func (e errMissing) Error() string { return "object " + e.object + " is missing" }

// casRetries bounds the compare-and-set retries of one index update.
const casRetries = 100

// Registry stores model versions in JetStream. It is safe for concurrent
// use by many goroutines and, through KV compare-and-set, by many processes.
type Registry struct {
	js    jetstream.JetStream
	kv    jetstream.KeyValue
	obj   jetstream.ObjectStore
	actor string
	keep  int
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	closed  bool
	handles map[*Handle]struct{}
}

// Option configures Open.
type Option func(*Registry)

// WithActor sets who is recorded as the author of publications and
// promotions (default "$USER@$HOSTNAME").
func WithActor(actor string) Option { return func(r *Registry) { r.actor = actor } }

// DefaultKeep is the default number of versions kept per model.
const DefaultKeep = 100

// WithKeep sets how many versions of a model Publish keeps (default
// DefaultKeep; 0 keeps all). Older versions are deleted from the index and
// the object store, except the champion and the earlier champions that
// Rollback can return to.
func WithKeep(n int) Option { return func(r *Registry) { r.keep = n } }

// WithLogger sets the logger for refused models and watch errors (default
// slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(r *Registry) { r.log = l } }

// Open returns the registry over js, creating the buckets ModelBucket and
// IndexBucket when they are missing.
func Open(ctx context.Context, js jetstream.JetStream, opts ...Option) (*Registry, error) {
	r := &Registry{js: js, actor: defaultActor(), keep: DefaultKeep, log: slog.Default(), now: time.Now, handles: map[*Handle]struct{}{}}
	for _, o := range opts {
		o(r)
	}
	kv, err := js.KeyValue(ctx, IndexBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: IndexBucket, Description: "flowrun model registry index", History: 8,
		})
		if errors.Is(err, jetstream.ErrBucketExists) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			kv, err = js.KeyValue(ctx, IndexBucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("registry: open KV bucket %s: %w", IndexBucket, err)
	}
	obj, err := js.ObjectStore(ctx, ModelBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
		obj, err = js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket: ModelBucket, Description: "flowrun model versions",
		})
		if errors.Is(err, jetstream.ErrBucketExists) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			obj, err = js.ObjectStore(ctx, ModelBucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("registry: open object store %s: %w", ModelBucket, err)
	}
	r.kv, r.obj = kv, obj
	return r, nil
}

func defaultActor() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, _ := os.Hostname()
	switch {
	case name != "" && host != "":
		return name + "@" + host
	case name != "":
		return name
	}
	return host
}

// Close stops every Handle of the registry. It does not close the NATS
// connection, which the caller owns.
func (r *Registry) Close() {
	r.mu.Lock()
	hs := make([]*Handle, 0, len(r.handles))
	for h := range r.handles {
		hs = append(hs, h)
	}
	r.closed = true
	r.mu.Unlock()
	for _, h := range hs {
		h.Close()
	}
}

// Get returns the index entry of model name (ErrNotFound if there is none).
func (r *Registry) Get(ctx context.Context, name string) (*Entry, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	kve, err := r.kv.Get(ctx, name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: get %q: %w", name, err)
	}
	return decodeEntry(kve.Value(), kve.Revision())
}

// List returns the index entries of all models, sorted by name.
func (r *Registry) List(ctx context.Context) ([]*Entry, error) {
	lister, err := r.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("registry: list: %w", err)
	}
	var names []string
	for k := range lister.Keys() {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]*Entry, 0, len(names))
	for _, n := range names {
		e, err := r.Get(ctx, n)
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalidName) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// update applies fn to the current entry of name (nil when there is none)
// and stores the result with a compare-and-set on the KV revision,
// retrying on conflicts. fn may be called several times and must not keep
// its argument across calls.
func (r *Registry) update(ctx context.Context, name string, fn func(e *Entry) (*Entry, error)) (*Entry, error) {
	for range casRetries {
		var cur *Entry
		kve, err := r.kv.Get(ctx, name)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return nil, fmt.Errorf("registry: read index of %q: %w", name, err)
		default:
			if cur, err = decodeEntry(kve.Value(), kve.Revision()); err != nil {
				return nil, err
			}
		}
		next, err := fn(cur)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(next)
		if err != nil {
			return nil, fmt.Errorf("registry: encode index of %q: %w", name, err)
		}
		var rev uint64
		if cur == nil {
			rev, err = r.kv.Create(ctx, name, b)
		} else {
			rev, err = r.kv.Update(ctx, name, b, cur.revision)
		}
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("registry: write index of %q: %w", name, err)
		}
		next.revision = rev
		return next, nil
	}
	return nil, fmt.Errorf("%w of %q (gave up after %d attempts)", ErrConflict, name, casRetries)
}

// Publish stores m as a new version of model name and returns its number.
// Versions are numbered 1, 2, ... per model; concurrent publishers (in
// this or other processes) get distinct consecutive numbers.
func (r *Registry) Publish(ctx context.Context, name string, m ml.Model, meta VersionMeta) (int, error) {
	b, err := ml.Marshal(m)
	if err != nil {
		return 0, fmt.Errorf("registry: publish %q: %w", name, err)
	}
	return r.PublishRaw(ctx, name, b, meta)
}

// PublishRaw is Publish for a model already serialized by ml.Marshal. The
// document is validated with ml.Unmarshal before anything is stored.
//
// A version is published in three steps: the number is allocated by a
// compare-and-set of the index that adds a pending version; the model is
// stored under <name>/v<N>.json; a second compare-and-set marks the version
// ready. Readers never see a pending version, so they never load a model
// whose object is missing or half written.
func (r *Registry) PublishRaw(ctx context.Context, name string, model []byte, meta VersionMeta) (int, error) {
	if err := CheckName(name); err != nil {
		return 0, err
	}
	if len(model) > MaxModelBytes {
		return 0, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, len(model), MaxModelBytes)
	}
	m, err := ml.Unmarshal(model)
	if err != nil {
		return 0, fmt.Errorf("%w: publish %q: %v", ErrCorrupt, name, err)
	}
	if err := probe(m, len(meta.Features)); err != nil {
		return 0, fmt.Errorf("publish %q: %w", name, err)
	}
	if meta.Labels != nil {
		if a, ok := ml.Lookup(m.Algorithm()); ok && a.Kind != ml.KindClassifier {
			return 0, fmt.Errorf("%w: publish %q: labels given for %s, which is not a classifier", ErrIncompatible, name, m.Algorithm())
		}
		meta.Labels = meta.Labels.Clone()
		if err := meta.Labels.normalize(); err != nil {
			return 0, fmt.Errorf("%w: publish %q: %v", ErrIncompatible, name, err)
		}
	}
	if meta.Params == nil {
		meta.Params = m.Params()
	}
	meta.Features = append([]string(nil), meta.Features...)
	sum := sha256.Sum256(model)
	ver := Version{
		Created:     r.now().UTC(),
		CreatedBy:   r.actor,
		Algorithm:   m.Algorithm(),
		Size:        len(model),
		Digest:      "sha256:" + hex.EncodeToString(sum[:]),
		Pending:     true,
		VersionMeta: meta,
	}
	// 1. allocate.
	e, err := r.update(ctx, name, func(e *Entry) (*Entry, error) {
		if e == nil {
			e = &Entry{Name: name, NextVersion: 1}
		}
		if e.NextVersion < 1 {
			e.NextVersion = 1
		}
		v := ver
		v.Version = e.NextVersion
		v.Object = objectName(name, v.Version)
		e.NextVersion++
		e.Versions = append(e.Versions, v)
		return e, nil
	})
	if err != nil {
		return 0, err
	}
	n := e.NextVersion - 1
	// 2. store.
	if _, err := r.obj.Put(ctx, jetstream.ObjectMeta{
		Name:     objectName(name, n),
		Metadata: map[string]string{"model": name, "version": fmt.Sprint(n), "algorithm": ver.Algorithm},
	}, bytes.NewReader(model)); err != nil {
		err = fmt.Errorf("registry: store %s: %w", objectName(name, n), err)
		// Give the number up so that the index does not keep a pending
		// version forever (best effort: readers skip it anyway).
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		r.update(cctx, name, func(e *Entry) (*Entry, error) {
			if e == nil {
				return nil, ErrNotFound
			}
			e.Versions = slices.DeleteFunc(e.Versions, func(v Version) bool { return v.Version == n })
			return e, nil
		})
		return 0, err
	}
	// 3. mark ready, and drop versions beyond the retention.
	var drop []Version
	if _, err := r.update(ctx, name, func(e *Entry) (*Entry, error) {
		if e == nil {
			return nil, fmt.Errorf("%w: %q vanished while publishing version %d", ErrNotFound, name, n)
		}
		found := false
		for i := range e.Versions {
			if e.Versions[i].Version == n {
				e.Versions[i].Pending = false
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("%w: version %d of %q vanished while publishing", ErrVersionNotFound, n, name)
		}
		drop = e.prune(r.keep)
		return e, nil
	}); err != nil {
		return 0, err
	}
	for _, v := range drop {
		if err := r.obj.Delete(ctx, v.Object); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			r.log.Warn("registry: delete old version", "model", name, "version", v.Version, "err", err)
		}
	}
	return n, nil
}

// Loaded is a validated model version. Model is not safe for concurrent
// use (see ml.Model): one goroutine may use it; concurrent callers use
// Predict, which hands each caller its own copy.
type Loaded struct {
	Name    string
	Version int
	Model   ml.Model
	Meta    Version

	raw  []byte
	pool sync.Pool
}

func newLoaded(name string, v *Version, m ml.Model, raw []byte) *Loaded {
	l := &Loaded{Name: name, Version: v.Version, Model: m, Meta: *v, raw: raw}
	l.pool.New = func() any {
		c, err := ml.Unmarshal(l.raw)
		if err != nil { // validated once already: cannot happen
			panic("registry: reload of a validated model failed: " + err.Error())
		}
		return c
	}
	return l
}

// Predict returns the model's score for x. It is safe for concurrent use.
func (l *Loaded) Predict(x ml.Vector) float64 {
	m := l.pool.Get().(ml.Model)
	y := m.Predict(x)
	l.pool.Put(m)
	return y
}

// With calls fn with a copy of the model that no other goroutine uses
// during the call (for Classifier methods and batches).
func (l *Loaded) With(fn func(m ml.Model)) {
	m := l.pool.Get().(ml.Model)
	defer l.pool.Put(m)
	fn(m)
}

// Raw returns the stored model JSON; the caller must not modify it.
func (l *Loaded) Raw() []byte { return l.raw }

// Load returns version v of model name, read from the object store and
// validated: the digest must match the index, the document must unmarshal,
// its algorithm must be the recorded one and it must accept a vector of
// the recorded feature count. It fails with ErrCorrupt or ErrIncompatible
// otherwise.
func (r *Registry) Load(ctx context.Context, name string, v int) (*Loaded, error) {
	e, err := r.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	ver := e.Version(v)
	if ver == nil {
		return nil, fmt.Errorf("%w: %q version %d", ErrVersionNotFound, name, v)
	}
	return r.load(ctx, name, ver)
}

// LoadCurrent returns the champion of model name, or its latest version
// when no champion is set.
func (r *Registry) LoadCurrent(ctx context.Context, name string) (*Loaded, error) {
	e, err := r.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	ver := e.Current()
	if ver == nil {
		return nil, fmt.Errorf("%w: %q has no ready version", ErrVersionNotFound, name)
	}
	return r.load(ctx, name, ver)
}

func (r *Registry) load(ctx context.Context, name string, ver *Version) (*Loaded, error) {
	raw, err := r.obj.GetBytes(ctx, ver.Object)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("%w: %q version %d: %w", ErrCorrupt, name, ver.Version, errMissing{ver.Object})
	}
	if err != nil {
		return nil, fmt.Errorf("registry: read %s: %w", ver.Object, err)
	}
	m, err := validate(raw, ver)
	if err != nil {
		return nil, fmt.Errorf("%q version %d: %w", name, ver.Version, err)
	}
	return newLoaded(name, ver, m, raw), nil
}

// validate checks raw against its index entry and returns the model.
func validate(raw []byte, ver *Version) (ml.Model, error) {
	if ver.Digest != "" {
		sum := sha256.Sum256(raw)
		if got := "sha256:" + hex.EncodeToString(sum[:]); got != ver.Digest {
			return nil, fmt.Errorf("%w: digest %s does not match the index (%s)", ErrCorrupt, got, ver.Digest)
		}
	}
	m, err := ml.Unmarshal(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if ver.Algorithm != "" && m.Algorithm() != ver.Algorithm {
		return nil, fmt.Errorf("%w: algorithm %s, the index says %s", ErrIncompatible, m.Algorithm(), ver.Algorithm)
	}
	if err := probe(m, len(ver.Features)); err != nil {
		return nil, err
	}
	if ver.Labels != nil {
		if err := ver.Labels.Check(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
	}
	return m, nil
}

// probe checks that m accepts a vector of n features: it predicts a zero
// vector, which must neither panic nor give a NaN, and compares n with the
// model's own feature count when the model reports one.
func probe(m ml.Model, n int) (err error) {
	if d, ok := m.(interface{ NumFeatures() int }); ok && n > 0 {
		if k := d.NumFeatures(); k > 0 && k != n {
			return fmt.Errorf("%w: model has %d features, metadata lists %d", ErrIncompatible, k, n)
		}
	}
	if n == 0 {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: predict on %d features panicked: %v", ErrIncompatible, n, p)
		}
	}()
	if y := m.Predict(ml.Dense(make([]float64, n))); math.IsNaN(y) {
		return fmt.Errorf("%w: predict on %d zero features gives NaN", ErrIncompatible, n)
	}
	return nil
}

// Promote makes version v the champion of model name, recording who and
// when. Promoting the current champion changes nothing.
func (r *Registry) Promote(ctx context.Context, name string, v int) error {
	if err := CheckName(name); err != nil {
		return err
	}
	_, err := r.update(ctx, name, func(e *Entry) (*Entry, error) {
		if e == nil {
			return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
		}
		if e.Version(v) == nil {
			return nil, fmt.Errorf("%w: %q version %d", ErrVersionNotFound, name, v)
		}
		prev, had := e.Aliases[Champion]
		if had && prev == v {
			return e, nil
		}
		if e.Aliases == nil {
			e.Aliases = map[string]int{}
		}
		if had {
			e.ChampionHistory = append(e.ChampionHistory, prev)
		}
		e.Aliases[Champion] = v
		e.addEvent(Event{Action: "promote", Alias: Champion, Version: v, Previous: prev, By: r.actor, At: r.now().UTC()})
		return e, nil
	})
	return err
}

// Rollback makes the previous champion of model name the champion again
// and returns its version. Rollbacks walk back through earlier champions;
// ErrNoPrevious when there is none.
func (r *Registry) Rollback(ctx context.Context, name string) (int, error) {
	if err := CheckName(name); err != nil {
		return 0, err
	}
	var to int
	_, err := r.update(ctx, name, func(e *Entry) (*Entry, error) {
		if e == nil {
			return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
		}
		cur := e.Aliases[Champion]
		for len(e.ChampionHistory) > 0 {
			prev := e.ChampionHistory[len(e.ChampionHistory)-1]
			e.ChampionHistory = e.ChampionHistory[:len(e.ChampionHistory)-1]
			if prev != cur && e.Version(prev) != nil {
				to = prev
				e.Aliases[Champion] = prev
				e.addEvent(Event{Action: "rollback", Alias: Champion, Version: prev, Previous: cur, By: r.actor, At: r.now().UTC()})
				return e, nil
			}
		}
		return nil, fmt.Errorf("%w (model %q, champion %d)", ErrNoPrevious, name, cur)
	})
	return to, err
}

// Export writes the stored JSON of version v of model name (0: the current
// version) to w, after validating it.
func (r *Registry) Export(ctx context.Context, name string, v int, w io.Writer) error {
	var l *Loaded
	var err error
	if v == 0 {
		l, err = r.LoadCurrent(ctx, name)
	} else {
		l, err = r.Load(ctx, name, v)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(l.raw)
	return err
}

// Import reads a model JSON document (as written by Export or ml.Marshal)
// from rd and publishes it as a new version of model name.
func (r *Registry) Import(ctx context.Context, name string, rd io.Reader, meta VersionMeta) (int, error) {
	b, err := io.ReadAll(io.LimitReader(rd, MaxModelBytes+1))
	if err != nil {
		return 0, fmt.Errorf("registry: import %q: %w", name, err)
	}
	if len(b) > MaxModelBytes {
		return 0, fmt.Errorf("%w: more than %d bytes (MaxModelBytes)", ErrTooLarge, MaxModelBytes)
	}
	return r.PublishRaw(ctx, name, b, meta)
}

// Current is the version that serves a model, as sent by Watch.
type Current struct {
	Name     string
	Version  int
	Champion bool // Version is the champion (else the latest version)
}

// Watch sends the current version of model name (champion, else latest)
// now, if there is one, and again every time it changes, until ctx is
// done; then it closes the channel. A slow receiver delays later updates
// but never loses the last one.
func (r *Registry) Watch(ctx context.Context, name string) (<-chan Current, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	w, err := r.kv.Watch(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("registry: watch %q: %w", name, err)
	}
	out := make(chan Current, 1)
	go func() {
		defer close(out)
		defer w.Stop()
		last := -1
		for {
			select {
			case <-ctx.Done():
				return
			case kve, ok := <-w.Updates():
				if !ok {
					return
				}
				if kve == nil || kve.Operation() != jetstream.KeyValuePut {
					continue
				}
				e, err := decodeEntry(kve.Value(), kve.Revision())
				if err != nil {
					r.log.Warn("registry: ignoring undecodable index entry", "model", name, "err", err)
					continue
				}
				v := e.Current()
				if v == nil || v.Version == last {
					continue
				}
				last = v.Version
				_, champ := e.Aliases[Champion]
				c := Current{Name: name, Version: v.Version, Champion: champ && e.Aliases[Champion] == v.Version}
				select {
				case out <- c:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}
