// Package duckdb is the embedded idlog store: one DuckDB file holding every
// event as a row of typed columns (the paths analysts filter on) plus the
// event's JSON, kept whole. Filters compile to parameterised SQL (compile.go);
// one writer goroutine groups concurrent appends into few transactions
// (append.go).
package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" database/sql driver

	"github.com/idlog/idlog/internal/store"
)

// Store is a DuckDB-backed store.Store and store.Checkpointer.
type Store struct {
	db   *sql.DB
	path string // "" for an in-memory store
	w    *writer
	file *fileState // nil for an in-memory store
	rows *rowCache  // nil when none; shared by the Stores of one file
	// health counts damage found in derived structures (integrity.go);
	// shared by the Stores of one file.
	health *health

	noPostings bool // tests and benchmarks compare pages without them
	log        *slog.Logger

	noBlooms   bool  // q without the blooms (blooms.go), for the same
	noRollup   bool  // histograms without event_counts (rollup.go), for the same
	bloomsFrom int64 // the first seq the blooms cover (derived.go)
}

// Options are the settings of OpenWith.
type Options struct {
	// RowCache is the memory, in bytes, kept for the events of rows read
	// (rowcache.go): 0 means DefaultRowCache, a negative value none. The
	// Stores of one file in a process share the first one's cache.
	RowCache int64
	// MemoryLimit bounds DuckDB's own memory (its buffer pool, indexes
	// and query state), in bytes; 0 means DefaultMemoryLimit for a file
	// (an in-memory store keeps DuckDB's default, 80% of RAM: its data
	// lives in that memory), a negative value DuckDB's default, which it
	// fills with cached blocks of a big file. Past the limit DuckDB
	// evicts blocks and spills large operations to a temporary directory
	// beside the file. It is the database's setting, so the last open of
	// a file in a process sets it.
	MemoryLimit int64
	// IndexCache is the memory, in bytes, for the postings' block cache
	// (postings.go): 0 means DefaultIndexCache. The Stores of one file in
	// a process share the first one's.
	IndexCache int64
	// NoRepair keeps the store from rebuilding a damaged structure by
	// itself (at open, or when a read finds one): reads stay complete by
	// reading past it. 'idlog check' opens a store so, to report the
	// damage as it found it.
	NoRepair bool
	// Log gets what the store has to report (damage found and
	// repaired); nil means slog's default logger.
	Log *slog.Logger
}

// DefaultMemoryLimit is DuckDB's memory_limit for a file store when
// Options.MemoryLimit is 0.
const DefaultMemoryLimit = 1 << 30

var (
	_ store.Store        = (*Store)(nil)
	_ store.Checkpointer = (*Store)(nil)
	_ store.CacheDropper = (*Store)(nil)
	_ store.Checker      = (*Store)(nil)
)

// Open opens (creating if needed) the store in the DuckDB file at path, or an
// in-memory store when path is "" or ":memory:". When another process holds
// the file, the error wraps store.ErrLocked.
func Open(path string) (*Store, error) { return OpenWith(path, Options{}) }

// OpenWith is Open with settings.
func OpenWith(path string, o Options) (*Store, error) {
	budget := o.RowCache
	if budget == 0 {
		budget = DefaultRowCache
	}
	if path == ":memory:" {
		path = ""
	}
	if path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("duckdb: %w", err)
		}
	}
	// A WAL left by a process that did not close the file is replayed
	// when DuckDB opens it, and that replay is what loses the seq index's
	// entries; an open of a file this process already holds finds the
	// WAL of the live database instead.
	unclean := path != "" && !openInProcess(path) && walPending(path)
	db, err := sql.Open("duckdb", path)
	if err != nil {
		return nil, openErr(path, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, openErr(path, err)
	}
	s := &Store{db: db, path: path, log: o.Log}
	if s.log == nil {
		s.log = slog.Default()
	}
	if o.MemoryLimit == 0 && path != "" {
		o.MemoryLimit = DefaultMemoryLimit
	}
	if o.MemoryLimit > 0 {
		// DuckDB reads sizes in its own units; KiB are exact enough.
		if _, err := db.Exec(fmt.Sprintf("SET memory_limit = '%dKiB'", max(o.MemoryLimit>>10, 1))); err != nil {
			db.Close()
			return nil, openErr(path, err)
		}
	}
	if err := s.init(); err != nil {
		db.Close()
		return nil, openErr(path, err)
	}
	s.file = acquire(path, budget)
	s.health = &health{}
	if s.file != nil {
		s.health = s.file.health
	}
	if o.NoRepair {
		s.health.noRepair.Store(true)
	}
	rebuildLater, err := s.openCheck(unclean)
	if err != nil {
		release(path)
		db.Close()
		return nil, openErr(path, err)
	}
	idx, err := s.openIndex(o.IndexCache)
	if err != nil {
		release(path)
		db.Close()
		return nil, openErr(path, err)
	}
	w, err := newWriter(db, idx)
	if err != nil {
		if s.file == nil {
			idx.close()
		}
		release(path)
		db.Close()
		return nil, openErr(path, err)
	}
	s.w = w
	w.file = s.file
	if rebuildLater {
		s.scheduleRepair("the store was not closed cleanly (its WAL was replayed at open)")
	}
	s.rows = newRowCache(budget)
	if s.file != nil {
		s.rows = s.file.rows
	}
	return s, nil
}

// openErr recognises DuckDB's message for a file locked by another process.
func openErr(path string, err error) error {
	if strings.Contains(err.Error(), "Could not set lock") || strings.Contains(err.Error(), "Conflicting lock") {
		return fmt.Errorf("duckdb: %s: %w (%v)", path, store.ErrLocked, err)
	}
	return fmt.Errorf("duckdb: open %s: %w", path, err)
}

func (s *Store) init() error {
	if _, err := s.checkFormat(); err != nil { // format.go
		return err
	}
	var b strings.Builder
	b.WriteString(`CREATE TABLE IF NOT EXISTS events (
	seq BIGINT NOT NULL,
	uuid VARCHAR NOT NULL,
	published TIMESTAMP NOT NULL,
	odd BOOLEAN NOT NULL,
	kwplain BOOLEAN NOT NULL,
	arrays VARCHAR[] NOT NULL`)
	for _, c := range columns {
		typ := map[kind]string{kString: "VARCHAR", kNumber: "DOUBLE", kStringList: "VARCHAR[]"}[c.kind]
		fmt.Fprintf(&b, ",\n\t%s %s", c.name, typ)
	}
	b.WriteString(",\n\tlayout VARCHAR NOT NULL,\n\trest VARCHAR")
	for _, m := range members {
		// m_target holds only targets that are not split into
		// m_target_items, so it is mostly NULL. DuckDB picks FSST for it,
		// and FSST reads a single row slowly (measured at 1M events: 5.7
		// ms against 1.2 ms with dictionary compression, per 100 rows).
		comp := ""
		if m == "target" {
			comp = " USING COMPRESSION dictionary"
		}
		fmt.Fprintf(&b, ",\n\t%s VARCHAR%s", memberColumn(m), comp)
	}
	// target_ids_json repeats target_ids as a JSON array text for rebuild:
	// DuckDB reads one row of a list column slowly (12 ms per 100 rows at
	// 1M events, most of a page's read), a VARCHAR quickly (2 ms).
	b.WriteString(",\n\tm_target_items VARCHAR[],\n\ttarget_ids_json VARCHAR\n)")
	stmts := []string{
		// Fewer checkpoints while appending: each one rewrites the
		// partly filled segments of the last row group, and the blocks it
		// frees stay in the file.
		`SET checkpoint_threshold = '256MB'`,
		b.String(),
		`CREATE TABLE IF NOT EXISTS checkpoints (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS state (id INTEGER PRIMARY KEY, last_seq BIGINT NOT NULL)`,
		`INSERT INTO state VALUES (1, 0) ON CONFLICT DO NOTHING`,
	}
	for _, q := range stmts {
		if _, err := s.db.Exec(q); err != nil {
			return fmt.Errorf("%w\n%s", err, q)
		}
	}
	if err := s.migrate(); err != nil {
		return err
	}
	if err := s.addDerived(); err != nil { // derived.go
		return err
	}
	// A page's rows are read by seq (query.go: fetch). Without an index
	// that read scans and decompresses every wide column over the span of
	// the page's rows; with it DuckDB fetches just those rows (measured at
	// 1M events: 60 ms against 12 ms for 100 rows). Files written before
	// the index existed get it here too. The index is only a shortcut:
	// integrity.go says why and how reads never depend on it.
	if err := createSeqIndex(s.db); err != nil {
		return err
	}
	// A file made by an earlier layout of this package has other columns;
	// say so rather than fail on the first append.
	var n int
	err := s.db.QueryRow(`SELECT count(*) FROM duckdb_columns() WHERE table_name = 'events' AND column_name IN ('layout', 'm_target_items', 'arrays')`).Scan(&n)
	if err != nil {
		return err
	}
	if n != 3 {
		return errors.New("the file holds events in an older layout of idlog's DuckDB store; move it away and ingest again")
	}
	return s.writeFormat() // format.go
}

// migrate brings a file written before target_ids_json existed up to date.
func (s *Store) migrate() error {
	var n int
	err := s.db.QueryRow(`SELECT count(*) FROM duckdb_columns() WHERE table_name = 'events' AND column_name = 'target_ids_json'`).Scan(&n)
	if err != nil || n == 1 {
		return err
	}
	for _, q := range []string{
		// DuckDB alters no table that an index depends on.
		`DROP INDEX IF EXISTS ` + seqIndex,
		`ALTER TABLE events ADD COLUMN target_ids_json VARCHAR`,
		`UPDATE events SET target_ids_json = to_json(target_ids)::VARCHAR WHERE target_ids IS NOT NULL`,
	} {
		if _, err := s.db.Exec(q); err != nil {
			return fmt.Errorf("adding target_ids_json: %w", err)
		}
	}
	return nil
}

// idx is the postings, or nil when the store was opened without them.
func (s *Store) idx() *postings {
	if s.noPostings {
		return nil
	}
	return s.w.idx
}

// Close stops the writer and closes the database.
func (s *Store) Close() error {
	s.w.close()
	if s.file == nil {
		s.w.idx.close()
	}
	release(s.path)
	return s.db.Close()
}

// files is the state shared by the Stores of one file in this process.
// DuckDB gives every open of a file in a process the same database, so
// what one Store appends the others' postings must index too.
var files = struct {
	sync.Mutex
	m map[string]*fileState
}{m: map[string]*fileState{}}

type fileState struct {
	refs      int
	committed atomic.Int64 // the highest seq any of them committed
	rows      *rowCache
	health    *health
	idx       *postings // opened by the first Store (index.go), closed by the last
	idxMu     sync.Mutex
}

// acquire returns the shared state of the file at path, nil for an
// in-memory store (each is its own database). The first Store of the file
// sets the size of the row cache.
func acquire(path string, rowCache int64) *fileState {
	if path == "" {
		return nil
	}
	key := fileKey(path)
	files.Lock()
	defer files.Unlock()
	f := files.m[key]
	if f == nil {
		f = &fileState{rows: newRowCache(rowCache), health: &health{}}
		files.m[key] = f
	}
	f.refs++
	return f
}

// openInProcess reports whether a Store of this process has the file open.
func openInProcess(path string) bool {
	files.Lock()
	defer files.Unlock()
	return files.m[fileKey(path)] != nil
}

func release(path string) {
	if path == "" {
		return
	}
	key := fileKey(path)
	files.Lock()
	defer files.Unlock()
	if f := files.m[key]; f != nil {
		if f.refs--; f.refs <= 0 {
			delete(files.m, key)
			if f.idx != nil {
				f.idx.close()
			}
		}
	}
}

// behind reports whether a writer (this Store's or another's on the same
// file) committed rows that the postings have not indexed yet.
func (s *Store) behind(idx *postings) bool {
	return idx.committed.Load() > idx.upTo.Load()
}

// fileKey names a file the same way however the path spells it.
func fileKey(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return filepath.Clean(path)
}

// Append implements store.Store.
func (s *Store) Append(ctx context.Context, events []store.Event) (store.AppendResult, error) {
	return s.w.append(ctx, events, nil)
}

// StartAppend implements store.AppendStarter.
func (s *Store) StartAppend(ctx context.Context, events []store.Event) (func() (store.AppendResult, error), error) {
	return s.w.startAppend(ctx, events)
}

// AppendCheckpoint implements store.Checkpointer.
func (s *Store) AppendCheckpoint(ctx context.Context, events []store.Event, key, value string) (store.AppendResult, error) {
	return s.w.append(ctx, events, &[2]string{key, value})
}

// Checkpoint implements store.Checkpointer.
func (s *Store) Checkpoint(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM checkpoints WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, uuid string) (store.Event, error) {
	var e store.Event
	rc := newRawScan()
	err := s.db.QueryRowContext(ctx, `SELECT seq, `+rawColumns+` FROM events WHERE uuid = $1`, uuid).
		Scan(append([]any{&e.Seq}, rc.ptrs...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return e, store.ErrNotFound
	}
	if err != nil {
		return e, fmt.Errorf("duckdb: get: %w", err)
	}
	return rc.event(e.Seq)
}

// rawScan holds the scanned values of rawColumns.
type rawScan struct {
	vals []any
	ptrs []any
}

func newRawScan() *rawScan {
	r := &rawScan{vals: make([]any, nRawColumns), ptrs: make([]any, nRawColumns)}
	for i := range r.vals {
		r.ptrs[i] = &r.vals[i]
	}
	return r
}

func (r *rawScan) raw() (string, error) { return rebuild(r.vals) }

func (r *rawScan) event(seq int64) (store.Event, error) {
	raw, err := r.raw()
	if err != nil {
		return store.Event{}, err
	}
	uuid, _ := r.vals[2].(string)
	pub, _ := r.vals[3].(time.Time)
	return store.Event{Seq: seq, UUID: uuid, Published: pub.UTC(), Raw: []byte(raw)}, nil
}

// DeleteBefore implements store.Store. It runs on the writer, so it never
// races an append for the table.
func (s *Store) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	// The postings are pruned on the writer too, after the commit, so
	// that no append comes between.
	err := s.w.submitNoTx(ctx, func(*sql.Conn) error {
		var last int64
		err := s.w.tx(func(tx *sql.Conn) error {
			r, err := tx.ExecContext(ctx, `DELETE FROM events WHERE published < $1`, ms(t))
			if err != nil {
				return err
			}
			if n, err = r.RowsAffected(); err != nil {
				return err
			}
			if err := pruneDerived(ctx, tx, t); err != nil { // derived.go
				return err
			}
			return tx.QueryRowContext(ctx, `SELECT last_seq FROM state WHERE id = 1`).Scan(&last)
		})
		if err != nil {
			return err
		}
		if err := s.w.idx.prune(t, last); err != nil {
			// Entries of deleted rows are passed over by readers.
			s.log.Error("store: removing deleted events from the postings failed; they are skipped when read", "store", s.path, "err", err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("duckdb: delete: %w", err)
	}
	s.rows.dropBefore(t)
	return n, nil
}

// DropCache implements store.CacheDropper: it empties the row cache
// (rowcache.go), shared by the Stores of this file.
func (s *Store) DropCache() { s.rows.drop() }

// Flush writes the WAL into the compressed table (a DuckDB checkpoint),
// which DuckDB otherwise does when the WAL reaches checkpoint_threshold or
// the store closes. Stats counts the WAL, so bench calls it before
// measuring bytes per event.
func (s *Store) Flush(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("duckdb: checkpoint: %w", err)
	}
	return nil
}

// Stats implements store.Store.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	var st store.Stats
	var oldest, newest sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT count(*), min(published), max(published), (SELECT last_seq FROM state WHERE id = 1) FROM events`).
		Scan(&st.Events, &oldest, &newest, &st.MaxSeq)
	if err != nil {
		return st, fmt.Errorf("duckdb: stats: %w", err)
	}
	st.Oldest, st.Newest = oldest.Time.UTC(), newest.Time.UTC()
	if s.rows != nil {
		st.CacheHits, st.CacheMisses = s.rows.hits.Load(), s.rows.misses.Load()
	}
	st.IndexMisses, st.Repairs = s.health.misses.Load(), s.health.repairs.Load()
	if !oldest.Valid {
		st.Oldest, st.Newest = time.Time{}, time.Time{}
	}
	if s.path != "" {
		for _, p := range []string{s.path, s.path + ".wal"} {
			if fi, err := os.Stat(p); err == nil {
				st.BytesOnDisk += fi.Size()
			}
		}
		st.BytesOnDisk += dirSize(indexDir(s.path))
	}
	return st, nil
}

// ms truncates t to the millisecond precision of the published column.
func ms(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }
