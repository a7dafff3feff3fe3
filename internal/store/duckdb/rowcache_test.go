package duckdb

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
)

func cacheEvent(seq int64, size int) store.Event {
	return store.Event{Seq: seq, UUID: fmt.Sprint(seq), Published: time.UnixMilli(seq * 1000).UTC(), Raw: make([]byte, size)}
}

func (c *rowCache) bytes() int64 {
	var n int64
	for _, m := range []map[int64]store.Event{c.cur, c.prev} {
		for _, e := range m {
			n += entrySize(e)
		}
	}
	return n
}

// TestRowCacheBudget: the cache stays within its budget however much is
// put in it, and an entry read in every generation stays.
func TestRowCacheBudget(t *testing.T) {
	const budget = 64 << 10
	c := newRowCache(budget)
	hot := cacheEvent(0, 900)
	c.put(c.generation(), map[int64]store.Event{0: hot})
	for seq := int64(1); seq < 2000; seq++ {
		c.put(c.generation(), map[int64]store.Event{seq: cacheEvent(seq, 900)})
		if n := c.bytes(); n > budget+entrySize(hot) {
			t.Fatalf("after %d puts the cache holds %d bytes, over its budget of %d", seq, n, budget)
		}
		if seq%20 == 0 {
			if _, ok := c.get(0); !ok {
				t.Fatalf("after %d puts the entry read every 20 puts is gone", seq)
			}
		}
	}
	if _, ok := c.get(5); ok {
		t.Fatal("an entry put 2000 entries ago and never read is still there")
	}
	if _, ok := c.get(1999); !ok {
		t.Fatal("the newest entry is not there")
	}
	if newRowCache(0) != nil || newRowCache(-1) != nil {
		t.Fatal("a cache without a budget is not nil")
	}
	var none *rowCache
	none.put(none.generation(), map[int64]store.Event{1: hot})
	if _, ok := none.get(1); ok {
		t.Fatal("the nil cache returned an entry")
	}
}

// TestRowCacheDrop: dropBefore forgets the events before its time, and a
// read that began before a drop is not kept.
func TestRowCacheDrop(t *testing.T) {
	c := newRowCache(1 << 20)
	for seq := int64(1); seq <= 10; seq++ {
		c.put(c.generation(), map[int64]store.Event{seq: cacheEvent(seq, 10)})
	}
	gen := c.generation()
	c.dropBefore(time.UnixMilli(6000))
	for seq := int64(1); seq <= 10; seq++ {
		if _, ok := c.get(seq); ok != (seq >= 6) {
			t.Errorf("seq %d (published %ds) cached %v after dropping those before 6s", seq, seq, ok)
		}
	}
	c.put(gen, map[int64]store.Event{20: cacheEvent(20, 10)})
	if _, ok := c.get(20); ok {
		t.Error("an event read before the drop was kept")
	}
	if n, want := c.bytes(), c.curBytes; c.prev == nil && n != want {
		t.Errorf("curBytes %d, entries hold %d", want, n)
	}
	gen = c.generation()
	c.drop()
	c.put(gen, map[int64]store.Event{30: cacheEvent(30, 10)})
	for _, seq := range []int64{6, 10, 30} {
		if _, ok := c.get(seq); ok {
			t.Errorf("seq %d cached after drop", seq)
		}
	}
}

// TestRowCacheStore: pages read twice are the same, the second time from
// the cache, and are the pages of a store without one.
func TestRowCacheStore(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "events.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs := storetest.Synthetic(500, 3)
	if _, err := s.Append(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{`eventType sw "user."`, `actor.id eq ` + fmt.Sprintf("%q", indexedValues(t, evs)["actor.id"][0])} {
		f, err := filter.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		q := store.Query{Filter: f, Descending: true, Limit: 7}
		var want []string
		plain(s, func() { want = pages(t, s, q) })
		s.rows = newRowCache(DefaultRowCache)
		h0, m0 := s.rows.hits.Load(), s.rows.misses.Load()
		first := pages(t, s, q)
		h1, m1 := s.rows.hits.Load(), s.rows.misses.Load()
		second := pages(t, s, q)
		h2, m2 := s.rows.hits.Load(), s.rows.misses.Load()
		if len(want) == 0 || !slices.Equal(first, want) || !slices.Equal(second, want) {
			t.Fatalf("%s:\nfirst  %v\nsecond %v\nwant   %v", src, first, second, want)
		}
		if m1-m0 < int64(len(want)) || h2-h1 < int64(len(want)) || m2 != m1 {
			t.Fatalf("%s: %d events; first read %d hits %d misses, second %d hits %d misses", src, len(want), h1-h0, m1-m0, h2-h1, m2-m1)
		}
	}
}

// TestOpenWithMemoryLimit: the limit reaches DuckDB.
func TestOpenWithMemoryLimit(t *testing.T) {
	for _, limit := range []int64{256 << 20, 3 << 30} {
		s, err := OpenWith(filepath.Join(t.TempDir(), "events.duckdb"), Options{MemoryLimit: limit})
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := s.db.QueryRow(`SELECT current_setting('memory_limit')`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		s.Close()
		want := fmt.Sprintf("%d.0 MiB", limit>>20)
		if limit >= 1<<30 {
			want = fmt.Sprintf("%d.0 GiB", limit>>30)
		}
		if got != want {
			t.Errorf("memory_limit %d: DuckDB says %q, want %q", limit, got, want)
		}
	}
}
