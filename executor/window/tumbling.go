package window

import "slices"

// Tumbling and hopping windows are aligned to the epoch: a row at ts is in
// the windows [s, s+size) with s = k·slide and s <= ts < s+size (slide ==
// size for TUMBLE). processRow enumerates them from the latest start down
// and folds the row into each that has not fired.

// window returns the window [start, end) of g, creating it.
func (w *WindowAgg) window(g *group, key string, start, end int64) *win {
	i := len(g.wins)
	for i > 0 && g.wins[i-1].start >= start {
		if g.wins[i-1].start == start {
			return g.wins[i-1]
		}
		i--
	}
	wn := w.newWin(start, end)
	g.wins = slices.Insert(g.wins, i, wn)
	w.timers.add(end, key)
	return wn
}
