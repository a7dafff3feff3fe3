package flows

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/flowdef"
	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

// benchStore is a DuckDB store holding the simulated org of cfg. With
// IDLOG_FLOWS_BENCH_DIR set, the store is kept there and reused by later
// runs with the same dataset (filling a large one takes minutes). It
// returns the store, how many events it holds and a user who signed in.
func benchStore(b *testing.B, cfg simulate.Config) (store.Store, int64, string) {
	b.Helper()
	ctx := context.Background()
	var st store.Store
	if dir := os.Getenv("IDLOG_FLOWS_BENCH_DIR"); dir != "" {
		path := filepath.Join(dir, fmt.Sprintf("flows-%du-%dd.duckdb", cfg.Users, cfg.Days))
		_, statErr := os.Stat(path)
		var err error
		if st, err = storeurl.Open(ctx, "duckdb:"+path); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		if statErr != nil {
			if err := fill(ctx, st, cfg); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		st, _, _ = simStore(b, cfg)
	}
	stats, err := st.Stats(ctx)
	if err != nil {
		b.Fatal(err)
	}
	x, _ := filter.Parse(`eventType eq "user.authentication.verify"`)
	evs, err := st.Query(ctx, store.Query{Filter: x, Limit: 1})
	if err != nil || len(evs) == 0 {
		b.Fatalf("no sign-in in the store: %v", err)
	}
	e, err := FromRaw(evs[0].Raw)
	if err != nil {
		b.Fatal(err)
	}
	return st, stats.Events, e.User
}

func fill(ctx context.Context, st store.Store, cfg simulate.Config) error {
	var batch []store.Event
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := st.Append(ctx, batch)
		batch = batch[:0]
		return err
	}
	err := simulate.New(cfg).Run(func(raw []byte) error {
		e, err := FromRaw(raw)
		if err != nil {
			return err
		}
		batch = append(batch, store.Event{UUID: e.UUID, Published: e.Time(), Raw: append([]byte(nil), raw...)})
		if len(batch) == 20000 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// Dataset sizes come from IDLOG_FLOWS_BENCH_USERS (default 200) and, for the
// funnel, IDLOG_FLOWS_BENCH_DAYS (default 7). The simulated org makes about
// 8 events per user and day.

func benchCfg(days int) simulate.Config {
	return simulate.Config{Users: envInt("IDLOG_FLOWS_BENCH_USERS", 200), Apps: 16, Days: days, Seed: 11,
		End: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), Attacks: true}
}

// BenchmarkReconstruct is the in-memory pass over events already decoded.
// Besides wall time it reports the CPU time per pass (every thread's, so
// the collector's too: cpu-ms/op) and the collections per pass (gc/op).
func BenchmarkReconstruct(b *testing.B) {
	evs, _ := simulated(b, benchCfg(envInt("IDLOG_FLOWS_BENCH_DAYS", 7)))
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		r := NewReconstructor(func(*Instance) { n++ })
		for i := range evs {
			r.Add(evs[i])
		}
		r.Flush()
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(cpu.Seconds()*1000/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(m1.NumGC-m0.NumGC)/float64(b.N), "gc/op")
}

// BenchmarkFromRaw is decoding one simulated event for flow analysis.
func BenchmarkFromRaw(b *testing.B) {
	var raw []byte
	simulate.New(simulate.Config{Users: 20, Days: 2, Seed: 1, End: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}).Run(func(r []byte) error {
		if raw == nil {
			raw = append([]byte(nil), r...)
		}
		return nil
	})
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := FromRaw(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFindUser90d reads one user's flows over 90 days from a DuckDB
// store holding the whole org's 90 days.
func BenchmarkFindUser90d(b *testing.B) {
	cfg := benchCfg(90)
	st, stored, user := benchStore(b, cfg)
	ctx := context.Background()
	since, until := cfg.End.AddDate(0, 0, -90), cfg.End
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ins, err := Find(ctx, st, Selector{User: user, Since: since, Until: until})
		if err != nil {
			b.Fatal(err)
		}
		n = len(ins)
	}
	b.ReportMetric(float64(n), "instances")
	b.ReportMetric(float64(stored), "stored-events")
}

// BenchmarkFunnelStore builds a 7-day password-reset funnel, split by
// factor, from a DuckDB store holding IDLOG_FLOWS_BENCH_DAYS days.
func BenchmarkFunnelStore(b *testing.B) {
	cfg := benchCfg(envInt("IDLOG_FLOWS_BENCH_DAYS", 7))
	st, stored, _ := benchStore(b, cfg)
	ctx := context.Background()
	q := FunnelQuery{Flow: flowdef.SSPR, Since: cfg.End.AddDate(0, 0, -7), Until: cfg.End, Split: "factor"}
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		fn, err := FunnelFromStore(ctx, st, q)
		if err != nil {
			b.Fatal(err)
		}
		n = fn.Instances
	}
	cnt, _ := st.Count(ctx, store.Query{Since: q.Since, Until: q.Until})
	b.ReportMetric(float64(n), "instances")
	b.ReportMetric(float64(cnt), "events-in-7d")
	b.ReportMetric(float64(stored), "stored-events")
}

// BenchmarkIndexFunnel builds the 7-day password-reset and sign-in funnels
// (split by factor) from an Index holding IDLOG_FLOWS_BENCH_USERS users'
// 7 days (175,000 users make about 10 million events). Building the index
// (simulate, decode, reconstruct) is setup and is reported as build-s;
// ns/op is the funnel answer.
func BenchmarkIndexFunnel(b *testing.B) {
	cfg := benchCfg(7)
	t0 := time.Now()
	x := NewIndex()
	n := 0
	err := simulate.New(cfg).Run(func(raw []byte) error {
		e, err := FromRaw(raw)
		if err != nil {
			return err
		}
		x.Add(e)
		n++
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	x.Flush()
	build := time.Since(t0)
	since, until := cfg.End.AddDate(0, 0, -7), cfg.End
	inst := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, k := range []string{flowdef.SSPR, flowdef.SignIn} {
			fn, err := x.Funnel(k, since, until, "factor")
			if err != nil {
				b.Fatal(err)
			}
			inst = fn.Instances
		}
	}
	b.ReportMetric(float64(n), "events")
	b.ReportMetric(float64(x.Len()), "instances")
	b.ReportMetric(float64(inst), "signin-instances")
	b.ReportMetric(build.Seconds(), "build-s")
}

// BenchmarkLiveFunnel is the API's unfiltered funnel: a Live index of a
// DuckDB store, already built (build-s), brought up to date (no new events)
// and asked for the 7-day sign-in funnel split by factor.
func BenchmarkLiveFunnel(b *testing.B) {
	cfg := benchCfg(envInt("IDLOG_FLOWS_BENCH_DAYS", 7))
	st, stored, _ := benchStore(b, cfg)
	ctx := context.Background()
	l := NewLive(st)
	t0 := time.Now()
	if err := l.Build(ctx); err != nil {
		b.Fatal(err)
	}
	build := time.Since(t0)
	since, until := cfg.End.AddDate(0, 0, -7), cfg.End
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		fn, err := l.Funnel(ctx, flowdef.SignIn, since, until, "factor")
		if err != nil {
			b.Fatal(err)
		}
		n = fn.Instances
	}
	b.ReportMetric(float64(n), "instances")
	b.ReportMetric(float64(stored), "stored-events")
	b.ReportMetric(build.Seconds(), "build-s")
}
