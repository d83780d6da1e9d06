package main

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// A small flowrun bench: every figure is measured, each ratio is the rate
// over the rate of the baseline it names, and both flowrun jobs read every
// record (runBench fails otherwise).
func TestBenchSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs embedded servers and 1M rows through the executor")
	}
	f := benchFlags{records: 3000, keys: 100, rounds: 1, parallelism: 1, batch: 500, output: "text", dir: t.TempDir()}
	var stderr bytes.Buffer
	rep, err := runBench(t.Context(), &f, &stderr)
	if err != nil {
		t.Fatal(err, stderr.String())
	}
	rates := map[string]float64{}
	for _, r := range rep.Results {
		if r.Rate <= 0 || r.Seconds <= 0 {
			t.Errorf("%s: rate %v over %v s", r.Name, r.Rate, r.Seconds)
		}
		if r.Against == "" {
			rates[r.Name] = r.Rate
		}
	}
	var names []string
	for _, r := range rep.Results {
		names = append(names, r.Name)
		if r.Against == "" {
			continue
		}
		base, ok := rates[r.Against]
		if !ok {
			t.Errorf("%s: against %q, which is not measured", r.Name, r.Against)
			continue
		}
		if math.Abs(r.Ratio-r.Rate/base) > 1e-9 {
			t.Errorf("%s: ratio %v, want %v / %v", r.Name, r.Ratio, r.Rate, base)
		}
	}
	want := "baseline publish,baseline consume,baseline pass-through,baseline pass-through+id,baseline publish-then-consume," +
		"flowrun SELECT *,flowrun SELECT *,flowrun filter+TUMBLE,flowrun executor alone"
	if got := strings.Join(names, ","); got != want {
		t.Fatalf("figures %s\nwant %s", got, want)
	}
	ex := rep.Results[len(rep.Results)-1]
	if ex.AllocsPerRow == nil || ex.Records < 1_000_000 {
		t.Fatalf("executor alone: %+v", ex)
	}
	var out bytes.Buffer
	writeBench(&out, rep)
	if n := strings.Count(out.String(), "\n"); n != 2+len(rep.Results) {
		t.Errorf("text report has %d lines:\n%s", n, out.String())
	}
}
