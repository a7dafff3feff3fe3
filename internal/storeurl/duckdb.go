package storeurl

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/idlog/idlog/internal/bytesize"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/duckdb"
)

// duckdb:PATH opens (creating it and its directory) the DuckDB file at PATH;
// duckdb::memory: is an in-memory store, for tests. Settings follow a '?':
//
//	row_cache=SIZE     memory kept for events already read (default 128MiB;
//	                   0 turns it off, to measure reads from the file)
//	memory_limit=SIZE  DuckDB's own memory (default 1GiB for a file;
//	                   "default" leaves DuckDB's own, 80% of RAM)
//	index_cache=SIZE   block cache of the postings on disk (default 64MiB)
//	repair=false       never rebuild a damaged index by itself (reads stay
//	                   complete); 'idlog check' opens stores so
func init() {
	register("duckdb", func(ctx context.Context, u string) (store.Store, error) {
		path, o, err := duckdbURL(u)
		if err != nil {
			return nil, err
		}
		o.Log = store.Logger(ctx)
		s, err := duckdb.OpenWith(path, o)
		if isDamage(err) {
			return nil, damagedError(path, err) // damaged.go
		}
		if err != nil {
			return nil, err
		}
		if path == "" || path == ":memory:" {
			return s, nil
		}
		return checked{s, path}, nil
	})
	existers["duckdb"] = func(u string) (bool, error) {
		path, _, err := duckdbURL(u)
		if err != nil {
			return false, err
		}
		if path == ":memory:" || path == "" {
			return true, nil
		}
		_, err = os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return err == nil, err
	}
}

// ServerMemoryLimit is the embedded store's memory_limit in a server
// ('idlog serve'), when its URL sets none; other commands keep
// duckdb.DefaultMemoryLimit. A server runs for months beside other
// programs, and DuckDB fills whatever limit it has with blocks of the
// file: 1 GiB made serve's memory grow with the store (1.6 GB at 10M
// events). The blocks it evicts past this limit are read again from the
// operating system's page cache, which is not the server's memory.
// Measured in docs/benchmarks.md ("Growth") and docs/decisions.md.
const ServerMemoryLimit = 256 << 20

// ServerDefaults returns u with the server's defaults for the settings
// it does not give, for stores that have them (the embedded store:
// memory_limit=ServerMemoryLimit); other URLs come back unchanged.
func ServerDefaults(u string) string {
	if !strings.HasPrefix(u, "duckdb:") {
		return u
	}
	path, query, _ := strings.Cut(u, "?")
	if path == "duckdb:" || strings.HasPrefix(path, "duckdb::memory:") {
		return u // an in-memory store's data lives in DuckDB's memory
	}
	if vals, err := url.ParseQuery(query); err != nil || vals.Has("memory_limit") {
		return u // a bad URL is refused by Open, with its reason
	}
	if query == "" {
		return u + "?memory_limit=" + strconv.Itoa(ServerMemoryLimit>>20) + "MiB"
	}
	return u + "&memory_limit=" + strconv.Itoa(ServerMemoryLimit>>20) + "MiB"
}

// duckdbURL splits a duckdb: URL into the file's path and the settings.
func duckdbURL(u string) (string, duckdb.Options, error) {
	var o duckdb.Options
	path, query, _ := strings.Cut(strings.TrimPrefix(u, "duckdb:"), "?")
	vals, err := url.ParseQuery(query)
	if err != nil {
		return "", o, fmt.Errorf("store %q: the settings after '?': %v", u, err)
	}
	for k, v := range vals {
		switch k {
		case "row_cache":
			n, err := bytesize.Parse(v[len(v)-1])
			if err != nil {
				return "", o, fmt.Errorf("store %q: row_cache: %v", u, err)
			}
			o.RowCache = n
			if n == 0 {
				o.RowCache = -1
			}
		case "memory_limit":
			if v[len(v)-1] == "default" {
				o.MemoryLimit = -1
				continue
			}
			n, err := bytesize.Parse(v[len(v)-1])
			if err != nil || n < 1<<20 {
				return "", o, fmt.Errorf("store %q: memory_limit: want a size of at least 1MiB, such as 2GiB", u)
			}
			o.MemoryLimit = n
		case "index_cache":
			n, err := bytesize.Parse(v[len(v)-1])
			if err != nil || n < 1<<20 {
				return "", o, fmt.Errorf("store %q: index_cache: want a size of at least 1MiB, such as 256MiB", u)
			}
			o.IndexCache = n
		case "repair":
			switch v[len(v)-1] {
			case "true":
			case "false":
				o.NoRepair = true
			default:
				return "", o, fmt.Errorf("store %q: repair: want true or false", u)
			}
		default:
			return "", o, fmt.Errorf("store %q: unknown setting %q (the embedded store knows row_cache, memory_limit, index_cache and repair)", u, k)
		}
	}
	return path, o, nil
}
