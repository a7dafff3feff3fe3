package storeurl

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"

	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/duckdb"
)

// duckdb:PATH opens (creating it and its directory) the DuckDB file at PATH;
// duckdb::memory: is an in-memory store, for tests.
func init() {
	register("duckdb", func(_ context.Context, url string) (store.Store, error) {
		path := strings.TrimPrefix(url, "duckdb:")
		s, err := duckdb.Open(path)
		if err != nil {
			return nil, err
		}
		return s, nil
	})
	existers["duckdb"] = func(url string) (bool, error) {
		path := strings.TrimPrefix(url, "duckdb:")
		if path == ":memory:" || path == "" {
			return true, nil
		}
		_, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return err == nil, err
	}
}
