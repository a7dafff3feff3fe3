package duckdb

import (
	"context"
	"database/sql"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
)

// histogramsAgree fails unless the histograms from event_counts are those
// counted from the events, for ranges that cut hours and that do not.
func histogramsAgree(t *testing.T, s *Store, evs []store.Event) {
	t.Helper()
	ctx := context.Background()
	first, last := evs[0].Published, evs[len(evs)-1].Published
	ranges := []store.Query{
		{},
		{Since: first.Truncate(time.Hour), Until: last.Truncate(time.Hour)},
		{Since: first.Add(17 * time.Minute), Until: last.Add(-29*time.Minute + 3*time.Millisecond)},
		{Since: first.Add(90 * time.Minute)},
		{Until: last.Add(-150 * time.Minute)},
		{Since: first.Add(10 * time.Minute), Until: first.Add(40 * time.Minute)},
	}
	for _, q := range ranges {
		for _, step := range []time.Duration{time.Hour, 3 * time.Hour, 24 * time.Hour} {
			s.noRollup = false
			got, err := s.Histogram(ctx, q, step)
			if err != nil {
				t.Fatal(err)
			}
			_, used, _ := s.rollupHistogram(ctx, q, step)
			s.noRollup = true
			want, err := s.Histogram(ctx, q, step)
			s.noRollup = false
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%v..%v step %v (rollup used: %v):\n got %v\nwant %v", q.Since, q.Until, step, used, got, want)
			}
		}
	}
}

// TestRollupHistogram: appends of many sizes (with duplicates), the
// folding of deltas, and DeleteBefore at a time inside an hour keep the
// counts equal to the events'.
func TestRollupHistogram(t *testing.T) {
	ctx := context.Background()
	s, evs := bloomStore(t, 6000)
	var deltas int
	s.db.QueryRow(`SELECT count(*) FROM event_counts`).Scan(&deltas)
	if deltas == 0 {
		t.Fatal("event_counts is empty")
	}
	histogramsAgree(t, s, evs)
	// Duplicates add nothing.
	if res, err := s.Append(ctx, evs[100:300]); err != nil || res.Added != 0 {
		t.Fatalf("append of duplicates: %+v %v", res, err)
	}
	histogramsAgree(t, s, evs)
	// Many small appends: the deltas are folded.
	more := storetest.Synthetic(400, 77)
	for i := range more {
		if _, err := s.Append(ctx, more[i:i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := compactCountsNow(s); err != nil {
		t.Fatal(err)
	}
	var rows, keys int
	s.db.QueryRow(`SELECT count(*), count(DISTINCT (hour, outcome)) FROM event_counts`).Scan(&rows, &keys)
	if rows != keys {
		t.Errorf("after folding: %d rows for %d hours and outcomes", rows, keys)
	}
	histogramsAgree(t, s, append(evs, more...))
	cut := evs[2500].Published.Truncate(time.Hour).Add(23*time.Minute + 7*time.Millisecond)
	if _, err := s.DeleteBefore(ctx, cut); err != nil {
		t.Fatal(err)
	}
	histogramsAgree(t, s, evs[2400:])
}

func compactCountsNow(s *Store) error {
	return s.w.do(context.Background(), func(c *sql.Conn) error { return compactCounts(context.Background(), c) })
}

// TestRollupUsed: a histogram without a filter is read from event_counts
// (a count changed there shows), one with a filter is not.
func TestRollupUsed(t *testing.T) {
	ctx := context.Background()
	s, evs := bloomStore(t, 500)
	if _, err := s.db.Exec(`INSERT INTO event_counts VALUES ($1, 'MARKER', 5)`, evs[0].Published.UnixMilli()/hourMs); err != nil {
		t.Fatal(err)
	}
	got, err := s.Histogram(ctx, store.Query{}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0].Counts["MARKER"] != 5 {
		t.Errorf("the histogram does not read event_counts: %v", got[:min(len(got), 1)])
	}
	got, err = s.Histogram(ctx, store.Query{Filter: mustParseT(t, `eventType pr`)}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > 0 && got[0].Counts["MARKER"] != 0 {
		t.Errorf("a filtered histogram read event_counts")
	}
}

// checkMigratedDerived: a file of an older format got event_counts filled
// from its events and blooms covering the events appended since, and
// answers histograms and q as it does without them.
func checkMigratedDerived(t *testing.T, s *Store, evs []store.Event) {
	t.Helper()
	ctx := context.Background()
	var from int64
	if err := s.db.QueryRow(`SELECT seq FROM blooms_from`).Scan(&from); err != nil || from != releaseEvents+1 {
		t.Errorf("blooms_from = %d, %v; want %d", from, err, releaseEvents+1)
	}
	var counted int64
	if err := s.db.QueryRow(`SELECT sum(n) FROM event_counts`).Scan(&counted); err != nil || counted != int64(len(evs)) {
		t.Errorf("event_counts counts %d events, %v; want %d", counted, err, len(evs))
	}
	histogramsAgree(t, s, evs)
	for _, e := range []store.Event{evs[3], evs[len(evs)-2]} {
		for _, noBlooms := range []bool{false, true} {
			s.noBlooms = noBlooms
			got, err := s.Query(ctx, store.Query{Keywords: []string{strings.ToLower(e.UUID)}})
			if err != nil || len(got) != 1 || got[0].UUID != e.UUID {
				t.Errorf("q=%s (without blooms: %v): %d events, %v", e.UUID, noBlooms, len(got), err)
			}
		}
		s.noBlooms = false
	}
}
