package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/filter"
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
	if err := WriteSection(path, "Store", "first\n"); err != nil {
		t.Fatal(err)
	}
	if err := WriteSection(path, "Store", "second\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	s := string(b)
	if !strings.Contains(s, "## Simulator\n\nfast") || !strings.Contains(s, "second") || strings.Contains(s, "first") || strings.Count(s, "## Store") != 1 {
		t.Fatalf("unexpected file:\n%s", s)
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
	res, err := Measure(ctx, st, url, ds, 5, testWriter{t})
	if err != nil {
		t.Fatal(err)
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
	rep := &Report{When: time.Now(), Machine: Machine(), Dataset: ds, Store: res, Reference: want}
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
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
