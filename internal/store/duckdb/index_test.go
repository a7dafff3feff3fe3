package duckdb

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/scenario"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
)

// agreeWithScan checks that pages of a few values of each indexed path,
// found through the postings, are the pages DuckDB's scan finds.
func agreeWithScan(t *testing.T, s *Store, evs []store.Event) {
	t.Helper()
	vals := indexedValues(t, evs)
	n := 0
	for path, vs := range vals {
		for _, v := range vs[:min(len(vs), 4)] {
			f, err := filter.Parse(path + ` eq ` + scenario.Quote(v))
			if err != nil {
				t.Fatal(err)
			}
			for _, desc := range []bool{true, false} {
				q := store.Query{Filter: f, Descending: desc, Limit: 7}
				if _, _, ok := s.w.idx.candidates(q, 0); !ok {
					t.Fatalf("%s: the postings do not narrow it", f)
				}
				got := pages(t, s, q)
				var want []string
				plain(s, func() { want = pages(t, s, q) })
				if !slices.Equal(got, want) {
					t.Fatalf("%s (descending %v):\nwith postings    %v\nwithout postings %v", f, desc, got, want)
				}
				n += len(got)
			}
		}
	}
	if n == 0 {
		t.Fatal("no page found a row: the comparison proves nothing")
	}
}

// sound checks that the index agrees with the table in full.
func sound(t *testing.T, s *Store) {
	t.Helper()
	v, err := s.w.idx.verify(context.Background(), s.db)
	if err != nil {
		t.Fatal(err)
	}
	if v.missing != 0 || v.wrong != 0 || v.stale != 0 || v.rows == 0 {
		t.Fatalf("the index disagrees with the table: %+v", v)
	}
}

// logTo collects what the store logs.
func logTo(b *bytes.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// TestIndexMigratesReleaseFile: a file written by the release before the
// postings moved to disk gets its index directory on first open, once;
// pages through it equal the scan's, and so does dedupe.
func TestIndexMigratesReleaseFile(t *testing.T) {
	ctx := context.Background()
	path := unpackRelease(t, releaseFiles[0])
	if _, err := os.Stat(indexDir(path)); !os.IsNotExist(err) {
		t.Fatalf("the release file comes with an index directory (%v): the test proves nothing", err)
	}
	var log bytes.Buffer
	s, err := OpenWith(path, Options{Log: logTo(&log)})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.w.idx.upTo.Load(); got != releaseEvents {
		t.Fatalf("index up to seq %d after the first open, want %d", got, releaseEvents)
	}
	if !strings.Contains(log.String(), "postings built") {
		t.Errorf("the first open did not say that it built the postings:\n%s", log.String())
	}
	sound(t, s)
	agreeWithScan(t, s, storetestEvents(releaseEvents))
	if res, err := s.Append(ctx, storetestEvents(releaseEvents)[:50]); err != nil || res.Duplicates != 50 {
		t.Fatalf("appending stored events again: %+v %v, want 50 duplicates", res, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(indexDir(path)); err != nil {
		t.Fatalf("no index directory after the first open: %v", err)
	}
	log.Reset()
	s, err = OpenWith(path, Options{Log: logTo(&log)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if strings.Contains(log.String(), "postings built") {
		t.Errorf("the second open built the postings again:\n%s", log.String())
	}
	sound(t, s)
	agreeWithScan(t, s, storetestEvents(releaseEvents))
}

// copyDir copies the files of a closed Pebble directory.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.RemoveAll(to); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestIndexBehindAndAhead: an index that lost its last batches (a crash
// after DuckDB's commit, before Pebble's write reached the disk) is caught
// up at the next open; one ahead of the file (the file restored from an
// older copy) or of another file is built again. Either way pages and
// dedupe agree with the table.
func TestIndexBehindAndAhead(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "e.duckdb")
	first, second := storetest.Synthetic(300, 11), storetest.Synthetic(200, 12)
	appendClose := func(evs []store.Event) {
		t.Helper()
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := s.Append(ctx, evs); err != nil || res.Added != len(evs) {
			t.Fatalf("%+v %v", res, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	appendClose(first)
	copyDir(t, indexDir(path), filepath.Join(dir, "idx-first"))
	copyFile(t, path, filepath.Join(dir, "file-first"))
	appendClose(second)

	t.Run("behind", func(t *testing.T) {
		copyDir(t, filepath.Join(dir, "idx-first"), indexDir(path))
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got := s.w.idx.upTo.Load(); got != int64(len(first)+len(second)) {
			t.Fatalf("index up to %d after open, want %d", got, len(first)+len(second))
		}
		sound(t, s)
		agreeWithScan(t, s, append(slices.Clone(first), second...))
		if res, err := s.Append(ctx, second); err != nil || res.Duplicates != len(second) {
			t.Fatalf("appending the caught-up events again: %+v %v", res, err)
		}
	})
	t.Run("ahead", func(t *testing.T) {
		// The index knows both appends; the file goes back to the first.
		copyFile(t, filepath.Join(dir, "file-first"), path)
		os.Remove(path + ".wal")
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got := s.w.idx.upTo.Load(); got != int64(len(first)) {
			t.Fatalf("index up to %d after open, want %d", got, len(first))
		}
		sound(t, s)
		agreeWithScan(t, s, first)
		// The second append is not stored in this file: it is new.
		if res, err := s.Append(ctx, second); err != nil || res.Added != len(second) {
			t.Fatalf("appending events the file does not hold: %+v %v", res, err)
		}
		sound(t, s)
	})
	t.Run("another file", func(t *testing.T) {
		other := filepath.Join(dir, "other.duckdb")
		s, err := Open(other)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(ctx, storetest.Synthetic(600, 13)); err != nil {
			t.Fatal(err)
		}
		s.Close()
		// The index of a file with more rows than this one.
		copyDir(t, indexDir(other), indexDir(path))
		if s, err = Open(path); err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		sound(t, s)
		agreeWithScan(t, s, first)
	})
}

// TestIndexPrune: DeleteBefore removes the entries of the rows it
// deletes, and events deleted can be stored again.
func TestIndexPrune(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "e.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs := storetest.Synthetic(400, 14)
	if _, err := s.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	before, err := s.w.idx.count()
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(evs, func(a, b store.Event) int { return a.Published.Compare(b.Published) })
	cut := evs[len(evs)/2].Published
	n, err := s.DeleteBefore(ctx, cut)
	if err != nil || n == 0 {
		t.Fatalf("deleted %d (%v)", n, err)
	}
	after, err := s.w.idx.count()
	if err != nil {
		t.Fatal(err)
	}
	if after >= before {
		t.Fatalf("%d entries before the delete, %d after", before, after)
	}
	sound(t, s) // no stale entries
	var gone []store.Event
	for _, e := range evs {
		if e.Published.Before(cut) {
			gone = append(gone, e)
		}
	}
	if res, err := s.Append(ctx, gone); err != nil || res.Added != len(gone) {
		t.Fatalf("storing deleted events again: %+v %v, want %d added", res, err, len(gone))
	}
	sound(t, s)
	agreeWithScan(t, s, evs)
}

// TestCheckIndexEntries: check finds an entry that names a row for a
// value it does not hold, and one of a deleted row, and repair removes
// both.
func TestCheckIndexEntries(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "e.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs := storetest.Synthetic(200, 15)
	if _, err := s.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	idx := s.w.idx
	b := idx.db.NewBatch()
	// Seq 5 under a value nobody has; a seq no row has.
	pub := evs[4].Published.UnixMilli()
	b.Set(suffix(listPrefix(nil, 0, "00unobody"), pub, 5), []byte{0, 1}, nil)
	b.Set(suffix(listPrefix(nil, 0, "00unobody"), pub, 100000), []byte{0, 1}, nil)
	if err := b.Commit(pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Check(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	f := finding(rep, "postings")
	if f.Problems != 1 || !strings.Contains(f.Detail, "1 entries name deleted rows") {
		t.Fatalf("%+v, want one wrong entry and one of a deleted row", f)
	}
	if rep, err = s.Check(ctx, true); err != nil || !finding(rep, "postings").Repaired {
		t.Fatalf("%+v %v, want repaired", rep.Findings, err)
	}
	sound(t, s)
	agreeWithScan(t, s, evs)
}

// TestIndexDamagedDirectory: a postings directory Pebble cannot open (a
// torn copy, say) is built again instead of keeping the store shut.
func TestIndexDamagedDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.duckdb")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	evs := storetest.Synthetic(100, 16)
	if _, err := s.Append(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	s.Close()
	files, err := filepath.Glob(filepath.Join(indexDir(path), "MANIFEST-*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifest in the index directory: %v", err)
	}
	if err := os.WriteFile(files[0], []byte("torn"), 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if s, err = OpenWith(path, Options{Log: logTo(&log)}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.Contains(log.String(), "building them again") {
		t.Errorf("the open did not say that it rebuilt the postings:\n%s", log.String())
	}
	sound(t, s)
	agreeWithScan(t, s, evs)
}
