//go:build unix

package flows

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used, every thread's: the
// collector's work counts. On a shared machine it varies far less than
// wall time, which is mostly waiting for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
