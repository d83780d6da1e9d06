package join

import (
	"testing"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

type countSink struct{ n int }

func (s *countSink) Emit(udf.Row, uint64)                               { s.n++ }
func (s *countSink) DeadLetter(executor.Class, string, udf.Row, []byte) {}

// BenchmarkIntervalJoin: 1000 keys, one left and one right row per ms,
// right within [0, 1 s] of left: each row finds about one partner.
func BenchmarkIntervalJoin(b *testing.B) {
	j := newJoin(b, &planner.JoinOp{Kind: planner.IntervalJoin, LeftKeys: []int{0}, RightKeys: []int{0}, Lower: 0, Upper: 1000}, 1)
	benchJoin(b, j, 1000)
}

// BenchmarkTableJoin: 1000 keys; a table version per key every second, a
// left row per ms.
func BenchmarkTableJoin(b *testing.B) {
	j := newJoin(b, &planner.JoinOp{Kind: planner.TableJoin, Left: true, LeftKeys: []int{0}, RightKeys: []int{0}}, 1)
	benchJoin(b, j, 1000)
}

func benchJoin(b *testing.B, j *Join, nkeys int64) {
	const batch = 256
	lb := &executor.Batch{Rows: make([]udf.Row, batch), IDs: make([]uint64, batch)}
	rb := &executor.Batch{Rows: make([]udf.Row, 0, batch), IDs: make([]uint64, 0, batch)}
	out := &countSink{}
	var ts, n int64
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		rb.Rows, rb.IDs = rb.Rows[:0], rb.IDs[:0]
		for i := range lb.Rows {
			ts++
			n++
			lb.Rows[i] = udf.Row{udf.Int((n * 7919) % nkeys), udf.Time(ts), udf.Int(n)}
			lb.IDs[i] = uint64(2 * n)
			if j.kind != planner.TableJoin || n%nkeys == 0 {
				rb.Append(udf.Row{udf.Int((n * 104729) % nkeys), udf.Time(ts), udf.Int(n)}, uint64(2*n+1))
			}
		}
		j.Process(1, rb, out)
		j.Process(0, lb, out)
		j.OnWatermark(ts-100, out)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
}
