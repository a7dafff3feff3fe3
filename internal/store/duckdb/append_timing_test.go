package duckdb

import (
	"testing"

	"github.com/idlog/idlog/internal/store/storetest"
)

// BenchmarkPrepare is the decoding and projection of a batch alone, on one
// goroutine: the part of an append that runs in Go.
func BenchmarkPrepare(b *testing.B) {
	evs := storetest.BenchEvents(b)[:5000]
	var raw int64
	for _, e := range evs {
		raw += int64(len(e.Raw))
	}
	rows := make([]row, len(evs))
	b.SetBytes(raw)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := prepareInto(rows, evs, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkTokenHashes is the q tokens' hashes of a batch (blooms.go),
// part of BenchmarkPrepare.
func BenchmarkTokenHashes(b *testing.B) {
	evs := storetest.BenchEvents(b)[:5000]
	var raw int64
	for _, e := range evs {
		raw += int64(len(e.Raw))
	}
	b.SetBytes(raw)
	b.ReportAllocs()
	var out []uint64
	for range b.N {
		for _, e := range evs {
			out = appendTokenHashes(out[:0], e.Raw)
		}
	}
	b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
}
