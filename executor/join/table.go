package join

import (
	"fmt"
	"slices"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/state"
	"github.com/flowrun/flowrun/udf"
)

// tableRight records a new version of a table row.
func (j *Join) tableRight(row udf.Row, id uint64, out executor.Collector) error {
	if len(row) < j.nr {
		return fmt.Errorf("join: table row of %d columns, want %d", len(row), j.nr)
	}
	var ts int64
	if j.timed {
		var ok bool
		if ts, ok = j.eventTime(row, j.rtime, out); !ok {
			return nil
		}
	}
	if state.HasNull(row, j.rkeys) {
		return nil // a NULL key matches nothing
	}
	j.keyBuf = state.AppendRowKey(j.keyBuf[:0], row, j.rkeys)
	e, _, err := j.tab.Upsert(j.keyBuf, ts)
	if err != nil {
		out.DeadLetter(executor.ClassStateLimit, j.limitReason(), row, nil)
		return nil
	}
	s := j.newStored(row, id, ts)
	v := e.V.v
	if !j.timed {
		clear(v)
		e.V.v = append(v[:0], s)
		return nil
	}
	// Insert after every version with ts <= s.ts (the later arrival wins a tie).
	i := len(v)
	for i > 0 && v[i-1].ts > ts {
		i--
	}
	v = slices.Insert(v, i, s)
	// Drop versions older than the newest one behind the watermark: pending
	// and future left rows all have event time >= the watermark.
	p := 0
	for k := range v {
		if v[k].ts < j.wm {
			p = k
		}
	}
	if p > 0 {
		n := copy(v, v[p:])
		clear(v[n:])
		v = v[:n]
	}
	e.V.v = v
	return nil
}

// tableLeft joins a left row now (arrival order) or when the watermark
// passes its event time.
func (j *Join) tableLeft(row udf.Row, id uint64, out executor.Collector) error {
	if len(row) < j.nl {
		return fmt.Errorf("join: row of %d columns, want %d", len(row), j.nl)
	}
	s := j.newStored(row, id, 0)
	if !j.timed {
		return j.lookup(s, out)
	}
	ts, ok := j.eventTime(row, j.ltime, out)
	if !ok {
		return nil
	}
	s.ts = ts
	j.pending.push(s)
	return nil
}

// lookup joins a left row with the table version current at its event time.
func (j *Join) lookup(l *stored, out executor.Collector) error {
	var match *stored
	if !state.HasNull(l.row, j.lkeys) {
		j.keyBuf = state.AppendRowKey(j.keyBuf[:0], l.row, j.lkeys)
		if e := j.tab.Get(j.keyBuf); e != nil {
			v := e.V.v
			if !j.timed {
				match = v[len(v)-1]
			} else {
				for k := len(v) - 1; k >= 0; k-- {
					if v[k].ts <= l.ts {
						match = v[k]
						break
					}
				}
			}
		}
	}
	if match != nil {
		ok, err := j.emit(l, match, out)
		if err != nil || ok {
			return err
		}
	}
	if j.left {
		_, err := j.emit(l, nil, out)
		return err
	}
	return nil
}

// tableWatermark joins the pending left rows whose event time the
// watermark has passed, in event-time then arrival order, and only then
// expires table rows by their TTL: the pending rows are older than the new
// watermark, and a big step of it (end of input is +inf) would otherwise
// expire the rows they must see.
func (j *Join) tableWatermark(out executor.Collector) error {
	for len(j.pending) > 0 && j.pending[0].ts < j.wm {
		if err := j.lookup(j.pending.pop(), out); err != nil {
			return err
		}
	}
	j.tab.Advance(j.wm, nil)
	return nil
}

// pendingHeap orders buffered left rows by (event time, arrival).
type pendingHeap []*stored

func pendingLess(a, b *stored) bool {
	if a.ts != b.ts {
		return a.ts < b.ts
	}
	return a.seq < b.seq
}

func (h *pendingHeap) push(x *stored) {
	*h = append(*h, x)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if !pendingLess(a[i], a[p]) {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *pendingHeap) pop() *stored {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a[n] = nil
	a = a[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && pendingLess(a[l], a[m]) {
			m = l
		}
		if r := l + 1; r < n && pendingLess(a[r], a[m]) {
			m = r
		}
		if m == i {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top
}
