package bench

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/chtest"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

func TestQuantile(t *testing.T) {
	l := &Latency{}
	for i := 100; i >= 1; i-- {
		l.Samples = append(l.Samples, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{.5, 50 * time.Millisecond}, {.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {.01, time.Millisecond}} {
		if got := l.Quantile(c.q); got != c.want {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
}

func TestWriteSectionKeepsTheRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.md")
	os.WriteFile(path, []byte("# Benchmarks\n\n## Simulator\n\nfast\n"), 0o644)
	for _, w := range []struct {
		sec       Section
		title, md string
	}{
		{OneStore, "Store", "first\n"},
		{SideBySide, "Both", "pair one\n"},
		{OneStore, "Store", "second\n"},
		{SideBySide, "Both", "pair two\n"},
		{PeersSection, "Peers", "peers one\n"},
		{GrowthSection, "Growth", "growth one\n"},
		{PeersSection, "Peers", "peers two\n"},
		{GrowthSection, "Growth", "growth two\n"},
	} {
		if err := WriteSection(path, w.sec, w.title, w.md); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(path)
	s := string(b)
	for _, want := range []string{"## Simulator\n\nfast", "## Store\n", "second", "## Both\n", "pair two", "## Peers\n", "peers two", "## Growth\n", "growth two"} {
		if strings.Count(s, want) != 1 {
			t.Errorf("%q occurs %d times, want once", want, strings.Count(s, want))
		}
	}
	if strings.Contains(s, "first") || strings.Contains(s, "pair one") || strings.Contains(s, "peers one") || strings.Contains(s, "growth one") {
		t.Errorf("an old section survived")
	}
	if strings.Index(s, "second") > strings.Index(s, "## Both") {
		t.Errorf("the one-store section moved after the side-by-side one")
	}
	if t.Failed() {
		t.Logf("file:\n%s", s)
	}
}

// fakeStore is a StoreResult with every query shape Measure times.
func fakeStore(url string, rate float64, rows int, ref []string) *StoreResult {
	st := &StoreResult{URL: url, Events: 1000, ImportRate: rate, ImportTime: time.Second, BytesOnDisk: 250000, Reference: ref}
	for _, name := range []string{"one user, 4 sign-in types, newest 100, 90 days", "scenario mfa, 7 days", "q=<user email>, 7 days",
		"scenario mfa, 90 days", "q=<user email>, 90 days", "hourly histogram, 90 days"} {
		st.Queries = append(st.Queries, &Latency{Name: name, Samples: []time.Duration{time.Duration(rate) * time.Microsecond}, Rows: rows})
	}
	return st
}

func TestSideBySideMarkdown(t *testing.T) {
	ds := &Dataset{Events: 1000, Bytes: 2_000_000, Users: 10}
	for _, c := range []struct {
		name      string
		b         *StoreResult
		want, not []string
	}{
		{"agree", fakeStore("clickhouse://127.0.0.1:9000/b", 2000, 7, []string{"u1", "u2"}),
			[]string{"| measure | DuckDB (embedded) | ClickHouse |", "| import through the ingest pipeline | 3000 events/s | 2000 events/s |",
				"| bytes on disk per event, everything included | 250 B | 250 B |", "| scenario mfa, 7 days | 1 | 3.0 ms / 3.0 ms | 2.0 ms / 2.0 ms | 7 |",
				"the field question (one user, four sign-in types): yes", "not measured",
				"--store duckdb:d.duckdb --store clickhouse://127.0.0.1:9000/b"},
			[]string{"**differ", "**no**"}},
		{"disagree", fakeStore("clickhouse://127.0.0.1:9000/b", 2000, 6, []string{"u2", "u1"}),
			[]string{"**differ: 7 / 6**", "sign-in types): **no**"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := fakeStore("duckdb:d.duckdb", 3000, 7, []string{"u1", "u2"})
			a.PeakRSS = 5e8
			md := (&Report{When: time.Now(), Machine: "m", Dataset: ds, Stores: []*StoreResult{a, c.b}}).Markdown()
			for _, w := range c.want {
				if !strings.Contains(md, w) {
					t.Errorf("lacks %q", w)
				}
			}
			for _, w := range c.not {
				if strings.Contains(md, w) {
					t.Errorf("has %q", w)
				}
			}
			if !strings.Contains(md, "| 500 MB | not measured |") {
				t.Errorf("peak memory row wrong")
			}
			if t.Failed() {
				t.Logf("markdown:\n%s", md)
			}
		})
	}
}

func TestCheckEmpty(t *testing.T) {
	ctx := context.Background()
	url := "duckdb:" + filepath.Join(t.TempDir(), "e.duckdb")
	st, err := storeurl.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := CheckEmpty(ctx, st, url); err != nil {
		t.Fatalf("a new store: %v", err)
	}
	ev, err := ingest.ParseEvent([]byte(`{"uuid":"u-1","published":"2026-10-01T00:00:00.000Z","eventType":"user.session.start"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, []store.Event{ev}); err != nil {
		t.Fatal(err)
	}
	err = CheckEmpty(ctx, st, url)
	if err == nil || !strings.Contains(err.Error(), "not empty (1 events") || !strings.Contains(err.Error(), "nothing was deleted") {
		t.Fatalf("a store with an event: %v", err)
	}
}

// TestSmallRun runs the whole benchmark on a small dataset: every query
// shape must return rows, and jq, SQLite and idlog must give the same
// answer to the field question.
func TestSmallRun(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and imports a dataset")
	}
	ctx := context.Background()
	dir := t.TempDir()
	ds, err := MakeDataset(dir, 30000, 3, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Events < 15000 || ds.Events > 60000 {
		t.Fatalf("asked for about 30000 events, got %d", ds.Events)
	}
	if len(ds.Samples.Users) == 0 || len(ds.Samples.IPs) == 0 || len(ds.Samples.Sessions) == 0 {
		t.Fatalf("no samples: %+v", ds.Samples)
	}
	if len(ds.Recent.Sessions) == 0 {
		t.Fatalf("no samples from the last week: %+v", ds.Recent)
	}
	url := "duckdb:" + filepath.Join(dir, "s.duckdb")
	st, err := storeurl.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cd := &dropCounter{Store: st}
	res, err := Measure(ctx, cd, url, ds, 5, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	// Each timed page is read with the store's cache emptied first.
	var pages int
	for _, l := range res.Queries {
		if !strings.Contains(l.Name, "histogram") {
			pages += len(l.Samples)
		}
	}
	if pages == 0 || cd.drops < pages {
		t.Errorf("%d pages timed, the cache was dropped %d times", pages, cd.drops)
	}
	if res.Events != int64(ds.Events) {
		t.Errorf("store holds %d events, dataset has %d", res.Events, ds.Events)
	}
	for _, l := range res.Queries {
		// Values are drawn from the window asked about, so the seed's
		// per-user, per-IP and per-session queries all find events.
		if strings.HasPrefix(l.Name, "scenario signin-events-") && l.Rows == 0 {
			t.Errorf("%s returned no rows", l.Name)
		}
	}
	user := ds.Samples.Users[0]
	expr, err := filter.Parse(SignInQuery(user))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := st.Query(ctx, store.Query{Filter: expr, Since: End.Add(-Days * 24 * time.Hour), Until: End, Order: store.ByPublished, Descending: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(ref) == 0 {
		t.Fatal("the field question found nothing for a user who signed in")
	}
	var want []string
	for _, e := range ref {
		want = append(want, e.UUID)
	}
	if !slices.Equal(res.Reference, want) {
		t.Errorf("Measure's reference %v\nthe query's answer %v", res.Reference, want)
	}
	rep := &Report{When: time.Now(), Machine: Machine(), Dataset: ds, Stores: []*StoreResult{res}}
	if _, err := exec.LookPath("jq"); err == nil {
		b, err := JQ(ctx, ds, user, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(b.UUIDs, want) {
			t.Errorf("jq answer %v\nidlog answer %v", b.UUIDs, want)
		}
		rep.Baselines = append(rep.Baselines, b)
	}
	if _, err := exec.LookPath("sqlite3"); err == nil {
		b, err := SQLite(ctx, ds, dir, ds.Events, user, 1, testWriter{t})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(b.UUIDs, want) {
			t.Errorf("SQLite answer %v\nidlog answer %v", b.UUIDs, want)
		}
		rep.Baselines = append(rep.Baselines, b)
	}
	md := rep.Markdown()
	for _, s := range []string{"import through the ingest pipeline", "hourly histogram", "scenario sspr, 7 days"} {
		if !strings.Contains(md, s) {
			t.Errorf("report lacks %q:\n%s", s, md)
		}
	}
	if strings.Contains(md, "| measure | DuckDB") {
		t.Errorf("one store rendered side by side:\n%s", md)
	}
	if _, err := Measure(ctx, st, url, ds, 1, io.Discard); err == nil || !strings.Contains(err.Error(), "already held") {
		t.Errorf("measuring a store that holds the dataset: %v, want a refusal", err)
	}
}

// TestSideBySideRun measures the embedded store and a throwaway ClickHouse
// server on one small dataset: both must hold every event, answer every
// query shape with the same number of rows and the field question with the
// same events.
func TestSideBySideRun(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and imports a dataset twice")
	}
	ctx := context.Background()
	dsn := chtest.StartServer(t) // skips when there is no clickhouse-server
	dir := t.TempDir()
	ds, err := MakeDataset(dir, 20000, 4, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	var stores []*StoreResult
	for _, url := range []string{"duckdb:" + filepath.Join(dir, "s.duckdb"), dsn} {
		st, err := storeurl.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckEmpty(ctx, st, url); err != nil {
			t.Fatal(err)
		}
		res, err := Measure(ctx, st, url, ds, 3, testWriter{t})
		st.Close()
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		if res.Events != int64(ds.Events) || res.BytesOnDisk <= 0 || res.ImportRate <= 0 {
			t.Errorf("%s: %d events (want %d), %d bytes, %.0f/s", url, res.Events, ds.Events, res.BytesOnDisk, res.ImportRate)
		}
		if len(res.Reference) == 0 {
			t.Errorf("%s: the field question found nothing", url)
		}
		stores = append(stores, res)
	}
	a, b := stores[0], stores[1]
	if len(a.Queries) != len(b.Queries) {
		t.Fatalf("%d query shapes against %d", len(a.Queries), len(b.Queries))
	}
	for i := range a.Queries {
		if a.Queries[i].Name != b.Queries[i].Name || a.Queries[i].Rows != b.Queries[i].Rows {
			t.Errorf("%s: %d rows, %s: %d rows", a.Queries[i].Name, a.Queries[i].Rows, b.Queries[i].Name, b.Queries[i].Rows)
		}
	}
	if !slices.Equal(a.Reference, b.Reference) {
		t.Errorf("field question: DuckDB %v\nClickHouse %v", a.Reference, b.Reference)
	}
	md := (&Report{When: time.Now(), Machine: Machine(), Dataset: ds, Stores: stores}).Markdown()
	if !strings.Contains(md, "| measure | DuckDB (embedded) | ClickHouse |") || strings.Contains(md, "**differ") {
		t.Errorf("side-by-side report:\n%s", md)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// dropCounter counts the times a benchmark drops the store's cache.
type dropCounter struct {
	store.Store
	drops int
}

func (d *dropCounter) DropCache() { d.drops++ }
