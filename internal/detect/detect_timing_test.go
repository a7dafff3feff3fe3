package detect

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/duckdb"
)

// benchLog is a simulated org's log with attacks, as NDJSON. Its size is
// IDLOG_DETECT_BENCH_USERS users (default 100) over 30 days: 100 users give
// about 23k events, 1,000 about 230k.
func benchLog(b *testing.B) []byte {
	b.Helper()
	users := 100
	if s := os.Getenv("IDLOG_DETECT_BENCH_USERS"); s != "" {
		users, _ = strconv.Atoi(s)
	}
	raw, err := simulate.NDJSON(simulate.Config{Users: users, Days: 30, Seed: 5, Attacks: true, End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// BenchmarkImport imports the log into a fresh DuckDB file through the
// ingest pipeline, without rules (plain) and with the built-in library
// running on every stored batch (rules): the ratio is what streaming
// detection adds to an import.
func BenchmarkImport(b *testing.B) {
	raw := benchLog(b)
	events := bytes.Count(raw, []byte("\n"))
	rules, _ := Builtin()
	for _, mode := range []string{"plain", "rules"} {
		b.Run(mode, func(b *testing.B) {
			b.StopTimer()
			var cpu time.Duration
			for i := 0; i < b.N; i++ {
				st, err := duckdb.Open(b.TempDir() + "/events.duckdb")
				if err != nil {
					b.Fatal(err)
				}
				var target store.Store = st
				var runner *Runner
				if mode == "rules" {
					alerts, err := OpenFileAlerts(b.TempDir() + "/alerts.ndjson")
					if err != nil {
						b.Fatal(err)
					}
					runner, err = NewRunner(rules, alerts, RunnerOptions{})
					if err != nil {
						b.Fatal(err)
					}
					target = runner.Wrap(st)
				}
				c0 := processCPU()
				b.StartTimer()
				res, err := ingest.New(target, ingest.Options{}).Ingest(context.Background(), bytes.NewReader(raw), nil)
				if runner != nil {
					// The import is done when the rules have seen every batch.
					runner.Flush(context.Background())
				}
				b.StopTimer()
				cpu += processCPU() - c0
				if runner != nil {
					runner.Close(context.Background())
				}
				if err != nil || res.Accepted != events {
					b.Fatalf("import: %+v %v", res, err)
				}
				st.Close()
			}
			b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			// CPU time (every thread, DuckDB's too) tells what the rules
			// cost on a shared machine, where the wall time mostly tells
			// how busy the other jobs were.
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// processCPU is the user and system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReplay runs the built-in library over the log in memory, from
// the events' text: the CPU the rules cost per event, in 'idlog detect
// --since' and on import alike. whole decodes each event whole
// (filter.DecodeJSON, as the engine did before) and selected only the
// members the rules read (Engine.Decode).
func BenchmarkReplay(b *testing.B) {
	lines := bytes.Split(bytes.TrimSpace(benchLog(b)), []byte("\n"))
	rules, _ := Builtin()
	for _, mode := range []string{"whole", "selected"} {
		b.Run(mode, func(b *testing.B) {
			c0 := processCPU()
			for b.Loop() {
				e := NewEngine(rules)
				decode := e.Decode
				if mode == "whole" {
					decode = DecodeEvent
				}
				for _, line := range lines {
					ev, err := decode(line)
					if err != nil {
						b.Fatal(err)
					}
					e.Process(ev)
				}
			}
			b.ReportMetric(float64(len(lines))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64((processCPU()-c0).Microseconds())/float64(len(lines)*b.N), "cpu-µs/event")
		})
	}
}

// BenchmarkDecode decodes every event of the log for the built-in library:
// whole (filter.DecodeJSON, what the engine used to do) and selected (only
// the members the rules read, Engine.Decode).
func BenchmarkDecode(b *testing.B) {
	lines := bytes.Split(bytes.TrimSpace(benchLog(b)), []byte("\n"))
	rules, _ := Builtin()
	eng := NewEngine(rules)
	for _, mode := range []string{"whole", "selected"} {
		decode := DecodeEvent
		if mode == "selected" {
			decode = eng.Decode
		}
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				for _, line := range lines {
					if _, err := decode(line); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(len(lines))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
