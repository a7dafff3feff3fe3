package storeurl

import (
	"strings"
	"testing"

	"github.com/idlog/idlog/internal/store/duckdb"
)

func TestDuckDBURL(t *testing.T) {
	for _, c := range []struct {
		url, path string
		o         duckdb.Options
		err       string
	}{
		{url: "duckdb:./data/events.duckdb", path: "./data/events.duckdb"},
		{url: "duckdb::memory:", path: ":memory:"},
		{url: "duckdb:/x/e.duckdb?row_cache=0", path: "/x/e.duckdb", o: duckdb.Options{RowCache: -1}},
		{url: "duckdb:/x/e.duckdb?row_cache=1GiB", path: "/x/e.duckdb", o: duckdb.Options{RowCache: 1 << 30}},
		{url: "duckdb:/x/e.duckdb?row_cache=64MiB&memory_limit=2GiB", path: "/x/e.duckdb", o: duckdb.Options{RowCache: 64 << 20, MemoryLimit: 2 << 30}},
		{url: "duckdb:/x/e.duckdb?memory_limit=default&index_cache=256MiB", path: "/x/e.duckdb", o: duckdb.Options{MemoryLimit: -1, IndexCache: 256 << 20}},
		{url: "duckdb:e.duckdb?row_cache=lots", err: "row_cache: want a size"},
		{url: "duckdb:e.duckdb?memory_limit=10", err: "memory_limit: want a size of at least 1MiB"},
		{url: "duckdb:e.duckdb?rowcache=1MiB", err: `unknown setting "rowcache"`},
		{url: "duckdb:e.duckdb?row_cache=%zz", err: "the settings after '?'"},
	} {
		path, o, err := duckdbURL(c.url)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want one containing %q", c.url, err, c.err)
			}
			continue
		}
		if err != nil || path != c.path || o != c.o {
			t.Errorf("%s: %q %+v %v; want %q %+v", c.url, path, o, err, c.path, c.o)
		}
	}
}

// TestServerDefaults: a server's embedded file store gets the server's
// memory_limit unless its URL sets one; other stores are left alone.
func TestServerDefaults(t *testing.T) {
	for _, c := range []struct {
		url       string
		unchanged bool
		limit     int64 // the MemoryLimit the URL then opens with
	}{
		{url: "duckdb:./data/events.duckdb", limit: ServerMemoryLimit},
		{url: "duckdb:/x/e.duckdb?row_cache=1GiB", limit: ServerMemoryLimit},
		{url: "duckdb:/x/e.duckdb?memory_limit=2GiB", unchanged: true, limit: 2 << 30},
		{url: "duckdb:/x/e.duckdb?index_cache=256MiB&memory_limit=default", unchanged: true, limit: -1},
		{url: "duckdb::memory:", unchanged: true},
		{url: "duckdb:", unchanged: true},
		{url: "duckdb:e.duckdb?row_cache=%zz", unchanged: true},
		{url: "clickhouse://127.0.0.1:9000/idlog", unchanged: true},
	} {
		got := ServerDefaults(c.url)
		if (got == c.url) != c.unchanged {
			t.Errorf("ServerDefaults(%q) = %q; unchanged: %v, want %v", c.url, got, got == c.url, c.unchanged)
		}
		if !strings.HasPrefix(c.url, "duckdb:") {
			continue
		}
		_, o, err := duckdbURL(got)
		if err != nil {
			if !c.unchanged {
				t.Errorf("%q: %v", got, err)
			}
			continue
		}
		if o.MemoryLimit != c.limit {
			t.Errorf("%q opens with memory_limit %d, want %d", got, o.MemoryLimit, c.limit)
		}
	}
}
