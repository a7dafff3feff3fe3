package clickhouse

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
)

// The postings answer "the events of this user / IP / session" without
// reading the time window of the events table. The events table is sorted
// by (event_type, published_ms, uuid), so a question about one key would
// otherwise read every event of the asked types in the window: its cost
// grows with history, not with the answer.
//
// postings holds one row per (kind, key) an event has, sorted by (kind, key,
// published_ms, seq): a key's rows are one contiguous range, in time order.
// The writer inserts them right after the events of a batch and before the
// watermark that makes the batch visible (a materialized view with ARRAY
// JOIN copies every column of the inserted block once per posting on 18.16:
// twice the server's time and hundreds of MB per insert). A page is then:
//
//  1. the page's (seq, event_type, published_ms) from postings alone when
//     the filter is only "one of these keys" and "one of these event types"
//     (every seed scenario); otherwise the key's candidates, checked against
//     the whole filter on the events table by their sort key;
//  2. the page's events from the events table by their sort key.
//
// An answer is complete or it is an error, and postings are a second copy of
// what events say, so both steps are checked:
//
//   - every insert into postings carries, in the same block, one count row
//     per (kind, key, month) it adds postings for (kind + countKind, n = the
//     number of postings rows). A block is written whole or not at all, and
//     count rows travel to the shard of their key's postings, so the rows of
//     a key always add up to its count rows unless a row was lost; that is
//     compared before a key's postings are used;
//   - every row asked of the events table by key must come back.
//
// On a mismatch the page is answered from the events table alone (as
// before postings existed), one error naming the structure is logged and
// Stats.IndexMisses counts it.
//
// Rows whose postings insert failed (or never ran: a crash) are past the
// watermark; the writer indexes every row past the watermark again before
// its next watermark (reindex). Postings inserted twice are harmless: the
// count rows double with them, and pages take each seq once.

// postingKind is a path whose string values get postings.
type postingKind struct {
	kind uint8
	path string
	hot  int // its index in hotColumns
}

var postingKinds = func() []postingKind {
	var out []postingKind
	for i, p := range []string{"actor.id", "actor.alternateId", "target.id", "client.ipAddress", "authenticationContext.externalSessionId"} {
		out = append(out, postingKind{uint8(i + 1), p, hotByPath[p]})
	}
	return out
}()

var postingByPath = func() map[string]uint8 {
	m := map[string]uint8{}
	for _, k := range postingKinds {
		m[k.path] = k.kind
	}
	return m
}()

// monthExpr is the partition of a row: the month of published_ms (UTC),
// clamped to what DateTime holds. The events table, postings and
// the hourly rollup share it, so DeleteBefore drops the same months of each.
const monthExpr = "toYYYYMM(toDateTime(intDiv(least(greatest(published_ms, 0), 4294967295000), 1000), 'UTC'))"

// countKind is added to a kind for its count rows.
const countKind = 100

const postingsColumns = `    kind UInt8,
    key String,
    published_ms Int64,
    seq Int64,
    event_type String,
    n UInt32`

const postingsEngine = `ENGINE = MergeTree()
PARTITION BY ` + monthExpr + `
ORDER BY (kind, key, published_ms, seq)
SETTINGS index_granularity = 1024`

// postingsDDL is what each node gets; on a cluster also a Distributed table
// that sends a key's rows, count rows included, to one shard.
func (s *Store) postingsDDL() []string {
	out := []string{"CREATE TABLE IF NOT EXISTS " + s.postingsLocal + " (\n" + postingsColumns + "\n) " + postingsEngine}
	if s.cluster != "" {
		out = append(out, "CREATE TABLE IF NOT EXISTS "+s.postings+" AS "+s.postingsLocal+" ENGINE = Distributed('"+s.cluster+"', '"+s.db+"', 'postings_local', cityHash64(key))")
	}
	return out
}

// postingsBlock is the columns of one insert into postings.
type postingsBlock struct {
	kind      []uint8
	key       []string
	ms        []int64
	seq       []int64
	eventType []string
	n         []uint32
	counts    map[countKey]uint32
}

type countKey struct {
	kind  uint8
	key   string
	month int64 // Unix ms of the month's first instant, as partitioned
}

// monthStart is the first instant (Unix ms) of the partition month of a
// published time, clamped as monthExpr clamps it.
func monthStart(ms int64) int64 {
	ms = min(max(ms, 0), 4294967295000)
	t := time.UnixMilli(ms).UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).UnixMilli()
}

// add adds the postings of one stored row: each distinct value of each
// posting path.
func (b *postingsBlock) add(seq, ms int64, eventType string, hot [][]string) {
	if b.counts == nil {
		b.counts = map[countKey]uint32{}
	}
	month := monthStart(ms)
	for _, k := range postingKinds {
		vals := hot[k.hot]
		for i, v := range vals {
			if slices.Contains(vals[:i], v) {
				continue
			}
			b.kind = append(b.kind, k.kind)
			b.key = append(b.key, v)
			b.ms = append(b.ms, ms)
			b.seq = append(b.seq, seq)
			b.eventType = append(b.eventType, eventType)
			b.n = append(b.n, 0)
			b.counts[countKey{k.kind, v, month}]++
		}
	}
}

// sendPostings inserts the block with its count rows as one INSERT of one
// block.
func (s *Store) sendPostings(ctx context.Context, b *postingsBlock) error {
	if len(b.kind) == 0 {
		return nil
	}
	for ck, n := range b.counts {
		b.kind = append(b.kind, ck.kind+countKind)
		b.key = append(b.key, ck.key)
		b.ms = append(b.ms, ck.month)
		b.seq = append(b.seq, 0)
		b.eventType = append(b.eventType, "")
		b.n = append(b.n, n)
	}
	b.counts = nil
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.postings+" (kind, key, published_ms, seq, event_type, n)")
	if err != nil {
		return fmt.Errorf("clickhouse: insert postings: %w", err)
	}
	defer func() { _ = batch.Abort() }()
	for i, col := range []any{b.kind, b.key, b.ms, b.seq, b.eventType, b.n} {
		if err := batch.Column(i).Append(col); err != nil {
			return fmt.Errorf("clickhouse: insert postings: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("clickhouse: insert postings: %w", err)
	}
	return nil
}

// reindexChunk is how many events reindex reads and inserts the postings of
// at a time.
const reindexChunk = 50000

// reindex inserts the postings of the stored rows that where (a condition
// on the events table) selects, reading them back: the rows a failed or
// interrupted Append left past the watermark, or every row of a database
// created before the postings existed. Each chunk's postings and count rows
// go in one block, so a reindex that is interrupted, or runs twice, leaves
// rows and counts that still agree.
func (s *Store) reindex(ctx context.Context, where frag) (int, error) {
	cols := "seq, published_ms, event_type"
	for _, k := range postingKinds {
		cols += ", " + hotColumns[k.hot].name
	}
	rows, err := s.conn.Query(ctx, "SELECT "+cols+" FROM "+s.events+" WHERE "+where.sql, where.args...)
	if err != nil {
		return 0, fmt.Errorf("clickhouse: indexing stored rows: %w", err)
	}
	defer rows.Close()
	hot := make([][]string, len(hotColumns))
	var b postingsBlock
	n, inBlock := 0, 0
	for rows.Next() {
		var seq, ms int64
		var et string
		vals := make([][]string, len(postingKinds))
		dest := []any{&seq, &ms, &et}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return n, err
		}
		for i, k := range postingKinds {
			hot[k.hot] = vals[i]
		}
		b.add(seq, ms, et, hot)
		n++
		if inBlock++; inBlock == reindexChunk {
			if err := s.sendPostings(ctx, &b); err != nil {
				return n, err
			}
			b, inBlock = postingsBlock{}, 0
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, s.sendPostings(ctx, &b)
}

// pkey is one postings key.
type pkey struct {
	kind uint8
	key  string
}

// postingKeys returns keys such that every event matching e has a posting
// for at least one of them, or ok false when e implies no such set.
func postingKeys(e filter.Expr) (keys []pkey, ok bool) {
	switch e := e.(type) {
	case *filter.Paren:
		return postingKeys(e.X)
	case *filter.Compare:
		k, isKey := postingByPath[e.Path.String()]
		if !isKey || e.Op != filter.OpEq || e.Value.Kind != filter.String {
			return nil, false
		}
		return []pkey{{k, e.Value.Str}}, true
	case *filter.Logical:
		l, lok := postingKeys(e.Left)
		r, rok := postingKeys(e.Right)
		if e.And {
			switch {
			case lok && rok:
				if len(r) < len(l) {
					return r, true
				}
				return l, true
			case lok:
				return l, true
			case rok:
				return r, true
			}
			return nil, false
		}
		if !lok || !rok {
			return nil, false
		}
		out := slices.Clone(l)
		for _, k := range r {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
		return out, true
	}
	return nil, false
}

// conjuncts flattens e's top-level ands.
func conjuncts(e filter.Expr, out []filter.Expr) []filter.Expr {
	switch x := e.(type) {
	case *filter.Paren:
		return conjuncts(x.X, out)
	case *filter.Logical:
		if x.And {
			return conjuncts(x.Right, conjuncts(x.Left, out))
		}
	}
	return append(out, e)
}

// eqGroup reports whether e is one eq comparison with a string, or an or
// of such, all on paths that pass ok.
func eqGroup(e filter.Expr, ok func(path string) bool) bool {
	switch x := e.(type) {
	case *filter.Paren:
		return eqGroup(x.X, ok)
	case *filter.Compare:
		return x.Op == filter.OpEq && x.Value.Kind == filter.String && ok(x.Path.String())
	case *filter.Logical:
		return !x.And && eqGroup(x.Left, ok) && eqGroup(x.Right, ok)
	}
	return false
}

// postingsExact reports whether e is exactly "one of these keys" and "one
// of these event types": then a postings row (which carries the event's
// event_type) answers e alone, as long as its event_type is not ""
// (several or no eventType values, which the events table must check).
func postingsExact(e filter.Expr) bool {
	keyGroups := 0
	for _, c := range conjuncts(e, nil) {
		switch {
		case eqGroup(c, func(p string) bool { _, ok := postingByPath[p]; return ok }):
			keyGroups++
		case eqGroup(c, func(p string) bool { return p == "eventType" }):
		default:
			return false
		}
	}
	return keyGroups == 1
}

// maxCandidates bounds the rows the postings may name for a page that the
// events table must check; a key with more rows in the window is answered
// from the events table alone.
const maxCandidates = 20000

// cand is a row the postings name.
type cand struct {
	seq       int64
	eventType string
	ms        int64
}

// errIndexMiss is a mismatch between the postings and the events table.
type errIndexMiss struct{ what string }

func (e errIndexMiss) Error() string { return e.what }

// queryPostings answers q through the postings. ok is false when the
// postings cannot (not ready, too many candidates, a mismatch): the caller
// then answers from the events table. A mismatch is logged and counted here.
func (s *Store) queryPostings(ctx context.Context, st state, q store.Query, c compiled) ([]store.Event, bool, error) {
	if s.noPostings || !st.postingsReady || q.Filter == nil || q.Limit <= 0 || q.Limit > twoStepLimit {
		return nil, false, nil
	}
	keys, ok := postingKeys(q.Filter)
	if !ok || len(keys) == 0 {
		return nil, false, nil
	}
	evs, ok, err := s.postingsPage(ctx, st, q, c, keys)
	if err != nil && s.indexMiss(err) {
		return nil, false, nil
	}
	if ok && err == nil {
		s.postingsPages.Add(1)
	}
	return evs, ok, err
}

// keyCondition is (kind, key) IN keys, and checkCounts compares the
// keys' postings rows with their count rows: as many rows as the count rows
// say, or the postings of these keys are damaged.
func keyCondition(keys []pkey, offset uint8) frag {
	f := frag{sql: "(kind, key) IN (" + strings.TrimSuffix(strings.Repeat("(?, ?), ", len(keys)), ", ") + ")"}
	for _, k := range keys {
		f.args = append(f.args, k.kind+offset, k.key)
	}
	return f
}

func (s *Store) checkCounts(ctx context.Context, keys []pkey) error {
	chk := join("OR", keyCondition(keys, 0), keyCondition(keys, countKind))
	var have, want uint64
	if err := s.conn.QueryRow(ctx, "SELECT countIf(kind < ?), sum(toUInt64(n)) FROM "+s.postings+" WHERE "+chk.sql,
		append([]any{uint8(countKind)}, chk.args...)...).Scan(&have, &want); err != nil {
		return fmt.Errorf("clickhouse: postings: %w", err)
	}
	if have != want {
		return errIndexMiss{fmt.Sprintf("%d postings rows for %d keys, their count rows say %d", have, len(keys), want)}
	}
	return nil
}

// postingsWhere is the condition on postings rows for q: the keys, the
// visibility, the implied event types, the time bounds.
func postingsWhere(st state, q store.Query, c compiled, keys []pkey) frag {
	parts := []frag{keyCondition(keys, 0), st.visible()}
	if c.key.sql != "" {
		parts = append(parts, c.key)
	}
	if !q.Since.IsZero() {
		parts = append(parts, frag{"published_ms >= ?", []any{q.Since.UnixMilli()}})
	}
	if !q.Until.IsZero() {
		parts = append(parts, frag{"published_ms < ?", []any{q.Until.UnixMilli()}})
	}
	return join("AND", parts...)
}

// countPostings answers Count from the postings when they answer the
// filter alone; ok is false otherwise (and on a mismatch, logged and
// counted).
func (s *Store) countPostings(ctx context.Context, st state, q store.Query, c compiled) (int64, bool, error) {
	if s.noPostings || !st.postingsReady || q.Filter == nil || len(q.Keywords) > 0 || !postingsExact(q.Filter) {
		return 0, false, nil
	}
	keys, ok := postingKeys(q.Filter)
	if !ok || len(keys) == 0 {
		return 0, false, nil
	}
	if err := s.checkCounts(ctx, keys); err != nil {
		if s.indexMiss(err) {
			return 0, false, nil
		}
		return 0, false, err
	}
	w := postingsWhere(st, q, c, keys)
	var n, several uint64
	if err := s.conn.QueryRow(ctx, "SELECT uniqExact(seq), countIf(event_type = '') FROM "+s.postings+" WHERE "+w.sql, w.args...).Scan(&n, &several); err != nil {
		return 0, false, fmt.Errorf("clickhouse: count: %w", err)
	}
	if several > 0 && c.key.sql != "" {
		return 0, false, nil // events of several types: the events table decides
	}
	s.postingsPages.Add(1)
	return int64(n), true, nil
}

// indexMiss logs and counts err when it is a mismatch, and says so.
func (s *Store) indexMiss(err error) bool {
	miss, ok := err.(errIndexMiss)
	if !ok {
		return false
	}
	s.indexMisses.Add(1)
	slog.Error("clickhouse: postings disagree with the events table; this answer comes from the events table alone",
		"structure", "postings", "database", s.db, "mismatch", miss.what)
	return true
}

func (s *Store) postingsPage(ctx context.Context, st state, q store.Query, c compiled, keys []pkey) ([]store.Event, bool, error) {
	// The count check runs beside the candidates query (one round trip
	// less on the page's path); its verdict is awaited before any
	// candidate is used.
	checked := make(chan error, 1)
	go func() { checked <- s.checkCounts(ctx, keys) }()
	exact := len(q.Keywords) == 0 && postingsExact(q.Filter)
	w := postingsWhere(st, q, c, keys)
	order, after := orderClause(q)
	if after.sql != "" {
		w = join("AND", w, after)
	}
	limit := maxCandidates + 1
	if exact {
		limit = q.Limit
	}
	rows, err := s.conn.Query(ctx, "SELECT DISTINCT seq, event_type, published_ms FROM "+s.postings+" WHERE "+w.sql+
		" ORDER BY "+order+" LIMIT "+strconv.Itoa(limit), w.args...)
	if err != nil {
		return nil, false, fmt.Errorf("clickhouse: postings: %w", err)
	}
	var cands []cand
	for rows.Next() {
		var cd cand
		if err := rows.Scan(&cd.seq, &cd.eventType, &cd.ms); err != nil {
			rows.Close()
			return nil, false, err
		}
		if exact && c.key.sql != "" && cd.eventType == "" {
			exact = false // several eventType values: the events table decides
		}
		cands = append(cands, cd)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		<-checked
		return nil, false, err
	}
	if err := <-checked; err != nil {
		return nil, false, err
	}
	if len(cands) > maxCandidates {
		return nil, false, nil
	}
	if !exact && len(cands) == limit && limit == q.Limit {
		// An exact page turned out to hold a row of several event types;
		// its later candidates were cut off by the limit.
		return nil, false, nil
	}
	if !exact {
		if cands, err = s.checkCandidates(ctx, cands, whereClause(st, q, c)); err != nil {
			return nil, false, err
		}
		if len(cands) > q.Limit {
			cands = cands[:q.Limit]
		}
	}
	evs, err := s.fetchByKey(ctx, cands)
	return evs, err == nil, err
}

// keysTable is the external table of a page's rows: the events table's
// primary key answers (event_type, published_ms, seq) IN it by reading a
// granule or so per row. The queries say PREWHERE: 18.16 does not move an
// IN over an external table to PREWHERE by itself, and without it every
// column of every row of those granules is read (82 MB for a page of 100
// at 300k events, against 2 MB), not only the rows asked for.
func keysTable(cands []cand) (*ext.Table, error) {
	t, err := ext.NewTable("idlog_keys",
		ext.Column("event_type", "String"),
		ext.Column("published_ms", "Int64"),
		ext.Column("seq", "Int64"))
	if err != nil {
		return nil, err
	}
	for _, cd := range cands {
		if err := t.Append(cd.eventType, cd.ms, cd.seq); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// checkCandidates keeps the candidates whose events match where, in their
// order. Every candidate must be found in the events table.
func (s *Store) checkCandidates(ctx context.Context, cands []cand, where frag) ([]cand, error) {
	if len(cands) == 0 {
		return nil, nil
	}
	// Two queries side by side, the rows found and the rows that match,
	// rather than one selecting toUInt8(where): a shard of 18.16 rewrites
	// not(not(x)) to x and names its result column after the rewrite, and
	// the Distributed table then finds no column of the name it asked for
	// ("Not found column toUInt8(…) in block", the conformance suite's
	// differential test on two shards; an alias does not help). A WHERE
	// is not part of the result's header.
	seqs := func(cond frag) (map[int64]bool, error) {
		t, err := keysTable(cands)
		if err != nil {
			return nil, fmt.Errorf("clickhouse: postings: %w", err)
		}
		qctx := clickhouse.Context(ctx, clickhouse.WithExternalTable(t))
		rows, err := s.conn.Query(qctx, "SELECT seq FROM "+s.events+
			" PREWHERE (event_type, published_ms, seq) IN idlog_keys WHERE "+cond.sql, cond.args...)
		if err != nil {
			return nil, fmt.Errorf("clickhouse: postings: %w", err)
		}
		defer rows.Close()
		out := make(map[int64]bool, len(cands))
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				return nil, err
			}
			out[seq] = true
		}
		return out, rows.Err()
	}
	type result struct {
		m   map[int64]bool
		err error
	}
	matched := make(chan result, 1)
	go func() {
		m, err := seqs(where)
		matched <- result{m, err}
	}()
	found, err := seqs(fragTrue)
	mr := <-matched
	if err != nil {
		return nil, err
	}
	if mr.err != nil {
		return nil, mr.err
	}
	match := make(map[int64]bool, len(found))
	for seq := range found {
		match[seq] = mr.m[seq]
	}
	out := cands[:0]
	for _, cd := range cands {
		m, found := match[cd.seq]
		if !found {
			return nil, errIndexMiss{fmt.Sprintf("seq %d is in postings but not in the events table (%d of %d candidates found)", cd.seq, len(match), len(cands))}
		}
		if m {
			out = append(out, cd)
		}
	}
	return out, nil
}

// fetchByKey reads the events of a page by their sort key, in the page's
// order, and checks that each one came back.
func (s *Store) fetchByKey(ctx context.Context, cands []cand) ([]store.Event, error) {
	if len(cands) == 0 {
		return nil, nil
	}
	t, err := keysTable(cands)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: query: %w", err)
	}
	qctx := clickhouse.Context(ctx, clickhouse.WithExternalTable(t))
	evs, err := s.fetch(qctx, "SELECT seq, uuid, published_ms, raw FROM "+s.events+
		" PREWHERE (event_type, published_ms, seq) IN idlog_keys", nil)
	if err != nil {
		return nil, err
	}
	bySeq := make(map[int64]store.Event, len(evs))
	for _, e := range evs {
		bySeq[e.Seq] = e
	}
	out := make([]store.Event, 0, len(cands))
	for _, cd := range cands {
		e, ok := bySeq[cd.seq]
		if !ok {
			return nil, errIndexMiss{fmt.Sprintf("seq %d is in postings but not in the events table (%d of %d rows found)", cd.seq, len(bySeq), len(cands))}
		}
		out = append(out, e)
	}
	return out, nil
}
