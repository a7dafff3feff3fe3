package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
)

// where builds the WHERE clause of q: visibility, the implied sort-key
// condition, the time bounds, the filter and the keywords (Order, After and
// Limit are left to the callers that use them).
// keyListBytes bounds the key tuples spelled out in one query's text,
// keeping it well under ClickHouse's default max_query_size (256 KiB) even
// with unusually long uuids or event types.
const keyListBytes = 128 << 10

func (s *Store) where(ctx context.Context, q store.Query) (frag, error) {
	_, _, w, err := s.plan(ctx, q)
	return w, err
}

// plan compiles q's filter, reads the state and builds the WHERE clause.
func (s *Store) plan(ctx context.Context, q store.Query) (state, compiled, frag, error) {
	c, err := compile(q.Filter)
	if err != nil {
		return state{}, compiled{}, frag{}, err
	}
	st, err := s.readState(ctx)
	if err != nil {
		return state{}, compiled{}, frag{}, err
	}
	return st, c, whereClause(st, q, c), nil
}

func whereClause(st state, q store.Query, c compiled) frag {
	parts := []frag{st.visible()}
	if c.key.sql != "" {
		parts = append(parts, c.key)
	}
	if !q.Since.IsZero() {
		parts = append(parts, frag{"published_ms >= ?", []any{q.Since.UnixMilli()}})
	}
	if !q.Until.IsZero() {
		parts = append(parts, frag{"published_ms < ?", []any{q.Until.UnixMilli()}})
	}
	if c.where.sql != fragTrue.sql {
		parts = append(parts, c.where)
	}
	if len(q.Keywords) > 0 {
		kws := make([]string, len(q.Keywords))
		for i, k := range q.Keywords {
			kws[i] = strings.ToLower(k)
		}
		parts = append(parts, frag{"hasAll(tokens, ?)", []any{kws}})
	}
	return join("AND", parts...)
}

// orderClause is the ORDER BY of q and the keyset condition for q.After.
func orderClause(q store.Query) (string, frag) {
	dir, cmp := "", ">"
	if q.Descending {
		dir, cmp = " DESC", "<"
	}
	if q.Order == store.BySeq {
		var after frag
		if q.After != nil {
			after = frag{"seq " + cmp + " ?", []any{q.After.Seq}}
		}
		return "seq" + dir, after
	}
	var after frag
	if q.After != nil {
		p := q.After.Published.UnixMilli()
		after = frag{"(published_ms " + cmp + " ? OR (published_ms = ? AND seq " + cmp + " ?))", []any{p, p, q.After.Seq}}
	}
	return "published_ms" + dir + ", seq" + dir, after
}

// twoStepLimit: pages up to this size are found on the narrow columns first
// and only then read with their raw JSON, so a page of 100 never reads the
// raw column of every matching row. It also bounds the text of the second
// query well under max_query_size.
const twoStepLimit = 1000

// Query implements store.Store.
func (s *Store) Query(ctx context.Context, q store.Query) ([]store.Event, error) {
	st, c, w, err := s.plan(ctx, q)
	if err != nil {
		return nil, err
	}
	if evs, ok, err := s.queryPostings(ctx, st, q, c); err != nil || ok {
		return evs, err
	}
	order, after := orderClause(q)
	if after.sql != "" {
		w = join("AND", w, after)
	}
	oneStep := func() ([]store.Event, error) {
		sql := "SELECT seq, uuid, published_ms, raw FROM " + s.events + " WHERE " + w.sql + " ORDER BY " + order
		if q.Limit > 0 {
			sql += " LIMIT " + strconv.Itoa(q.Limit)
		}
		return s.fetch(ctx, sql, w.args)
	}
	if q.Limit <= 0 || q.Limit > twoStepLimit {
		return oneStep()
	}
	// Step 1: the page's keys, from narrow columns.
	rows, err := s.conn.Query(ctx, "SELECT seq, event_type, published_ms, uuid FROM "+s.events+" WHERE "+w.sql+" ORDER BY "+order+" LIMIT "+strconv.Itoa(q.Limit), w.args...)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: query: %w", err)
	}
	var seqs []int64
	var keys []any
	size := 0
	for rows.Next() {
		var seq, ms int64
		var et, uuid string
		if err := rows.Scan(&seq, &et, &ms, &uuid); err != nil {
			rows.Close()
			return nil, err
		}
		seqs = append(seqs, seq)
		keys = append(keys, et, ms, uuid)
		size += len(et) + len(uuid) + 64
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(seqs) == 0 {
		return nil, nil
	}
	if size > keyListBytes {
		return oneStep() // keys too long to list within max_query_size
	}
	// Step 2: those rows with their JSON, looked up by primary key, so raw
	// is read only for the granules that hold them. The seq condition keeps
	// out a second row with the same key (a duplicate two writers raced to
	// store).
	marks := strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", len(seqs)), ", ")
	seqMarks := strings.TrimSuffix(strings.Repeat("?, ", len(seqs)), ", ")
	args := keys
	for _, sq := range seqs {
		args = append(args, sq)
	}
	evs, err := s.fetch(ctx, "SELECT seq, uuid, published_ms, raw FROM "+s.events+
		" WHERE (event_type, published_ms, uuid) IN ("+marks+") AND seq IN ("+seqMarks+")", args)
	if err != nil {
		return nil, err
	}
	if len(evs) != len(seqs) {
		// A row found a moment ago is gone (its month dropped in
		// between): read the page again in one step.
		return oneStep()
	}
	pos := make(map[int64]int, len(seqs))
	for i, sq := range seqs {
		pos[sq] = i
	}
	slices.SortFunc(evs, func(a, b store.Event) int { return pos[a.Seq] - pos[b.Seq] })
	return evs, nil
}

// Count implements store.Store.
func (s *Store) Count(ctx context.Context, q store.Query) (int64, error) {
	st, c, w, err := s.plan(ctx, q)
	if err != nil {
		return 0, err
	}
	if n, ok, err := s.countPostings(ctx, st, q, c); err != nil || ok {
		return n, err
	}
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM "+s.events+" WHERE "+w.sql, w.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("clickhouse: count: %w", err)
	}
	return int64(n), nil
}

// Histogram implements store.Store. Buckets are floor(published / step),
// computed so that times before 1970 round down too. Unfiltered histograms
// by whole hours come from the hourly rollup (hourly.go).
func (s *Store) Histogram(ctx context.Context, q store.Query, step time.Duration) ([]store.Bucket, error) {
	ms := step.Milliseconds()
	if ms < 1 || step%time.Millisecond != 0 {
		return nil, fmt.Errorf("clickhouse: histogram step %v: must be a whole number of milliseconds", step)
	}
	st, c, _, err := s.plan(ctx, q)
	if err != nil {
		return nil, err
	}
	if out, ok, err := s.hourlyHistogram(ctx, st, q, step); err != nil || ok {
		return out, err
	}
	return s.scanHistogram(ctx, whereClause(st, q, c), ms)
}

// scanHistogram is a histogram read from the events table.
func (s *Store) scanHistogram(ctx context.Context, w frag, ms int64) ([]store.Bucket, error) {
	bucket := "published_ms - modulo(modulo(published_ms, " + strconv.FormatInt(ms, 10) + ") + " +
		strconv.FormatInt(ms, 10) + ", " + strconv.FormatInt(ms, 10) + ")"
	rows, err := s.conn.Query(ctx, "SELECT "+bucket+" AS b, outcome, count() FROM "+s.events+" WHERE "+w.sql+
		" GROUP BY b, outcome ORDER BY b", w.args...)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: histogram: %w", err)
	}
	defer rows.Close()
	var out []store.Bucket
	for rows.Next() {
		var b int64
		var outcome string
		var n uint64
		if err := rows.Scan(&b, &outcome, &n); err != nil {
			return nil, err
		}
		start := time.UnixMilli(b).UTC()
		if len(out) == 0 || !out[len(out)-1].Start.Equal(start) {
			out = append(out, store.Bucket{Start: start, Counts: map[string]int64{}})
		}
		out[len(out)-1].Counts[outcome] += int64(n)
	}
	return out, rows.Err()
}

// topValuesExpr is the array of path's values in a row as TopValues counts
// them: strings as they are, numbers as their JSON text, booleans as
// true/false. Objects are not counted.
func topValuesExpr(path string) frag {
	// kv entries are "path" + one of = # ? + value; strip the prefix.
	at := strconv.Itoa(len(path) + 2)
	kv := frag{"arrayMap(x -> substring(x, " + at + "), arrayFilter(x -> startsWith(x, ?) OR startsWith(x, ?) OR startsWith(x, ?), kv))",
		[]any{path + "=", path + "#", path + "?"}}
	if h, ok := hotByPath[path]; ok {
		return frag{"arrayConcat(" + hotColumns[h].name + ", " + kv.sql + ")", kv.args}
	}
	return kv
}

// TopValues implements store.Store. Every value the path fans out to counts,
// so an event with two targets counts twice; ties go to the smaller value.
func (s *Store) TopValues(ctx context.Context, q store.Query, path filter.Path, n int) ([]store.ValueCount, error) {
	w, err := s.where(ctx, q)
	if err != nil {
		return nil, err
	}
	vals := topValuesExpr(path.String())
	sql := "SELECT v, count() AS c FROM " + s.events + " ARRAY JOIN " + vals.sql + " AS v WHERE " + w.sql +
		" GROUP BY v ORDER BY c DESC, v"
	if n > 0 {
		sql += " LIMIT " + strconv.Itoa(n)
	}
	rows, err := s.conn.Query(ctx, sql, append(slices.Clone(vals.args), w.args...)...)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: top values: %w", err)
	}
	defer rows.Close()
	var out []store.ValueCount
	for rows.Next() {
		var vc store.ValueCount
		var c uint64
		if err := rows.Scan(&vc.Value, &c); err != nil {
			return nil, err
		}
		vc.Count = int64(c)
		out = append(out, vc)
	}
	return out, rows.Err()
}
