package duckdb

import (
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// compactGate is the postings' compaction scheduler: Pebble's default
// policy (as many compactions at once as the database asks for, one
// normally) behind a gate that stays shut until the store has opened.
//
// Why: an import leaves compaction debt in the postings, and Pebble's own
// scheduler starts paying it the moment the database registers, inside
// pebble.Open, which then waits for that compaction to finish before it
// returns (its scan for obsolete files). Measured at 1M events on this
// 2-core machine, loaded: pebble.Open took 3.2 s, nearly all of it one
// zstd compaction, and that was most of `serve`'s start to first answer
// (docs/benchmarks.md, "Growth"). With the gate shut during Open the
// debt is paid in the background once the gate opens (compactionDelay
// after the open), while the store answers. Flushes are not compactions
// and never wait for the gate, so writes meanwhile only grow level 0
// for those seconds.
type compactGate struct {
	db pebble.DBForCompaction

	mu       sync.Mutex
	cond     *sync.Cond
	open     bool // compactions may run
	closed   bool // unregistered: no more grants
	running  int
	granting bool // a grant loop runs (it calls into the database unlocked)
	timer    *time.Timer

	poke, stop chan struct{}
	stopped    chan struct{}
}

// compactionDelay is how long after the postings open their gate stays
// shut: long enough for a server's first answers to be read without a
// compaction beside them on a small machine, short enough that a writer
// appending at full speed meanwhile (an import: about three 16 MiB
// memtable flushes a second at 100,000 events/s) stays well under the 12
// level-0 sublevels at which Pebble stops writes.
const compactionDelay = 2 * time.Second

var (
	_ pebble.CompactionScheduler   = (*compactGate)(nil)
	_ pebble.CompactionGrantHandle = (*compactGate)(nil)
)

func newCompactGate() *compactGate {
	g := &compactGate{poke: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// openAfter opens the gate after d (at once when d <= 0).
func (g *compactGate) openAfter(d time.Duration) {
	if d <= 0 {
		g.openNow()
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.timer == nil && !g.open && !g.closed {
		g.timer = time.AfterFunc(d, g.openNow)
	}
}

// openNow opens the gate and grants what the database waits for.
func (g *compactGate) openNow() {
	g.mu.Lock()
	g.open = true
	g.mu.Unlock()
	g.grant()
}

// Register implements pebble.CompactionScheduler.
func (g *compactGate) Register(_ int, db pebble.DBForCompaction) {
	g.db = db
	go g.loop()
}

// Unregister implements pebble.CompactionScheduler: no grant runs or
// starts once it returns.
func (g *compactGate) Unregister() {
	close(g.stop)
	<-g.stopped
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	if g.timer != nil {
		g.timer.Stop()
	}
	for g.granting {
		g.cond.Wait()
	}
}

// TrySchedule implements pebble.CompactionScheduler.
func (g *compactGate) TrySchedule() (bool, pebble.CompactionGrantHandle) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || !g.open || g.db.GetAllowedWithoutPermission() <= g.running {
		return false, nil
	}
	g.running++
	return true, g
}

// UpdateGetAllowedWithoutPermission implements pebble.CompactionScheduler.
func (g *compactGate) UpdateGetAllowedWithoutPermission() {
	select {
	case g.poke <- struct{}{}:
	default:
	}
}

// Started, MeasureCPU and CumulativeStats implement
// pebble.CompactionGrantHandle; the gate keeps no statistics.
func (g *compactGate) Started()                                          {}
func (g *compactGate) MeasureCPU(pebble.CompactionGoroutineKind)         {}
func (g *compactGate) CumulativeStats(pebble.CompactionGrantHandleStats) {}

// Done implements pebble.CompactionGrantHandle: a compaction ended.
func (g *compactGate) Done() {
	g.mu.Lock()
	g.running--
	g.mu.Unlock()
	g.grant()
}

// grant starts the compactions the database waits for, up to what it
// allows. As in Pebble's own scheduler, the database is called without
// the gate's lock (it calls TrySchedule with its own held), and one grant
// loop runs at a time.
func (g *compactGate) grant() {
	g.mu.Lock()
	for g.granting {
		g.cond.Wait()
	}
	if g.closed || !g.open {
		g.mu.Unlock()
		return
	}
	toGrant := g.db.GetAllowedWithoutPermission() - g.running
	if toGrant <= 0 {
		g.mu.Unlock()
		return
	}
	g.granting = true
	g.mu.Unlock()
	for ; toGrant > 0; toGrant-- {
		if waiting, _ := g.db.GetWaitingCompaction(); !waiting {
			break
		}
		if !g.db.Schedule(g) {
			break
		}
		g.mu.Lock()
		g.running++
		g.mu.Unlock()
	}
	g.mu.Lock()
	g.granting = false
	g.cond.Broadcast()
	g.mu.Unlock()
}

// loop grants now and then, as Pebble's scheduler does: a flush can make
// a compaction due without telling the scheduler.
func (g *compactGate) loop() {
	defer close(g.stopped)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-g.poke:
		case <-g.stop:
			return
		}
		g.grant()
	}
}
