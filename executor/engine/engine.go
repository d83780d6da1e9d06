package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/eval"
	"github.com/flowrun/flowrun/executor/jetstream"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

// Errors of the engine, checked with errors.Is.
var (
	ErrGraph       = errors.New("engine: invalid graph")
	ErrUnsupported = errors.New("engine: operator not supported")
)

// Builder builds the operator of one task of a node whose inputs have the
// schemas in (by port). It is called once per task.
type Builder func(node *planner.Node, in []planner.Schema) (executor.Operator, error)

// Options configure an Engine.
type Options struct {
	// Conn is the JetStream connection for sources, sinks and the DLQ.
	Conn *jetstream.Conn
	// DLQ receives dead letters of every stage. Required.
	DLQ *jetstream.DLQ
	// Bounded makes sources stop at the end of their streams (as of start):
	// every window fires and Run returns.
	Bounded bool
	// CreateStreams creates missing streams and buckets.
	CreateStreams bool
	// Build, if set, is asked first how a non-I/O node becomes an operator
	// (tests, custom operators); when it returns ErrUnsupported the
	// built-in operators are used.
	Build Builder
	// Env holds the user functions and models expressions may call.
	Env *eval.Env
	// Funcs holds the job's user functions for sink where: predicates.
	Funcs *udf.Env
	// Tap receives every row a sink publishes (for --output); it must be
	// safe for concurrent use.
	Tap func(stage string, cols []planner.Column, rows []udf.Row)
	// Batch is the source batch size (default jetstream.DefaultBatch).
	Batch int
	// MaxRecord is the source record size limit (default jetstream.DefaultMaxRecord).
	MaxRecord int
	// ChanSize is the capacity, in messages, of a task's input channel
	// (default 64).
	ChanSize int
	// DrainTimeout bounds the graceful stop after ctx ends (default 30s).
	DrainTimeout time.Duration
	// Savepoints, if set, keeps operator state across a graceful stop: at
	// the start the job's savepoint is restored into its operators and
	// deleted; after a drained stop (ctx ended) every operator's Snapshot
	// is saved.
	Savepoints *jetstream.Savepoints
	// Logger (nil: slog.Default()).
	Logger *slog.Logger
}

// Engine runs one physical graph: a goroutine per task, Message channels
// between tasks, operators connected by Forward edges chained into one
// goroutine, keyed nodes split into Parallelism tasks by key hash.
type Engine struct {
	g       *planner.Graph
	opts    Options
	nodes   []*nodeInfo // in graph order
	byID    map[int]*nodeInfo
	groups  []*group
	sources []*jetstream.Source
	log     *slog.Logger

	snapMu   sync.Mutex
	snaps    map[string][]byte // operator snapshots taken at a graceful stop
	restored int               // operator states restored from a savepoint
}

type nodeInfo struct {
	node  *planner.Node
	in    []planner.Schema // by port
	ins   []planner.Edge   // by port
	outs  []planner.Edge
	par   int
	stats *executor.Stats
	grp   *group
	isSrc bool
	isSnk bool
}

// group is a chain of nodes run in one goroutine per task: a head and the
// nodes fused after it by one-to-one Forward edges.
type group struct {
	nodes []*nodeInfo
	par   int
	tasks []*task
	outs  []*outEdge // out edges of the last node
	nslot int        // input slots of each task
	// slotBase[k] is the first slot of head in-edge k.
	slotBase []int
}

// outEdge is an edge from a group's last node to another group's head.
type outEdge struct {
	edge    planner.Edge
	to      *group
	forward bool // task i sends to task i only
	base    int  // slot of the edge in the receiving task (plus sender index unless forward)
}

// New plans the tasks of g and prepares its I/O: streams, consumers,
// sinks. Nothing runs before Run.
func New(ctx context.Context, g *planner.Graph, opts Options) (*Engine, error) {
	if opts.DLQ == nil || opts.Conn == nil {
		return nil, fmt.Errorf("%w: engine needs a connection and a DLQ", ErrGraph)
	}
	if opts.ChanSize <= 0 {
		opts.ChanSize = 64
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	e := &Engine{g: g, opts: opts, byID: map[int]*nodeInfo{}, log: opts.Logger}
	for _, n := range g.Nodes {
		if _, dup := e.byID[n.ID]; dup {
			return nil, fmt.Errorf("%w: node id %d twice", ErrGraph, n.ID)
		}
		ni := &nodeInfo{node: n, par: max(1, n.Parallelism), stats: executor.NewStats(n.Stage)}
		switch n.Op.(type) {
		case *planner.SourceOp:
			ni.isSrc, ni.par = true, 1 // one durable consumer per source
		case *planner.SinkOp:
			ni.isSnk = true
		case nil:
			return nil, fmt.Errorf("%w: node %d has no operator", ErrGraph, n.ID)
		}
		e.nodes = append(e.nodes, ni)
		e.byID[n.ID] = ni
	}
	for _, ed := range g.Edges {
		from, to := e.byID[ed.From], e.byID[ed.To]
		if from == nil || to == nil {
			return nil, fmt.Errorf("%w: edge %d->%d names a missing node", ErrGraph, ed.From, ed.To)
		}
		from.outs = append(from.outs, ed)
		to.ins = append(to.ins, ed)
	}
	for _, ni := range e.nodes {
		slices.SortStableFunc(ni.ins, func(a, b planner.Edge) int { return a.Port - b.Port })
		for i, ed := range ni.ins {
			if ed.Port != i {
				return nil, fmt.Errorf("%w: node %d: input ports %v are not 0..n-1", ErrGraph, ni.node.ID, ports(ni.ins))
			}
			ni.in = append(ni.in, e.byID[ed.From].node.Schema)
		}
		if ni.isSrc && len(ni.ins) > 0 {
			return nil, fmt.Errorf("%w: source node %d has inputs", ErrGraph, ni.node.ID)
		}
		if !ni.isSrc && len(ni.ins) == 0 {
			return nil, fmt.Errorf("%w: node %d (%s) has no input", ErrGraph, ni.node.ID, ni.node.Op.Name())
		}
	}
	e.chain()
	if err := e.wire(); err != nil {
		return nil, err
	}
	if err := e.build(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

func ports(es []planner.Edge) []int {
	var p []int
	for _, e := range es {
		p = append(p, e.Port)
	}
	return p
}

// chain groups nodes: a node joins its producer's group when it has one
// input, a Forward edge, the same parallelism, and the producer has no
// other consumer. Graph order is topological, so producers come first.
func (e *Engine) chain() {
	for _, ni := range e.nodes {
		if len(ni.ins) == 1 && ni.ins[0].Routing == planner.Forward {
			up := e.byID[ni.ins[0].From]
			if len(up.outs) == 1 && up.par == ni.par && up.grp != nil && up.grp.nodes[len(up.grp.nodes)-1] == up {
				up.grp.nodes = append(up.grp.nodes, ni)
				ni.grp = up.grp
				continue
			}
		}
		gr := &group{nodes: []*nodeInfo{ni}, par: ni.par}
		ni.grp = gr
		e.groups = append(e.groups, gr)
	}
}

// wire assigns input slots and out edges.
func (e *Engine) wire() error {
	for _, gr := range e.groups {
		head := gr.nodes[0]
		for _, ed := range head.ins {
			up := e.byID[ed.From]
			if up.grp.nodes[len(up.grp.nodes)-1] != up {
				return fmt.Errorf("%w: edge %d->%d leaves the middle of a chain", ErrGraph, ed.From, ed.To)
			}
			oe := &outEdge{edge: ed, to: gr, base: gr.nslot}
			oe.forward = ed.Routing == planner.Forward && up.par == gr.par
			gr.slotBase = append(gr.slotBase, gr.nslot)
			if oe.forward {
				gr.nslot++
			} else {
				gr.nslot += up.par
			}
			up.grp.outs = append(up.grp.outs, oe)
		}
	}
	return nil
}

// build creates the tasks and their operators.
func (e *Engine) build(ctx context.Context) error {
	for _, gr := range e.groups {
		for i := range gr.par {
			t := &task{e: e, grp: gr, idx: i, wm: executor.MinWatermark}
			if !gr.nodes[0].isSrc {
				t.in = make(chan envelope, e.opts.ChanSize)
				t.slots = make([]slot, gr.nslot)
				for s := range t.slots {
					t.slots[s].wm = executor.MinWatermark
				}
			}
			for _, ni := range gr.nodes {
				r := &opRun{t: t, ni: ni}
				r.col.r = r
				if ni.isSrc {
					src, err := jetstream.NewSource(ctx, e.opts.Conn, e.g.Job, ni.node, jetstream.SourceOptions{
						Bounded: e.opts.Bounded, Batch: e.opts.Batch, MaxRecord: e.opts.MaxRecord,
						CreateStreams: e.opts.CreateStreams, DLQ: e.opts.DLQ, Stats: ni.stats, Logger: e.log})
					if err != nil {
						return fmt.Errorf("source %s: %w", ni.node.Stage, err)
					}
					t.src = src
					e.sources = append(e.sources, src)
					// A pushed-down predicate runs right after decoding.
					if op := ni.node.Op.(*planner.SourceOp); op.Filter != nil {
						fnode := &planner.Node{ID: ni.node.ID, Stage: ni.node.Stage, Op: &planner.FilterOp{Pred: op.Filter},
							Parallelism: 1, Schema: ni.node.Schema}
						f, err := e.operator(ctx, fnode, []planner.Schema{ni.node.Schema})
						if err != nil {
							return fmt.Errorf("source %s: filter: %w", ni.node.Stage, err)
						}
						r.op = f
					}
				} else {
					op, err := e.operator(ctx, ni.node, ni.in)
					if err != nil {
						return fmt.Errorf("stage %s: %s: %w", ni.node.Stage, ni.node.Op.Name(), err)
					}
					r.op = op
				}
				t.ops = append(t.ops, r)
			}
			gr.tasks = append(gr.tasks, t)
		}
	}
	return nil
}

// Run runs the graph until every task ends: in bounded mode when all
// input is consumed and every window fired; otherwise until ctx ends, then
// it drains (sources stop, queued messages are processed, sinks wait for
// their acks) and returns nil. The first task error aborts the run and is
// returned.
func (e *Engine) Run(ctx context.Context) error {
	if err := e.restore(ctx); err != nil {
		return err
	}
	kctx, kill := context.WithCancelCause(context.Background())
	defer kill(nil)
	stopped := make(chan struct{})
	go func() { // bound the graceful stop
		select {
		case <-ctx.Done():
			select {
			case <-time.After(e.opts.DrainTimeout):
				kill(fmt.Errorf("engine: drain took longer than %v", e.opts.DrainTimeout))
			case <-stopped:
			}
		case <-stopped:
		}
	}()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for _, gr := range e.groups {
		for _, t := range gr.tasks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := t.run(ctx, kctx)
				if err != nil && !errors.Is(err, errKilled) {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					kill(err)
				}
			}()
		}
	}
	wg.Wait()
	close(stopped)
	if first == nil && context.Cause(kctx) != nil {
		first = context.Cause(kctx)
	}
	fctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.opts.Conn.Flush(fctx); err != nil && first == nil {
		first = err
	}
	if first == nil && ctx.Err() != nil {
		first = e.savepoint(fctx)
	}
	return first
}

// StageStats are the counters of one stage of a run.
type StageStats struct {
	Stage        string
	Kind         string // source, stage or sink
	In, Out      int64
	Late         int64
	DeadLettered int64
	// Watermark is the stage's event-time position (epoch ms), or
	// executor.MinWatermark before the first.
	Watermark int64
}

// Stats returns the counters per stage, in graph order: rows into the
// stage's first node and out of its last, dead letters by class.
func (e *Engine) Stats() []StageStats {
	var out []StageStats
	idx := map[string]int{}
	for _, ni := range e.nodes {
		st := ni.node.Stage
		i, ok := idx[st]
		if !ok {
			kind := "stage"
			if ni.isSrc {
				kind = "source"
			} else if ni.isSnk {
				kind = "sink"
			}
			idx[st] = len(out)
			out = append(out, StageStats{Stage: st, Kind: kind, In: ni.stats.In.Load(), Watermark: ni.stats.EventTime.Load(),
				Late: e.opts.DLQ.Count(st, executor.ClassLate), DeadLettered: e.opts.DLQ.Count(st, "")})
			i = len(out) - 1
		}
		out[i].Out = ni.stats.Out.Load()
		if w := ni.stats.EventTime.Load(); w < out[i].Watermark {
			out[i].Watermark = w
		}
	}
	return out
}

// Sources returns the sources of the run (for lag).
func (e *Engine) Sources() []*jetstream.Source { return e.sources }

// Tasks returns the number of tasks (goroutines) of the run.
func (e *Engine) Tasks() int {
	n := 0
	for _, gr := range e.groups {
		n += len(gr.tasks)
	}
	return n
}

// Describe returns one line per task group: its nodes and parallelism,
// e.g. "Source[orders] -> Filter[big] -> Sink[out] x1".
func (e *Engine) Describe() []string {
	var lines []string
	for _, gr := range e.groups {
		s := ""
		for i, ni := range gr.nodes {
			if i > 0 {
				s += " -> "
			}
			s += ni.node.Op.Name() + "[" + ni.node.Stage + "]"
		}
		lines = append(lines, fmt.Sprintf("%s x%d", s, gr.par))
	}
	return lines
}
