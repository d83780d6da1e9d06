package engine

import (
	"context"
	"fmt"
	"sort"
)

// snapKey names the state of one operator of one task in a savepoint: the
// node, what it computes (its fingerprint) and the task among how many,
// so that the state of a changed plan or parallelism is never restored
// into the wrong operator.
func snapKey(r *opRun) string {
	n := r.ni.node
	return fmt.Sprintf("%d/%s/%d/%d", n.ID, n.Fingerprint, r.t.grp.par, r.t.idx)
}

// keepSnapshot records the state of r at a graceful stop (task.stop),
// before the operator closes.
func (e *Engine) keepSnapshot(r *opRun) error {
	if e.opts.Savepoints == nil || r.op == nil {
		return nil
	}
	b, err := r.op.Snapshot()
	if err != nil {
		return fmt.Errorf("%s %s: snapshot: %w", r.ni.node.Op.Name(), r.ni.node.Stage, err)
	}
	if len(b) == 0 {
		return nil
	}
	e.snapMu.Lock()
	defer e.snapMu.Unlock()
	if e.snaps == nil {
		e.snaps = map[string][]byte{}
	}
	e.snaps[snapKey(r)] = b
	return nil
}

// savepoint saves the snapshots of a drained stop as the job's savepoint.
func (e *Engine) savepoint(ctx context.Context) error {
	if e.opts.Savepoints == nil {
		return nil
	}
	e.snapMu.Lock()
	snaps := e.snaps
	e.snapMu.Unlock()
	if len(snaps) == 0 {
		return nil
	}
	if err := e.opts.Savepoints.Save(ctx, e.g.Job, snaps); err != nil {
		return err
	}
	n := 0
	for _, b := range snaps {
		n += len(b)
	}
	e.log.Info("savepoint saved: the next run continues from this state", "job", e.g.Job, "operators", len(snaps), "bytes", n)
	return nil
}

// restore puts the job's savepoint, if any, into the operators and deletes
// it: a savepoint is good for the one run after the stop that wrote it
// (the durable consumers continue from the records it covers).
func (e *Engine) restore(ctx context.Context) error {
	sp := e.opts.Savepoints
	if sp == nil {
		return nil
	}
	states, ok, err := sp.Load(ctx, e.g.Job)
	if err != nil || !ok {
		return err
	}
	used := map[string]bool{}
	for _, gr := range e.groups {
		for _, t := range gr.tasks {
			for _, r := range t.ops {
				if r.op == nil {
					continue
				}
				k := snapKey(r)
				b, ok := states[k]
				if !ok {
					continue
				}
				if err := r.op.Restore(b); err != nil {
					return fmt.Errorf("restore %s %s from the savepoint of %s: %w (run with --fresh-state to drop it)",
						r.ni.node.Op.Name(), r.ni.node.Stage, e.g.Job, err)
				}
				used[k] = true
			}
		}
	}
	var dropped []string
	for k := range states {
		if !used[k] {
			dropped = append(dropped, k)
		}
	}
	sort.Strings(dropped)
	if len(dropped) > 0 {
		e.log.Warn("savepoint: operator states of another plan or parallelism dropped", "job", e.g.Job, "dropped", dropped)
	}
	e.log.Info("savepoint restored", "job", e.g.Job, "operators", len(used))
	e.restored = len(used)
	return sp.Delete(ctx, e.g.Job)
}

// Restored returns how many operator states the run restored from the
// job's savepoint (0: it started empty).
func (e *Engine) Restored() int { return e.restored }
