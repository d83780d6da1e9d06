package pathbench

import (
	"fmt"
	"syscall"
	"testing"
)

// BenchmarkJSONTumbleAgg measures Path (see there) on one goroutine.
func BenchmarkJSONTumbleAgg(b *testing.B) {
	for _, keys := range []int{1000, 100} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) { bench(b, keys) })
	}
}

func bench(b *testing.B, nkeys int) {
	p, err := New(nkeys)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	bytes, err := p.Run(b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	// CPU time of the process per row: on a shared, loaded machine wall
	// time per row overstates the cost; this is the one-core figure.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/row")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
	b.SetBytes(bytes / int64(max(b.N, 1)))
}

// The path's windows agree with an oracle: one result per distinct
// (user, 1-minute window) among the records, none dead-lettered.
func TestPathCounts(t *testing.T) {
	const n, keys = 1 << 17, 100
	p, err := New(keys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(n); err != nil {
		t.Fatal(err)
	}
	if err := p.op.OnWatermark(1<<62, p.out); err != nil {
		t.Fatal(err)
	}
	// Record i has event time 1700000000000+i and the user of record
	// i mod 65536 of the pre-encoded set.
	type pair struct{ user, win int }
	want := map[pair]bool{}
	for i := range n {
		want[pair{(i % len(p.recs) * 7919) % keys, (1700000000000 + i) / 60000}] = true
	}
	if p.out.dead != 0 {
		t.Fatalf("%d dead letters", p.out.dead)
	}
	if p.Emitted() != len(want) {
		t.Fatalf("%d window results, want %d", p.Emitted(), len(want))
	}
}

// cpuTime returns the user+system CPU time of the process in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
