package state

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flowrun/flowrun/planner"
)

// ErrLimit is the error (wrapped) of an insertion into a Keyed that holds
// its maximum number of keys. Operators send the row to the dead-letter
// stream with class state-limit (executor.ClassStateLimit) and go on.
var ErrLimit = errors.New("state limit")

// Limits bound the keyed state of one task of a stage.
//
// Overflow policy: when a task holds MaxKeys keys, rows of keys it already
// holds are processed as usual and rows that would create a new key are
// dead-lettered with class state-limit; a key becomes free again when its
// state is released (window fired, TTL expired, join rows expired). Nothing
// is evicted silently.
//
// TTL is in event time: a key not updated for TTL (its newest event time +
// TTL <= the watermark) is forgotten, so a later row of the key starts from
// empty state. Expired keys are checked on access and swept from memory
// every TTL/4 of watermark progress.
type Limits struct {
	MaxKeys int   // 0: unlimited
	TTL     int64 // milliseconds of event time; 0: keep forever
}

// LimitsOf returns the limits declared for a node: the smallest positive
// MaxKeys and TTL over node.State.
func LimitsOf(node *planner.Node) Limits {
	var l Limits
	for _, s := range node.State {
		if s.MaxKeys > 0 && (l.MaxKeys == 0 || s.MaxKeys < l.MaxKeys) {
			l.MaxKeys = s.MaxKeys
		}
		if ttl := time.Duration(s.TTL).Milliseconds(); ttl > 0 && (l.TTL == 0 || ttl < l.TTL) {
			l.TTL = ttl
		}
	}
	return l
}

// LimitReason is the dead-letter reason for a row refused by the limit.
func (l Limits) LimitReason(stage string) string {
	return fmt.Sprintf("state limit: stage %q holds its maximum of %d keys per task (raise the stage's limits.maxKeys, set limits.ttl, or raise parallelism)", stage, l.MaxKeys)
}

// Store is the one interface of keyed operator state: values of type V
// under canonical key bytes (AppendKey), bounded by Limits, expired by
// event time, snapshotted into a versioned binary form. Keyed is the
// in-memory implementation; every operator holds its state through Store,
// so another implementation (spilling, remote) can replace it.
//
// A Store is used by one goroutine (its operator). Entries returned stay
// valid until the key is deleted or expires; V is modified in place.
type Store[V any] interface {
	// Get returns the live entry of key, or nil; lookups do not allocate.
	Get(key []byte) *Entry[V]
	// GetString is Get with a string key.
	GetString(key string) *Entry[V]
	// Upsert returns the entry of key, creating it if absent (created),
	// and records ts as an update time. A new key beyond MaxKeys is an
	// error wrapping ErrLimit.
	Upsert(key []byte, ts int64) (e *Entry[V], created bool, err error)
	// Delete removes a key.
	Delete(key string)
	// Advance records the watermark and sweeps keys idle for the TTL.
	Advance(wm int64, onExpire func(*Entry[V]))
	// Len is the number of keys held; Full reports that a new key would be
	// refused.
	Len() int
	Full() bool
	Limits() Limits
	Watermark() int64
	// Sorted returns the entries in key order.
	Sorted() []*Entry[V]
	// Encode and Decode write and read the whole state (deterministically:
	// in key order) with a codec for V.
	Encode(e *Encoder, enc func(*Encoder, *V) error) error
	Decode(d *Decoder, dec func(*Decoder, *V) error) error
}

var _ Store[int] = (*Keyed[int])(nil)

// Entry is the state of one key.
type Entry[V any] struct {
	Key  string // canonical key bytes (AppendKey)
	Last int64  // newest event time that touched the key (TTL)
	V    V
}

// Keyed is the keyed state of one operator task: a map from canonical key
// bytes to V with Limits, TTL expiry by event time, and a deterministic
// binary snapshot. Lookups with a []byte key do not allocate; inserting a
// new key allocates the key string and the entry.
//
// Keyed is not safe for concurrent use; an operator owns it.
type Keyed[V any] struct {
	m     map[string]*Entry[V]
	lim   Limits
	wm    int64
	swept int64
}

const minWM = -1 << 63

// NewKeyed returns an empty state with limits.
func NewKeyed[V any](lim Limits) *Keyed[V] {
	return &Keyed[V]{m: make(map[string]*Entry[V]), lim: lim, wm: minWM, swept: minWM}
}

// Limits returns the limits.
func (k *Keyed[V]) Limits() Limits { return k.lim }

// Len returns the number of keys held.
func (k *Keyed[V]) Len() int { return len(k.m) }

// Watermark returns the last watermark given to Advance.
func (k *Keyed[V]) Watermark() int64 { return k.wm }

func (k *Keyed[V]) expired(e *Entry[V]) bool {
	return k.lim.TTL > 0 && k.wm != minWM && e.Last <= k.wm-k.lim.TTL
}

// Get returns the live entry of key, or nil. An expired entry is removed.
func (k *Keyed[V]) Get(key []byte) *Entry[V] {
	e := k.m[string(key)]
	if e != nil && k.expired(e) {
		delete(k.m, e.Key)
		return nil
	}
	return e
}

// GetString is Get with a string key.
func (k *Keyed[V]) GetString(key string) *Entry[V] {
	e := k.m[key]
	if e != nil && k.expired(e) {
		delete(k.m, e.Key)
		return nil
	}
	return e
}

// Upsert returns the entry of key, creating it (with the zero V) if absent
// or expired, and records ts as an update time. created says the entry is
// new. When the state is full, Upsert of a new key returns an error
// wrapping ErrLimit and changes nothing.
func (k *Keyed[V]) Upsert(key []byte, ts int64) (e *Entry[V], created bool, err error) {
	e = k.Get(key)
	if e == nil {
		if k.lim.MaxKeys > 0 && len(k.m) >= k.lim.MaxKeys {
			return nil, false, fmt.Errorf("%w: %d keys", ErrLimit, k.lim.MaxKeys)
		}
		e = &Entry[V]{Key: string(key), Last: ts}
		k.m[e.Key] = e
		return e, true, nil
	}
	if ts > e.Last {
		e.Last = ts
	}
	return e, false, nil
}

// Full reports whether a new key would be refused.
func (k *Keyed[V]) Full() bool { return k.lim.MaxKeys > 0 && len(k.m) >= k.lim.MaxKeys }

// Delete removes a key.
func (k *Keyed[V]) Delete(key string) { delete(k.m, key) }

// Advance records the watermark and sweeps expired keys every TTL/4 of
// progress. onExpire, if not nil, sees each swept entry (in key order).
func (k *Keyed[V]) Advance(wm int64, onExpire func(*Entry[V])) {
	if wm <= k.wm {
		return
	}
	k.wm = wm
	if k.lim.TTL <= 0 {
		return
	}
	if k.swept != minWM && wm-k.swept < max(k.lim.TTL/4, 1) {
		return
	}
	k.swept = wm
	var dead []*Entry[V]
	for _, e := range k.m {
		if k.expired(e) {
			dead = append(dead, e)
		}
	}
	slices.SortFunc(dead, func(a, b *Entry[V]) int { return strings.Compare(a.Key, b.Key) })
	for _, e := range dead {
		delete(k.m, e.Key)
		if onExpire != nil {
			onExpire(e)
		}
	}
}

// All calls f for every entry in unspecified order; f may Delete the entry.
func (k *Keyed[V]) All(f func(*Entry[V])) {
	for _, e := range k.m {
		f(e)
	}
}

// Sorted returns the entries in key order.
func (k *Keyed[V]) Sorted() []*Entry[V] {
	out := make([]*Entry[V], 0, len(k.m))
	for _, e := range k.m {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *Entry[V]) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Encode writes the state in key order: watermark, sweep mark, then each
// key, its update time and its value written by enc.
func (k *Keyed[V]) Encode(e *Encoder, enc func(*Encoder, *V) error) error {
	e.Varint(k.wm)
	e.Varint(k.swept)
	entries := k.Sorted()
	e.Uvarint(uint64(len(entries)))
	for _, en := range entries {
		e.String(en.Key)
		e.Varint(en.Last)
		if err := enc(e, &en.V); err != nil {
			return fmt.Errorf("state: encode key: %w", err)
		}
	}
	return nil
}

// Decode replaces the state with one written by Encode; dec reads a value.
// Limits are not part of a snapshot: they come from the plan.
func (k *Keyed[V]) Decode(d *Decoder, dec func(*Decoder, *V) error) error {
	k.m = make(map[string]*Entry[V])
	k.wm = d.Varint()
	k.swept = d.Varint()
	n := d.Len()
	for i := 0; i < n && d.Err() == nil; i++ {
		en := &Entry[V]{Key: d.String(), Last: d.Varint()}
		if err := dec(d, &en.V); err != nil {
			return err
		}
		k.m[en.Key] = en
	}
	return d.Err()
}
