package duckdb

import (
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
