package duckdb

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
)

// bloomStore is a store whose rows came in appends of many sizes, so that
// the blooms have full blocks, blocks of a few rows and blocks of one.
func bloomStore(t *testing.T, n int) (*Store, []store.Event) {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "events.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	evs := storetest.Synthetic(n, 5)
	// First a feed of single events, whose blocks the writer merges.
	for i := range 40 {
		if _, err := s.Append(context.Background(), evs[i:i+1]); err != nil {
			t.Fatal(err)
		}
	}
	sizes := []int{1, 3, bloomRows + 100, 17, 1, 2*bloomRows + 5, 250}
	for i, k := 40, 0; i < len(evs); k++ {
		j := min(i+sizes[k%len(sizes)], len(evs))
		if _, err := s.Append(context.Background(), evs[i:j]); err != nil {
			t.Fatal(err)
		}
		i = j
	}
	return s, evs
}

func uuids(evs []store.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.UUID
	}
	return out
}

// TestBloomsSameAnswers: q pages, counts, histograms and top values are the
// same with the blooms as without, and the blooms leave out most blocks for
// a rare keyword.
func TestBloomsSameAnswers(t *testing.T) {
	ctx := context.Background()
	s, evs := bloomStore(t, 8000)
	var blocks int
	if err := s.db.QueryRow(`SELECT count(DISTINCT lo) FROM blooms`).Scan(&blocks); err != nil {
		t.Fatal(err)
	}
	if blocks < 8 {
		t.Fatalf("test premise: %d blocks", blocks)
	}
	var singles int
	if err := s.db.QueryRow(`SELECT count(DISTINCT lo) FROM blooms WHERE hi = lo`).Scan(&singles); err != nil {
		t.Fatal(err)
	}
	if singles >= bloomTailBlocks {
		t.Errorf("%d blocks of one row: the small blocks were not merged", singles)
	}
	doc, err := filter.DecodeJSON(evs[7000].Raw)
	if err != nil {
		t.Fatal(err)
	}
	rare := [][]string{{strings.ToLower(evs[7000].UUID)}, {strings.Split(evs[5000].UUID, "-")[0]}, {strings.ToLower(evs[39].UUID)}}
	// Keywords that match few events are asked for every match and
	// counted; the others (whose every match the Go check reads) only
	// for pages.
	few := append(rare, []string{"nosuchword"}, []string{""}, []string{"user.session.start", strings.ToLower(evs[100].UUID)})
	kws := append(few, []string{"login"}, []string{"user7@example.com"}, []string{"user7@example.com", "success"})
	for _, tok := range filter.Tokens(doc)[:6] {
		kws = append(kws, []string{tok})
	}
	mid := evs[6000].Published
	for i, kw := range kws {
		shapes := []store.Query{
			{Keywords: kw, Order: store.ByPublished, Descending: true, Limit: 10},
			{Keywords: kw, Order: store.ByPublished, Limit: 7, Since: mid},
			{Keywords: kw, Order: store.ByPublished, Descending: true, Limit: 5, Until: mid},
			{Keywords: kw, Order: store.BySeq, Limit: 3},
			{Keywords: kw, Filter: mustParseT(t, `eventType sw "user."`), Descending: true, Limit: 3, Since: evs[10].Published, Until: mid},
		}
		if i < len(few) {
			shapes = append(shapes, store.Query{Keywords: kw})
			s.noBlooms = false
			got, err := s.Count(ctx, store.Query{Keywords: kw})
			if err != nil {
				t.Fatal(err)
			}
			s.noBlooms = true
			want, _ := s.Count(ctx, store.Query{Keywords: kw})
			s.noBlooms = false
			if got != want {
				t.Errorf("count q=%q: %d with blooms, %d without", kw, got, want)
			}
		}
		for _, q := range shapes {
			s.noBlooms = false
			got, err := s.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			s.noBlooms = true
			want, err := s.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			s.noBlooms = false
			if !slices.Equal(uuids(got), uuids(want)) {
				t.Errorf("q=%q %+v: %d events with blooms, %d without\n got %v\nwant %v", kw, q, len(got), len(want), head(uuids(got)), head(uuids(want)))
			}
		}
	}
	// A keyword that is in one event: its block (and few others) is a
	// candidate.
	for _, kw := range rare {
		cands, _, _, err := s.bloomCandidates(ctx, store.Query{Keywords: kw})
		if err != nil {
			t.Fatal(err)
		}
		if len(cands) == 0 || len(cands) > 3 {
			t.Errorf("q=%q: %d of %d blocks are candidates", kw, len(cands), blocks)
		}
	}
}

func mustParseT(t *testing.T, src string) filter.Expr {
	t.Helper()
	e, err := filter.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestSeqRanges(t *testing.T) {
	c := func(lo, hi int64) bloomCand { return bloomCand{seqRange: seqRange{lo, hi}} }
	got := seqRanges([]bloomCand{c(1, 10), c(11, 20), c(30, 40)}, 1)
	if want := []seqRange{{1, 20}, {30, 40}}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	got = seqRanges([]bloomCand{c(30, 40)}, 5)
	if want := []seqRange{{-1 << 63, 4}, {30, 40}}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// Too many ranges: the closest are joined, every candidate stays in.
	var many []bloomCand
	for i := range int64(1000) {
		gap := int64(10)
		if i%7 == 0 {
			gap = 1000
		}
		lo := i * 2000
		many = append(many, c(lo, lo+2000-gap))
	}
	got = seqRanges(many, 1)
	if len(got) > bloomRangesLimit {
		t.Errorf("%d ranges, over the limit", len(got))
	}
	for _, m := range many {
		if !slices.ContainsFunc(got, func(r seqRange) bool { return r.lo <= m.lo && m.hi <= r.hi }) {
			t.Fatalf("candidate %v left out of %v", m, got)
		}
	}
}

// TestCutSpans: the spans are the range, cut in the page's order, less the
// spans no candidate reaches into.
func TestCutSpans(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var cands []bloomCand
	for i := range 200 {
		p := base.Add(time.Duration(i) * time.Minute)
		cands = append(cands, bloomCand{seqRange{int64(i), int64(i)}, p, p.Add(30 * time.Second)})
	}
	for _, r := range []struct{ lo, hi time.Time }{
		{base, base.Add(time.Hour * 5)}, {}, {base.Add(time.Hour), time.Time{}}, {time.Time{}, base.Add(time.Hour)},
		{base.Add(-10 * time.Hour), base.Add(11 * time.Hour)},
	} {
		for _, desc := range []bool{false, true} {
			cuts := append(bloomCuts(cands, desc), base.Add(3*time.Hour), base.Add(-5*time.Hour), base.Add(time.Hour))
			sp := cutSpans(cuts, r.lo, r.hi, desc, nil, 1)
			if len(sp) < 3 {
				t.Errorf("%v desc=%v: only %d spans", r, desc, len(sp))
			}
			first, last := sp[0], sp[len(sp)-1]
			if desc {
				first, last = last, first
			}
			if !first.from.Equal(r.lo) || !last.to.Equal(r.hi) {
				t.Errorf("%v desc=%v: spans %v do not cover the range", r, desc, sp)
			}
			for i := 1; i < len(sp); i++ {
				a, b := sp[i-1], sp[i]
				if desc {
					a, b = b, a
				}
				if !a.to.Equal(b.from) || !a.from.IsZero() && !a.from.Before(a.to) {
					t.Errorf("%v desc=%v: spans %v are not consecutive", r, desc, sp)
				}
			}
			// With the candidates, the spans before the first block and
			// after the last go; none that holds a block does.
			kept := cutSpans(cuts, r.lo, r.hi, desc, cands, 1)
			for _, x := range sp {
				holds := (x.from.IsZero() || !x.from.After(base.Add(199*time.Minute+30*time.Second))) && (x.to.IsZero() || x.to.After(base))
				if holds != slices.Contains(kept, x) {
					t.Errorf("%v desc=%v: span %v kept %v, holds a block %v", r, desc, x, !holds, holds)
				}
			}
		}
	}
}

func head(s []string) []string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}
