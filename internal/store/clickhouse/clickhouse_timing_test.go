package clickhouse

import (
	"context"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/chtest"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/scenario"
	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
)

// batch is the Append size of the benchmarks: the collector's page size.
const batch = 1000

func load(b *testing.B, s *Store, evs []store.Event) {
	for i := 0; i < len(evs); i += batch {
		if _, err := s.Append(context.Background(), evs[i:min(i+batch, len(evs))]); err != nil {
			b.Fatal(err)
		}
	}
}

func mustFilter(b testing.TB, src string) filter.Expr {
	e, err := filter.Parse(src)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkStore starts one throwaway server, loads the dataset once and
// runs the query shapes of the DuckDB benchmarks against it.
func BenchmarkStore(b *testing.B) {
	dsn := chtest.StartServer(b)
	evs := storetest.BenchEvents(b)
	var raw int64
	for _, e := range evs {
		raw += int64(len(e.Raw))
	}
	ctx := context.Background()

	b.Run("Append", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(raw)
		for range b.N {
			b.StopTimer()
			s, err := Open(ctx, freshDB(dsn))
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			load(b, s, evs)
			b.ReportMetric(float64(len(evs))/time.Since(start).Seconds(), "events/s")
			b.StopTimer()
			s.Close()
			b.StartTimer()
		}
	})

	s, err := Open(ctx, freshDB(dsn))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	load(b, s, evs)

	b.Run("BytesPerEvent", func(b *testing.B) {
		// Merged into one part per partition first, as a table settles
		// after a while; the unmerged size right after a load is reported
		// too.
		st, err := s.Stats(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.conn.Exec(ctx, "OPTIMIZE TABLE "+s.local+" FINAL"); err != nil {
			b.Fatal(err)
		}
		merged, err := s.Stats(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for range b.N {
		}
		// Where the bytes go, largest first (-v shows it).
		rows, err := s.conn.Query(ctx, "SELECT name, data_compressed_bytes FROM system.columns WHERE database = ? AND table = 'events' ORDER BY data_compressed_bytes DESC", s.db)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var name string
			var n uint64
			if err := rows.Scan(&name, &n); err != nil {
				b.Fatal(err)
			}
			b.Logf("%-22s %6.1f B/event", name, float64(n)/float64(merged.Events))
		}
		rows.Close()
		b.ReportMetric(float64(st.BytesOnDisk)/float64(st.Events), "disk-B/event-unmerged")
		b.ReportMetric(float64(merged.BytesOnDisk)/float64(merged.Events), "disk-B/event")
		b.ReportMetric(float64(raw)/float64(len(evs)), "raw-B/event")
		b.ReportMetric(float64(merged.Events), "events")
	})

	top, err := s.TopValues(ctx, store.Query{Filter: mustFilter(b, `actor.type eq "User"`)}, filter.Path{"actor", "id"}, 1)
	if err != nil || len(top) == 0 {
		b.Fatalf("top actor: %v %v", top, err)
	}
	user := top[0].Value
	for _, sc := range scenario.All() {
		if sc.Param != scenario.ParamUser {
			continue
		}
		src, err := sc.Expand(user)
		if err != nil {
			b.Fatal(err)
		}
		q := store.Query{Filter: mustFilter(b, src), Descending: true, Limit: 100}
		b.Run("UserNewest100/"+sc.Name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := s.Query(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("Keyword", func(b *testing.B) {
		q := store.Query{Keywords: []string{user}, Descending: true, Limit: 100}
		b.ReportAllocs()
		for range b.N {
			if _, err := s.Query(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GenericPath", func(b *testing.B) {
		q := store.Query{Filter: mustFilter(b, `client.userAgent.browser eq "CHROME" and securityContext.isProxy eq false`), Descending: true, Limit: 100}
		b.ReportAllocs()
		for range b.N {
			if _, err := s.Query(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("HistogramHourly", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := s.Histogram(ctx, store.Query{}, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Newest100", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := s.Query(ctx, store.Query{Descending: true, Limit: 100}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDeriveRow is the client's share of an import: decoding an event
// and laying out its columns (no server needed), from the walked nodes
// (what deriveRow uses) and by the generic tree, for comparison.
func BenchmarkDeriveRow(b *testing.B) {
	evs, err := storetest.Simulated(simulate.Config{Users: 100, Days: 7, Seed: 42, Attacks: true}, 2000)
	if err != nil {
		b.Fatal(err)
	}
	var raw int64
	for _, e := range evs {
		raw += int64(len(e.Raw))
	}
	for _, c := range []struct {
		name   string
		derive func(int, store.Event) (row, error)
	}{{"walked", deriveRow}, {"tree", deriveTree}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(raw / int64(len(evs)))
			for i := range b.N {
				if _, err := c.derive(0, evs[i%len(evs)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
