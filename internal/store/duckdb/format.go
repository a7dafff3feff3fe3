package duckdb

import (
	"database/sql"
	"fmt"
	"strconv"
	"sync"

	"github.com/idlog/idlog/internal/store"
)

// FormatVersion is the layout of the store file this release writes. The
// file keeps it in the idlog_meta table; Open migrates a file of an older
// format up to it and refuses one of a newer format, which this release
// would misread.
//
//	1  files written before the version was kept (up to commit 93ee9f8);
//	   the oldest of them lack target_ids_json, which migrate adds
//	2  the idlog_meta table records the format
//	3  the blooms and event_counts tables (derived.go); a file of format 2
//	   gets them at open
const FormatVersion = 3

// checkFormat reads the file's format before anything is created or
// changed in it, and refuses a newer one. It returns the format found: 0
// for a new, empty file.
func (s *Store) checkFormat() (int, error) {
	var tables int
	if err := s.db.QueryRow(`SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name IN ('events', 'idlog_meta')`).Scan(&tables); err != nil {
		return 0, err
	}
	if tables == 0 {
		return 0, nil
	}
	var has int
	if err := s.db.QueryRow(`SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'idlog_meta'`).Scan(&has); err != nil {
		return 0, err
	}
	if has == 0 {
		return 1, nil
	}
	var v string
	err := s.db.QueryRow(`SELECT value FROM idlog_meta WHERE key = 'format'`).Scan(&v)
	if err == sql.ErrNoRows {
		return 1, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%w: the file's format version %q is not a number", store.ErrFormat, v)
	}
	if n > FormatVersion {
		return n, fmt.Errorf("%w: the file has store format %d, and this idlog (%s) reads formats up to %d; run a newer idlog, or restore a backup made by this release", store.ErrFormat, n, Release(), FormatVersion)
	}
	return n, nil
}

// writeFormat records FormatVersion once the file has been brought up to it.
func (s *Store) writeFormat() error {
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS idlog_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`,
		`INSERT OR REPLACE INTO idlog_meta VALUES ('format', '` + strconv.Itoa(FormatVersion) + `')`,
	} {
		if _, err := s.db.Exec(q); err != nil {
			return fmt.Errorf("recording the store format: %w", err)
		}
	}
	return nil
}

// Format returns the format version recorded in the store's file.
func (s *Store) Format() (int, error) {
	var v string
	if err := s.db.QueryRow(`SELECT value FROM idlog_meta WHERE key = 'format'`).Scan(&v); err != nil {
		return 0, err
	}
	return strconv.Atoi(v)
}

// release is the idlog release named in refusals; cmd/idlog sets it.
var releaseName = struct {
	sync.Mutex
	s string
}{s: "this release"}

// SetRelease names the running release in messages about store formats.
func SetRelease(r string) {
	releaseName.Lock()
	releaseName.s = r
	releaseName.Unlock()
}

// Release is what SetRelease set.
func Release() string {
	releaseName.Lock()
	defer releaseName.Unlock()
	return releaseName.s
}

// EngineVersion is the version of the DuckDB library linked in.
func EngineVersion() (string, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return "", err
	}
	defer db.Close()
	var v string
	if err := db.QueryRow(`SELECT version()`).Scan(&v); err != nil {
		return "", err
	}
	return v, nil
}
