package duckdb

import (
	"cmp"
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
)

// TestPagesOverSpans walks bounded q pages in both published orders, which
// Query cuts into spans of growing length, and compares each walk with the
// reference evaluator: every match once, in order, across the span edges
// and the After position alike.
func TestPagesOverSpans(t *testing.T) {
	evs, err := storetest.Simulated(simulate.Config{Users: 30, Days: 40, Seed: 5}, 4000)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(t.TempDir(), "events.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	all, err := s.Query(ctx, store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	docs := map[int64]any{}
	first, last := all[0].Published, all[0].Published
	for _, e := range all {
		if docs[e.Seq], err = filter.DecodeJSON(e.Raw); err != nil {
			t.Fatal(err)
		}
		if e.Published.Before(first) {
			first = e.Published
		}
		if e.Published.After(last) {
			last = e.Published
		}
	}
	if last.Sub(first) < 5*sliceFirst {
		t.Fatalf("the data spans %v, too little to cut into spans", last.Sub(first))
	}
	since, until := first.Add(7*time.Hour+123*time.Millisecond), last.Add(-3*time.Hour)
	for _, tc := range []struct {
		f  string
		kw []string
	}{
		{"", []string{"success"}},
		{`eventType sw "user."`, []string{"success"}},
		{`eventType sw "user.session" or debugContext.debugData.url co "a"`, []string{"success"}},
		{`outcome.result eq "SUCCESS"`, nil},
	} {
		f := tc.f
		var e filter.Expr
		if f != "" {
			if e, err = filter.Parse(f); err != nil {
				t.Fatal(err)
			}
		}
		for _, desc := range []bool{false, true} {
			var want []int64
			for _, ev := range all {
				p := ev.Published
				if p.Before(ms(since)) || !p.Before(ms(until)) || (e != nil && !filter.Match(e, docs[ev.Seq])) || !filter.MatchKeywords(tc.kw, docs[ev.Seq]) {
					continue
				}
				want = append(want, ev.Seq)
			}
			pub := map[int64]time.Time{}
			for _, ev := range all {
				pub[ev.Seq] = ev.Published
			}
			slices.SortFunc(want, func(a, b int64) int {
				c := cmp.Or(pub[a].Compare(pub[b]), cmp.Compare(a, b))
				if desc {
					return -c
				}
				return c
			})
			q := store.Query{Filter: e, Keywords: tc.kw, Since: since, Until: until, Descending: desc, Limit: 41}
			var got []int64
			for pages := 0; pages < 1000; pages++ {
				page, err := s.Query(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, ev := range page {
					got = append(got, ev.Seq)
				}
				if len(page) < q.Limit {
					break
				}
				l := page[len(page)-1]
				q.After = &store.Position{Published: l.Published, Seq: l.Seq}
			}
			if len(want) < 3*q.Limit {
				t.Fatalf("%q: only %d matches, too few pages", f, len(want))
			}
			if !slices.Equal(got, want) {
				t.Errorf("%q desc=%v: got %d events, want %d (first difference at %d)", f, desc, len(got), len(want), firstDiff(got, want))
			}
		}
	}
}

func firstDiff(a, b []int64) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
