package join

import (
	"fmt"
	"strings"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/state"
	"github.com/flowrun/flowrun/udf"
)

// streamRow handles a row of an interval or window join.
func (j *Join) streamRow(port int, row udf.Row, id uint64, out executor.Collector) error {
	isLeft := port == 0
	tcol, keys, mine, other := j.rtime, j.rkeys, j.rs, j.ls
	if isLeft {
		tcol, keys, mine, other = j.ltime, j.lkeys, j.ls, j.rs
	}
	if len(row) < j.width(isLeft) {
		return fmt.Errorf("join: row of %d columns on port %d, want %d", len(row), port, j.width(isLeft))
	}
	ts, ok := j.eventTime(row, tcol, out)
	if !ok {
		return nil
	}
	s := j.newStored(row, id, ts)
	if state.HasNull(row, keys) {
		if isLeft && j.left {
			_, err := j.emit(s, nil, out) // can never match
			return err
		}
		return nil
	}
	j.keyBuf = state.AppendRowKey(j.keyBuf[:0], row, keys)
	e, _, err := mine.Upsert(j.keyBuf, ts)
	if err != nil {
		out.DeadLetter(executor.ClassStateLimit, j.limitReason(), row, nil)
		return nil
	}
	if oe := other.Get(j.keyBuf); oe != nil {
		for _, o := range oe.V.rows {
			l, r := s, o
			if !isLeft {
				l, r = o, s
			}
			if d := r.ts - l.ts; d < j.lower || d > j.upper {
				continue
			}
			ok, err := j.emit(l, r, out)
			if err != nil {
				return err
			}
			if ok {
				l.matched = true
			}
		}
	}
	e.V.rows = append(e.V.rows, s)
	e.V.idle = executor.MinWatermark
	at := ts + j.upper // left: dropped when at < wm
	if !isLeft {
		at = ts - j.lower
	}
	j.expires.push(expiry{at: at, left: isLeft, key: e.Key})
	return nil
}

func (j *Join) width(isLeft bool) int {
	if isLeft {
		return j.nl
	}
	return j.nr
}

// expire drops the rows of one key and side that can match nothing more.
func (j *Join) expire(x expiry, out executor.Collector) error {
	st := j.rs
	if x.left {
		st = j.ls
	}
	e := st.GetString(x.key)
	if e == nil {
		return nil
	}
	keep := e.V.rows[:0]
	for _, s := range e.V.rows {
		at := s.ts - j.lower
		if x.left {
			at = s.ts + j.upper
		}
		if at >= j.wm {
			keep = append(keep, s)
			continue
		}
		if x.left && j.left && !s.matched {
			if _, err := j.emit(s, nil, out); err != nil {
				return err
			}
		}
	}
	clear(e.V.rows[len(keep):])
	e.V.rows = keep
	switch {
	case len(keep) > 0:
	case e.V.idle == executor.MinWatermark:
		if j.wm > executor.MaxWatermark-j.keepIdle() {
			st.Delete(x.key) // end of input
			break
		}
		e.V.idle = j.wm // just emptied: keep it a while
		j.expires.push(expiry{at: j.wm + j.keepIdle(), left: x.left, key: x.key})
	case e.V.idle < j.wm-j.keepIdle():
		st.Delete(x.key)
	}
	return nil
}

// expiry says that rows of a key on one side may expire at watermark > at.
type expiry struct {
	at   int64
	left bool
	key  string
}

func (a expiry) less(b expiry) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	if a.left != b.left {
		return a.left
	}
	return strings.Compare(a.key, b.key) < 0
}

type expiryHeap []expiry

func (h *expiryHeap) push(x expiry) {
	*h = append(*h, x)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if !a[i].less(a[p]) {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *expiryHeap) pop() expiry {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a[n] = expiry{}
	a = a[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && a[l].less(a[m]) {
			m = l
		}
		if r := l + 1; r < n && a[r].less(a[m]) {
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
