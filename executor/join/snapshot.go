package join

import (
	"fmt"
	"slices"

	"github.com/flowrun/flowrun/executor/state"
	"github.com/flowrun/flowrun/planner"
)

func encodeStored(e *state.Encoder, s *stored) {
	e.Row(s.row)
	e.Uint64(s.id)
	e.Varint(s.ts)
	e.Uvarint(s.seq)
	e.Bool(s.matched)
}

func decodeStored(d *state.Decoder) *stored {
	return &stored{row: d.Row(), id: d.Uint64(), ts: d.Varint(), seq: d.Uvarint(), matched: d.Bool()}
}

func encodeList(e *state.Encoder, l []*stored) error {
	e.Uvarint(uint64(len(l)))
	for _, s := range l {
		encodeStored(e, s)
	}
	return nil
}

func decodeList(d *state.Decoder) []*stored {
	n := d.Len()
	out := make([]*stored, 0, n)
	for i := 0; i < n && d.Err() == nil; i++ {
		out = append(out, decodeStored(d))
	}
	return out
}

// Snapshot implements executor.Operator.
func (j *Join) Snapshot() ([]byte, error) {
	enc := state.NewEncoder("join")
	enc.Varint(j.wm)
	enc.Uvarint(j.seq)
	var err error
	if j.kind == planner.TableJoin {
		err = j.tab.Encode(enc, func(e *state.Encoder, v *versions) error { return encodeList(e, v.v) })
		p := slices.Clone(j.pending)
		slices.SortFunc(p, func(a, b *stored) int {
			if pendingLess(a, b) {
				return -1
			}
			return 1
		})
		encodeList(enc, p)
	} else {
		sideEnc := func(e *state.Encoder, s *side) error { e.Varint(s.idle); return encodeList(e, s.rows) }
		if err = j.ls.Encode(enc, sideEnc); err == nil {
			err = j.rs.Encode(enc, sideEnc)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("join: snapshot: %w", err)
	}
	return enc.Bytes(), nil
}

// Restore implements executor.Operator. An empty snapshot leaves the
// state empty.
func (j *Join) Restore(b []byte) error {
	if len(b) == 0 {
		return nil // no snapshot: keep the empty state
	}
	d, err := state.NewDecoder(b, "join")
	if err != nil {
		return fmt.Errorf("join: restore: %w", err)
	}
	wm, seq := d.Varint(), d.Uvarint()
	lim := j.lim
	if j.kind == planner.TableJoin {
		if !j.timed {
			lim.TTL = 0
		}
		tab := state.NewKeyed[versions](lim)
		err = tab.Decode(d, func(d *state.Decoder, v *versions) error { v.v = decodeList(d); return d.Err() })
		var pending pendingHeap
		for _, s := range decodeList(d) {
			pending.push(s)
		}
		if err == nil {
			err = d.Done()
		}
		if err != nil {
			return fmt.Errorf("join: restore: %w", err)
		}
		j.tab, j.pending = tab, pending
	} else {
		lim.TTL = 0
		ls, rs := state.NewKeyed[side](lim), state.NewKeyed[side](lim)
		sideDec := func(d *state.Decoder, s *side) error { s.idle = d.Varint(); s.rows = decodeList(d); return d.Err() }
		if err = ls.Decode(d, sideDec); err == nil {
			err = rs.Decode(d, sideDec)
		}
		if err == nil {
			err = d.Done()
		}
		if err != nil {
			return fmt.Errorf("join: restore: %w", err)
		}
		j.ls, j.rs, j.expires = ls, rs, nil
		for _, e := range ls.Sorted() {
			for _, s := range e.V.rows {
				j.expires.push(expiry{at: s.ts + j.upper, left: true, key: e.Key})
			}
			if len(e.V.rows) == 0 {
				j.expires.push(expiry{at: e.V.idle + j.keepIdle(), left: true, key: e.Key})
			}
		}
		for _, e := range rs.Sorted() {
			for _, s := range e.V.rows {
				j.expires.push(expiry{at: s.ts - j.lower, key: e.Key})
			}
			if len(e.V.rows) == 0 {
				j.expires.push(expiry{at: e.V.idle + j.keepIdle(), key: e.Key})
			}
		}
	}
	j.wm, j.seq = wm, seq
	return nil
}
