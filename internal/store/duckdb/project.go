package duckdb

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/store"
)

// Project implements store.Projector. A replay reads a whole range, so
// rather than pages (a top-N of keys, then the rows of each page fetched by
// seq, where DuckDB decodes a vector of every wide column for each row) it
// reads the range one time chunk after another, each chunk in one ordered
// scan of only the columns the named members are rebuilt from. Each chunk
// is counted and read in one transaction, and a chunk that yields fewer rows
// than it counted is an error: the answer is complete or it is an error.
func (s *Store) Project(ctx context.Context, q store.Query, names []string, fn func(store.Event) error) error {
	if q.Order != store.ByPublished || q.Descending || q.After != nil || q.Limit != 0 {
		return errors.New("duckdb: project: only an ascending read of a whole range (no order, position or limit)")
	}
	p, err := s.plan(ctx, q)
	if err != nil {
		return err
	}
	want := make([]bool, len(members))
	for _, m := range names {
		if i, ok := memberIndex[m]; ok {
			want[i] = true
		}
		// A name that is no member column is in no split event: only
		// events kept whole in rest can have it, and they come whole.
	}
	cols := rawColumns
	if p.exact() {
		cols = projectColumns(want)
	}
	// Candidates SQL cannot decide are checked on the whole event, so
	// their rows are read whole; then every row is.
	lo := p.lo
	if p.exact() {
		lo = sqlTrue
	}

	var n int64
	var first, last sql.NullTime
	err = s.db.QueryRowContext(ctx, "SELECT count(*), min(published), max(published) FROM events WHERE "+p.up, p.args...).Scan(&n, &first, &last)
	if err != nil {
		return fmt.Errorf("duckdb: project: %w", err)
	}
	if n == 0 {
		return nil
	}
	from, end := ms(first.Time), ms(last.Time).Add(time.Millisecond)
	width := max(time.Duration(int64(end.Sub(from))/max(n/projectChunk, 1)), time.Millisecond)
	for from.Before(end) {
		to := from.Add(width)
		if to.After(end) {
			to = end
		}
		got, err := s.projectChunk(ctx, p, cols, lo, want, from, to, fn)
		if errors.Is(err, errChunkTooBig) {
			width = max(width/4, time.Millisecond)
			continue
		}
		if err != nil {
			return err
		}
		// Aim the next chunk at projectChunk rows.
		switch {
		case got < projectChunk/4:
			width *= 2
		case got > 2*projectChunk:
			width = max(width/2, time.Millisecond)
		}
		from = to
	}
	return nil
}

// projectChunk is about how many rows one chunk of Project reads: enough
// that a chunk's queries cost little beside its rows, few enough that
// a chunk's events, held until the chunk is counted and in order, take
// tens of MB (the built-in library's members are ~1.7 KB an event).
var projectChunk int64 = 32 << 10 // a variable so that tests can cut small chunks

// testHookProjectScan returns SQL appended to the WHERE clause of a chunk's
// scan and not of its count. Tests set it to make the scan lose rows, as a
// damaged structure under the scan would, and see the read refused.
var testHookProjectScan = func() string { return "" }

// errChunkTooBig says a chunk holds so many rows that it is cut smaller.
var errChunkTooBig = errors.New("chunk too big")

// projectChunk calls fn with the events of [from, to), in order, and says
// how many rows it read. The chunk is read whole and counted before fn sees
// any of it, so a short read hands over nothing of the chunk.
func (s *Store) projectChunk(ctx context.Context, p *plan, cols, lo string, want []bool, from, to time.Time, fn func(store.Event) error) (int64, error) {
	c := *p.c
	c.args = slices.Clone(p.args)
	where := p.up + " AND published >= " + c.arg(from) + " AND published < " + c.arg(to)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("duckdb: project: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a read: nothing to undo
	var n int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE "+where, c.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("duckdb: project: %w", err)
	}
	if n > 8*projectChunk && to.Sub(from) > time.Millisecond {
		return 0, errChunkTooBig
	}
	rows, err := tx.QueryContext(ctx, "SELECT seq, "+lo+", "+cols+" FROM events WHERE "+where+testHookProjectScan(), c.args...)
	if err != nil {
		return 0, fmt.Errorf("duckdb: project: %w", err)
	}
	defer rows.Close()
	rc := newRawScan()
	var seq int64
	var sure bool
	ptrs := append([]any{&seq, &sure}, rc.ptrs...)
	var read int64
	evs := make([]store.Event, 0, n)
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return read, fmt.Errorf("duckdb: project: %w", err)
		}
		read++
		if !sure {
			raw, err := rc.raw()
			if err != nil {
				return read, err
			}
			if _, ok := p.verify(raw); !ok {
				continue
			}
		}
		raw, err := rebuildMembers(rc.vals, want)
		if err != nil {
			return read, err
		}
		uuid, _ := rc.vals[2].(string)
		pub, _ := rc.vals[3].(time.Time)
		evs = append(evs, store.Event{Seq: seq, UUID: uuid, Published: pub.UTC(), Raw: []byte(raw)})
	}
	if err := rows.Err(); err != nil {
		return read, fmt.Errorf("duckdb: project: %w", err)
	}
	if read != n {
		return read, fmt.Errorf("duckdb: project: read %d rows of the %d that match in [%s, %s): %w",
			read, n, from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano), store.ErrDamaged)
	}
	// The scan asks for no order: DuckDB gives the rows in storage order,
	// which for history imported oldest first is already (published,
	// seq), and sorting the wide rows in DuckDB was a quarter of the read
	// (measured at 1M events: 62 s of CPU sorted, 46 s not). Rows stored
	// out of order are sorted here.
	byKey := func(a, b store.Event) int {
		return cmp.Or(a.Published.Compare(b.Published), cmp.Compare(a.Seq, b.Seq))
	}
	if !slices.IsSortedFunc(evs, byKey) {
		slices.SortFunc(evs, byKey)
	}
	for _, e := range evs {
		if err := fn(e); err != nil {
			return read, err
		}
	}
	return read, nil
}

// projectColumns is rawColumns with NULL in place of every column that the
// members want does not mark are rebuilt from: rebuildMembers then reads
// the same positions.
func projectColumns(want []bool) string {
	need := map[string]bool{"layout": true, "rest": true, "uuid": true, "published": true}
	for i, m := range members {
		if !want[i] {
			continue
		}
		need[memberColumn(m)] = true
		for _, sub := range substs[m] {
			if sub.col >= 0 {
				need[columns[sub.col].name] = true
			}
		}
		if m == "target" {
			need["m_target_items"], need["target_ids_json"] = true, true
			for _, sub := range targetSubsts {
				need[columns[sub.col].name] = true
			}
		}
	}
	cols := strings.Split(rawColumns, ", ")
	for i, c := range cols {
		if !need[c] {
			cols[i] = "NULL"
		}
	}
	return strings.Join(cols, ", ")
}
