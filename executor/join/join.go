package join

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

// Join runs a JoinOp.
//
// Interval join: left row l and right row r match when their keys are
// equal (NULL keys never match), r.ts − l.ts ∈ [Lower, Upper] and the
// residual condition is TRUE. Each side keeps its rows per key; a new row
// probes the other side and is stored. A left row is dropped once
// l.ts + Upper < watermark (no right row that could match can arrive any
// more) — that is when a LEFT join emits it with NULLs if it never
// matched — and a right row once r.ts − Lower < watermark.
//
// Window join: the two inputs are results of the same TUMBLE/HOP window;
// rows match on equal keys and equal window end (their event-time
// columns). It is the interval join with Lower = Upper = 0 over those
// columns: matches are emitted as soon as both rows are there, and LEFT
// rows without a partner when the watermark passes their window end.
//
// Table join: the right input is the change stream of a table stage; each
// key keeps a short history of its versions ordered by event time. A left
// row joins the version with the greatest event time <= its own, so it
// waits until the watermark passes its event time (all versions up to it
// have arrived); versions older than the newest one behind the watermark
// are dropped. When either input has no event time, the join uses arrival
// order instead: a left row joins the latest version at once.
//
// Late rows (event time < watermark; for the table side, a version behind
// the watermark) are dead-lettered with class late, since the state they
// needed may be gone. A row with a NULL event time is dead-lettered with
// class type, a failing residual with class expr, and a row of a new key
// when the side's state is full with class state-limit. A key whose rows
// have all expired is released after the span of the time bound (at least
// a second of watermark), and counts toward MaxKeys until then.
type Join struct {
	stage        string
	kind         planner.JoinKind
	left         bool
	lkeys, rkeys []int
	lower, upper int64
	ltime, rtime int // event-time columns, -1 for none
	nl, nr       int // column counts of the inputs
	residual     eval.Predicate
	lim          state.Limits
	wm           int64
	seq          uint64

	// Interval and window joins.
	ls, rs  state.Store[side]
	expires expiryHeap

	// Table join.
	tab     state.Store[versions]
	pending pendingHeap
	timed   bool // event-time table join (else arrival order)

	keyBuf  []byte
	scratch udf.Row
	alloc   state.RowAlloc
	slab    []stored // stored rows are carved from chunks
}

// newStored returns a stored row from the current chunk (one allocation
// per 256 rows).
func (j *Join) newStored(row udf.Row, id uint64, ts int64) *stored {
	if len(j.slab) == 0 {
		j.slab = make([]stored, 256)
	}
	s := &j.slab[0]
	j.slab = j.slab[1:]
	j.seq++
	*s = stored{row: row, id: id, ts: ts, seq: j.seq}
	return s
}

var _ executor.Operator = (*Join)(nil)

// stored is a buffered row of either side.
type stored struct {
	row     udf.Row
	id      uint64
	ts      int64
	seq     uint64
	matched bool
}

// side is one key's buffered rows of one input. A key whose rows have all
// expired is kept, empty, for keepIdle more milliseconds of watermark
// (idle is the watermark when it emptied), so that recurring keys are not
// re-created all the time.
type side struct {
	rows []*stored
	idle int64 // MinWatermark while rows are held
}

// keepIdle is how long an emptied key is kept: the span of the join's
// time bound, at least a second.
func (j *Join) keepIdle() int64 { return max(j.upper-j.lower, 1000) }

// versions is a table key's history, ordered by event time (then arrival).
type versions struct{ v []*stored }

// New builds the operator of a JoinOp node; in holds the schemas of the
// left (port 0) and right (port 1) inputs.
func New(node *planner.Node, in []planner.Schema, env *eval.Env) (executor.Operator, error) {
	op, ok := node.Op.(*planner.JoinOp)
	if !ok {
		return nil, fmt.Errorf("join: node %d is %T, not a JoinOp", node.ID, node.Op)
	}
	if len(in) != 2 {
		return nil, fmt.Errorf("join: node %d (%s) has %d inputs, want 2", node.ID, node.Stage, len(in))
	}
	j, err := NewJoin(op, in[0], in[1], state.LimitsOf(node), env)
	if err != nil {
		return nil, fmt.Errorf("join: node %d (%s): %w", node.ID, node.Stage, err)
	}
	j.stage = node.Stage
	return j, nil
}

// NewJoin builds the operator from the op and its input schemas.
func NewJoin(op *planner.JoinOp, left, right planner.Schema, lim state.Limits, env *eval.Env) (*Join, error) {
	j := &Join{
		kind: op.Kind, left: op.Left,
		lkeys: op.LeftKeys, rkeys: op.RightKeys,
		ltime: left.EventTime, rtime: right.EventTime,
		nl: len(left.Columns), nr: len(right.Columns),
		lim: lim, wm: executor.MinWatermark,
	}
	if len(j.lkeys) != len(j.rkeys) {
		return nil, fmt.Errorf("%d left keys but %d right keys", len(j.lkeys), len(j.rkeys))
	}
	for _, k := range j.lkeys {
		if k < 0 || k >= j.nl {
			return nil, fmt.Errorf("left key column %d outside the %d columns", k, j.nl)
		}
	}
	for _, k := range j.rkeys {
		if k < 0 || k >= j.nr {
			return nil, fmt.Errorf("right key column %d outside the %d columns", k, j.nr)
		}
	}
	if op.Residual != nil {
		p, err := eval.CompilePredicate(op.Residual, env)
		if err != nil {
			return nil, err
		}
		j.residual = p
	}
	j.scratch = make(udf.Row, j.nl+j.nr)
	switch op.Kind {
	case planner.IntervalJoin, planner.WindowJoin:
		if j.ltime < 0 || j.rtime < 0 {
			return nil, fmt.Errorf("an interval or window join needs event time on both inputs")
		}
		if op.Kind == planner.IntervalJoin {
			if op.Lower > op.Upper {
				return nil, fmt.Errorf("empty time bound [%d, %d]", op.Lower, op.Upper)
			}
			j.lower, j.upper = op.Lower, op.Upper
		} else {
			if op.Window.Kind == planner.Session {
				return nil, fmt.Errorf("a window join of session windows is not supported")
			}
			if op.Window.TimeCol >= 0 && op.Window.TimeCol < j.nl {
				j.ltime = op.Window.TimeCol
			}
		}
		lim.TTL = 0 // rows expire by the watermark
		j.ls, j.rs = state.NewKeyed[side](lim), state.NewKeyed[side](lim)
	case planner.TableJoin:
		j.timed = j.ltime >= 0 && j.rtime >= 0
		if !j.timed {
			lim.TTL = 0 // no event time to measure it
		}
		j.tab = state.NewKeyed[versions](lim)
	default:
		return nil, fmt.Errorf("unknown join kind %d", op.Kind)
	}
	return j, nil
}

// Process implements executor.Operator.
func (j *Join) Process(port int, b *executor.Batch, out executor.Collector) error {
	for i, row := range b.Rows {
		var err error
		switch {
		case j.kind == planner.TableJoin && port == 0:
			err = j.tableLeft(row, b.IDs[i], out)
		case j.kind == planner.TableJoin:
			err = j.tableRight(row, b.IDs[i], out)
		default:
			err = j.streamRow(port, row, b.IDs[i], out)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// eventTime reads a row's event time; ok is false (and the row
// dead-lettered) when it is NULL or behind the watermark.
func (j *Join) eventTime(row udf.Row, col int, out executor.Collector) (int64, bool) {
	if col < 0 {
		return 0, true
	}
	if col >= len(row) || row[col].K == udf.TypeNull {
		out.DeadLetter(executor.ClassType, "join: event time is NULL", row, nil)
		return 0, false
	}
	ts := row[col].I
	if ts < j.wm {
		out.DeadLetter(executor.ClassLate, fmt.Sprintf("late: event time %s is behind the join's watermark %s",
			udf.FormatTime(ts), udf.FormatTime(j.wm)), row, nil)
		return 0, false
	}
	return ts, true
}

// emit joins l and r (r nil: NULLs), checking the residual for a pair. It
// reports whether a row was emitted.
func (j *Join) emit(l, r *stored, out executor.Collector) (bool, error) {
	copy(j.scratch, l.row[:j.nl])
	if r == nil {
		clear(j.scratch[j.nl:])
		row := j.alloc.Row(len(j.scratch))
		copy(row, j.scratch)
		out.Emit(row, state.Mix(l.id, 0))
		return true, nil
	}
	copy(j.scratch[j.nl:], r.row[:j.nr])
	if j.residual != nil {
		ok, err := j.residual(j.scratch)
		if err != nil {
			if !errors.Is(err, eval.ErrExpr) {
				return false, err
			}
			out.DeadLetter(executor.ClassExpr, err.Error(), slices.Clone(j.scratch), nil)
			return false, nil
		}
		if !ok {
			return false, nil
		}
	}
	row := j.alloc.Row(len(j.scratch))
	copy(row, j.scratch)
	out.Emit(row, state.Mix(l.id, r.id))
	return true, nil
}

func (j *Join) limitReason() string { return j.lim.LimitReason(j.stage) }

// OnWatermark implements executor.Operator.
// HoldWatermark implements executor.WatermarkHolder: an interval join
// emits a left row (with its event time) when a right row up to Upper
// later arrives, so its output watermark trails the input by Upper. Left
// rows without a partner are emitted when the watermark passes
// l.ts + Upper, before the held watermark passes l.ts.
func (j *Join) HoldWatermark(wm int64) int64 {
	if j.kind == planner.IntervalJoin && j.upper > 0 {
		return wm - j.upper
	}
	return wm
}

var _ executor.WatermarkHolder = (*Join)(nil)

func (j *Join) OnWatermark(wm int64, out executor.Collector) error {
	if wm <= j.wm {
		return nil
	}
	j.wm = wm
	if j.kind == planner.TableJoin {
		return j.tableWatermark(out)
	}
	j.ls.Advance(wm, nil)
	j.rs.Advance(wm, nil)
	for len(j.expires) > 0 && j.expires[0].at < wm {
		x := j.expires.pop()
		if err := j.expire(x, out); err != nil {
			return err
		}
	}
	return nil
}

// Close implements executor.Operator.
func (j *Join) Close(executor.Collector) error { return nil }
