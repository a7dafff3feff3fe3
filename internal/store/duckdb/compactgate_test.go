package duckdb

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestCompactGate opens a Pebble database that has compaction debt (level
// 0 files written while no compaction could run) with the gate: while
// the gate is shut, Open and the time after it run no compaction; once
// it opens, the debt is paid.
func TestCompactGate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		open    bool
		compact bool
	}{
		{name: "shut", open: false, compact: false},
		{name: "opened", open: true, compact: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := vfs.NewMem()
			options := func(g *compactGate) *pebble.Options {
				o := &pebble.Options{FS: fs, L0CompactionThreshold: 2, FormatMajorVersion: pebble.FormatNewest, Logger: pebbleLog{slog.Default()}}
				o.Experimental.CompactionScheduler = g
				return o
			}
			// Debt: eight overlapping level-0 files, written with a gate
			// that never opens.
			db, err := pebble.Open("", options(newCompactGate()))
			if err != nil {
				t.Fatal(err)
			}
			for f := 0; f < 8; f++ {
				for k := 0; k < 200; k++ {
					if err := db.Set([]byte(fmt.Sprintf("k%05d", k*8+f)), []byte("v"), pebble.NoSync); err != nil {
						t.Fatal(err)
					}
				}
				if err := db.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			if n := db.Metrics().Compact.Count; n != 0 {
				t.Fatalf("%d compactions ran while writing with the gate shut", n)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			g := newCompactGate()
			db, err = pebble.Open("", options(g))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			l0 := db.Metrics().Levels[0].TablesCount
			if l0 < 8 {
				t.Fatalf("level 0 holds %d files after the reopen, want the 8 written (the debt)", l0)
			}
			if tc.open {
				g.openNow()
			}
			// The gate's own loop grants every 100 ms: long enough for
			// several of its rounds.
			deadline := time.Now().Add(10 * time.Second)
			if !tc.compact {
				deadline = time.Now().Add(time.Second)
			}
			var m *pebble.Metrics
			for {
				m = db.Metrics()
				if m.Compact.Count > 0 && m.Levels[0].TablesCount < l0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if got := m.Compact.Count > 0; got != tc.compact {
				t.Errorf("compactions ran: %v (%d; level 0: %d files), want %v", got, m.Compact.Count, m.Levels[0].TablesCount, tc.compact)
			}
			if tc.compact && m.Levels[0].TablesCount >= l0 {
				t.Errorf("level 0 still holds %d files (%d before)", m.Levels[0].TablesCount, l0)
			}
		})
	}
}

// TestCompactGateOpensAfterDelay checks openAfter: shut until the delay
// has passed, open after it; a delay longer than the database's life
// ends with its Close.
func TestCompactGateOpensAfterDelay(t *testing.T) {
	for _, tc := range []struct {
		name     string
		delay    time.Duration
		wantOpen bool
	}{
		{name: "now", delay: 0, wantOpen: true},
		{name: "after the delay", delay: 50 * time.Millisecond, wantOpen: true},
		{name: "after the close", delay: time.Hour, wantOpen: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newCompactGate()
			o := &pebble.Options{FS: vfs.NewMem(), Logger: pebbleLog{slog.Default()}}
			o.Experimental.CompactionScheduler = g
			db, err := pebble.Open("", o)
			if err != nil {
				t.Fatal(err)
			}
			isOpen := func() bool {
				g.mu.Lock()
				defer g.mu.Unlock()
				return g.open
			}
			g.openAfter(tc.delay)
			if tc.delay > 0 && isOpen() {
				t.Fatalf("the gate opened before its delay of %v", tc.delay)
			}
			time.Sleep(500 * time.Millisecond)
			if got := isOpen(); got != tc.wantOpen {
				t.Errorf("open after 500 ms: %v, want %v", got, tc.wantOpen)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if !g.closed {
				t.Error("the gate is not closed after the database's Close")
			}
		})
	}
}
