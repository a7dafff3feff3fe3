package storetest

import (
	"os"
	"strconv"
	"testing"

	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store"
)

// BenchSize is the dataset size of the backends' benchmarks:
// IDLOG_BENCH_EVENTS, or 20,000 so that `go test -bench` stays quick (the
// 10M run is `idlog bench`'s job).
func BenchSize() int {
	if n, err := strconv.Atoi(os.Getenv("IDLOG_BENCH_EVENTS")); err == nil && n > 0 {
		return n
	}
	return 20000
}

// BenchEvents is the simulator data every backend's benchmarks load, the
// same for each so their numbers compare.
func BenchEvents(tb testing.TB) []store.Event {
	n := BenchSize()
	evs, err := Simulated(simulate.Config{Users: max(100, n/300), Days: 30, Seed: 42, Attacks: true}, n)
	if err != nil {
		tb.Fatal(err)
	}
	return evs
}
