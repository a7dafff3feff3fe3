// Package duckdbtest holds test fixtures of the DuckDB store that tests in
// other packages use too.
package duckdbtest

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// CrashedMirrorEvents is how many events the crashed mirror holds.
const CrashedMirrorEvents = 4000

// CrashedMirror returns the path of a writable copy of the store damaged by
// crashes (internal/store/duckdb/testdata/crashed-mirror.duckdb, from
// shared/repro/crashed-mirror): its seq index finds none of its rows.
func CrashedMirror(t testing.TB) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	src, err := os.Open(filepath.Join(filepath.Dir(here), "..", "testdata", "crashed-mirror.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), "mirror.duckdb")
	dst, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
