package duckdb

import (
	"testing"

	"github.com/idlog/idlog/internal/event"
	"github.com/idlog/idlog/internal/store"
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

// BenchmarkPrepareWalked is BenchmarkPrepare for events walked by ingest
// (store.Event.Doc set), as an import hands them down: the rows are read
// from the nodes, without parsing the text.
func BenchmarkPrepareWalked(b *testing.B) {
	evs := append([]store.Event(nil), storetest.BenchEvents(b)[:5000]...)
	var raw int64
	var c event.Compactor
	for i, e := range evs {
		raw += int64(len(e.Raw))
		out, nodes, dup, plain, err := c.Compact(nil, e.Raw, 512)
		if err != nil {
			b.Fatal(err)
		}
		evs[i].Raw = out
		evs[i].Doc = event.Keep(out, nodes, dup, plain)
	}
	rows := make([]row, len(evs))
	b.SetBytes(raw)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for i := range evs {
			// A fresh Doc, as each event is prepared once: its text
			// (Doc.Text) is made anew.
			d := evs[i].Doc
			evs[i].Doc = &event.Doc{Raw: d.Raw, Nodes: d.Nodes, Dup: d.Dup, Plain: d.Plain}
		}
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
