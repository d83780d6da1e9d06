// Package state is the keyed state of operators: Keyed, a map from
// canonical key bytes to an operator's per-key value with per-stage Limits
// (max keys with a dead-letter overflow policy, TTL in event time), and a
// versioned, deterministic binary snapshot format (Encoder, Decoder).
//
// Keys are encoded with AppendKey (equal SQL values give equal bytes; 1 and
// 1.0 are one key) and hashed with Hash, which is stable across processes:
// row ids of aggregates are Mix(Hash(key), window start) and do not depend
// on the task, the stage or the arrival order.
//
//	st := state.NewKeyed[counter](state.Limits{MaxKeys: 100000, TTL: 3600000})
//	key := state.AppendKey(buf[:0], row[0])
//	e, created, err := st.Upsert(key, ts) // err wraps ErrLimit when full
//	e.V.n++
//	st.Advance(wm, nil)                   // expire keys idle for the TTL
//
// A snapshot starts with "FRS", a format version and the operator kind, so
// restoring another operator's or a newer format's bytes fails with
// ErrCorrupt instead of producing wrong state.
package state
