package window

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/state"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

// countSink counts emitted rows and keeps nothing (an in-memory sink).
type countSink struct{ rows, dead int }

func (s *countSink) Emit(udf.Row, uint64)                               { s.rows++ }
func (s *countSink) DeadLetter(executor.Class, string, udf.Row, []byte) { s.dead++ }

// BenchmarkTumbleAgg measures decoded rows → tumbling window per key
// (1000 rows per second of event time) → COUNT(*), SUM, AVG, MAX → sink,
// in batches of 256 with a watermark after each batch.
func BenchmarkTumbleAgg(b *testing.B) {
	for _, c := range []struct {
		keys int
		size int64
	}{{1000, 60000}, {100, 10000}, {100000, 60000}} {
		b.Run(fmt.Sprintf("keys=%d/window=%ds", c.keys, c.size/1000), func(b *testing.B) { benchTumble(b, c.keys, c.size) })
	}
}

// BenchmarkHopAgg is BenchmarkTumbleAgg with HOP(1 minute, 10 minutes):
// every row goes into 10 windows.
func BenchmarkHopAgg(b *testing.B) {
	benchWindow(b, planner.Window{Kind: planner.Hop, TimeCol: colTS, Size: 600000, Slide: 60000}, 1000)
}

// BenchmarkSessionAgg is BenchmarkTumbleAgg with SESSION(gap 5 s): about
// one row per key per second, so sessions grow and rarely close.
func BenchmarkSessionAgg(b *testing.B) {
	benchWindow(b, planner.Window{Kind: planner.Session, TimeCol: colTS, Gap: 5000}, 1000)
}

func benchTumble(b *testing.B, nkeys int, size int64) {
	benchWindow(b, planner.Window{Kind: planner.Tumble, TimeCol: colTS, Size: size}, nkeys)
}

func benchWindow(b *testing.B, w planner.Window, nkeys int) {
	sum, _ := udf.LookupAggregate("SUM")
	avg, _ := udf.LookupAggregate("AVG")
	mx, _ := udf.LookupAggregate("MAX")
	cnt, _ := udf.LookupAggregate("COUNT")
	op, err := NewWindowAgg(&planner.WindowAggOp{
		Window: w,
		Keys:   []planner.Expr{col(colK)},
		Aggs: []planner.AggCall{
			{Func: cnt, T: udf.TypeBigint},
			{Func: sum, Args: []planner.Expr{col(colX)}, T: udf.TypeDouble},
			{Func: avg, Args: []planner.Expr{col(colX)}, T: udf.TypeDouble},
			{Func: mx, Args: []planner.Expr{col(colY)}, T: udf.TypeBigint},
		},
	}, state.Limits{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	keyNames := make([]udf.Value, nkeys)
	for i := range keyNames {
		keyNames[i] = udf.Str(fmt.Sprintf("user-%06d", i))
	}
	const batchSize = 256
	// Pre-decoded input: a ring of batches reused (the operator does not
	// retain rows).
	const ring = 64
	batches := make([]*executor.Batch, ring)
	for i := range batches {
		batches[i] = &executor.Batch{Rows: make([]udf.Row, batchSize), IDs: make([]uint64, batchSize)}
		for j := range batchSize {
			batches[i].Rows[j] = make(udf.Row, 4)
		}
	}
	out := &countSink{}
	var n, ts int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for done := 0; done < b.N; done += batchSize {
		bt := batches[(done/batchSize)%ring]
		for j, r := range bt.Rows {
			n++
			ts++ // 1 row per ms
			r[colK] = keyNames[(n*7919)%int64(nkeys)]
			r[colTS] = udf.Time(ts)
			r[colX] = udf.Float(float64(n % 1000))
			r[colY] = udf.Int(n % 97)
			bt.IDs[j] = uint64(n)
		}
		if err := op.Process(0, bt, out); err != nil {
			b.Fatal(err)
		}
		if err := op.OnWatermark(ts-100, out); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// CPU time of the process per row: on a shared, loaded machine wall
	// time per row overstates the cost; this is the one-core figure.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/row")
	op.OnWatermark(executor.MaxWatermark, out)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
}

// cpuTime returns the user+system CPU time of the process in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
