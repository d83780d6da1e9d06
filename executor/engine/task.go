package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/jetstream"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

// errKilled ends a task whose run was aborted by another task's error.
var errKilled = errors.New("engine: run aborted")

// envelope is a Message on a task's input channel with the slot (sender)
// and port it arrived on. stop marks a graceful stop of the sender.
type envelope struct {
	slot int
	port int
	stop bool
	msg  executor.Message
}

// slot is the state of one input (one sending task on one edge).
type slot struct {
	wm      int64
	idle    bool
	ended   bool
	stopped bool
}

// task is one goroutine: a chain of operators fed by a source or by an
// input channel.
type task struct {
	e     *Engine
	grp   *group
	idx   int
	in    chan envelope
	slots []slot
	ops   []*opRun
	src   *jetstream.Source
	kctx  context.Context
	wm    int64 // watermark delivered to the operators
	idle  bool  // an idle marker was forwarded
}

// opRun is one operator of a task's chain with its collector.
type opRun struct {
	t   *task
	ni  *nodeInfo
	op  executor.Operator // nil for a source without pushed-down filter
	col collector
}

// collector gathers what an operator emits until the task hands it on.
type collector struct {
	r   *opRun
	b   *executor.Batch
	err error
}

func (c *collector) Emit(row udf.Row, id uint64) {
	if c.b == nil {
		c.b = &executor.Batch{}
	}
	c.b.Append(row, id)
}

func (c *collector) DeadLetter(class executor.Class, reason string, row udf.Row, raw []byte) {
	if raw == nil && row != nil {
		var cols []planner.Column
		if in := c.r.ni.in; len(in) > 0 && len(in[0].Columns) == len(row) {
			cols = in[0].Columns
		} else if len(c.r.ni.node.Schema.Columns) == len(row) {
			cols = c.r.ni.node.Schema.Columns
		}
		raw = jetstream.AppendJSON(nil, cols, row)
	}
	err := c.r.t.e.opts.DLQ.Send(c.r.t.kctx, jetstream.DeadLetter{Stage: c.r.ni.node.Stage, Class: class, Reason: reason, Data: raw})
	if err != nil && c.err == nil {
		c.err = err
	}
}

func (c *collector) take() (*executor.Batch, error) {
	b, err := c.b, c.err
	c.b, c.err = nil, nil
	return b, err
}

func (t *task) name() string {
	return fmt.Sprintf("%s[%d]", t.grp.nodes[0].node.Stage, t.idx)
}

// run is the task's goroutine. ctx ends the sources gracefully; kctx
// aborts everything.
func (t *task) run(ctx, kctx context.Context) error {
	t.kctx = kctx
	if t.src != nil {
		err := t.src.Run(ctx, func(m executor.Message) error { return t.handle(envelope{msg: m}) })
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errDone):
			return nil
		case kctx.Err() != nil:
			return errKilled
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			return t.stop()
		default:
			return fmt.Errorf("task %s: %w", t.name(), err)
		}
	}
	for {
		select {
		case env := <-t.in:
			if err := t.handle(env); err != nil {
				if errors.Is(err, errDone) {
					return nil
				}
				if kctx.Err() != nil {
					return errKilled
				}
				return fmt.Errorf("task %s: %w", t.name(), err)
			}
		case <-kctx.Done():
			return errKilled
		}
	}
}

// errDone ends a task's loop after end-of-input or stop on all inputs.
var errDone = errors.New("engine: task done")

func (t *task) handle(env envelope) error {
	var s *slot
	if t.slots != nil {
		s = &t.slots[env.slot]
	}
	if env.stop {
		s.stopped = true
		for i := range t.slots {
			if !t.slots[i].stopped && !t.slots[i].ended {
				return nil
			}
		}
		if err := t.stop(); err != nil {
			return err
		}
		return errDone
	}
	m := env.msg
	switch m.Kind {
	case executor.MsgData:
		if s != nil {
			s.idle = false
		}
		t.idle = false
		if err := t.process(0, env.port, m.Batch); err != nil {
			return err
		}
	case executor.MsgWatermark:
		if s == nil {
			return t.advance(m.Watermark)
		}
		s.idle = false
		if m.Watermark > s.wm {
			s.wm = m.Watermark
		}
		return t.advance(t.minWatermark())
	case executor.MsgIdle:
		if s == nil {
			return t.forward(executor.Message{Kind: executor.MsgIdle})
		}
		s.idle = true
		if wm := t.minWatermark(); wm > t.wm {
			if err := t.advance(wm); err != nil {
				return err
			}
		}
		for i := range t.slots {
			if !t.slots[i].idle && !t.slots[i].ended {
				return nil
			}
		}
		if !t.idle {
			t.idle = true
			return t.forward(executor.Message{Kind: executor.MsgIdle})
		}
	case executor.MsgEndOfInput:
		if s != nil {
			s.ended, s.wm, s.idle = true, executor.MaxWatermark, false
			for i := range t.slots {
				if !t.slots[i].ended {
					return t.advance(t.minWatermark())
				}
			}
		}
		if err := t.finish(); err != nil {
			return err
		}
		return errDone
	case executor.MsgBarrier:
		// Checkpoints come next round; barriers pass through.
		return t.forward(m)
	}
	return nil
}

// minWatermark is the minimum watermark over inputs that are neither idle
// nor ended (every input ended: +inf). When every open input is idle it is
// the maximum over those (as Flink's StatusWatermarkValve does): the last
// input to go idle no longer holds back the others' progress. An ended
// input never counts there: its +inf must not fire the windows of inputs
// that are merely quiet.
func (t *task) minWatermark() int64 {
	wm, active := executor.MaxWatermark, false
	hi, open := executor.MinWatermark, false
	for i := range t.slots {
		s := &t.slots[i]
		if s.ended {
			continue
		}
		open = true
		hi = max(hi, s.wm)
		if s.idle {
			continue
		}
		active = true
		wm = min(wm, s.wm)
	}
	switch {
	case !open:
		return executor.MaxWatermark
	case !active:
		return hi
	}
	return wm
}

// process runs batch b through operator i and everything after it.
func (t *task) process(i, port int, b *executor.Batch) error {
	if b == nil || b.Len() == 0 {
		return nil
	}
	r := t.ops[i]
	if r.op == nil { // source without filter: pass on
		r.ni.stats.Out.Add(int64(b.Len()))
		return t.after(i, b)
	}
	if !r.ni.isSnk && !r.ni.isSrc {
		r.ni.stats.In.Add(int64(b.Len()))
	}
	if err := r.op.Process(port, b, &r.col); err != nil {
		return fmt.Errorf("%s %s: %w", r.ni.node.Op.Name(), r.ni.node.Stage, err)
	}
	return t.flush(i)
}

// flush hands what operator i emitted to the next operator or the outputs.
func (t *task) flush(i int) error {
	r := t.ops[i]
	b, err := r.col.take()
	if err != nil {
		return err
	}
	if b == nil {
		return nil
	}
	if !r.ni.isSnk {
		r.ni.stats.Out.Add(int64(b.Len()))
	}
	return t.after(i, b)
}

func (t *task) after(i int, b *executor.Batch) error {
	if i+1 < len(t.ops) {
		return t.process(i+1, 0, b)
	}
	return t.route(b)
}

// advance delivers watermark wm (if it moved forward) to each operator in
// chain order, then forwards it.
func (t *task) advance(wm int64) error {
	if wm <= t.wm {
		return nil
	}
	t.wm = wm
	// cur is the watermark of operator i's input: an operator that holds
	// back its output watermark (executor.WatermarkHolder) lowers it for
	// the operators after it and downstream.
	cur := wm
	for i, r := range t.ops {
		if r.op != nil {
			if err := r.op.OnWatermark(cur, &r.col); err != nil {
				return fmt.Errorf("%s %s: watermark: %w", r.ni.node.Op.Name(), r.ni.node.Stage, err)
			}
			if err := t.flush(i); err != nil {
				return err
			}
			if h, ok := r.op.(executor.WatermarkHolder); ok && cur != executor.MaxWatermark {
				cur = min(cur, h.HoldWatermark(cur))
			}
		}
		if !r.ni.isSrc {
			r.ni.stats.EventTime.Store(cur)
		}
	}
	if wm == executor.MaxWatermark {
		return nil // end-of-input follows
	}
	t.idle = false
	return t.forward(executor.Message{Kind: executor.MsgWatermark, Watermark: cur})
}

// finish ends the task after end-of-input on every input: each operator in
// turn gets watermark +inf and Close, then end-of-input goes downstream.
func (t *task) finish() error {
	for i, r := range t.ops {
		if r.op != nil {
			if t.wm < executor.MaxWatermark {
				if err := r.op.OnWatermark(executor.MaxWatermark, &r.col); err != nil {
					return fmt.Errorf("%s %s: watermark: %w", r.ni.node.Op.Name(), r.ni.node.Stage, err)
				}
				if err := t.flush(i); err != nil {
					return err
				}
			}
			if err := r.op.Close(&r.col); err != nil {
				return fmt.Errorf("%s %s: close: %w", r.ni.node.Op.Name(), r.ni.node.Stage, err)
			}
			if err := t.flush(i); err != nil {
				return err
			}
		}
		r.ni.stats.EventTime.Store(executor.MaxWatermark)
	}
	t.wm = executor.MaxWatermark
	return t.forward(executor.Message{Kind: executor.MsgEndOfInput, Watermark: executor.MaxWatermark})
}

// stop ends the task on a graceful stop: operators are closed (what Close
// emits is dropped: state carries over through checkpoints, not partial
// results) and the stop goes downstream.
func (t *task) stop() error {
	var first error
	for _, r := range t.ops {
		if r.op == nil {
			continue
		}
		if err := t.e.keepSnapshot(r); err != nil && first == nil {
			first = err
		}
		if err := r.op.Close(&r.col); err != nil && first == nil {
			first = fmt.Errorf("%s %s: close: %w", r.ni.node.Op.Name(), r.ni.node.Stage, err)
		}
		if _, err := r.col.take(); err != nil && first == nil {
			first = err
		}
	}
	if err := t.send(func(oe *outEdge, to *task) envelope { return envelope{stop: true} }); err != nil && first == nil {
		first = err
	}
	return first
}

// forward sends a control message to every receiving task.
func (t *task) forward(m executor.Message) error {
	return t.send(func(*outEdge, *task) envelope { return envelope{msg: m} })
}

// send delivers mk's envelope to each task downstream of each out edge
// (for a forward edge only the task of the same index).
func (t *task) send(mk func(*outEdge, *task) envelope) error {
	for _, oe := range t.grp.outs {
		if oe.forward {
			to := oe.to.tasks[t.idx]
			if err := t.put(oe, to, mk(oe, to)); err != nil {
				return err
			}
			continue
		}
		for _, to := range oe.to.tasks {
			if err := t.put(oe, to, mk(oe, to)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *task) put(oe *outEdge, to *task, env envelope) error {
	env.port = oe.edge.Port
	env.slot = oe.base
	if !oe.forward {
		env.slot += t.idx
	}
	select {
	case to.in <- env:
		return nil
	case <-t.kctx.Done():
		return errKilled
	}
}

// route sends a batch emitted by the chain's last operator along the out
// edges: whole to a forward receiver, split by key hash for Hash edges, by
// row id when parallelism differs on a Forward edge, copied to every task
// for Broadcast. A batch that goes to several receivers is copied so that
// each receiver owns its rows.
func (t *task) route(b *executor.Batch) error {
	outs := t.grp.outs
	for k, oe := range outs {
		shared := k < len(outs)-1 // b is still needed after this edge
		n := len(oe.to.tasks)
		switch {
		case oe.forward:
			bb := b
			if shared {
				bb = copyBatch(b)
			}
			if err := t.put(oe, oe.to.tasks[t.idx], envelope{msg: executor.Message{Kind: executor.MsgData, Batch: bb}}); err != nil {
				return err
			}
		case oe.edge.Routing == planner.Broadcast:
			for i, to := range oe.to.tasks {
				bb := b
				if shared || i < n-1 {
					bb = copyBatch(b)
				}
				if err := t.put(oe, to, envelope{msg: executor.Message{Kind: executor.MsgData, Batch: bb}}); err != nil {
					return err
				}
			}
		default:
			if n == 1 {
				bb := b
				if shared {
					bb = copyBatch(b)
				}
				if err := t.put(oe, oe.to.tasks[0], envelope{msg: executor.Message{Kind: executor.MsgData, Batch: bb}}); err != nil {
					return err
				}
				continue
			}
			parts := make([]*executor.Batch, n)
			for j, row := range b.Rows {
				var p int
				if oe.edge.Routing == planner.Hash {
					p = Partition(HashKey(row, oe.edge.Keys), n)
				} else {
					p = Partition(b.IDs[j], n)
				}
				if parts[p] == nil {
					parts[p] = &executor.Batch{Rows: make([]udf.Row, 0, 2*b.Len()/n+1), IDs: make([]uint64, 0, 2*b.Len()/n+1)}
				}
				if shared {
					row = slicesClone(row)
				}
				parts[p].Append(row, b.IDs[j])
			}
			for p, bb := range parts {
				if bb == nil {
					continue
				}
				if err := t.put(oe, oe.to.tasks[p], envelope{msg: executor.Message{Kind: executor.MsgData, Batch: bb}}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func slicesClone(r udf.Row) udf.Row { return append(udf.Row(nil), r...) }

// copyBatch copies the batch and its rows (values share strings and
// vectors, which no operator modifies).
func copyBatch(b *executor.Batch) *executor.Batch {
	width := 0
	for _, r := range b.Rows {
		width += len(r)
	}
	slab := make([]udf.Value, 0, width)
	out := &executor.Batch{Rows: make([]udf.Row, len(b.Rows)), IDs: append([]uint64(nil), b.IDs...)}
	for i, r := range b.Rows {
		start := len(slab)
		slab = append(slab, r...)
		out.Rows[i] = slab[start:len(slab):len(slab)]
	}
	return out
}
