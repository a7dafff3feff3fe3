package duckdb

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
)

// releaseFiles are stores written by earlier releases of idlog, checked in
// gzipped (DuckDB files are mostly empty blocks). Each holds
// storetestEvents(releaseEvents) and the checkpoint "ckpt" = "v". A new
// release that changes the file adds one here, made with
// IDLOG_WRITE_RELEASE_STORE=testdata/release-NAME.duckdb.gz go test -run TestWriteReleaseStore.
var releaseFiles = []string{
	// Commit 93ee9f8, before the store kept a format version.
	"testdata/release-93ee9f8.duckdb.gz",
	// Commit ea0d921, format 2: before the blooms and event_counts.
	"testdata/release-ea0d921.duckdb.gz",
}

const releaseEvents = 500

// TestWriteReleaseStore is not a test: it writes the store file of the
// current release for releaseFiles when IDLOG_WRITE_RELEASE_STORE names one.
func TestWriteReleaseStore(t *testing.T) {
	out := os.Getenv("IDLOG_WRITE_RELEASE_STORE")
	if out == "" {
		t.Skip("writes a release store file only when IDLOG_WRITE_RELEASE_STORE is set")
	}
	path := filepath.Join(t.TempDir(), "events.duckdb")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	evs := storetestEvents(releaseEvents)
	if _, err := s.AppendCheckpoint(context.Background(), evs, "ckpt", "v"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	in, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	if _, err := zw.Write(in); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// unpackRelease writes a checked-in release file into a temporary directory.
func unpackRelease(t *testing.T, name string) string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "events.duckdb")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOpenReleaseFiles: a store written by each earlier release opens,
// is migrated to FormatVersion, and still holds and answers every event.
func TestOpenReleaseFiles(t *testing.T) {
	for _, name := range releaseFiles {
		t.Run(filepath.Base(name), func(t *testing.T) {
			ctx := context.Background()
			path := unpackRelease(t, name)
			s, err := Open(path)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			if v, err := s.Format(); err != nil || v != FormatVersion {
				t.Errorf("format after open = %d, %v; want %d", v, err, FormatVersion)
			}
			st, err := s.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Events != releaseEvents || st.MaxSeq != releaseEvents {
				t.Errorf("stats = %d events, max seq %d; want %d, %d", st.Events, st.MaxSeq, releaseEvents, releaseEvents)
			}
			if v, err := s.Checkpoint(ctx, "ckpt"); err != nil || v != "v" {
				t.Errorf("checkpoint = %q, %v", v, err)
			}
			want := storetestEvents(releaseEvents)
			got, err := s.Query(ctx, store.Query{Order: store.BySeq})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("query returned %d events, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i].UUID != want[i].UUID || string(got[i].Raw) != string(want[i].Raw) {
					t.Fatalf("event %d: got %s %s\nwant %s %s", i, got[i].UUID, got[i].Raw, want[i].UUID, want[i].Raw)
				}
			}
			// New events go after the old ones.
			more := storetest.Synthetic(10, 7)
			if res, err := s.Append(ctx, more); err != nil || res.Added != 10 {
				t.Fatalf("append after migration: %+v %v", res, err)
			}
			if st, _ := s.Stats(ctx); st.MaxSeq != releaseEvents+10 {
				t.Errorf("max seq after append = %d", st.MaxSeq)
			}
			checkMigratedDerived(t, s, append(want, more...))
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			// And it opens again, already migrated.
			s, err = Open(path)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			s.Close()
		})
	}
}

// TestRefuseNewerFormat: a file that says it has a newer format is refused
// with a message that names the file and both versions, and is left as it was.
func TestRefuseNewerFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.duckdb")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(context.Background(), storetestEvents(5)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`UPDATE idlog_meta SET value = '99' WHERE key = 'format'`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before, _ := os.ReadFile(path)
	s, err = Open(path)
	if err == nil {
		s.Close()
		t.Fatal("opened a store of a newer format")
	}
	if !errors.Is(err, store.ErrFormat) {
		t.Errorf("error %v does not wrap store.ErrFormat", err)
	}
	for _, want := range []string{path, "format 99", "up to " + strconv.Itoa(FormatVersion), "newer idlog"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Error("the refused file was changed")
	}
}
