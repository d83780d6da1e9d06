package server

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// latencyBuckets are the upper bounds (seconds) of the request latency
// histogram.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// metrics holds the serving counters, written in the Prometheus text
// exposition format (version 0.0.4) by hand.
type metrics struct {
	mu     sync.Mutex
	models map[string]*modelMetrics // "" for requests that named no known model
}

type modelMetrics struct {
	codes       sync.Map // int → *atomic.Int64
	buckets     []atomic.Int64
	count       atomic.Int64
	sumNanos    atomic.Int64
	predictions atomic.Int64
}

func newMetrics() *metrics { return &metrics{models: map[string]*modelMetrics{}} }

func (m *metrics) model(name string) *modelMetrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	mm := m.models[name]
	if mm == nil {
		mm = &modelMetrics{buckets: make([]atomic.Int64, len(latencyBuckets))}
		m.models[name] = mm
	}
	return mm
}

// observe records one request of model (code, latency, predictions).
func (m *metrics) observe(model string, code int, d time.Duration, predictions int) {
	mm := m.model(model)
	c, ok := mm.codes.Load(code)
	if !ok {
		c, _ = mm.codes.LoadOrStore(code, new(atomic.Int64))
	}
	c.(*atomic.Int64).Add(1)
	s := d.Seconds()
	for i, b := range latencyBuckets {
		if s <= b {
			mm.buckets[i].Add(1)
		}
	}
	mm.count.Add(1)
	mm.sumNanos.Add(int64(d))
	mm.predictions.Add(int64(predictions))
}

// gauge is one extra sample written with the metrics.
type gauge struct {
	name, help string
	typ        string             // "gauge" or "counter"
	values     map[string]float64 // model → value
}

func (m *metrics) write(w io.Writer, gauges []gauge) {
	m.mu.Lock()
	names := make([]string, 0, len(m.models))
	for n := range m.models {
		names = append(names, n)
	}
	m.mu.Unlock()
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("# HELP flowrun_serve_requests_total Prediction API requests by model and HTTP status code.\n")
	b.WriteString("# TYPE flowrun_serve_requests_total counter\n")
	for _, n := range names {
		mm := m.model(n)
		var codes []int
		mm.codes.Range(func(k, _ any) bool { codes = append(codes, k.(int)); return true })
		sort.Ints(codes)
		for _, c := range codes {
			v, _ := mm.codes.Load(c)
			fmt.Fprintf(&b, "flowrun_serve_requests_total{model=%s,code=\"%d\"} %d\n", quote(n), c, v.(*atomic.Int64).Load())
		}
	}
	b.WriteString("# HELP flowrun_serve_request_duration_seconds Prediction API request latency.\n")
	b.WriteString("# TYPE flowrun_serve_request_duration_seconds histogram\n")
	for _, n := range names {
		mm := m.model(n)
		for i, le := range latencyBuckets {
			fmt.Fprintf(&b, "flowrun_serve_request_duration_seconds_bucket{model=%s,le=\"%s\"} %d\n", quote(n), strconv.FormatFloat(le, 'g', -1, 64), mm.buckets[i].Load())
		}
		fmt.Fprintf(&b, "flowrun_serve_request_duration_seconds_bucket{model=%s,le=\"+Inf\"} %d\n", quote(n), mm.count.Load())
		fmt.Fprintf(&b, "flowrun_serve_request_duration_seconds_sum{model=%s} %g\n", quote(n), time.Duration(mm.sumNanos.Load()).Seconds())
		fmt.Fprintf(&b, "flowrun_serve_request_duration_seconds_count{model=%s} %d\n", quote(n), mm.count.Load())
	}
	b.WriteString("# HELP flowrun_serve_predictions_total Instances scored by model.\n")
	b.WriteString("# TYPE flowrun_serve_predictions_total counter\n")
	for _, n := range names {
		if n != "" {
			fmt.Fprintf(&b, "flowrun_serve_predictions_total{model=%s} %d\n", quote(n), m.model(n).predictions.Load())
		}
	}
	for _, g := range gauges {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", g.name, g.help, g.name, g.typ)
		keys := make([]string, 0, len(g.values))
		for k := range g.values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s{model=%s} %g\n", g.name, quote(k), g.values[k])
		}
	}
	io.WriteString(w, b.String())
}

// quote writes a Prometheus label value.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
