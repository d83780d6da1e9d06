//go:build unix

package ml

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user + system) used by the process so
// far; benchmarks report it per op as cpu-ns/op, which stays meaningful on
// a machine shared with other jobs, where wall-clock ns/op is inflated.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
