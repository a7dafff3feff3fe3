package duckdb

import (
	"bytes"
	"syscall"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
)

// cpuTime is the process's CPU time so far (every thread: GC included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWritePath is the Go work an import does per event before DuckDB:
// ingest's decode (walk, check, compact) and the row preparation, on one
// goroutine, over 5,000 simulator events as NDJSON. Besides events/s it
// reports CPU µs per event for each part, which holds up better than wall
// time on a machine shared with other work.
func BenchmarkWritePath(b *testing.B) {
	var in bytes.Buffer
	for _, e := range storetest.BenchEvents(b)[:5000] {
		in.Write(e.Raw)
		in.WriteByte('\n')
	}
	b.SetBytes(int64(in.Len()))
	b.ReportAllocs()
	var decode, prepare time.Duration
	n := 0
	for b.Loop() {
		evs := make([]store.Event, 0, 5000)
		c0 := cpuTime()
		err := ingest.Decode(bytes.NewReader(in.Bytes()), func(it ingest.Item) error {
			if it.Err != nil {
				return it.Err
			}
			evs = append(evs, it.Event)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		c1 := cpuTime()
		if err := prepareInto(make([]row, len(evs)), evs, 0); err != nil {
			b.Fatal(err)
		}
		decode += c1 - c0
		prepare += cpuTime() - c1
		n += len(evs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(decode.Microseconds())/float64(n), "decode-cpu-µs/event")
	b.ReportMetric(float64(prepare.Microseconds())/float64(n), "prepare-cpu-µs/event")
}
