package duckdb

import (
	"context"
	"database/sql"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// indexDir is where the postings of the DuckDB file at path live.
func indexDir(path string) string { return path + ".idx" }

// fileIDRow is the row of the state table that holds the file's id: a
// random number the postings record, so that a directory of postings that
// belongs to another file (the file was replaced, or restored from a
// backup) is recognised and built again rather than trusted.
const fileIDRow = 2

// fileID returns the file's id, giving the file one if it has none.
func fileID(ctx context.Context, db *sql.DB) (int64, error) {
	if _, err := db.ExecContext(ctx, `INSERT INTO state VALUES ($1, $2) ON CONFLICT DO NOTHING`, fileIDRow, rand.Int64N(1<<62)+1); err != nil {
		return 0, err
	}
	var id int64
	err := db.QueryRowContext(ctx, `SELECT last_seq FROM state WHERE id = $1`, fileIDRow).Scan(&id)
	return id, err
}

// openIndex opens the postings of the store (shared by the Stores of a
// file in this process) and brings them up to the table: rows past the
// marker are indexed, and postings of another file, or ahead of the
// table, are built again. A file written before the postings were kept
// on disk gets them built here, once.
func (s *Store) openIndex(cache int64) (*postings, error) {
	if cache <= 0 {
		cache = DefaultIndexCache
	}
	if s.file == nil {
		p, err := openPostings("", cache, s.log)
		if err != nil {
			return nil, err
		}
		if err := s.catchUp(p); err != nil {
			p.close()
			return nil, err
		}
		return p, nil
	}
	f := s.file
	f.idxMu.Lock()
	defer f.idxMu.Unlock()
	if f.idx == nil {
		dir := indexDir(s.path)
		p, err := openPostings(dir, cache, s.log)
		if err != nil {
			// The postings are derived from the table: a directory
			// Pebble cannot open (damaged, or copied while written) is
			// built again rather than keep the store shut.
			s.log.Error("store: the postings cannot be opened; building them again from the table", "store", s.path, "dir", dir, "err", err)
			if rerr := os.RemoveAll(dir); rerr != nil {
				return nil, err
			}
			if p, err = openPostings(dir, cache, s.log); err != nil {
				return nil, err
			}
		}
		f.idx = p
	}
	if err := s.catchUp(f.idx); err != nil {
		return nil, err
	}
	return f.idx, nil
}

// catchUp indexes the rows past p's marker, after building p again if it
// is not this file's.
func (s *Store) catchUp(p *postings) error {
	ctx := context.Background()
	id, err := fileID(ctx, s.db)
	if err != nil {
		return err
	}
	var last int64
	if err := s.db.QueryRowContext(ctx, `SELECT last_seq FROM state WHERE id = 1`).Scan(&last); err != nil {
		return err
	}
	if p.id != id || p.upTo.Load() > last {
		if p.id != 0 || p.upTo.Load() > 0 {
			s.log.Warn("store: the postings directory belongs to another state of the file; building it again", "store", s.path, "dir", indexDir(s.path))
		}
		if err := p.reset(id); err != nil {
			return err
		}
	}
	from := p.upTo.Load()
	if from >= last {
		return nil
	}
	start := time.Now()
	if err := p.load(ctx, s.db, from); err != nil {
		return err
	}
	if from == 0 && s.path != "" {
		s.log.Info("store: postings built from the table", "store", s.path, "upTo", p.upTo.Load(), "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// dirSize is the bytes of the files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
