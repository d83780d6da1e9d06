package jetstream

import (
	"testing"
	"time"

	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

// A sink creates its stream with the duplicate window it asks for (the
// default without one); an existing stream keeps its own.
func TestSinkDuplicateWindow(t *testing.T) {
	c := testConnMax(t, 0)
	ctx := t.Context()
	in := planner.Schema{Columns: []planner.Column{{Name: "n", Type: udf.TypeBigint}}, EventTime: -1}
	window := func(stream string) time.Duration {
		t.Helper()
		s, err := c.JS.Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		return s.CachedInfo().Config.Duplicates
	}
	for _, tc := range []struct {
		stream string
		ask    time.Duration
		want   time.Duration
	}{
		{"DW1", 0, DefaultDuplicateWindow},
		{"DW2", 15 * time.Second, 15 * time.Second},
		{"DW2", time.Hour, 15 * time.Second}, // exists: kept
	} {
		node := &planner.Node{ID: 1, Stage: "out", Op: &planner.SinkOp{Sink: "out", Stream: tc.stream, Subject: "dw." + tc.stream,
			DuplicateWindow: spec.Duration(tc.ask)}}
		if _, err := NewSink(ctx, c, "job", node, in, SinkOptions{CreateStreams: true}); err != nil {
			t.Fatal(err)
		}
		if got := window(tc.stream); got != tc.want {
			t.Errorf("%s asked %v: duplicate window %v, want %v", tc.stream, tc.ask, got, tc.want)
		}
	}
}
