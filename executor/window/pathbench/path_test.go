package pathbench

import (
	"fmt"
	"strconv"
	"syscall"
	"testing"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/jetstream"
	"github.com/flowrun/flowrun/executor/state"
	"github.com/flowrun/flowrun/executor/window"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

type countSink struct{ rows, dead int }

func (s *countSink) Emit(udf.Row, uint64)                               { s.rows++ }
func (s *countSink) DeadLetter(executor.Class, string, udf.Row, []byte) { s.dead++ }

// BenchmarkJSONTumbleAgg measures the hot path on one goroutine:
//
//	{"user":"user-000123","ts":1700000000123,"amount":12.5,"merchant":"m7","n":3}
//	→ decode (user, ts, amount) → TUMBLE(ts, 1 minute) GROUP BY user
//	  COUNT(*), SUM(amount), AVG(amount), MAX(amount) → sink
//
// Rows are decoded into a reused batch (the operator keeps no input row);
// a watermark follows every batch of 256 records.
func BenchmarkJSONTumbleAgg(b *testing.B) {
	for _, keys := range []int{1000, 100} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) { bench(b, keys) })
	}
}

func bench(b *testing.B, nkeys int) {
	src := &planner.SourceOp{Source: "tx", Format: "json", Decl: []spec.Column{
		{Name: "user", Type: udf.TypeString},
		{Name: "ts", Type: udf.TypeTimestamp},
		{Name: "amount", Type: udf.TypeDouble},
		{Name: "merchant", Type: udf.TypeString},
		{Name: "n", Type: udf.TypeBigint},
	}, Columns: []int{0, 1, 2}}
	dec, err := jetstream.NewDecoder(src, 0)
	if err != nil {
		b.Fatal(err)
	}
	agg := func(name string, arg int, t udf.Type) planner.AggCall {
		f, _ := udf.LookupAggregate(name)
		c := planner.AggCall{Func: f, T: t}
		if arg >= 0 {
			c.Args = []planner.Expr{&planner.ColumnRef{Index: arg, T: udf.TypeDouble}}
		}
		return c
	}
	op, err := window.NewWindowAgg(&planner.WindowAggOp{
		Window: planner.Window{Kind: planner.Tumble, TimeCol: 1, Size: 60000},
		Keys:   []planner.Expr{&planner.ColumnRef{Index: 0, Name: "user", T: udf.TypeString}},
		Aggs: []planner.AggCall{agg("COUNT", -1, udf.TypeBigint), agg("SUM", 2, udf.TypeDouble),
			agg("AVG", 2, udf.TypeDouble), agg("MAX", 2, udf.TypeDouble)},
	}, state.Limits{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	// 64 Ki pre-encoded records, 1 ms apart in event time.
	const nrec = 1 << 16
	recs := make([][]byte, nrec)
	for i := range recs {
		recs[i] = []byte(`{"user":"user-` + fmt.Sprintf("%06d", (i*7919)%nkeys) + `","ts":` +
			strconv.Itoa(1700000000000+i) + `,"amount":` + strconv.FormatFloat(float64(i%1000)/4, 'f', -1, 64) +
			`,"merchant":"m` + strconv.Itoa(i%13) + `","n":` + strconv.Itoa(i%7) + `}`)
	}
	const batchSize = 256
	batch := &executor.Batch{Rows: make([]udf.Row, batchSize), IDs: make([]uint64, batchSize)}
	slab := make([]udf.Value, batchSize*dec.Width())
	for j := range batch.Rows {
		batch.Rows[j] = slab[j*dec.Width() : (j+1)*dec.Width() : (j+1)*dec.Width()]
	}
	out := &countSink{}
	var bytes int64
	var epoch int64 // event time keeps increasing across passes over recs
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for done := 0; done < b.N; done += batchSize {
		batch.Rows = batch.Rows[:batchSize]
		n := 0
		var maxTS int64
		for j := range batchSize {
			k := (done + j) % nrec
			if k == 0 && done+j > 0 {
				epoch += nrec
			}
			r := recs[k]
			bytes += int64(len(r))
			if derr := dec.Decode(r, batch.Rows[n]); derr != nil {
				b.Fatal(derr)
			}
			batch.Rows[n][1].I += epoch
			maxTS = batch.Rows[n][1].I
			batch.IDs[n] = uint64(done + j)
			n++
		}
		batch.Rows = batch.Rows[:n]
		if err := op.Process(0, batch, out); err != nil {
			b.Fatal(err)
		}
		if err := op.OnWatermark(maxTS-1000, out); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// CPU time of the process per row: on a shared, loaded machine wall
	// time per row overstates the cost; this is the one-core figure.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/row")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
	b.SetBytes(bytes / int64(max(b.N, 1)))
}

// cpuTime returns the user+system CPU time of the process in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
