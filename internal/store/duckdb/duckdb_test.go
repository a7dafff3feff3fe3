package duckdb

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	if testing.Short() {
		storetest.DifferentialFilters = 100
	}
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(filepath.Join(t.TempDir(), "events.duckdb"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func storetestEvents(n int) []store.Event { return storetest.Synthetic(n, 99) }

// TestFlush: after Flush the appended events are in the table file, not
// the WAL (bench measures bytes per event after it).
func TestFlush(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.duckdb")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Append(context.Background(), storetestEvents(2000)); err != nil {
		t.Fatal(err)
	}
	wal := func() int64 {
		fi, err := os.Stat(path + ".wal")
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	if wal() == 0 {
		t.Fatal("test premise: the appends left no WAL")
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := wal(); n != 0 {
		t.Errorf("WAL holds %d bytes after Flush", n)
	}
}
