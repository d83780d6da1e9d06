package window

import (
	"slices"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/eval"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

// sessionFloor is the earliest event time a row of a key without state may
// have: a session of the key that fired and was forgotten ended at or
// before wm - gap, so rows before that might belong to it.
func (w *WindowAgg) sessionFloor() int64 {
	if w.kind != planner.Session || w.wm < executor.MinWatermark+w.gap {
		return executor.MinWatermark
	}
	return w.wm - w.gap
}

// addSession folds the row into its key's session, merging sessions the row
// bridges.
func (w *WindowAgg) addSession(row udf.Row, ts int64, out executor.Collector) error {
	end := ts + w.gap
	e := w.st.Get(w.keyBuf)
	floor := w.sessionFloor()
	if e != nil {
		floor = e.V.firedEnd
	}
	if ts < floor {
		out.DeadLetter(executor.ClassLate, w.lateReason(ts, floor), row, nil)
		return nil
	}
	// Open sessions [s, e) overlapping [ts, ts+gap): s < ts+gap && ts < e.
	lo, hi := 0, 0
	if e != nil {
		wins := e.V.wins
		for lo < len(wins) && wins[lo].end <= ts {
			lo++
		}
		hi = lo
		for hi < len(wins) && wins[hi].start < end {
			hi++
		}
	}
	if lo == hi && end <= w.wm {
		out.DeadLetter(executor.ClassLate, w.lateReason(ts, end), row, nil)
		return nil
	}
	e, created, err := w.st.Upsert(w.keyBuf, ts)
	if err != nil {
		out.DeadLetter(executor.ClassStateLimit, w.lim.LimitReason(w.stage), row, nil)
		return nil
	}
	g := &e.V
	if created {
		w.initGroup(g, e.Key)
	}
	if lo == hi {
		wn := w.newWin(ts, end)
		g.wins = slices.Insert(g.wins, lo, wn)
		w.timers.add(end, e.Key)
		w.aggs.Add(wn.aggs, ts)
		return nil
	}
	// Merge wins[lo:hi] into wins[lo]. The merged session keeps the
	// earliest pending timer; when it pops before the session's end it is
	// moved to the end (fire), so extending a session costs no timer.
	first := g.wins[lo]
	for _, o := range g.wins[lo+1 : hi] {
		eval.Merge(first.aggs, o.aggs)
		first.end = max(first.end, o.end)
		first.timer = min(first.timer, o.timer)
	}
	first.start = min(first.start, ts)
	first.end = max(first.end, end)
	g.wins = slices.Delete(g.wins, lo+1, hi)
	w.aggs.Add(first.aggs, ts)
	return nil
}
