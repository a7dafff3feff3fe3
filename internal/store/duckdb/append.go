package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	duck "github.com/duckdb/duckdb-go/v2"

	"github.com/idlog/idlog/internal/event"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
)

// row is an event ready for the table: decoded and projected outside the
// writer, so the single writer only deduplicates and inserts.
type row struct {
	uuid      string
	published time.Time
	odd       bool
	idxOdd    bool // odd for the postings: see postings.go
	kwplain   bool
	arrays    []string
	cols      []any
	layout    string
	rest      any // string, or nil
	members   []any
	items     []string // target elements, or nil
	targetIDs any      // target_ids as a JSON array text, or nil
	tokens    []uint64 // hashes of the q tokens, for the blooms (blooms.go)
}

// prepareInto projects events into rows (base is the index of events[0] in
// the batch, for errors). Appends run it on the caller's goroutine and one
// helper while the writer stores the chunks already done. (Splitting whole
// batches over the CPUs before the writer started was measured slower: the
// writer sat idle meanwhile.)
//
// Everything comes from the event's walked nodes (store.Event.Doc, which
// ingest sets); an event without them is walked here, once.
func prepareInto(rows []row, events []store.Event, base int) error {
	for j, e := range events {
		i := base + j
		if e.UUID == "" {
			return fmt.Errorf("duckdb: event %d: no uuid", i)
		}
		if e.Published.IsZero() {
			return fmt.Errorf("duckdb: event %d (%s): no published time", i, e.UUID)
		}
		d := e.Doc
		if d == nil || len(d.Raw) != len(e.Raw) {
			var err error
			if d, err = event.Walk(e.Raw); err != nil {
				return fmt.Errorf("duckdb: event %d (%s): %w", i, e.UUID, err)
			}
		}
		if d.Nodes[0].Kind != event.KindObject {
			return fmt.Errorf("duckdb: event %d (%s): not a JSON object", i, e.UUID)
		}
		raw := d.Text()
		cols, oddCols := project(d)
		odd := oddCols != 0
		pub := ms(e.Published)
		if !odd {
			odd = !publishedAgrees(d, pub) || oddKeys(d) || d.Dup
		}
		layout, mems, items, ok := split(d, e.UUID, pub, cols)
		var rest any
		if !ok {
			// Kept whole; SQL cannot read members of it, so it is odd.
			layout, rest, mems, odd = "", raw, make([]any, len(members)), true
		}
		set := map[string]struct{}{}
		arrayPaths(d, 0, nil, set)
		arrays := make([]string, 0, len(set))
		for k := range set {
			arrays = append(arrays, k)
		}
		slices.Sort(arrays)
		var idsJSON any
		if ids, ok := cols[targetIDs].([]string); ok {
			b, err := json.Marshal(ids)
			if err != nil {
				return fmt.Errorf("duckdb: event %d (%s): %w", i, e.UUID, err)
			}
			idsJSON = string(b)
		}
		rows[j] = row{targetIDs: idsJSON, uuid: e.UUID, published: pub, odd: odd, idxOdd: oddCols&indexedMask != 0 || d.Dup, kwplain: d.Plain, arrays: arrays, cols: cols,
			layout: layout, rest: rest, members: mems, items: items}
		rows[j].tokens = appendDocTokenHashes(make([]uint64, 0, 128), d)
	}
	return nil
}

// publishedAgrees: the published column answers filters on published, which
// filter.Match reads from the document.
func publishedAgrees(d *event.Doc, pub time.Time) bool {
	var buf [2]int
	rs := d.Resolve(0, filter.Path{"published"}, buf[:0])
	if len(rs) != 1 || d.Nodes[rs[0]].Kind != event.KindString {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, d.Str(rs[0]))
	return err == nil && t.UnixMilli() == pub.UnixMilli()
}

// arrayPaths collects the key paths (names joined by dots) that hold an
// array, with "[]" appended for an array inside an array: the compiler's
// json_extract forms are exact only where it knows where the arrays are.
// The path is built in key, a buffer shared down the recursion, and made a
// string only when it is new to set. Members that a later one of the same
// key shadows are not in the document as filters read it.
func arrayPaths(d *event.Doc, i int, key []byte, set map[string]struct{}) {
	switch d.Nodes[i].Kind {
	case event.KindObject:
		for c, end := i+1, int(d.Nodes[i].Next); c < end; c = int(d.Nodes[c].Next) {
			n := &d.Nodes[c]
			if n.Flags&event.FlagShadowed != 0 || n.Kind != event.KindObject && n.Kind != event.KindArray {
				continue // no array below
			}
			p := key
			if len(p) != 0 {
				p = append(p, '.')
			}
			arrayPaths(d, c, append(p, d.Key(c)...), set)
		}
	case event.KindArray:
		if _, ok := set[string(key)]; !ok {
			set[string(key)] = struct{}{}
		}
		for c, end := i+1, int(d.Nodes[i].Next); c < end; c = int(d.Nodes[c].Next) {
			if d.Nodes[c].Kind == event.KindArray {
				arrayPaths(d, c, append(key, "[]"...), set)
			} else {
				arrayPaths(d, c, key, set)
			}
		}
	}
}

// oddKeys reports object keys that the arrays column's dotted key paths
// cannot spell unambiguously.
func oddKeys(d *event.Doc) bool {
	for i := range d.Nodes {
		if d.Nodes[i].KeyEnd != 0 && oddKey(d.Key(i)) {
			return true
		}
	}
	return false
}

// oddKey: a key that a dotted key path cannot spell unambiguously.
func oddKey(k string) bool {
	if k == "" {
		return true
	}
	for i := 0; i < len(k); i++ {
		switch c := k[i]; c {
		case '.', '[', ']', '"', '\\', '$', '*':
			return true
		default:
			if c < 0x20 {
				return true
			}
		}
	}
	return false
}

// plainText: the text is ASCII without escapes, so every string value
// appears in it verbatim and ASCII lower-casing agrees with strings.ToLower.
// The q prefilter relies on it (query.go); a stored row has it from its
// walk (event.Doc.Plain).
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] == '\\' {
			return false
		}
	}
	return true
}

type job struct {
	ctx  context.Context
	rows []row
	ckpt *[2]string
	fn   func(*sql.Conn) error // a write that is not an append
	noTx bool                  // fn runs outside a transaction (CHECKPOINT must)
	done chan result

	// The rows are prepared in chunks, by the caller and a helper
	// goroutine, while the writer appends the chunks already prepared, in
	// order: decoding and DuckDB's work overlap on the two cores.
	chunks   []chunk
	next     *atomic.Int64 // the next chunk to prepare
	failed   *atomic.Bool  // a chunk's preparation failed
	prepErr  error         // the first chunk's error (writer only)
	streamed bool          // the writer has waited for every chunk (writer only)
}

type chunk struct {
	done chan struct{} // closed when rows of the chunk are ready or err is set
	err  error
}

// prepChunk is how many rows are prepared before the writer may take them.
const prepChunk = 256

var errSkipped = errors.New("duckdb: chunk not prepared after an earlier error")

// prepareChunks fills j.rows; several goroutines may run it at once, each
// taking the next chunk. Once a chunk fails, the later ones are skipped:
// they come after it, so the writer meets the real error first.
func (j *job) prepareChunks(events []store.Event, next *atomic.Int64, failed *atomic.Bool) {
	for {
		k := int(next.Add(1) - 1)
		if k >= len(j.chunks) {
			return
		}
		c := &j.chunks[k]
		lo, hi := k*prepChunk, min((k+1)*prepChunk, len(events))
		if failed.Load() {
			c.err = errSkipped
		} else if err := safePrepare(j.rows[lo:hi], events[lo:hi], lo); err != nil {
			c.err = err
			failed.Store(true)
		}
		close(c.done)
	}
}

// safePrepare turns a panic while preparing into the chunk's error: the
// writer waits for every chunk, and a helper goroutine has no caller (such
// as net/http) to recover it.
func safePrepare(rows []row, events []store.Event, base int) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("duckdb: preparing events %d-%d: %v", base, base+len(events)-1, p)
		}
	}()
	return prepareInto(rows, events, base)
}

// each calls fn with the job's rows: chunk by chunk as they get prepared
// the first time, all at once on a retry. It returns the preparation error,
// if any, and always waits for every chunk, so no goroutine still writes
// the rows when the job is answered.
func (j *job) each(fn func([]row) error) error {
	if !j.streamed {
		j.streamed = true
		var ferr error
		for k := range j.chunks {
			c := &j.chunks[k]
			<-c.done
			if j.prepErr == nil && c.err != nil {
				j.prepErr = c.err
			}
			if ferr == nil && j.prepErr == nil {
				ferr = fn(j.rows[k*prepChunk : min((k+1)*prepChunk, len(j.rows))])
			}
		}
		if j.prepErr != nil {
			return j.prepErr
		}
		return ferr
	}
	if j.prepErr != nil {
		return j.prepErr
	}
	return fn(j.rows)
}

type result struct {
	res store.AppendResult
	err error
}

// writer owns the one connection that writes. Appends queued while a
// transaction runs are merged into the next one (group commit), so many
// small concurrent appends share a commit.
type writer struct {
	conn    *sql.Conn
	jobs    chan *job
	quit    chan struct{}
	stopped chan struct{}
	lastSeq int64
	// idx is updated after each commit, before the appends are answered.
	// It also maps each stored uuid to its seq: a uuid it does not hold
	// is new without asking DuckDB, which has no index to find a uuid by;
	// only hits (real duplicates, mostly, or rows deleted since) cost a
	// scan of the uuid column.
	idx *postings
	// file is told each commit's last seq, for the other Stores of the
	// file in this process (nil for an in-memory store).
	file *fileState
	// countDeltas is how many rows of deltas event_counts got since the
	// writer last folded it (rollup.go).
	countDeltas int
	// bloomTail is the run of small blocks of blooms at the end
	// (blooms.go); none after an open.
	bloomTail bloomTail
}

// maxGroup bounds the events merged into one transaction.
const maxGroup = 50000

func newWriter(db *sql.DB, idx *postings) (*writer, error) {
	conn, err := db.Conn(context.Background())
	if err != nil {
		return nil, err
	}
	w := &writer{conn: conn, jobs: make(chan *job, 64), quit: make(chan struct{}), stopped: make(chan struct{}), idx: idx}
	if err := conn.QueryRowContext(context.Background(), `SELECT last_seq FROM state WHERE id = 1`).Scan(&w.lastSeq); err != nil {
		conn.Close()
		return nil, err
	}
	go w.loop()
	return w, nil
}

var errClosed = errors.New("duckdb: store is closed")

func (w *writer) submit(j *job) (store.AppendResult, error) {
	if err := w.enqueue(j); err != nil {
		return store.AppendResult{}, err
	}
	return j.wait()
}

func (w *writer) enqueue(j *job) error {
	j.done = make(chan result, 1)
	select {
	case w.jobs <- j:
		return nil
	case <-w.stopped:
		return errClosed
	case <-j.ctx.Done():
		return j.ctx.Err()
	}
}

// wait: once queued, the job runs to its end: the caller learns its outcome
// even if ctx ends meanwhile, because the batch may already be committed.
func (j *job) wait() (store.AppendResult, error) {
	r := <-j.done
	return r.res, r.err
}

func (w *writer) append(ctx context.Context, events []store.Event, ckpt *[2]string) (store.AppendResult, error) {
	j, err := w.start(ctx, events, ckpt, 1)
	if err != nil {
		return store.AppendResult{}, err
	}
	j.prepareChunks(events, j.next, j.failed)
	return j.wait()
}

// startAppend queues events and has them prepared on helper goroutines
// only: the caller goes on (to decode the next batch, to start it) while
// the writer stores this one.
func (w *writer) startAppend(ctx context.Context, events []store.Event) (func() (store.AppendResult, error), error) {
	j, err := w.start(ctx, events, nil, 0)
	if err != nil {
		return nil, err
	}
	return j.wait, nil
}

// start queues a job for events and starts its preparation on one helper
// goroutine per CPU, less the callerHelps that the caller runs itself.
func (w *writer) start(ctx context.Context, events []store.Event, ckpt *[2]string, callerHelps int) (*job, error) {
	j := &job{ctx: ctx, rows: make([]row, len(events)), ckpt: ckpt, chunks: make([]chunk, (len(events)+prepChunk-1)/prepChunk),
		next: new(atomic.Int64), failed: new(atomic.Bool)}
	for k := range j.chunks {
		j.chunks[k].done = make(chan struct{})
	}
	if err := w.enqueue(j); err != nil {
		return nil, err
	}
	for range min(runtime.GOMAXPROCS(0), len(j.chunks)) - callerHelps {
		go j.prepareChunks(events, j.next, j.failed)
	}
	return j, nil
}

func (w *writer) do(ctx context.Context, fn func(*sql.Conn) error) error {
	_, err := w.submit(&job{ctx: ctx, fn: fn})
	return err
}

// submitNoTx runs fn on the writer outside a transaction, between appends.
func (w *writer) submitNoTx(ctx context.Context, fn func(*sql.Conn) error) error {
	_, err := w.submit(&job{ctx: ctx, fn: fn, noTx: true})
	return err
}

func (w *writer) close() {
	select {
	case <-w.stopped:
		return
	default:
	}
	close(w.quit)
	<-w.stopped
	// Jobs queued behind the last one are answered, so that nobody waits
	// on a writer that is gone.
	for {
		select {
		case j := <-w.jobs:
			if j.fn == nil {
				j.each(func([]row) error { return nil }) // waits for its preparation
			}
			j.done <- result{err: errClosed}
			continue
		default:
		}
		break
	}
	w.conn.Close()
}

func (w *writer) loop() {
	defer close(w.stopped)
	for {
		var j *job
		select {
		case j = <-w.jobs:
		case <-w.quit:
			return
		}
		if j.fn != nil {
			j.done <- result{err: w.run(j)}
			continue
		}
		group := []*job{j}
		n := len(j.rows)
		var next *job
	drain:
		for n < maxGroup {
			select {
			case j2 := <-w.jobs:
				if j2.fn != nil {
					next = j2
					break drain
				}
				group = append(group, j2)
				n += len(j2.rows)
			default:
				break drain
			}
		}
		w.appendGroup(group)
		if next != nil {
			next.done <- result{err: w.run(next)}
		}
	}
}

// run runs a job that is not an append.
func (w *writer) run(j *job) error {
	if j.noTx {
		return j.fn(w.conn)
	}
	return w.tx(j.fn)
}

func (w *writer) tx(fn func(*sql.Conn) error) error {
	ctx := context.Background()
	if _, err := w.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	if err := fn(w.conn); err != nil {
		w.conn.ExecContext(ctx, "ROLLBACK")
		return err
	}
	_, err := w.conn.ExecContext(ctx, "COMMIT")
	return err
}

// appendGroup stores the jobs in one transaction. If it fails, each job is
// retried alone, so one bad batch cannot fail its neighbours.
func (w *writer) appendGroup(group []*job) {
	res, err := w.store(group)
	if err == nil {
		for i, j := range group {
			j.done <- result{res: res[i]}
		}
		return
	}
	if len(group) == 1 {
		if group[0].prepErr != nil {
			err = group[0].prepErr
		} else {
			err = fmt.Errorf("duckdb: append: %w", err)
		}
		group[0].done <- result{err: err}
		return
	}
	for _, j := range group {
		w.appendGroup([]*job{j})
	}
}

func (w *writer) store(group []*job) ([]store.AppendResult, error) {
	ctx := context.Background()
	var indexed []posting
	res := make([]store.AppendResult, len(group))
	startSeq := w.lastSeq
	var tail bloomTail
	err := w.tx(func(c *sql.Conn) error {
		// The blooms and counts of the rows go in the same transaction
		// (blooms.go, rollup.go).
		blooms, counts := &bloomBatch{}, countBatch{}
		tail = w.bloomTail
		// Rows are appended as they come from their callers, so the
		// uuids that may be stored already (hash hits, mostly real
		// duplicates) are looked up one chunk at a time.
		stored := map[string]struct{}{}
		kbuf := make([]byte, 0, 64)
		seq := startSeq
		var maybe []string
		err := c.Raw(func(dc any) error {
			app, err := duck.NewAppenderFromConn(dc.(driver.Conn), "", "events")
			if err != nil {
				return err
			}
			vals := make([]driver.Value, 0, 6+len(columns))
			for gi, j := range group {
				err := j.each(func(rows []row) error {
					maybe = maybe[:0]
					for _, r := range rows {
						if _, seen := stored[r.uuid]; seen {
							continue
						}
						if hit, err := w.idx.seqOf(r.uuid, kbuf); err != nil {
							return err
						} else if hit != 0 {
							maybe = append(maybe, r.uuid)
						}
					}
					if len(maybe) > 0 {
						if err := existing(ctx, dc.(driver.Conn), maybe, stored); err != nil {
							return err
						}
					}
					for _, r := range rows {
						if _, dup := stored[r.uuid]; dup {
							res[gi].Duplicates++
							continue
						}
						stored[r.uuid] = struct{}{}
						seq++
						indexed = append(indexed, posting{seq: seq, uuid: r.uuid, published: r.published, cols: r.cols, odd: r.idxOdd})
						blooms.add(seq, &r)
						counts.add(&r)
						res[gi].Added++
						vals = append(vals[:0], seq, r.uuid, r.published, r.odd, r.kwplain, r.arrays)
						for _, v := range r.cols {
							vals = append(vals, v)
						}
						vals = append(vals, r.layout, r.rest)
						for _, v := range r.members {
							vals = append(vals, v)
						}
						if r.items != nil {
							vals = append(vals, r.items)
						} else {
							vals = append(vals, nil)
						}
						vals = append(vals, r.targetIDs)
						if err := app.AppendRow(vals...); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					app.Close()
					return err
				}
			}
			return app.Close()
		})
		if err != nil {
			return err
		}
		if err := blooms.write(c); err != nil {
			return err
		}
		if tail = w.bloomTail.next(blooms); tail.rows >= bloomTailRows || tail.blocks >= bloomTailBlocks {
			if err := mergeTail(ctx, c, tail, seq); err != nil {
				return err
			}
			tail = bloomTail{}
		}
		if err := counts.write(ctx, c, w); err != nil {
			return err
		}
		for _, j := range group {
			if j.ckpt != nil {
				if _, err := c.ExecContext(ctx, `INSERT OR REPLACE INTO checkpoints VALUES ($1, $2)`, j.ckpt[0], j.ckpt[1]); err != nil {
					return err
				}
			}
		}
		if seq != startSeq {
			if _, err := c.ExecContext(ctx, `UPDATE state SET last_seq = $1 WHERE id = 1`, seq); err != nil {
				return err
			}
		}
		w.lastSeq = seq
		return nil
	})
	if err != nil {
		w.lastSeq = startSeq
		return nil, err
	}
	w.bloomTail = tail
	if err := w.idx.add(ctx, w.conn, indexed, startSeq, w.lastSeq); err != nil {
		// The rows are stored; the next add (or open) indexes them from
		// the table, and pages meanwhile read past the marker.
		w.idx.log.Error("store: indexing committed events failed; they are indexed from the table later", "err", err)
	}
	if f := w.file; f != nil {
		for {
			c := f.committed.Load()
			if c >= w.lastSeq || f.committed.CompareAndSwap(c, w.lastSeq) {
				break
			}
		}
	}
	return res, nil
}

// existing adds to set those of the uuids that are already stored. It runs on
// the driver connection inside the writer's transaction, while the appender
// is open: rows appended in this transaction are in set already. The uuids
// go as one JSON text parameter.
func existing(ctx context.Context, dc driver.Conn, uuids []string, set map[string]struct{}) error {
	list, err := json.Marshal(uuids)
	if err != nil {
		return err
	}
	rows, err := dc.(driver.QueryerContext).QueryContext(ctx,
		`SELECT uuid FROM events WHERE uuid IN (SELECT unnest(from_json($1::VARCHAR, '["VARCHAR"]')))`,
		[]driver.NamedValue{{Ordinal: 1, Value: string(list)}})
	if err != nil {
		return err
	}
	defer rows.Close()
	dest := make([]driver.Value, 1)
	for {
		if err := rows.Next(dest); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		u, _ := dest[0].(string)
		set[u] = struct{}{}
	}
}
