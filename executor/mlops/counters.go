package mlops

import (
	"sort"
	"sync"
	"sync/atomic"
)

// Counters are named row counts of one stage (what each clean step
// dropped or changed, what a train operator learned). They are safe for
// concurrent use: the operator adds, the run summary reads.
type Counters struct {
	Stage string

	mu sync.Mutex
	m  map[string]*atomic.Int64
}

// NewCounters returns empty counters of stage.
func NewCounters(stage string) *Counters {
	return &Counters{Stage: stage, m: map[string]*atomic.Int64{}}
}

// Counter returns the counter name, creating it at zero.
func (c *Counters) Counter(name string) *atomic.Int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	x := c.m[name]
	if x == nil {
		x = new(atomic.Int64)
		c.m[name] = x
	}
	return x
}

// Snapshot returns the current values by name.
func (c *Counters) Snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.m))
	for k, v := range c.m {
		out[k] = v.Load()
	}
	return out
}

// Names returns the counter names, sorted.
func (c *Counters) Names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.m))
	for k := range c.m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
