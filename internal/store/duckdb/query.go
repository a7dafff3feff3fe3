package duckdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
)

// plan is a query's WHERE clause in the two bounds of compile.go: up selects
// the candidate rows, lo (a SELECT expression) says which candidates are
// certain matches; the rest are checked in Go by verify.
type plan struct {
	up, lo string
	args   []any
	q      store.Query
	c      *compiler
	idx    *postings // for pages (Query); nil when the store is told not to use them
	// cands are the blocks the blooms name for q's keywords (blooms.go),
	// nil without keywords or blooms.
	cands      []bloomCand
	bloomsFrom int64 // the first seq the blooms cover
}

func (s *Store) plan(ctx context.Context, q store.Query) (*plan, error) {
	c := &compiler{}
	f, err := c.expr(q.Filter)
	if err != nil {
		return nil, err
	}
	up := []string{f.up}
	lo := f.lo
	if f.exact() {
		lo = sqlTrue
	}
	// q: each keyword is a whole token of some value. Tokens are lower-cased
	// substrings of the values, so "some lower-cased text of the event
	// contains the keyword" is a superset (keywordSQL says when); a keyword
	// that is not plain can match only events that are not plain.
	// filter.MatchKeywords decides.
	for _, kw := range q.Keywords {
		kw = strings.ToLower(kw)
		if plainText(kw) && kw != "" {
			up = append(up, keywordSQL(c, kw))
		} else {
			up = append(up, "(NOT kwplain)")
		}
	}
	var cands []bloomCand
	var from int64
	if len(q.Keywords) > 0 {
		lo = sqlFalse
		if !s.noBlooms {
			// Only the rows of blocks whose filters may hold every
			// keyword (and the rows stored before the filters) can match.
			var err error
			if cands, from, _, err = s.bloomCandidates(ctx, q); err != nil {
				return nil, err
			}
			up = append(up, seqRangesSQL(c, seqRanges(cands, from)))
			if cands == nil {
				cands = []bloomCand{}
			}
		}
	}
	if !q.Since.IsZero() {
		up = append(up, "published >= "+c.arg(ms(q.Since)))
	}
	if !q.Until.IsZero() {
		up = append(up, "published < "+c.arg(ms(q.Until)))
	}
	return &plan{up: strings.Join(up, " AND "), lo: lo, args: c.args, q: q, c: c, idx: s.idx(), cands: cands, bloomsFrom: from}, nil
}

// exact reports whether SQL alone answers the query.
func (p *plan) exact() bool { return p.lo == p.up || p.lo == sqlTrue }

// verify is the final check of a candidate that SQL could not decide.
func (p *plan) verify(raw string) (any, bool) {
	doc, err := filter.DecodeJSON([]byte(raw))
	if err != nil {
		return nil, false
	}
	if p.q.Filter != nil && !filter.Match(p.q.Filter, doc) {
		return doc, false
	}
	return doc, filter.MatchKeywords(p.q.Keywords, doc)
}

// Query implements store.Store.
//
// A page is found in two steps. The first selects only the sort key and
// the certainty of each candidate (seq, published, lo), so the top-N runs
// over narrow columns; the second reads the wide columns that rebuild the
// JSON for just the rows the page needs, by seq. Reading the member texts of
// every candidate before the top-N is what made a page slow on a big store.
func (s *Store) Query(ctx context.Context, q store.Query) ([]store.Event, error) {
	p, err := s.plan(ctx, q)
	if err != nil {
		return nil, err
	}
	if p.idx != nil {
		if s.behind(p.idx) {
			if err := p.idx.sync(ctx, s.db); err != nil {
				return nil, fmt.Errorf("duckdb: query: %w", err)
			}
		}
		if cands, more, ok := p.idx.candidates(q, q.Limit); ok {
			out, err := s.postingQuery(ctx, p, cands)
			if err != nil || !more || len(out) >= q.Limit {
				return out, err
			}
			// Rows of the first candidates were deleted meanwhile:
			// the page takes from all of them.
			if cands, _, ok := p.idx.candidates(q, 0); ok {
				return s.postingQuery(ctx, p, cands)
			}
		}
	}
	after := q.After
	var out []store.Event
	// When candidates need the Go check, fetch in chunks until the page is
	// full: a chunk may hold fewer matches than candidates.
	chunk := q.Limit
	if !p.exact() && chunk > 0 && chunk < 1000 {
		chunk = 1000
	}
	if p.exact() && q.Limit > 0 {
		// Every candidate is a match: gather the page's keys over the
		// spans and read the rows once.
		var acc []key
		for _, sl := range p.slices(chunk) {
			sqlq, args := p.keysSQL(after, q.Limit-len(acc), sl)
			keys, err := s.keys(ctx, sqlq, args)
			if err != nil {
				return nil, err
			}
			if acc = append(acc, keys...); len(acc) >= q.Limit {
				break
			}
		}
		evs, err := s.fetch(ctx, acc)
		if err != nil {
			return nil, err
		}
		for _, k := range acc {
			if e, ok := evs[k.seq]; ok {
				out = append(out, e)
			}
		}
		if len(out) == len(acc) {
			return out, nil
		}
		// Rows were deleted since their keys were read (fetch finds every
		// row that exists): the loop below reads on past them.
		out = out[:0]
	}
	full := func() bool { return q.Limit > 0 && len(out) >= q.Limit }
	for _, sl := range p.slices(chunk) {
		for {
			sqlq, args := p.keysSQL(after, chunk, sl)
			keys, err := s.keys(ctx, sqlq, args)
			if err != nil {
				return nil, err
			}
			if out, err = s.fill(ctx, p, keys, out); err != nil {
				return nil, err
			}
			if full() {
				return out, nil
			}
			if chunk == 0 || len(keys) < chunk {
				break
			}
			last := keys[len(keys)-1]
			after = &store.Position{Published: last.published, Seq: last.seq}
		}
	}
	return out, nil
}

// span is a part [from, to) of the published range; a zero end is open.
type span struct{ from, to time.Time }

// sliceFirst is the first span a page of newest (or oldest) events looks
// in; each next span is sliceGrowth times longer.
const (
	sliceFirst  = 24 * time.Hour
	sliceGrowth = 4
)

// slices cuts the query's published range into spans to search one after
// the other in the page's order, so that a page whose matches are dense at
// the near end reads a few days rather than the whole range: DuckDB's top-N
// reads every candidate of its range, and the row groups of a span are
// found by their min/max published. Only pages in published order over a
// bounded range are cut; the spans together are exactly the range. And only
// q pages: their prefilter costs microseconds per row, where a filter on the
// typed columns scans 1M rows in tens of milliseconds, less than what the
// extra queries and the scattered rows of a sparse page cost (measured at
// 1M events: 90-day scenario pages 105 ms p50 whole against 190 ms cut).
func (p *plan) slices(chunk int) []span {
	q := p.q
	whole := []span{{}}
	if chunk == 0 || len(q.Keywords) == 0 || q.Order != store.ByPublished || p.cands == nil && (q.Since.IsZero() || q.Until.IsZero()) {
		return whole
	}
	var lo, hi time.Time
	if !q.Since.IsZero() {
		lo = ms(q.Since)
	}
	if !q.Until.IsZero() {
		hi = ms(q.Until)
	}
	if a := q.After; a != nil {
		// The keyset condition excludes the rest; the spans need only not
		// be wasted on it.
		if q.Descending {
			if t := ms(a.Published).Add(time.Millisecond); hi.IsZero() || t.Before(hi) {
				hi = t
			}
		} else {
			lo = maxTime(lo, ms(a.Published))
		}
	}
	if !lo.IsZero() && !hi.IsZero() && !lo.Before(hi) {
		return whole
	}
	// The cuts between spans: days growing fourfold from the near end,
	// and with the blooms, the edges of the nearest candidate blocks.
	var cuts []time.Time
	if !lo.IsZero() && !hi.IsZero() {
		at := hi
		if !q.Descending {
			at = lo
		}
		for w := sliceFirst; ; w *= sliceGrowth {
			if q.Descending {
				if at = at.Add(-w); !at.After(lo) {
					break
				}
			} else if at = at.Add(w); !at.Before(hi) {
				break
			}
			cuts = append(cuts, at)
		}
	}
	if p.cands != nil {
		cuts = append(cuts, bloomCuts(p.cands, q.Descending)...)
	}
	return cutSpans(cuts, lo, hi, q.Descending, p.cands, p.bloomsFrom) // blooms.go
}

// postingWindow is the least number of candidates taken at a time; a
// variable so that tests can make it small.
var postingWindow = 16

// postingQuery fills a page from the candidates the postings name, in the
// page's order: window by window, it learns which candidates match (the
// postings answer for most, SQL for the rest), reads the matching rows and
// checks in Go those SQL could not decide, until the page is full. The
// first window is the page's size, so a page of sure candidates costs one
// read of its rows.
func (s *Store) postingQuery(ctx context.Context, p *plan, cands []cand) ([]store.Event, error) {
	limit := p.q.Limit
	var out []store.Event
	n := max(limit, postingWindow)
	for len(cands) > 0 && (limit == 0 || len(out) < limit) {
		w := cands[:min(len(cands), n)]
		cands = cands[len(w):]
		n = min(2*n, fetchMax)
		keys, err := s.decide(ctx, p, w)
		if err != nil {
			return nil, err
		}
		if out, err = s.fill(ctx, p, keys, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fill appends to out the events of keys, in order, until the page is
// full: it reads as many rows as the page still lacks (at least fetchMin),
// twice as many each time undecided rows fail the Go check. A row deleted
// since its key was found (by DeleteBefore, or by another Store on this
// file after the postings named it) is passed over.
func (s *Store) fill(ctx context.Context, p *plan, keys []key, out []store.Event) ([]store.Event, error) {
	limit := p.q.Limit
	full := func() bool { return limit > 0 && len(out) >= limit }
	n := fetchMin
	for i := 0; i < len(keys) && !full(); {
		j := len(keys)
		if limit > 0 {
			n = max(n, limit-len(out))
			j = min(i+n, j)
		}
		j = min(j, i+fetchMax)
		rows, err := s.fetch(ctx, keys[i:j])
		if err != nil {
			return nil, err
		}
		for _, k := range keys[i:j] {
			e, ok := rows[k.seq]
			if !ok {
				continue
			}
			if !k.sure {
				if _, ok := p.verify(string(e.Raw)); !ok {
					continue
				}
			}
			out = append(out, e)
			if full() {
				break
			}
		}
		i = j
		n *= 2
	}
	return out, nil
}

// bounds is what SQL says of a candidate: whether it may match (up) and
// whether it surely does (lo).
type bounds struct{ up, lo bool }

// decideMissing asks again, past the seq index, for the candidates of part
// that the index did not return: a candidate the postings name exists
// unless it was deleted meanwhile.
func (s *Store) decideMissing(ctx context.Context, p *plan, part []int64, got map[int64]bounds) error {
	var rest []int64
	for _, v := range part {
		if _, ok := got[v]; !ok {
			rest = append(rest, v)
		}
	}
	if len(rest) == 0 {
		return nil
	}
	list, err := json.Marshal(rest)
	if err != nil {
		return err
	}
	c := *p.c
	c.args = slices.Clone(p.args)
	ph := c.arg(string(list))
	rows, err := s.db.QueryContext(ctx, "SELECT seq, "+p.up+", "+p.lo+" FROM events WHERE "+pastIndex(ph), c.args...)
	if err != nil {
		return fmt.Errorf("duckdb: query: %w", err)
	}
	defer rows.Close()
	found := 0
	for rows.Next() {
		var seq int64
		var up, lo sql.NullBool
		if err := rows.Scan(&seq, &up, &lo); err != nil {
			return fmt.Errorf("duckdb: query: %w", err)
		}
		got[seq] = bounds{up.Bool, lo.Bool}
		found++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("duckdb: query: %w", err)
	}
	if found > 0 {
		s.indexMissed("seq index", found)
	}
	return nil
}

// decideChunk is how many seqs one SQL check names: DuckDB answers an IN
// list of up to about a hundred from the seq index, and a longer one by
// scanning the table (measured at 1M events: 50 seqs 9 ms, 700 seqs 66 ms).
const decideChunk = 100

// decide returns the keys of the candidates that match or may match, in
// their order: the sure ones as they are, the others as SQL's bounds
// (up, lo) of the page's filter say.
func (s *Store) decide(ctx context.Context, p *plan, w []cand) ([]key, error) {
	var ask []int64
	for _, c := range w {
		if !c.sure {
			ask = append(ask, int64(c.seq))
		}
	}
	got := make(map[int64]bounds, len(ask))
	for len(ask) > 0 {
		part := ask[:min(len(ask), decideChunk)]
		ask = ask[len(part):]
		c := *p.c
		c.args = slices.Clone(p.args)
		ps := make([]string, len(part))
		for i, v := range part {
			ps[i] = c.arg(v)
		}
		rows, err := s.db.QueryContext(ctx, "SELECT seq, "+p.up+", "+p.lo+" FROM events WHERE seq IN ("+strings.Join(ps, ", ")+")", c.args...)
		if err != nil {
			return nil, fmt.Errorf("duckdb: query: %w", err)
		}
		for rows.Next() {
			var seq int64
			var up, lo sql.NullBool
			if err := rows.Scan(&seq, &up, &lo); err != nil {
				rows.Close()
				return nil, fmt.Errorf("duckdb: query: %w", err)
			}
			got[seq] = bounds{up.Bool, lo.Bool}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("duckdb: query: %w", err)
		}
		if err := s.decideMissing(ctx, p, part, got); err != nil {
			return nil, err
		}
	}
	keys := make([]key, 0, len(w))
	for _, c := range w {
		k := key{seq: int64(c.seq), published: time.UnixMilli(c.ms()).UTC(), sure: true}
		if !c.sure {
			b := got[k.seq]
			if !b.up {
				continue
			}
			k.sure = b.lo
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// keysSQL is the first step's query: the sort keys and certainty of the
// next chunk candidates in the span after the position (all of them when
// chunk is 0).
func (p *plan) keysSQL(after *store.Position, chunk int, sl span) (string, []any) {
	q := p.q
	order := "published, seq"
	if q.Order == store.BySeq {
		order = "seq"
	}
	if q.Descending {
		order = strings.ReplaceAll(order, ",", " DESC,") + " DESC"
	}
	c := *p.c
	c.args = slices.Clone(p.args)
	where := p.up
	if after != nil {
		where += " AND " + keyset(&c, q, after)
	}
	if !sl.from.IsZero() {
		where += " AND published >= " + c.arg(sl.from)
	}
	if !sl.to.IsZero() {
		where += " AND published < " + c.arg(sl.to)
	}
	sqlq := "SELECT seq, published, " + p.lo + " FROM events WHERE " + where + " ORDER BY " + order
	if chunk > 0 {
		sqlq += " LIMIT " + c.arg(chunk)
	}
	return sqlq, c.args
}

// fetchMin and fetchMax bound the rows read by one fetch: a few more than
// the page lacks, so that an undecided row that fails rarely costs a round,
// and few enough for one IN list.
const (
	fetchMin = 16
	fetchMax = 1024 // under DuckDB's index_scan_max_count (2048)
)

// key is a candidate row of a page: its sort key and whether SQL decided it.
type key struct {
	seq       int64
	published time.Time
	sure      bool
}

func (s *Store) keys(ctx context.Context, sqlq string, args []any) ([]key, error) {
	rows, err := s.db.QueryContext(ctx, sqlq, args...)
	if err != nil {
		return nil, fmt.Errorf("duckdb: query: %w", err)
	}
	defer rows.Close()
	var out []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.seq, &k.published, &k.sure); err != nil {
			return nil, fmt.Errorf("duckdb: query: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("duckdb: query: %w", err)
	}
	return out, nil
}

// fetch reads the events of the given keys by seq, from the row cache or
// else the database, fetchMax at a time. The seqs go as a list of
// parameters, which DuckDB answers through the seq index (measured at 1M
// events: 9 ms for 100 rows, 111 ms without the index); a semi-join on a
// list (or on rowid) instead scans and decompresses every wide column over
// the span of the page's rows. Even through the index, each row costs
// about 2 µs per column, as DuckDB decodes the vector that holds it: what
// the row cache saves.
func (s *Store) fetch(ctx context.Context, keys []key) (map[int64]store.Event, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	out := make(map[int64]store.Event, len(keys))
	var miss []any
	for _, k := range keys {
		if e, ok := s.rows.get(k.seq); ok {
			out[k.seq] = e
		} else {
			miss = append(miss, k.seq)
		}
	}
	if len(miss) == 0 {
		return out, nil
	}
	gen := s.rows.generation()
	read := make(map[int64]store.Event, len(miss))
	for len(miss) > 0 {
		part := miss[:min(len(miss), fetchMax)]
		miss = miss[len(part):]
		if err := s.readSeqs(ctx, part, func(e store.Event) { read[e.Seq] = e }); err != nil {
			return nil, err
		}
	}
	for seq, e := range read {
		// The cache hands the same bytes to every reader: one that
		// appends to them must not write into another's.
		e.Raw = slices.Clip(e.Raw)
		read[seq] = e
		out[seq] = e
	}
	s.rows.put(gen, read)
	return out, nil
}

// fetchSeqs reads the events whose seq is one of seqs (int64 values).
func (s *Store) fetchSeqs(ctx context.Context, seqs []any, fn func(store.Event)) error {
	return s.readEvents(ctx, "seq IN ("+params(1, len(seqs))+")", seqs, fn)
}

// readEvents calls fn with the event of every row that where (with args)
// selects.
func (s *Store) readEvents(ctx context.Context, where string, args []any, fn func(store.Event)) error {
	rows, err := s.db.QueryContext(ctx, "SELECT seq, "+rawColumns+" FROM events WHERE "+where, args...)
	if err != nil {
		return fmt.Errorf("duckdb: query: %w", err)
	}
	defer rows.Close()
	rc := newRawScan()
	for rows.Next() {
		var seq int64
		if err := rows.Scan(append([]any{&seq}, rc.ptrs...)...); err != nil {
			return fmt.Errorf("duckdb: query: %w", err)
		}
		e, err := rc.event(seq)
		if err != nil {
			return err
		}
		fn(e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("duckdb: query: %w", err)
	}
	return nil
}

// params is the placeholder list $first, …, $(first+n-1).
func params(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(first + i))
	}
	return b.String()
}

// keyset is the condition "strictly after pos in q's order".
func keyset(c *compiler, q store.Query, pos *store.Position) string {
	cmp := ">"
	if q.Descending {
		cmp = "<"
	}
	s := c.arg(pos.Seq)
	if q.Order == store.BySeq {
		// "IS TRUE" keeps DuckDB from answering the range from the seq
		// index, which would return nothing past a lost entry
		// (integrity.go); a scan of the seq column costs little more.
		return "((seq " + cmp + " " + s + ") IS TRUE)"
	}
	t := c.arg(ms(pos.Published))
	return "(published " + cmp + " " + t + " OR (published = " + t + " AND seq " + cmp + " " + s + "))"
}

// unsure streams the candidates SQL could not decide, with the columns
// named in cols (n of them) before the raw JSON, calling fn with the values
// of those columns for each candidate that matches.
func (s *Store) unsure(ctx context.Context, p *plan, cols []string, fn func(doc any, vals []any) error) error {
	if p.exact() {
		return nil
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+", "+rawColumns+" FROM events WHERE "+p.up+" AND NOT "+p.lo, p.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	rc := newRawScan()
	ptrs = append(ptrs, rc.ptrs...)
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		raw, err := rc.raw()
		if err != nil {
			return err
		}
		doc, ok := p.verify(raw)
		if !ok {
			continue
		}
		if err := fn(doc, vals[:len(cols)]); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Count implements store.Store.
func (s *Store) Count(ctx context.Context, q store.Query) (int64, error) {
	p, err := s.plan(ctx, q)
	if err != nil {
		return 0, err
	}
	var n int64
	sure := p.up
	if !p.exact() {
		sure = p.up + " AND " + p.lo
	}
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE "+sure, p.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("duckdb: count: %w", err)
	}
	err = s.unsure(ctx, p, []string{"seq"}, func(any, []any) error {
		n++
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("duckdb: count: %w", err)
	}
	return n, nil
}

// Histogram implements store.Store.
func (s *Store) Histogram(ctx context.Context, q store.Query, step time.Duration) ([]store.Bucket, error) {
	if step.Milliseconds() <= 0 {
		return nil, fmt.Errorf("duckdb: histogram step %v is below a millisecond", step)
	}
	if out, ok, err := s.rollupHistogram(ctx, q, step); err != nil || ok { // rollup.go
		return out, err
	}
	return s.scanHistogram(ctx, q, step)
}

// scanHistogram counts the events themselves.
func (s *Store) scanHistogram(ctx context.Context, q store.Query, step time.Duration) ([]store.Bucket, error) {
	stepMS := step.Milliseconds()
	p, err := s.plan(ctx, q)
	if err != nil {
		return nil, err
	}
	counts := map[int64]map[string]int64{}
	add := func(b int64, result string, n int64) {
		m := counts[b]
		if m == nil {
			m = map[string]int64{}
			counts[b] = m
		}
		m[result] += n
	}
	sure := p.up
	if !p.exact() {
		sure = p.up + " AND " + p.lo
	}
	c := *p.c
	c.args = slices.Clone(p.args)
	st := c.arg(stepMS)
	// Buckets are aligned to the epoch; the double modulo floors negative times too.
	sqlq := "SELECT epoch_ms(published) - ((epoch_ms(published) % " + st + ") + " + st + ") % " + st +
		" AS b, coalesce(outcome_result, ''), count(*) FROM events WHERE " + sure + " GROUP BY ALL"
	rows, err := s.db.QueryContext(ctx, sqlq, c.args...)
	if err != nil {
		return nil, fmt.Errorf("duckdb: histogram: %w", err)
	}
	for rows.Next() {
		var b, n int64
		var r string
		if err := rows.Scan(&b, &r, &n); err != nil {
			rows.Close()
			return nil, err
		}
		add(b, r, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	err = s.unsure(ctx, p, []string{"published", "coalesce(outcome_result, '')"}, func(_ any, vals []any) error {
		t, _ := vals[0].(time.Time)
		r, _ := vals[1].(string)
		m := t.UnixMilli()
		add(m-((m%stepMS)+stepMS)%stepMS, r, 1)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("duckdb: histogram: %w", err)
	}
	out := make([]store.Bucket, 0, len(counts))
	for b, m := range counts {
		out = append(out, store.Bucket{Start: time.UnixMilli(b).UTC(), Counts: m})
	}
	slices.SortFunc(out, func(a, b store.Bucket) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// TopValues implements store.Store. Values are strings as they are, numbers
// as their JSON text, booleans as true/false; objects are not counted. Every
// value the path fans out to counts, so an event with two targets counts twice.
func (s *Store) TopValues(ctx context.Context, q store.Query, path filter.Path, n int) ([]store.ValueCount, error) {
	p, err := s.plan(ctx, q)
	if err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	col := columnByPath[path.String()]
	if col != nil && col.kind != kNumber {
		sure := p.up + " AND NOT odd"
		if !p.exact() {
			sure += " AND " + p.lo
		}
		expr := col.name
		if col.kind == kStringList {
			expr = "unnest(" + col.name + ")"
		}
		sqlq := "SELECT v, count(*) FROM (SELECT " + expr + " AS v FROM events WHERE " + sure + ") WHERE v IS NOT NULL GROUP BY v"
		rows, err := s.db.QueryContext(ctx, sqlq, p.args...)
		if err != nil {
			return nil, fmt.Errorf("duckdb: top values: %w", err)
		}
		for rows.Next() {
			var v string
			var c int64
			if err := rows.Scan(&v, &c); err != nil {
				rows.Close()
				return nil, err
			}
			counts[v] += c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	// Everything SQL did not count is counted here from the JSON: odd rows
	// and undecided candidates for typed columns, every row for other paths.
	where := p.up
	if col != nil && col.kind != kNumber {
		where = p.up + " AND (odd OR NOT " + p.lo + ")"
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+rawColumns+", "+p.lo+" FROM events WHERE "+where, p.args...)
	if err != nil {
		return nil, fmt.Errorf("duckdb: top values: %w", err)
	}
	rc := newRawScan()
	for rows.Next() {
		var sure bool
		if err := rows.Scan(append(rc.ptrs, &sure)...); err != nil {
			rows.Close()
			return nil, err
		}
		raw, err := rc.raw()
		if err != nil {
			rows.Close()
			return nil, err
		}
		var doc any
		if sure {
			doc, err = filter.DecodeJSON([]byte(raw))
			if err != nil {
				continue
			}
		} else {
			var ok bool
			if doc, ok = p.verify(raw); !ok {
				continue
			}
		}
		for _, v := range filter.Resolve(doc, path) {
			if s, ok := render(v); ok {
				counts[s]++
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]store.ValueCount, 0, len(counts))
	for v, c := range counts {
		out = append(out, store.ValueCount{Value: v, Count: c})
	}
	slices.SortFunc(out, func(a, b store.ValueCount) int {
		if a.Count != b.Count {
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Value, b.Value)
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// render is a resolved value as TopValues reports it.
func render(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	case fmt.Stringer: // json.Number
		return x.String(), true
	}
	return "", false
}
