package planner

import (
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

// Graph is a physical plan: plain data that the executor turns into running
// operators (one switch over Node.Op). Nodes are in topological order; a
// node's inputs are the edges whose To is its ID, ordered by Port.
type Graph struct {
	Job         string  `json:"job"`
	Parallelism int     `json:"parallelism"`
	Nodes       []*Node `json:"nodes"`
	Edges       []Edge  `json:"edges"`
}

// Node is one physical operator.
type Node struct {
	ID int `json:"id"`
	// Stage is the name of the job element (source, stage, model, sink) the
	// node comes from; several nodes may share a stage.
	Stage string `json:"stage"`
	// Op is one of the *XxxOp types of this file.
	Op          Op      `json:"op"`
	Parallelism int     `json:"parallelism"`
	Schema      Schema  `json:"schema"`
	State       []State `json:"state,omitempty"`
	// Fingerprint identifies what the node computes: a hash of its stage,
	// op, output schema, state and the fingerprints of its inputs (not of
	// its id or parallelism). A node of an upgraded job with the same
	// fingerprint computes the same thing from the same inputs and can
	// restore the old node's state. It is conservative: any change upstream
	// (a filter, the columns a shared source decodes) changes it.
	Fingerprint string `json:"fingerprint,omitempty"`
}

// Op is the operator a node runs. Implementations are the *XxxOp types in
// this file; Name returns the operator's short name for EXPLAIN.
type Op interface{ Name() string }

// Schema is the layout of the rows a node emits.
type Schema struct {
	Columns []Column `json:"columns"`
	// EventTime is the index of the column that carries event time, -1 if
	// the rows have none.
	EventTime int `json:"eventTime"`
	// Key is the indexes of the columns the rows are partitioned by (empty
	// when not keyed).
	Key []int `json:"key,omitempty"`
	// Window is set when the rows are results of a group window: which
	// window, and where its start and end columns are (added by the planner
	// for window joins; informational for the executor).
	Window *WindowCols `json:"window,omitempty"`
}

// WindowCols says which group window produced rows and which columns hold
// its start and end (-1 when projected away). The event-time column of such
// rows is the window end when it is kept.
type WindowCols struct {
	Window Window `json:"window"`
	Start  int    `json:"start"`
	End    int    `json:"end"`
}

// Column is one column of a Schema.
type Column struct {
	Name     string   `json:"name"`
	Type     udf.Type `json:"type"`
	Nullable bool     `json:"nullable,omitempty"`
}

// Routing is how rows move along an edge between tasks.
type Routing uint8

// Edge routings.
const (
	Forward   Routing = iota // task i to task i (same parallelism)
	Hash                     // by hash of Keys modulo the consumer's parallelism; with no Keys every row goes to task 0 (a gather into a node of parallelism 1)
	Broadcast                // every row to every task
)

// Edge connects the output of From to input Port of To.
type Edge struct {
	From    int     `json:"from"`
	To      int     `json:"to"`
	Port    int     `json:"port"` // 0 = left/only input, 1 = right input of a join
	Routing Routing `json:"routing"`
	Keys    []int   `json:"keys,omitempty"` // columns of From's schema for Hash
}

// State describes keyed state kept by a node, for limits and snapshots.
// Names: "windows" and "groups" (aggregates; Key = the input columns of
// the group keys), "left"/"right" (interval and window joins; Key = the
// join keys of that input), "table" (table joins; Key = the right input's
// table key), "dedup" (clean; Key = input columns, TTL = within), "stats"
// (online statistics of clean and features stages), "window:<output>"
// (a features window transform; Key = its key columns), "model" (Train).
// TTL and MaxKeys come from the stage's limits: (a table's ttl for "table").
type State struct {
	Name    string        `json:"name"`
	Key     []int         `json:"key,omitempty"`
	TTL     spec.Duration `json:"ttl,omitempty"`
	MaxKeys int           `json:"maxKeys,omitempty"`
}

// SourceOp reads a JetStream stream and decodes records into rows of the
// node's schema. Columns lists, for each output column, the index of the
// source-schema column it decodes (projection push-down: only used columns
// are decoded).
type SourceOp struct {
	Source    string          `json:"source"`
	Stream    string          `json:"stream"`
	Subjects  []string        `json:"subjects"`
	Durable   string          `json:"durable"`
	Format    string          `json:"format"`
	CSV       spec.CSVOptions `json:"csv"`     // Delimiter set; Quote "" (RFC 4180), spec.CSVQuoteNone or a character
	Decl      []spec.Column   `json:"decl"`    // the full declared schema
	Columns   []int           `json:"columns"` // decoded subset, in output order
	StartFrom string          `json:"startFrom"`
	// Watermark settings; EventTime in the node schema names the column.
	MaxOutOfOrderness spec.Duration `json:"maxOutOfOrderness"`
	IdleTimeout       spec.Duration `json:"idleTimeout"`
	AllowedLateness   spec.Duration `json:"allowedLateness"`

	// TimestampFormat is how the timestamp columns are written: "" for
	// auto (the default), one of spec.TimestampFormats or a Go time layout.
	TimestampFormat string `json:"timestampFormat,omitempty"`

	// Filter is a predicate pushed into the source (nil for none), over
	// the node's output columns (the decoded subset).
	Filter Expr `json:"filter,omitempty"`
}

// FilterOp keeps rows where Pred is true (NULL drops the row).
type FilterOp struct {
	Pred Expr `json:"pred"`
}

// ProjectOp computes one output column per expression.
type ProjectOp struct {
	Exprs []Expr `json:"exprs"`
}

// ChainOp runs stateless operators (filter, project) one after the other
// in one goroutine.
type ChainOp struct {
	Ops []Op `json:"ops"`
}

// WindowKind is the kind of group window.
type WindowKind uint8

// Group windows.
const (
	Tumble WindowKind = iota
	Hop
	Session
)

// Window is a group window over the event-time column TimeCol of the input.
// Sizes are in milliseconds.
type Window struct {
	Kind    WindowKind `json:"kind"`
	TimeCol int        `json:"timeCol"`
	Size    int64      `json:"size"`  // tumble, hop
	Slide   int64      `json:"slide"` // hop
	Gap     int64      `json:"gap"`   // session
}

// AggCall is one aggregate of a GROUP BY.
type AggCall struct {
	Func     *udf.Aggregate `json:"func"`
	Args     []Expr         `json:"args"`   // evaluated over the input row; empty for COUNT(*)
	Consts   []udf.Value    `json:"consts"` // constant extra arguments (p of APPROX_PERCENTILE)
	Distinct bool           `json:"distinct"`
	T        udf.Type       `json:"type"`
}

// WindowAggOp aggregates rows per key and window and emits one row per
// key and window when the watermark passes the window end. Output layout:
// the group keys, window_start, window_end (timestamps), then the aggregates.
// A ProjectOp/FilterOp after it evaluates the select list and HAVING. The
// planner makes every key a ColumnRef of the input (computed keys are
// projected before the exchange); the output's event-time column is
// window_end.
type WindowAggOp struct {
	Window Window    `json:"window"`
	Keys   []Expr    `json:"keys"`
	Aggs   []AggCall `json:"aggs"`
}

// GroupAggOp is an unwindowed, continuously updating GROUP BY: for each
// input row it emits the updated row of its key (an upsert keyed by Keys).
// Output layout: the group keys, then the aggregates.
type GroupAggOp struct {
	Keys []Expr    `json:"keys"`
	Aggs []AggCall `json:"aggs"`
}

// JoinKind is the kind of a join.
type JoinKind uint8

// Joins.
const (
	IntervalJoin JoinKind = iota // right.ts BETWEEN left.ts + Lower AND left.ts + Upper
	WindowJoin                   // both sides in the same window of Window
	TableJoin                    // right side is a table stage: latest row per key as of the left row's event time
)

// JoinOp joins its two inputs (port 0 left, port 1 right) on equal keys.
// Output rows are left ++ right columns; for LEFT joins unmatched left rows
// get NULLs on the right (emitted when no match is possible any more). The
// output's event-time column is the left input's.
//
//   - IntervalJoin: a pair matches when right.time - left.time is in
//     [Lower, Upper] (milliseconds, inclusive; either may be negative),
//     times being the inputs' event-time columns.
//   - WindowJoin: both inputs are results of the same group window (their
//     event-time columns are their window ends); rows match when their
//     window ends and keys are equal. Window.TimeCol is the left input's
//     window-end column. The window-end equality is not among the keys.
//   - TableJoin: the right input is the changelog of a table stage; RightKeys
//     is its table key (in the table's order) and the operator keeps the
//     latest right row per key, as of the left row's event time.
//
// Residual is evaluated over left ++ right on each candidate pair (nil
// when none): for a table join on the version found; for a LEFT join a pair
// failing it counts as no match. Conditions on one side only are pushed
// into the inputs where that is correct (not into a table).
type JoinOp struct {
	Kind      JoinKind `json:"kind"`
	Left      bool     `json:"left"` // LEFT JOIN
	LeftKeys  []int    `json:"leftKeys"`
	RightKeys []int    `json:"rightKeys"`
	Lower     int64    `json:"lower"` // interval join bounds in ms
	Upper     int64    `json:"upper"`
	Window    Window   `json:"window"`             // window join
	Residual  Expr     `json:"residual,omitempty"` // extra ON conditions over left++right
}

// UnionOp merges its inputs, which share one schema.
type UnionOp struct{}

// CleanOp runs a clean: stage.
type CleanOp struct {
	Spec  spec.Clean `json:"spec"`
	Input Schema     `json:"input"`
}

// FeaturesOp runs a features: stage.
type FeaturesOp struct {
	Spec  []spec.Feature `json:"spec"`
	Input Schema         `json:"input"`
}

// TrainOp trains a model on its input (mode online or windowed) and
// publishes versions to the registry. Features are input columns in the
// model's order; Label is -1 for unsupervised algorithms. Batch models have
// no TrainOp (flowrun train fits them).
type TrainOp struct {
	Model    spec.Model `json:"model"`
	Features []int      `json:"features"`
	Label    int        `json:"label"`
}

// SinkOp writes rows to JetStream (a stream subject or a KV bucket).
type SinkOp struct {
	Sink    string `json:"sink"`
	Stream  string `json:"stream,omitempty"`
	Subject string `json:"subject,omitempty"`
	// DuplicateWindow is the duplicate window of the stream when the
	// sink creates it (0: the default).
	DuplicateWindow spec.Duration `json:"duplicateWindow,omitempty"`
	Bucket          string        `json:"bucket,omitempty"`
	Key             []int         `json:"key,omitempty"` // KV key columns: kv.key, else the input's key
	Format          string        `json:"format"`
	// Where is the sink's expr-lang predicate over the row's columns by
	// name ("" for none); the executor compiles it with udf.CompilePredicate.
	Where spec.Text `json:"where"`
}

func (*SourceOp) Name() string    { return "Source" }
func (*FilterOp) Name() string    { return "Filter" }
func (*ProjectOp) Name() string   { return "Project" }
func (*ChainOp) Name() string     { return "Chain" }
func (*WindowAggOp) Name() string { return "WindowAgg" }
func (*GroupAggOp) Name() string  { return "GroupAgg" }
func (*JoinOp) Name() string      { return "Join" }
func (*UnionOp) Name() string     { return "Union" }
func (*CleanOp) Name() string     { return "Clean" }
func (*FeaturesOp) Name() string  { return "Features" }
func (*TrainOp) Name() string     { return "Train" }
func (*SinkOp) Name() string      { return "Sink" }
