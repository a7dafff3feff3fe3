package duckdb

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/scenario"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
)

var bench struct {
	once   sync.Once
	dir    string
	events []store.Event
	s      *Store
	err    error
}

// benchStore is one loaded store shared by the query benchmarks.
func benchStore(b *testing.B) *Store {
	bench.once.Do(func() {
		bench.events = storetest.BenchEvents(b)
		bench.dir, bench.err = os.MkdirTemp("", "idlog-bench")
		if bench.err != nil {
			return
		}
		bench.s, bench.err = Open(filepath.Join(bench.dir, "events.duckdb"))
		if bench.err != nil {
			return
		}
		for i := 0; i < len(bench.events) && bench.err == nil; i += 1000 {
			_, bench.err = bench.s.Append(context.Background(), bench.events[i:min(i+1000, len(bench.events))])
		}
		if bench.err == nil {
			_, bench.err = bench.s.db.Exec("CHECKPOINT")
		}
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.s
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.s != nil {
		bench.s.Close()
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

func BenchmarkAppend(b *testing.B) {
	evs := storetest.BenchEvents(b)
	var raw int64
	for _, e := range evs {
		raw += int64(len(e.Raw))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		s, err := Open(filepath.Join(dir, "events.duckdb"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for i := 0; i < len(evs); i += 1000 {
			if _, err := s.Append(context.Background(), evs[i:min(i+1000, len(evs))]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(evs))/time.Since(start).Seconds(), "events/s")
		b.StopTimer()
		if _, err := s.db.Exec("CHECKPOINT"); err != nil {
			b.Fatal(err)
		}
		st, err := s.Stats(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.BytesOnDisk)/float64(len(evs)), "disk-B/event")
		b.ReportMetric(float64(raw)/float64(len(evs)), "raw-B/event")
		s.Close()
		b.StartTimer()
	}
	b.SetBytes(raw)
}

// frequentActor is an actor with many events, so "newest 100" is a full page.
func frequentActor(b *testing.B, s *Store) string {
	top, err := s.TopValues(context.Background(), store.Query{Filter: mustFilter(b, `actor.type eq "User"`)}, filter.Path{"actor", "id"}, 1)
	if err != nil || len(top) == 0 {
		b.Fatalf("top actor: %v %v", top, err)
	}
	return top[0].Value
}

func mustFilter(b *testing.B, src string) filter.Expr {
	e, err := filter.Parse(src)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func BenchmarkScenarioUserNewest100(b *testing.B) {
	s := benchStore(b)
	user := frequentActor(b, s)
	for _, sc := range scenario.All() {
		if sc.Param != scenario.ParamUser {
			continue
		}
		src, err := sc.Expand(user)
		if err != nil {
			b.Fatal(err)
		}
		q := store.Query{Filter: mustFilter(b, src), Descending: true, Limit: 100}
		// scan: without the postings, as before they existed; cached:
		// with the row cache, which the other two do without, as every
		// repetition after the first reads the same rows.
		for _, how := range []string{"postings", "scan", "cached"} {
			b.Run(sc.Name+"/"+how, func(b *testing.B) {
				rows := s.rows
				s.noPostings = how == "scan"
				if how != "cached" {
					s.rows = nil
				}
				defer func() { s.noPostings, s.rows = false, rows }()
				b.ReportAllocs()
				for range b.N {
					if _, err := s.Query(context.Background(), q); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkKeywordQuery times a q page (newest 100) for a frequent actor's
// login and for one event's uuid, read through the blooms (blooms.go) and
// by the scan they replace, in the same run.
func BenchmarkKeywordQuery(b *testing.B) {
	s := benchStore(b)
	user := frequentActor(b, s)
	rare := strings.ToLower(bench.events[len(bench.events)/3].UUID)
	for _, kw := range []struct{ name, kw string }{{"user", user}, {"uuid", rare}} {
		for _, how := range []string{"blooms", "scan"} {
			b.Run(kw.name+"/"+how, func(b *testing.B) {
				s.noBlooms = how == "scan"
				defer func() { s.noBlooms = false }()
				q := store.Query{Keywords: []string{kw.kw}, Descending: true, Limit: 100}
				b.ReportAllocs()
				for range b.N {
					s.DropCache()
					if _, err := s.Query(context.Background(), q); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkGenericPathQuery(b *testing.B) {
	s := benchStore(b)
	q := store.Query{Filter: mustFilter(b, `client.userAgent.browser eq "CHROME" and securityContext.isProxy eq false`), Descending: true, Limit: 100}
	b.ReportAllocs()
	for range b.N {
		if _, err := s.Query(context.Background(), q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHistogramHourly times an hourly histogram of every event, from
// event_counts (rollup.go) and by the scan it replaces, in the same run.
func BenchmarkHistogramHourly(b *testing.B) {
	s := benchStore(b)
	for _, how := range []string{"rollup", "scan"} {
		b.Run(how, func(b *testing.B) {
			s.noRollup = how == "scan"
			defer func() { s.noRollup = false }()
			b.ReportAllocs()
			for range b.N {
				if _, err := s.Histogram(context.Background(), store.Query{}, time.Hour); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBytesPerEvent(b *testing.B) {
	s := benchStore(b)
	st, err := s.Stats(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
	}
	b.ReportMetric(float64(st.BytesOnDisk)/float64(st.Events), "disk-B/event")
	b.ReportMetric(float64(st.Events), "events")
}
