package aggregate

import (
	"errors"
	"fmt"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/eval"
	"github.com/flowrun/flowrun/executor/state"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

// GroupAgg runs a GroupAggOp.
//
// Row ids: the n-th update of a key emits id Mix(Mix(Hash(key), born), n),
// where born is the event time of the first row of the key's current state
// (the arrival number when the input has no event time). Ids are the same
// on replay and differ between a key's successive lives under a TTL.
//
// Event time (the input's event-time column) orders FIRST_VALUE and
// LAST_VALUE and drives the TTL; without one, arrival order does. Limits:
// a row of a new key when the state holds MaxKeys keys is dead-lettered
// with class state-limit; a key idle for the TTL (event time against the
// watermark) is forgotten and starts again from empty aggregates. A
// failing key or argument expression dead-letters the row with class expr.
type GroupAgg struct {
	stage   string
	keys    []eval.Fn
	aggs    *eval.Aggs
	timeCol int
	lim     state.Limits
	st      state.Store[group]
	seq     int64 // rows seen (the time of rows without event time)

	keyBuf  []byte
	keyVals []udf.Value
	alloc   state.RowAlloc
}

var _ executor.Operator = (*GroupAgg)(nil)

type group struct {
	keys   []udf.Value
	hash   uint64
	born   int64
	n      uint64
	aggs   []udf.AggState
	inline [4]udf.AggState
}

// New builds the operator of a GroupAggOp node; in[0] is its input schema
// (its event-time column, if any, orders the aggregates).
func New(node *planner.Node, in []planner.Schema, env *eval.Env) (executor.Operator, error) {
	op, ok := node.Op.(*planner.GroupAggOp)
	if !ok {
		return nil, fmt.Errorf("aggregate: node %d is %T, not a GroupAggOp", node.ID, node.Op)
	}
	timeCol := -1
	if len(in) > 0 {
		timeCol = in[0].EventTime
	}
	g, err := NewGroupAgg(op, timeCol, state.LimitsOf(node), env)
	if err != nil {
		return nil, fmt.Errorf("aggregate: node %d (%s): %w", node.ID, node.Stage, err)
	}
	g.stage = node.Stage
	return g, nil
}

// NewGroupAgg builds the operator; timeCol is the input's event-time column
// or -1.
func NewGroupAgg(op *planner.GroupAggOp, timeCol int, lim state.Limits, env *eval.Env) (*GroupAgg, error) {
	g := &GroupAgg{timeCol: timeCol, lim: lim, st: state.NewKeyed[group](lim)}
	var err error
	if g.keys, err = eval.CompileAll(op.Keys, env); err != nil {
		return nil, err
	}
	if g.aggs, err = eval.CompileAggs(op.Aggs, env); err != nil {
		return nil, err
	}
	g.keyVals = make([]udf.Value, len(op.Keys))
	return g, nil
}

// Keys returns the number of keys held.
func (g *GroupAgg) Keys() int { return g.st.Len() }

// Process implements executor.Operator.
func (g *GroupAgg) Process(_ int, b *executor.Batch, out executor.Collector) error {
	for _, row := range b.Rows {
		if err := g.processRow(row, out); err != nil {
			return err
		}
	}
	return nil
}

func (g *GroupAgg) processRow(row udf.Row, out executor.Collector) error {
	g.seq++
	ts := g.seq
	if g.timeCol >= 0 {
		if g.timeCol >= len(row) || row[g.timeCol].K == udf.TypeNull {
			out.DeadLetter(executor.ClassType, "aggregate: event time is NULL", row, nil)
			return nil
		}
		ts = row[g.timeCol].I
	}
	g.keyBuf = g.keyBuf[:0]
	for i, f := range g.keys {
		v, err := f(row)
		if err != nil {
			return exprErr(err, row, out)
		}
		g.keyVals[i] = v
		g.keyBuf = state.AppendKey(g.keyBuf, v)
	}
	if err := g.aggs.Eval(row); err != nil {
		return exprErr(err, row, out)
	}
	e, created, err := g.st.Upsert(g.keyBuf, ts)
	if err != nil {
		out.DeadLetter(executor.ClassStateLimit, g.lim.LimitReason(g.stage), row, nil)
		return nil
	}
	s := &e.V
	if created {
		s.keys = state.OwnValues(g.keyVals)
		s.hash = state.HashString(e.Key)
		s.born = ts
		g.newAggs(s)
	}
	g.aggs.Add(s.aggs, ts)
	s.n++
	o := g.alloc.Row(len(s.keys) + g.aggs.Len())[:0]
	o = append(o, s.keys...)
	o = g.aggs.AppendResults(o, s.aggs)
	out.Emit(o, state.Mix(state.Mix(s.hash, uint64(s.born)), s.n))
	return nil
}

func (g *GroupAgg) newAggs(s *group) {
	if g.aggs.Len() <= len(s.inline) {
		s.aggs = g.aggs.NewInto(s.inline[:0])
	} else {
		s.aggs = g.aggs.New()
	}
}

func exprErr(err error, row udf.Row, out executor.Collector) error {
	if !errors.Is(err, eval.ErrExpr) {
		return err
	}
	out.DeadLetter(executor.ClassExpr, err.Error(), row, nil)
	return nil
}

// OnWatermark implements executor.Operator: it only expires keys idle for
// the TTL.
func (g *GroupAgg) OnWatermark(wm int64, _ executor.Collector) error {
	g.st.Advance(wm, nil)
	return nil
}

// Snapshot implements executor.Operator.
func (g *GroupAgg) Snapshot() ([]byte, error) {
	enc := state.NewEncoder("groupagg")
	enc.Varint(g.seq)
	err := g.st.Encode(enc, func(e *state.Encoder, s *group) error {
		e.Row(s.keys)
		e.Varint(s.born)
		e.Uvarint(s.n)
		for _, a := range s.aggs {
			if err := e.Agg(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("aggregate: snapshot: %w", err)
	}
	return enc.Bytes(), nil
}

// Restore implements executor.Operator. An empty snapshot leaves the
// state empty.
func (g *GroupAgg) Restore(b []byte) error {
	if len(b) == 0 {
		return nil // no snapshot: keep the empty state
	}
	d, err := state.NewDecoder(b, "groupagg")
	if err != nil {
		return fmt.Errorf("aggregate: restore: %w", err)
	}
	seq := d.Varint()
	st := state.NewKeyed[group](g.lim)
	err = st.Decode(d, func(d *state.Decoder, s *group) error {
		s.keys = d.Row()
		s.born = d.Varint()
		s.n = d.Uvarint()
		g.newAggs(s)
		for _, a := range s.aggs {
			d.Agg(a)
		}
		return d.Err()
	})
	if err == nil {
		err = d.Done()
	}
	if err != nil {
		return fmt.Errorf("aggregate: restore: %w", err)
	}
	for _, e := range st.Sorted() {
		e.V.hash = state.HashString(e.Key)
	}
	g.seq, g.st = seq, st
	return nil
}

// Close implements executor.Operator.
func (g *GroupAgg) Close(executor.Collector) error { return nil }
