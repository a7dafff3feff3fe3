package duckdb

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/idlog/idlog/internal/store"
)

// DefaultRowCache is the memory, in bytes, that a Store keeps for the
// events of rows it has read.
const DefaultRowCache = 128 << 20

// rowCache keeps the events of rows read by seq, so that a page read again
// costs no DuckDB read. Reading rows is most of a page's cost (measured at
// 1M events: 10–12 ms for 100 scattered rows, about 1 ms for a single row),
// because DuckDB decompresses a whole vector of every wide column for each
// row it returns; and pages are read again all the time: an analyst
// refreshes, the next page of a listing overlaps the last, several people
// look at the same incident.
//
// Stored events never change, so an entry goes stale only when its row is
// deleted. Eviction keeps two generations: new entries and hits go to the
// current one; when it holds half the budget, it becomes the previous one
// and the old previous one is dropped. An entry read at least once per
// generation stays.
type rowCache struct {
	mu        sync.Mutex
	cur, prev map[int64]store.Event
	curBytes  int64
	half      int64  // the budget of one generation
	gen       uint64 // bumped by drop; a read begun before a drop is not kept

	hits, misses atomic.Int64
}

// newRowCache returns a cache of about budget bytes, or nil (no cache)
// when budget is not positive.
func newRowCache(budget int64) *rowCache {
	if budget <= 0 {
		return nil
	}
	return &rowCache{cur: map[int64]store.Event{}, half: budget / 2}
}

// entrySize is what an entry costs: its bytes plus the map's and the
// Event's own words.
func entrySize(e store.Event) int64 { return int64(len(e.Raw)+len(e.UUID)) + 96 }

// get returns the event of seq when it is cached.
func (c *rowCache) get(seq int64) (store.Event, bool) {
	if c == nil {
		return store.Event{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cur[seq]
	if !ok {
		if e, ok = c.prev[seq]; ok {
			delete(c.prev, seq)
			c.add(e)
		}
	}
	if ok {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	return e, ok
}

// generation is the value to hand back to put with events read from now on.
func (c *rowCache) generation() uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put keeps events read from the database since generation returned gen;
// they are dropped when rows were deleted meanwhile, as one of them may be
// gone.
func (c *rowCache) put(gen uint64, evs map[int64]store.Event) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	for _, e := range evs {
		if _, ok := c.cur[e.Seq]; !ok {
			c.add(e)
		}
	}
}

func (c *rowCache) add(e store.Event) {
	if c.curBytes >= c.half {
		c.prev, c.cur, c.curBytes = c.cur, make(map[int64]store.Event, len(c.cur)), 0
	}
	c.cur[e.Seq] = e
	c.curBytes += entrySize(e)
}

// drop forgets every event.
func (c *rowCache) drop() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.cur, c.prev, c.curBytes = map[int64]store.Event{}, nil, 0
}

// dropBefore forgets the events published before t: DeleteBefore has
// deleted their rows.
func (c *rowCache) dropBefore(t time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, m := range []map[int64]store.Event{c.cur, c.prev} {
		for seq, e := range m {
			if e.Published.Before(t) {
				delete(m, seq)
			}
		}
	}
	c.curBytes = 0
	for _, e := range c.cur {
		c.curBytes += entrySize(e)
	}
}

// snapshot copies the cached events, for Check.
func (c *rowCache) snapshot() map[int64]store.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[int64]store.Event, len(c.cur)+len(c.prev))
	for k, e := range c.prev {
		out[k] = e
	}
	for k, e := range c.cur {
		out[k] = e
	}
	return out
}
