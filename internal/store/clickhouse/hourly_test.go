package clickhouse

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/chtest"
	"github.com/idlog/idlog/internal/store"
)

// TestHourly compares histograms from the hourly rollup with the same
// histograms read from the events table: whole and partial hours, several
// steps, after a delete whose tombstone cuts an hour, and with rows a
// failed insert left behind (not visible: the rollup must not count them).
func TestHourly(t *testing.T) {
	dsn := chtest.StartServer(t)
	ctx := context.Background()
	s, err := Open(ctx, freshDB(dsn))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs := postingsData(t, s)
	lo, hi := evs[0].Published, evs[0].Published
	for _, e := range evs {
		lo, hi = minTime(lo, e.Published), maxTime(hi, e.Published)
	}
	mid := lo.Add(hi.Sub(lo) / 2)
	ranges := [][2]time.Time{
		{},
		{lo.Truncate(time.Hour), hi.Truncate(time.Hour).Add(time.Hour)},
		{lo.Add(17 * time.Minute), mid.Add(31 * time.Minute)},
		{mid.Add(5 * time.Minute), mid.Add(20 * time.Minute)}, // inside one hour
		{mid, time.Time{}},
		{time.Time{}, mid.Add(time.Second)},
	}
	check := func(t *testing.T, wantRollup bool) {
		t.Helper()
		for _, r := range ranges {
			for _, step := range []time.Duration{time.Hour, 3 * time.Hour, 24 * time.Hour} {
				q := store.Query{Since: r[0], Until: r[1]}
				before := s.rollupHistograms.Load()
				got, err := s.Histogram(ctx, q, step)
				if err != nil {
					t.Fatal(err)
				}
				used := s.rollupHistograms.Load() > before
				s.noRollup = true
				want, err := s.Histogram(ctx, q, step)
				s.noRollup = false
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%v–%v step %v: rollup gave %d buckets %v…, events %d %v…", r[0], r[1], step, len(got), head(got), len(want), head(want))
				}
				whole := r[0].IsZero() || r[1].IsZero() || r[1].Sub(r[0].Truncate(time.Hour)) > 2*time.Hour
				if wantRollup && whole && !used {
					t.Errorf("%v–%v step %v: not answered by the rollup", r[0], r[1], step)
				}
			}
		}
	}
	t.Run("Stored", func(t *testing.T) { check(t, true) })

	t.Run("Deleted", func(t *testing.T) {
		// A cut in the middle of an hour: that hour mixes hidden and
		// visible rows, so histograms over it come from the events.
		if _, err := s.DeleteBefore(ctx, lo.Add(26*time.Hour+7*time.Minute)); err != nil {
			t.Fatal(err)
		}
		check(t, false)
		if _, err := s.DeleteBefore(ctx, lo.Add(50*time.Hour).Truncate(time.Hour)); err != nil {
			t.Fatal(err)
		}
		check(t, true) // a cut on a whole hour
	})

	t.Run("InvisibleRows", func(t *testing.T) {
		r, err := deriveRow(0, evs[len(evs)/2])
		if err != nil {
			t.Fatal(err)
		}
		r.uuid += "-left-behind"
		r.seq = s.nextSeq
		s.nextSeq++
		if err := s.insert(ctx, []row{r}); err != nil {
			t.Fatal(err)
		}
		check(t, false)
	})
}

func head(b []store.Bucket) []store.Bucket { return b[:min(3, len(b))] }

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
