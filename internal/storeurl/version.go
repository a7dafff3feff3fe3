package storeurl

import "github.com/idlog/idlog/internal/store/duckdb"

// Backend describes a store backend for 'idlog version'.
type Backend struct {
	Scheme string
	// Engine is the database's version: the library linked in for
	// DuckDB; "" when it is a separate server (ClickHouse's is its own).
	Engine string
	// Format is the store format version this release writes, 0 when the
	// backend does not keep one.
	Format int
}

// Backends lists the backends and their versions. SetRelease is passed on
// to them, for messages that name the release.
func Backends(release string) ([]Backend, error) {
	duckdb.SetRelease(release)
	v, err := duckdb.EngineVersion()
	if err != nil {
		return nil, err
	}
	return []Backend{
		{Scheme: "duckdb", Engine: "DuckDB " + v, Format: duckdb.FormatVersion},
		{Scheme: "clickhouse", Engine: "", Format: 0},
	}, nil
}

// SetRelease names the running release in the backends' messages (a store
// of a newer format is refused naming this release).
func SetRelease(release string) { duckdb.SetRelease(release) }
