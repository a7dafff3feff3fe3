package simulate

import (
	"io"
	"testing"
)

// BenchmarkRun measures generation plus JSON writing for a week of a
// 200-person org, written to io.Discard.
func BenchmarkRun(b *testing.B) {
	cfg := Config{Users: 200, Apps: 16, Days: 7, End: testEnd, Seed: 1, Attacks: true}
	b.ReportAllocs()
	var events, bytes int64
	for b.Loop() {
		events, bytes = 0, 0
		err := New(cfg).Run(func(raw []byte) error {
			events++
			bytes += int64(len(raw)) + 1
			_, err := io.Discard.Write(raw)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(bytes)
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(events), "events/op")
}

// BenchmarkRunTruth adds the ground truth records.
func BenchmarkRunTruth(b *testing.B) {
	cfg := Config{Users: 200, Apps: 16, Days: 7, End: testEnd, Seed: 1, Attacks: true}
	b.ReportAllocs()
	var events int64
	for b.Loop() {
		events = 0
		err := New(cfg).RunTruth(func(raw []byte) error { events++; return nil }, func([]byte) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
