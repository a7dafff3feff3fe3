package duckdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idlog/idlog/internal/store"
)

// The seq index (events_seq, a DuckDB ART index) is the one structure in
// the file that is derived from the events and read on every page: a
// page's rows are fetched by seq through it. DuckDB 1.5 can lose its
// entries across crashes (docs/decisions.md, "A lost index never shortens
// an answer"): the copy in shared/repro/crashed-mirror finds none of its
// 4,000 rows by seq. So idlog treats the index as a cache of the table:
//
//   - every read by seq checks that it got each row it asked for, and reads
//     the rows it did not get past the index (a scan of the seq column),
//     so a damaged index costs time, never rows;
//   - such a miss is logged once, counted (Stats.IndexMisses, on /metrics)
//     and repaired: the writer drops the index, builds it again from the
//     table and checkpoints;
//   - an open after an unclean shutdown (DuckDB replays the WAL then)
//     rebuilds the index before the first read, and every open probes it;
//   - the index is created and rebuilt only with a checkpoint right after,
//     so the WAL never holds the index's creation next to row data, the
//     pattern of DuckDB's WAL replay bug.

// seqIndex is the name of the index on events(seq).
const seqIndex = "events_seq"

// health is what a file's Stores learn about its derived structures.
type health struct {
	misses, repairs atomic.Int64
	repairing       atomic.Bool
	logOnce         sync.Once
	noRepair        atomic.Bool                   // Options.NoRepair
	atOpen          atomic.Pointer[store.Finding] // what an open found and rebuilt, if anything
}

// createSeqIndex creates the index when the file lacks it, and
// checkpoints when it did, so that the creation is in the file and not
// in the WAL.
func createSeqIndex(db *sql.DB) error {
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM duckdb_indexes() WHERE index_name = $1`, seqIndex).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := db.Exec(`CREATE INDEX ` + seqIndex + ` ON events (seq)`); err != nil {
		return err
	}
	_, err := db.Exec(`CHECKPOINT`)
	return err
}

// rebuildSeqIndex drops the index and builds it again from the table.
// The checkpoint after it is what keeps the WAL from holding the index's
// creation next to row data; DuckDB refuses it while another connection
// has a transaction open (a read, say), and then the next open finds the
// WAL and rebuilds again.
func rebuildSeqIndex(ctx context.Context, c interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}) error {
	for _, q := range []string{`DROP INDEX IF EXISTS ` + seqIndex, `CREATE INDEX ` + seqIndex + ` ON events (seq)`} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("rebuilding the seq index: %s: %w", q, err)
		}
	}
	if _, err := c.ExecContext(ctx, `CHECKPOINT`); err != nil {
		slog.Debug("store: no checkpoint after rebuilding the seq index", "err", err)
	}
	return nil
}

// walPending reports whether the file has a WAL that DuckDB will replay:
// it is left only when the last process to write the file did not close
// it (a clean close checkpoints and removes it).
func walPending(path string) bool {
	fi, err := os.Stat(path + ".wal")
	return err == nil && fi.Size() > 0
}

// probeSize is how many rows an open asks the index for: the newest rows
// (those a WAL replay wrote) and a spread of the rest.
const probeSize = 64

// probeSeqIndex asks the index for a few rows that exist and reports how
// many it did not return. It is the cheap part of Check, run at open.
func probeSeqIndex(ctx context.Context, db *sql.DB) (asked, missed int, err error) {
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`(SELECT seq FROM events ORDER BY seq DESC LIMIT %d)
		UNION (SELECT seq FROM events USING SAMPLE %d ROWS)`, probeSize/2, probeSize/2))
	if err != nil {
		return 0, 0, err
	}
	var seqs []int64
	for rows.Next() {
		var s int64
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return 0, 0, err
		}
		seqs = append(seqs, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	missed, err = missedSeqs(ctx, db, seqs)
	return len(seqs), missed, err
}

// missedSeqs counts the rows of seqs (which exist) that the index does
// not return. Each seq is asked alone: "seq = $1" is the one form DuckDB
// always answers from the index (for IN lists and ranges it chooses
// between the index and a scan, so they could hide a lost entry). A
// lookup costs DuckDB's overhead per statement, about half a millisecond,
// so they run on a few connections at once.
func missedSeqs(ctx context.Context, db *sql.DB, seqs []int64) (int, error) {
	const workers = 4
	var missed atomic.Int64
	errs := make(chan error, workers)
	per := (len(seqs) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		part := seqs[min(w*per, len(seqs)):min((w+1)*per, len(seqs))]
		go func() {
			errs <- func() error {
				if len(part) == 0 {
					return nil
				}
				conn, err := db.Conn(ctx)
				if err != nil {
					return err
				}
				defer conn.Close()
				stmt, err := conn.PrepareContext(ctx, `SELECT count(*) FROM events WHERE seq = $1`)
				if err != nil {
					return err
				}
				defer stmt.Close()
				for _, s := range part {
					var n int
					if err := stmt.QueryRowContext(ctx, s).Scan(&n); err != nil {
						return err
					}
					if n == 0 {
						missed.Add(1)
					}
				}
				return nil
			}()
		}()
	}
	var first error
	for range workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return int(missed.Load()), first
}

// scanSeqs reads the events whose seq is one of seqs without the seq
// index: list_contains is a function of the column, which DuckDB cannot
// answer from an index, so it scans the seq column and reads the rows
// that pass.
func (s *Store) scanSeqs(ctx context.Context, seqs []any, fn func(store.Event)) error {
	list, err := json.Marshal(seqs)
	if err != nil {
		return err
	}
	return s.readEvents(ctx, pastIndex("$1"), []any{string(list)}, fn)
}

// pastIndex is the condition "seq is in the JSON list of seqs bound to
// placeholder", in the one form DuckDB cannot answer from the seq index.
func pastIndex(placeholder string) string {
	return "list_contains(from_json(" + placeholder + `::VARCHAR, '["BIGINT"]'), seq)`
}

// readSeqs reads the events of seqs through the index, then reads past
// it those the index did not return: rows that exist are never missed,
// rows deleted meanwhile are simply not there.
func (s *Store) readSeqs(ctx context.Context, seqs []any, fn func(store.Event)) error {
	got := make(map[int64]bool, len(seqs))
	err := s.fetchSeqs(ctx, seqs, func(e store.Event) {
		got[e.Seq] = true
		fn(e)
	})
	if err != nil || len(got) == len(seqs) {
		return err
	}
	var rest []any
	for _, v := range seqs {
		if !got[v.(int64)] {
			rest = append(rest, v)
		}
	}
	found := 0
	if err := s.scanSeqs(ctx, rest, func(e store.Event) {
		found++
		fn(e)
	}); err != nil {
		return err
	}
	if found > 0 {
		s.indexMissed("seq index", found)
	}
	return nil
}

// indexMissed records that a structure failed to return rows that exist:
// one error in the log per open of the file, the count in Stats, and a
// rebuild by the writer.
func (s *Store) indexMissed(structure string, n int) {
	h := s.health
	h.misses.Add(int64(n))
	h.logOnce.Do(func() {
		s.log.Error("store: a derived structure is damaged: it did not return rows that exist; they were read past it, and it is being rebuilt (see 'idlog check')",
			"store", s.path, "structure", structure, "rows", n)
	})
	s.scheduleRepair("a read found rows it did not return")
}

// scheduleRepair has the writer rebuild the seq index once, in the
// background: reads meanwhile go on past the damaged index.
func (s *Store) scheduleRepair(why string) {
	h := s.health
	if h.noRepair.Load() || !h.repairing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer h.repairing.Store(false)
		ctx := context.Background()
		start := time.Now()
		err := s.w.submitNoTx(ctx, func(c *sql.Conn) error { return rebuildSeqIndex(ctx, c) })
		if errors.Is(err, errClosed) {
			return // the next open looks again
		}
		if err != nil {
			s.log.Error("store: rebuilding the seq index failed; reads stay complete but slow: run 'idlog check --repair'", "store", s.path, "err", err)
			return
		}
		h.repairs.Add(1)
		s.log.Info("store: seq index rebuilt from the table", "store", s.path, "why", why, "took", time.Since(start).Round(time.Millisecond))
	}()
}

// Check implements store.Checker: it compares every structure derived
// from the events with the events, and with repair rebuilds what is wrong.
//
//   - seq index: every stored seq is asked of the index, in the forms the
//     page reader uses;
//   - counters: the ingest sequence must be at least the highest seq (or
//     new events would reuse seqs), seqs and uuids unique;
//   - postings: they must index exactly the table's rows;
//   - row cache: every cached event must be its row's event.
func (s *Store) Check(ctx context.Context, repair bool) (store.CheckReport, error) {
	var rep store.CheckReport
	if f := s.health.atOpen.Load(); f != nil {
		rep.Findings = append(rep.Findings, *f)
	}
	f, err := s.checkSeqIndex(ctx, repair)
	if err != nil {
		return rep, err
	}
	rep.Findings = append(rep.Findings, f)
	if f, err = s.checkCounters(ctx, repair); err != nil {
		return rep, err
	}
	rep.Findings = append(rep.Findings, f)
	if f, err = s.checkPostings(ctx, repair); err != nil {
		return rep, err
	}
	rep.Findings = append(rep.Findings, f)
	if f, err = s.checkRowCache(ctx, repair); err != nil {
		return rep, err
	}
	rep.Findings = append(rep.Findings, f)
	return rep, nil
}

// checkChunk is how many seqs the index check takes at a time.
const checkChunk = 8192

func (s *Store) checkSeqIndex(ctx context.Context, repair bool) (store.Finding, error) {
	f := store.Finding{Structure: "seq index"}
	var present int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_indexes() WHERE index_name = $1`, seqIndex).Scan(&present); err != nil {
		return f, err
	}
	if present == 0 {
		f.Problems, f.Detail = 1, "the index is missing"
	} else {
		all, err := s.allSeqs(ctx)
		if err != nil {
			return f, err
		}
		for len(all) > 0 {
			part := all[:min(len(all), checkChunk)]
			all = all[len(part):]
			n, err := missedSeqs(ctx, s.db, part)
			if err != nil {
				return f, err
			}
			if n > 0 {
				// Rows deleted since allSeqs read them are not the
				// index's fault.
				gone, err := s.goneSeqs(ctx, part)
				if err != nil {
					return f, err
				}
				n = max(0, n-gone)
			}
			f.Checked += int64(len(part))
			f.Problems += int64(n)
		}
		if f.Problems > 0 {
			f.Detail = fmt.Sprintf("%d of %d rows are not found by seq through the index", f.Problems, f.Checked)
		}
	}
	if repair && f.Problems > 0 {
		err := s.w.submitNoTx(ctx, func(c *sql.Conn) error { return rebuildSeqIndex(ctx, c) })
		if err != nil {
			return f, err
		}
		s.health.repairs.Add(1)
		f.Repaired = true
	}
	return f, nil
}

// goneSeqs counts the seqs that no row has, read past the index.
func (s *Store) goneSeqs(ctx context.Context, seqs []int64) (int, error) {
	list, err := json.Marshal(seqs)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE `+pastIndex("$1"), string(list)).Scan(&n)
	return len(seqs) - n, err
}

func (s *Store) allSeqs(ctx context.Context) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq FROM events ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (s *Store) checkCounters(ctx context.Context, repair bool) (store.Finding, error) {
	f := store.Finding{Structure: "counters"}
	var n, seqs, uuids, maxSeq, last int64
	err := s.db.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT seq), count(DISTINCT uuid), coalesce(max(seq), 0), (SELECT last_seq FROM state WHERE id = 1) FROM events`).
		Scan(&n, &seqs, &uuids, &maxSeq, &last)
	if err != nil {
		return f, err
	}
	f.Checked = n
	var why []string
	if last < maxSeq {
		f.Problems++
		why = append(why, fmt.Sprintf("the ingest sequence is %d but rows go up to seq %d", last, maxSeq))
	}
	if seqs != n {
		f.Problems += n - seqs
		why = append(why, fmt.Sprintf("%d rows share a seq with another", n-seqs))
	}
	if uuids != n {
		f.Problems += n - uuids
		why = append(why, fmt.Sprintf("%d rows repeat another's uuid", n-uuids))
	}
	f.Detail = strings.Join(why, "; ")
	if repair && last < maxSeq {
		err := s.w.do(ctx, func(c *sql.Conn) error {
			_, err := c.ExecContext(ctx, `UPDATE state SET last_seq = $1 WHERE id = 1`, maxSeq)
			return err
		})
		if err != nil {
			return f, err
		}
		// The writer numbers from its own copy of the sequence.
		s.w.lastSeq = max(s.w.lastSeq, maxSeq)
		f.Repaired = seqs == n && uuids == n
	}
	return f, nil
}

func (s *Store) checkPostings(ctx context.Context, repair bool) (store.Finding, error) {
	f := store.Finding{Structure: "postings"}
	idx := s.w.idx
	// The postings (on disk) are compared with the table row by row, in
	// bounded memory (postings_check.go). It runs on the writer, so that
	// no append or delete falls between the two.
	err := s.w.submitNoTx(ctx, func(c *sql.Conn) error {
		if err := idx.sync(ctx, s.db); err != nil {
			return err
		}
		v, err := idx.verify(ctx, s.db)
		if err != nil {
			return err
		}
		f.Checked = v.rows
		f.Problems = v.missing + v.wrong
		f.Detail = v.describe()
		if repair && (f.Problems > 0 || v.stale > 0) {
			if err := idx.rebuild(ctx, s.db); err != nil {
				return err
			}
			s.health.repairs.Add(1)
			f.Repaired = true
		}
		return nil
	})
	return f, err
}

func (s *Store) checkRowCache(ctx context.Context, repair bool) (store.Finding, error) {
	f := store.Finding{Structure: "row cache"}
	if s.rows == nil {
		f.Detail = "not kept"
		return f, nil
	}
	gen := s.rows.generation()
	cached := s.rows.snapshot()
	seqs := make([]any, 0, len(cached))
	for seq := range cached {
		seqs = append(seqs, seq)
	}
	table := map[int64]store.Event{}
	for len(seqs) > 0 {
		part := seqs[:min(len(seqs), fetchMax)]
		seqs = seqs[len(part):]
		if err := s.scanSeqs(ctx, part, func(e store.Event) { table[e.Seq] = e }); err != nil {
			return f, err
		}
	}
	deleted := s.rows.generation() != gen // a delete ran meanwhile
	for seq, e := range cached {
		f.Checked++
		t, ok := table[seq]
		if !ok && deleted {
			continue
		}
		if !ok || string(t.Raw) != string(e.Raw) || t.UUID != e.UUID {
			f.Problems++
		}
	}
	if f.Problems > 0 {
		f.Detail = fmt.Sprintf("%d cached events differ from their rows", f.Problems)
		if repair {
			s.rows.drop()
			f.Repaired = true
		}
	}
	return f, nil
}

// openCheck is the cheap part of Check, run at every open: it probes the
// seq index for a few rows and, when the probe misses any, rebuilds it
// before the first read (with Options.NoRepair it only counts the
// misses). After an unclean shutdown (WAL replay is what loses entries)
// it says so, and the caller has the index rebuilt in the background:
// reads are whole meanwhile, and a big store's rebuild (15 s at 10M rows
// on this 2-core machine, loaded) does not hold up the first answer.
func (s *Store) openCheck(unclean bool) (rebuildLater bool, err error) {
	ctx := context.Background()
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		return false, err
	}
	if n == 0 {
		return false, nil
	}
	asked, missed, err := probeSeqIndex(ctx, s.db)
	if err != nil {
		return false, err
	}
	if missed == 0 {
		return unclean && !s.health.noRepair.Load(), nil
	}
	s.health.misses.Add(int64(missed))
	why := fmt.Sprintf("the seq index did not find %d of %d rows probed at open", missed, asked)
	s.log.Error("store: the seq index is damaged", "store", s.path, "missed", missed, "probed", asked, "repair", !s.health.noRepair.Load())
	if s.health.noRepair.Load() {
		return false, nil
	}
	start := time.Now()
	if err := rebuildSeqIndex(ctx, s.db); err != nil {
		return false, err
	}
	s.health.repairs.Add(1)
	s.health.atOpen.Store(&store.Finding{Structure: "seq index, at open", Checked: int64(asked), Problems: int64(missed),
		Detail: why + "; rebuilt from the table", Repaired: true})
	s.log.Info("store: seq index rebuilt at open", "store", s.path, "why", why, "rows", n, "took", time.Since(start).Round(time.Millisecond))
	return false, nil
}
