package clickhouse

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/idlog/idlog/internal/store"
)

// Append implements store.Store.
func (s *Store) Append(ctx context.Context, events []store.Event) (store.AppendResult, error) {
	return s.append(ctx, events, "", "")
}

// AppendCheckpoint implements store.Checkpointer: the checkpoint is written
// in the same state block as the watermark that makes the batch visible, so
// readers see both or neither.
func (s *Store) AppendCheckpoint(ctx context.Context, events []store.Event, key, value string) (store.AppendResult, error) {
	return s.append(ctx, events, "checkpoint:"+key, value)
}

// chunkRows is how many rows are derived ahead of the duplicate check and
// the encoding of the insert: small enough that the two overlap for most of
// a batch, large enough that the per-chunk lookup stays a minor cost.
const chunkRows = 1024

// append stores a batch in four steps, under s.mu:
//
//  1. look the batch's uuids up by primary key; stored ones are duplicates;
//  2. give the new rows the next seqs;
//  3. insert them (rows past the watermark are not visible yet);
//  4. write the watermark (and the checkpoint) in one state block.
//
// Steps 1 and 2, and the encoding of the insert's block, go chunk by chunk
// while the next chunks are derived on the other cores; the block is sent
// only once every row is derived, so an event that cannot be stored fails
// the batch before anything is written (and its seqs are handed back).
//
// When step 3 or 4 fails the seqs are not reused: some rows may be stored
// already. A retry finds those as duplicates and its watermark makes them
// visible together with the rest, each event once.
func (s *Store) append(ctx context.Context, events []store.Event, cpKey, cpValue string) (store.AppendResult, error) {
	var res store.AppendResult
	dctx, cancel := context.WithCancel(ctx)
	chunks := deriveChunks(dctx, events)
	defer func() {
		cancel()
		for range chunks { // wait for the deriving goroutine to stop
		}
	}()

	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.readState(ctx)
	if err != nil {
		return store.AppendResult{}, err
	}
	if err := s.checkSoleWriter(st); err != nil {
		return store.AppendResult{}, err
	}
	if s.reindexNeeded {
		// Rows an earlier Append left past the watermark become visible
		// with this batch: they must have their postings first.
		if _, err := s.reindex(ctx, frag{"seq > ?", []any{st.watermark}}); err != nil {
			return store.AppendResult{}, err
		}
		s.reindexNeeded = false
	}
	firstSeq := s.nextSeq
	var posts postingsBlock
	var ins *inserter
	unsent := func(err error) (store.AppendResult, error) {
		if ins != nil {
			ins.abort()
		}
		s.nextSeq = firstSeq // nothing was sent: the seqs are free again
		return store.AppendResult{}, err
	}
	inBatch := make(map[string]bool, len(events))
	for c := range chunks {
		if c.err != nil {
			return unsent(c.err)
		}
		rows := c.rows[:0]
		for _, r := range c.rows {
			if inBatch[r.uuid] {
				res.Duplicates++
				continue
			}
			inBatch[r.uuid] = true
			rows = append(rows, r)
		}
		stored, err := s.storedUUIDs(ctx, st, rows)
		if err != nil {
			return unsent(err)
		}
		for _, r := range rows {
			if stored[r.uuid] {
				res.Duplicates++
				continue
			}
			if ins == nil {
				if ins, err = s.newInserter(ctx); err != nil {
					return unsent(err)
				}
			}
			r.seq = s.nextSeq
			if err := ins.add(&r); err != nil {
				return unsent(err)
			}
			posts.add(r.seq, r.publishedMs, r.eventType, r.hot)
			s.nextSeq++
			res.Added++
		}
	}
	if ins != nil {
		if s.beforeInsert != nil {
			s.beforeInsert()
		}
		if err := ins.send(); err != nil {
			s.reindexNeeded = true
			return store.AppendResult{}, err
		}
		// The batch's postings, after its events: a posting never names
		// a row that is not stored. If this fails, the rows stay past the
		// watermark and the next Append indexes them.
		if err := s.sendPostings(ctx, &posts); err != nil {
			s.reindexNeeded = true
			return store.AppendResult{}, err
		}
	}
	var kv []string
	if s.nextSeq-1 > st.watermark {
		kv = append(kv, "watermark", strconv.FormatInt(s.nextSeq-1, 10))
	}
	if cpKey != "" {
		kv = append(kv, cpKey, cpValue)
	}
	if len(kv) > 0 {
		if err := s.writeState(ctx, kv...); err != nil {
			return store.AppendResult{}, err
		}
	}
	return res, nil
}

// chunk is chunkRows derived rows, in the batch's order, or the first
// error of the batch.
type chunk struct {
	rows []row
	err  error
}

// deriveChunks derives events chunk by chunk on every core, one chunk ahead
// of the reader, and stops at the first error or when ctx ends. The channel
// is closed when it is done.
func deriveChunks(ctx context.Context, events []store.Event) <-chan chunk {
	out := make(chan chunk, 1)
	go func() {
		defer close(out)
		for i := 0; i < len(events); i += chunkRows {
			j := min(i+chunkRows, len(events))
			rows, err := deriveRows(i, events[i:j])
			select {
			case out <- chunk{rows, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return out
}

// deriveRows derives the rows of events (the batch's from first on) on
// every core: decoding and laying out the JSON is most of the client's
// work in an import.
func deriveRows(first int, events []store.Event) ([]row, error) {
	rows := make([]row, len(events))
	errs := make([]error, len(events))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(events)/64))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(events); i += workers {
				rows[i], errs[i] = deriveRow(first+i, events[i])
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// checkSoleWriter refuses to write when another process has moved the
// watermark past what this one assigned: seqs would collide and polling
// cursors could skip rows. One writing process per database is supported.
func (s *Store) checkSoleWriter(st state) error {
	if st.watermark >= s.nextSeq {
		return fmt.Errorf("clickhouse: another process writes to database %s (watermark %d, this process is at %d); only one idlog writer per database is supported: %w",
			s.db, st.watermark, s.nextSeq-1, store.ErrLocked)
	}
	return nil
}

// storedUUIDs returns which rows' uuids are stored and not deleted. The
// batch's keys travel as an external table (data sent with the query, not
// SQL text the server must parse), and the lookup is by the whole sort key
// (event_type, published_ms, uuid), which the primary index answers by
// reading a few granules per key; every column of the key is derived from
// the event, so a re-sent event has the same key.
func (s *Store) storedUUIDs(ctx context.Context, st state, rows []row) (map[string]bool, error) {
	found := map[string]bool{}
	if len(rows) == 0 {
		return found, nil
	}
	keys, err := ext.NewTable("idlog_keys",
		ext.Column("event_type", "String"),
		ext.Column("published_ms", "Int64"),
		ext.Column("uuid", "String"))
	if err != nil {
		return nil, fmt.Errorf("clickhouse: duplicate check: %w", err)
	}
	lo, hi := rows[0].publishedMs, rows[0].publishedMs
	for _, r := range rows {
		if err := keys.Append(r.eventType, r.publishedMs, r.uuid); err != nil {
			return nil, fmt.Errorf("clickhouse: duplicate check: %w", err)
		}
		lo, hi = min(lo, r.publishedMs), max(hi, r.publishedMs)
	}
	nd := st.notDeleted()
	qctx := clickhouse.Context(ctx, clickhouse.WithExternalTable(keys))
	// The batch's time range, spelled out, lets the server skip the
	// partitions (months) and key ranges the batch cannot be in before it
	// looks at the set: at 8.7M stored events a check without it once took
	// over a minute (the read timeout) while merges ran.
	args := append([]any{lo, hi}, nd.args...)
	rs, err := s.conn.Query(qctx, "SELECT uuid FROM "+s.events+" WHERE published_ms >= ? AND published_ms <= ? AND (event_type, published_ms, uuid) IN idlog_keys AND "+nd.sql, args...)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: duplicate check: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var u string
		if err := rs.Scan(&u); err != nil {
			return nil, err
		}
		found[u] = true
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	return found, nil
}

// inserter builds one INSERT's native-protocol block row by row. 18.16
// needs the column list spelled out in the INSERT.
type inserter struct {
	batch driver.Batch
	vals  []any
}

func (s *Store) newInserter(ctx context.Context) (*inserter, error) {
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.events+" ("+columnNames+")")
	if err != nil {
		return nil, fmt.Errorf("clickhouse: insert: %w", err)
	}
	return &inserter{batch: batch, vals: make([]any, 0, 16+len(hotColumns))}, nil
}

func (in *inserter) add(r *row) error {
	in.vals = append(in.vals[:0], r.seq, r.uuid, r.publishedMs, r.eventType, r.userKey, r.outcome, r.pubMs)
	for _, h := range r.hot {
		in.vals = append(in.vals, h)
	}
	in.vals = append(in.vals, r.kv, r.numPath, r.numVal, r.present, r.tokens, r.raw)
	if err := in.batch.Append(in.vals...); err != nil {
		return fmt.Errorf("clickhouse: insert %s: %w", r.uuid, err)
	}
	return nil
}

func (in *inserter) send() error {
	if err := in.batch.Send(); err != nil {
		return fmt.Errorf("clickhouse: insert: %w", err)
	}
	return nil
}

func (in *inserter) abort() { _ = in.batch.Abort() }

// insert sends rows as one block without their postings (tests use it to
// leave what a failed Append can).
func (s *Store) insert(ctx context.Context, rows []row) error {
	s.reindexNeeded = true
	in, err := s.newInserter(ctx)
	if err != nil {
		return err
	}
	for i := range rows {
		if err := in.add(&rows[i]); err != nil {
			in.abort()
			return err
		}
	}
	return in.send()
}

// PreferredBatch implements store.BatchSizer. An import's batches are
// cut at 20,000 events or 32 MiB of JSON, about four times the pipeline's
// default: each Append makes a new part per month it touches in events,
// postings and the hourly rollup (merged again later by the server), and
// pays its duplicate check, postings insert and watermark as round trips.
// The pipeline keeps about three batches in memory, so this costs idlog
// about 100 MB more at most while an import runs.
func (s *Store) PreferredBatch() (events, bytes int) { return 20000, 32 << 20 }
