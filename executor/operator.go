package executor

import (
	"sync/atomic"

	"github.com/flowrun/flowrun/udf"
)

// MsgKind says what a Message carries. Data, watermarks, checkpoint barriers
// and end-of-input travel on the same channels, in order.
type MsgKind uint8

// Message kinds.
const (
	MsgData       MsgKind = iota // Batch holds rows
	MsgWatermark                 // Watermark: no row with event time < Watermark follows on this input
	MsgBarrier                   // Barrier: checkpoint Barrier; snapshot after everything before it
	MsgEndOfInput                // the input is exhausted (bounded run); implies watermark +inf
	// MsgIdle: the input had no data for its idle timeout. It stops holding
	// the watermark back until its next data or watermark message. Only the
	// runtime sees it; operators never do.
	MsgIdle
)

// MaxWatermark is the watermark of an exhausted input.
const MaxWatermark = int64(1<<63 - 1)

// MinWatermark is the watermark before any row was seen.
const MinWatermark = -MaxWatermark - 1

// Batch is a group of rows moving between operators. IDs[i] is a
// deterministic 64-bit identity of Rows[i] (derived from the source stream
// sequence, or from key and window for aggregates); sinks build the
// Nats-Msg-Id from it, so a replay publishes the same ids and JetStream
// drops the duplicates. The receiver of a Batch owns it.
type Batch struct {
	Rows []udf.Row
	IDs  []uint64
}

// Len returns the number of rows.
func (b *Batch) Len() int { return len(b.Rows) }

// Append adds one row with its id.
func (b *Batch) Append(r udf.Row, id uint64) {
	b.Rows = append(b.Rows, r)
	b.IDs = append(b.IDs, id)
}

// Message is the unit on an operator's input channel.
type Message struct {
	Kind      MsgKind
	Batch     *Batch
	Watermark int64
	Barrier   uint64
}

// Class is a dead-letter class (header Flowrun-Class).
type Class string

// Dead-letter classes.
const (
	ClassDecode     Class = "decode"
	ClassType       Class = "type"
	ClassExpr       Class = "expr"
	ClassLate       Class = "late"
	ClassOversize   Class = "oversize"
	ClassStateLimit Class = "state-limit"
	ClassClean      Class = "clean"
)

// Collector receives what an operator produces. It is used only from the
// operator's own goroutine.
type Collector interface {
	// Emit appends one output row with its deterministic id. The row is
	// owned by the collector afterwards.
	Emit(row udf.Row, id uint64)
	// DeadLetter sends a row (or raw record) that cannot be processed to the
	// dead-letter stream with a class and a reason; processing continues.
	DeadLetter(class Class, reason string, row udf.Row, raw []byte)
}

// Operator is one running physical node (one task of it). All methods are
// called from a single goroutine, in the order messages arrive, so an
// operator never needs a lock for its own state.
//
// The runtime tracks watermarks: it calls OnWatermark with the minimum over
// all inputs, only when that minimum advances. EndOfInput on every input
// arrives as OnWatermark(MaxWatermark) followed by Close.
type Operator interface {
	// Process handles one batch that arrived on input port (0, or 1 for the
	// right side of a join). The operator may keep the rows.
	Process(port int, b *Batch, out Collector) error
	// OnWatermark tells the operator that no row with event time < wm will
	// arrive on any input; windows ending at or before wm fire.
	OnWatermark(wm int64, out Collector) error
	// Snapshot serializes the operator's state (for checkpoints at a barrier).
	Snapshot() ([]byte, error)
	// Restore replaces the operator's state with a snapshot.
	Restore(b []byte) error
	// Close flushes and releases resources at the end of the run.
	Close(out Collector) error
}

// Stats counts the rows of one stage (all its nodes and tasks). It is safe
// for concurrent use. Dead letters (and late rows among them) are counted
// by the dead-letter queue per stage and class.
type Stats struct {
	Stage string
	In    atomic.Int64 // rows (records, for a source) received
	Out   atomic.Int64 // rows emitted
	// EventTime is the stage's latest watermark (epoch ms), MinWatermark
	// before the first.
	EventTime atomic.Int64
}

// NewStats returns zeroed counters for stage.
func NewStats(stage string) *Stats {
	s := &Stats{Stage: stage}
	s.EventTime.Store(MinWatermark)
	return s
}

// WatermarkHolder is implemented by an operator whose output rows may carry
// event times behind its input watermark: an interval join emits a left row
// (with the left row's event time) when a right row up to the join's upper
// bound later arrives. The runtime passes HoldWatermark(wm) instead of wm to
// the operators after it and downstream, so rows it emits later are not
// late there. HoldWatermark must be monotone in wm.
type WatermarkHolder interface {
	HoldWatermark(wm int64) int64
}
