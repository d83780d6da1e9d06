package window

import (
	"errors"
	"fmt"
	"slices"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/eval"
	"github.com/flowrun/flowrun/executor/state"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

// WindowAgg runs a WindowAggOp: it folds each row into the aggregate states
// of its key and window(s) and emits one final row per key and window when
// the watermark reaches the window end.
//
// Windows are aligned to the epoch: a tumbling window of size s covers
// [k·s, (k+1)·s); a hopping window of size s and slide d covers
// [k·d, k·d+s), so a row is in ⌈s/d⌉ windows. A session of a key starts
// at its first row and ends gap after its last; rows less than gap apart
// (in event time, in any arrival order) are in the same session, and a row
// that bridges two sessions merges them. Intervals are half-open, times in
// epoch milliseconds.
//
// Firing: OnWatermark(wm) emits every window with end <= wm, in order of
// end, then key bytes: keys..., window_start, window_end, aggregates... .
// Each row's id is Mix(Hash(key bytes), window start): independent of the
// stage, the task and the arrival order, so a replay emits the same ids.
//
// Late rows: a row whose windows have all fired (tumble, hop), or whose
// session would be closed or might touch a fired session, is sent to the
// dead-letter stream with class late. For sessions that is a row at ts
// with ts + gap <= watermark that does not extend an open session, or
// with ts before the end of the key's last fired session (or, for a key
// with no state, ts < watermark - gap), so a result once emitted never
// needed a later row. A row of a hopping window with slide > size that
// falls between windows belongs to none and is dropped. A row with a NULL event time is
// dead-lettered with class type; a failing key or argument expression with
// class expr; a row of a new key when the state is full with class
// state-limit (see state.Limits). Window state is released when a window
// fires (a key one window later, so that recurring keys are not re-created
// every window), so a TTL does not apply.
type WindowAgg struct {
	stage   string
	kind    planner.WindowKind
	timeCol int
	size    int64 // tumble, hop
	slide   int64 // hop (== size for tumble)
	gap     int64 // session
	keys    []eval.Fn
	aggs    *eval.Aggs
	lim     state.Limits

	st     state.Store[group]
	timers timerQueue
	wm     int64

	keyBuf  []byte
	keyVals []udf.Value
	alloc   state.RowAlloc
}

var _ executor.Operator = (*WindowAgg)(nil)

// group is the state of one key: its open windows ordered by start.
type group struct {
	keys     []udf.Value
	hash     uint64
	wins     []*win
	firedEnd int64 // session: end of the last fired session
	idle     int64 // tumble, hop: end of the window after which the key had none
}

type win struct {
	start, end int64
	timer      int64 // the end a timer is pending for (<= end)
	aggs       []udf.AggState
	inline     [4]udf.AggState // aggs of up to 4 aggregates, one allocation
}

func (w *WindowAgg) newWin(start, end int64) *win {
	wn := &win{start: start, end: end, timer: end}
	if n := w.aggs.Len(); n <= len(wn.inline) {
		wn.aggs = w.aggs.NewInto(wn.inline[:0])
	} else {
		wn.aggs = w.aggs.New()
	}
	return wn
}

// New builds the operator of a WindowAggOp node.
func New(node *planner.Node, in []planner.Schema, env *eval.Env) (executor.Operator, error) {
	op, ok := node.Op.(*planner.WindowAggOp)
	if !ok {
		return nil, fmt.Errorf("window: node %d is %T, not a WindowAggOp", node.ID, node.Op)
	}
	w, err := NewWindowAgg(op, state.LimitsOf(node), env)
	if err != nil {
		return nil, fmt.Errorf("window: node %d (%s): %w", node.ID, node.Stage, err)
	}
	w.stage = node.Stage
	if len(in) > 0 && (w.timeCol < 0 || w.timeCol >= len(in[0].Columns)) {
		return nil, fmt.Errorf("window: node %d (%s): time column %d outside the input's %d columns", node.ID, node.Stage, w.timeCol, len(in[0].Columns))
	}
	return w, nil
}

// NewWindowAgg builds the operator from the op alone.
func NewWindowAgg(op *planner.WindowAggOp, lim state.Limits, env *eval.Env) (*WindowAgg, error) {
	w := &WindowAgg{
		kind:    op.Window.Kind,
		timeCol: op.Window.TimeCol,
		lim:     lim,
		wm:      executor.MinWatermark,
	}
	switch op.Window.Kind {
	case planner.Tumble:
		if op.Window.Size <= 0 {
			return nil, fmt.Errorf("tumbling window size %d must be positive", op.Window.Size)
		}
		w.size, w.slide = op.Window.Size, op.Window.Size
	case planner.Hop:
		if op.Window.Size <= 0 || op.Window.Slide <= 0 {
			return nil, fmt.Errorf("hopping window size %d and slide %d must be positive", op.Window.Size, op.Window.Slide)
		}
		w.size, w.slide = op.Window.Size, op.Window.Slide
	case planner.Session:
		if op.Window.Gap <= 0 {
			return nil, fmt.Errorf("session gap %d must be positive", op.Window.Gap)
		}
		w.gap = op.Window.Gap
	default:
		return nil, fmt.Errorf("unknown window kind %d", op.Window.Kind)
	}
	var err error
	if w.keys, err = eval.CompileAll(op.Keys, env); err != nil {
		return nil, err
	}
	if w.aggs, err = eval.CompileAggs(op.Aggs, env); err != nil {
		return nil, err
	}
	w.keyVals = make([]udf.Value, len(op.Keys))
	lim.TTL = 0
	w.st = state.NewKeyed[group](lim)
	return w, nil
}

// Keys returns the number of keys holding open windows.
func (w *WindowAgg) Keys() int { return w.st.Len() }

// floorDiv is ⌊a/b⌋ for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// Process implements executor.Operator.
func (w *WindowAgg) Process(_ int, b *executor.Batch, out executor.Collector) error {
	for _, row := range b.Rows {
		if err := w.processRow(row, out); err != nil {
			return err
		}
	}
	return nil
}

func (w *WindowAgg) processRow(row udf.Row, out executor.Collector) error {
	if w.timeCol >= len(row) || row[w.timeCol].K == udf.TypeNull {
		out.DeadLetter(executor.ClassType, "window: event time is NULL", row, nil)
		return nil
	}
	ts := row[w.timeCol].I
	if row[w.timeCol].K == udf.TypeDouble {
		ts = int64(row[w.timeCol].F)
	}
	// Tumble and hop: late when the last window holding ts has fired.
	var lastStart int64
	if w.kind != planner.Session {
		lastStart = floorDiv(ts, w.slide) * w.slide
		if lastStart+w.size <= ts {
			return nil // between two hopping windows (slide > size): in none
		}
		if lastStart+w.size <= w.wm {
			out.DeadLetter(executor.ClassLate, w.lateReason(ts, lastStart+w.size), row, nil)
			return nil
		}
	}
	w.keyBuf = w.keyBuf[:0]
	for i, f := range w.keys {
		v, err := f(row)
		if err != nil {
			return w.exprErr(err, row, out)
		}
		w.keyVals[i] = v
		w.keyBuf = state.AppendKey(w.keyBuf, v)
	}
	if err := w.aggs.Eval(row); err != nil {
		return w.exprErr(err, row, out)
	}
	if w.kind == planner.Session {
		return w.addSession(row, ts, out)
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
	// Windows holding ts: starts lastStart, lastStart-slide, ... > ts-size.
	for s := lastStart; s > ts-w.size; s -= w.slide {
		end := s + w.size
		if end <= w.wm {
			break // this and earlier windows have fired
		}
		wn := w.window(g, e.Key, s, end)
		w.aggs.Add(wn.aggs, ts)
	}
	return nil
}

func (w *WindowAgg) initGroup(g *group, key string) {
	g.keys = state.OwnValues(w.keyVals)
	g.hash = state.HashString(key)
	g.firedEnd = w.sessionFloor()
	g.idle = executor.MinWatermark
}

func (w *WindowAgg) lateReason(ts, end int64) string {
	return fmt.Sprintf("late: event time %s is in a window that closed at %s (watermark %s)",
		udf.FormatTime(ts), udf.FormatTime(end), udf.FormatTime(w.wm))
}

func (w *WindowAgg) exprErr(err error, row udf.Row, out executor.Collector) error {
	if !errors.Is(err, eval.ErrExpr) {
		return err
	}
	out.DeadLetter(executor.ClassExpr, err.Error(), row, nil)
	return nil
}

// OnWatermark implements executor.Operator: it fires every window ending at
// or before wm.
func (w *WindowAgg) OnWatermark(wm int64, out executor.Collector) error {
	if wm <= w.wm {
		return nil
	}
	w.wm = wm
	w.st.Advance(wm, nil)
	for w.timers.Len() > 0 && w.timers.peek() <= wm {
		end, keys := w.timers.pop()
		slices.Sort(keys)
		keys = slices.Compact(keys)
		for _, k := range keys {
			w.fire(end, k, out)
		}
	}
	return nil
}

// fire emits the window of key ending at end, if it is still open, and
// releases the key when nothing is left.
func (w *WindowAgg) fire(end int64, key string, out executor.Collector) {
	e := w.st.GetString(key)
	if e == nil {
		return
	}
	g := &e.V
	fired := false
	for i := 0; i < len(g.wins); i++ {
		wn := g.wins[i]
		if wn.timer != end {
			continue
		}
		if wn.end != end {
			// A session extended since its timer was set: wait for its end.
			wn.timer = wn.end
			w.timers.add(wn.end, key)
			continue
		}
		row := w.alloc.Row(len(g.keys) + 2 + w.aggs.Len())[:0]
		row = append(row, g.keys...)
		row = append(row, udf.Time(wn.start), udf.Time(wn.end))
		row = w.aggs.AppendResults(row, wn.aggs)
		out.Emit(row, state.Mix(g.hash, uint64(wn.start)))
		g.wins = slices.Delete(g.wins, i, i+1)
		i--
		if w.kind == planner.Session {
			g.firedEnd = max(g.firedEnd, end)
		}
		fired = true
	}
	if len(g.wins) > 0 {
		return
	}
	switch {
	case w.kind == planner.Session:
		if g.firedEnd+w.gap > w.wm {
			// Keep the fired end until no row can touch the session any more.
			if fired {
				w.timers.add(g.firedEnd+w.gap, key)
			}
			return
		}
	case fired && end+w.size > w.wm:
		// Keep a key that went quiet for one more window: recurring keys
		// then cost no allocation per window.
		g.idle = end
		w.timers.add(end+w.size, key)
		return
	case !fired && g.idle+w.size > w.wm:
		return
	}
	w.st.Delete(key)
}

// Snapshot implements executor.Operator.
func (w *WindowAgg) Snapshot() ([]byte, error) {
	enc := state.NewEncoder("window")
	enc.Varint(w.wm)
	err := w.st.Encode(enc, func(e *state.Encoder, g *group) error {
		e.Row(g.keys)
		e.Varint(g.firedEnd)
		e.Varint(g.idle)
		e.Uvarint(uint64(len(g.wins)))
		for _, wn := range g.wins {
			e.Varint(wn.start)
			e.Varint(wn.end)
			for _, a := range wn.aggs {
				if err := e.Agg(a); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("window: snapshot: %w", err)
	}
	return enc.Bytes(), nil
}

// Restore implements executor.Operator. An empty snapshot leaves the
// state empty.
func (w *WindowAgg) Restore(b []byte) error {
	if len(b) == 0 {
		return nil // no snapshot: keep the empty state
	}
	d, err := state.NewDecoder(b, "window")
	if err != nil {
		return fmt.Errorf("window: restore: %w", err)
	}
	wm := d.Varint()
	st := state.NewKeyed[group](state.Limits{MaxKeys: w.lim.MaxKeys})
	err = st.Decode(d, func(d *state.Decoder, g *group) error {
		g.keys = d.Row()
		g.firedEnd = d.Varint()
		g.idle = d.Varint()
		n := d.Len()
		for i := 0; i < n && d.Err() == nil; i++ {
			wn := w.newWin(d.Varint(), 0)
			wn.end = d.Varint()
			for _, a := range wn.aggs {
				d.Agg(a)
			}
			g.wins = append(g.wins, wn)
		}
		return d.Err()
	})
	if err == nil {
		err = d.Done()
	}
	if err != nil {
		return fmt.Errorf("window: restore: %w", err)
	}
	w.wm, w.st = wm, st
	w.timers = timerQueue{}
	for _, e := range st.Sorted() {
		e.V.hash = state.HashString(e.Key)
		for _, wn := range e.V.wins {
			wn.timer = wn.end
			w.timers.add(wn.end, e.Key)
		}
		if len(e.V.wins) == 0 {
			if w.kind == planner.Session {
				w.timers.add(e.V.firedEnd+w.gap, e.Key)
			} else {
				w.timers.add(e.V.idle+w.size, e.Key)
			}
		}
	}
	return nil
}

// Close implements executor.Operator. Windows still open at Close are not
// emitted: end of input arrives as OnWatermark(MaxWatermark) first, which
// fires them all.
func (w *WindowAgg) Close(executor.Collector) error { return nil }
