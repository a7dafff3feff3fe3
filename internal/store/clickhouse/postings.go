package clickhouse

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

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
// It is filled by a materialized view on the events table, so every INSERT
// into events fills it in the same statement (on a cluster, each shard's
// view fills that shard's postings). A page is then:
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
//   - posting_counts (a SummingMergeTree filled by a second view) counts the
//     postings rows each (kind, key) should have; before a key's postings
//     are used, their number is compared with it, so a postings row that is
//     lost is noticed;
//   - every row asked of the events table by key must come back.
//
// On a mismatch the page is answered from the events table alone (as
// before postings existed), one error naming the structure is logged and
// Stats.IndexMisses counts it.

// postingKind is a path whose string values get postings.
type postingKind struct {
	kind uint8
	path string
	col  string // its hot column in the events table
}

var postingKinds = []postingKind{
	{1, "actor.id", "s_actor_id"},
	{2, "actor.alternateId", "s_actor_alternate_id"},
	{3, "target.id", "s_target_id"},
	{4, "client.ipAddress", "s_client_ip"},
	{5, "authenticationContext.externalSessionId", "s_external_session_id"},
}

var postingByPath = func() map[string]uint8 {
	m := map[string]uint8{}
	for _, k := range postingKinds {
		m[k.path] = k.kind
	}
	return m
}()

// monthExpr is the partition of a row: the month of published_ms (UTC),
// clamped to what DateTime holds. The events table, postings and
// posting_counts share it, so DeleteBefore drops the same months of each.
const monthExpr = "toYYYYMM(toDateTime(intDiv(least(greatest(published_ms, 0), 4294967295000), 1000), 'UTC'))"

// postingsArrayJoin is the ARRAY JOIN that turns an events row into its
// postings: one (kind, key) per distinct value of each posting path.
var postingsArrayJoin = func() string {
	var parts []string
	for _, k := range postingKinds {
		parts = append(parts, "arrayMap(x -> (toUInt8("+strconv.Itoa(int(k.kind))+"), x), arrayDistinct("+k.col+"))")
	}
	return "ARRAY JOIN arrayConcat(" + strings.Join(parts, ", ") + ") AS pk"
}()

// postingsSelect and countsSelect are the views' queries over an events
// table (also used to fill the postings of rows stored before they existed).
func postingsSelect(from string) string {
	return "SELECT tupleElement(pk, 1) AS kind, tupleElement(pk, 2) AS key, published_ms, seq, event_type FROM " + from + " " + postingsArrayJoin
}

func countsSelect(from string) string {
	return "SELECT tupleElement(pk, 1) AS kind, tupleElement(pk, 2) AS key, " + monthExpr + " AS month, count() AS n FROM " + from + " " + postingsArrayJoin + " GROUP BY kind, key, month"
}

const postingsColumns = `    kind UInt8,
    key String,
    published_ms Int64,
    seq Int64,
    event_type String`

const postingsEngine = `ENGINE = MergeTree()
PARTITION BY ` + monthExpr + `
ORDER BY (kind, key, published_ms, seq)
SETTINGS index_granularity = 1024`

const countsColumns = `    kind UInt8,
    key String,
    month UInt32,
    n UInt64`

const countsEngine = `ENGINE = SummingMergeTree(n)
PARTITION BY month
ORDER BY (kind, key)`

// postingsDDL is what each node gets: the local tables and the views that
// fill them from the local events table; on a cluster also Distributed
// tables to read them through.
func (s *Store) postingsDDL() []string {
	q := func(name string) string { return "`" + s.db + "`.`" + name + "`" }
	out := []string{
		"CREATE TABLE IF NOT EXISTS " + s.postingsLocal + " (\n" + postingsColumns + "\n) " + postingsEngine,
		"CREATE TABLE IF NOT EXISTS " + s.countsLocal + " (\n" + countsColumns + "\n) " + countsEngine,
		"CREATE MATERIALIZED VIEW IF NOT EXISTS " + q("postings_mv") + " TO " + s.postingsLocal + " AS " + postingsSelect(s.local),
		"CREATE MATERIALIZED VIEW IF NOT EXISTS " + q("posting_counts_mv") + " TO " + s.countsLocal + " AS " + countsSelect(s.local),
	}
	if s.cluster != "" {
		out = append(out,
			"CREATE TABLE IF NOT EXISTS "+s.postings+" AS "+s.postingsLocal+" ENGINE = Distributed('"+s.cluster+"', '"+s.db+"', 'postings_local', rand())",
			"CREATE TABLE IF NOT EXISTS "+s.counts+" AS "+s.countsLocal+" ENGINE = Distributed('"+s.cluster+"', '"+s.db+"', 'posting_counts_local', rand())",
		)
	}
	return out
}

// backfillPostings fills postings and posting_counts for the rows stored
// before they existed (seq up to upTo), on every node from its own events:
// the migration of a database created by a release without postings. The
// postings step skips seqs that have postings already, so an interrupted
// fill can run again; posting_counts cannot tell, so an interrupted fill
// leaves counts that disagree and pages of those keys come from the events
// table (complete, slower, counted in IndexMisses) until the tables are
// rebuilt (docs/clickhouse.md, "Upgrading").
func (s *Store) backfillPostings(ctx context.Context, upTo int64) error {
	for _, n := range s.nodes {
		if err := n.Exec(ctx, "INSERT INTO "+s.countsLocal+" (kind, key, month, n) "+
			countsSelect("(SELECT * FROM "+s.local+" WHERE seq <= ?)"), upTo); err != nil {
			return fmt.Errorf("clickhouse: filling posting_counts: %w", err)
		}
		if err := n.Exec(ctx, "INSERT INTO "+s.postingsLocal+" (kind, key, published_ms, seq, event_type) "+
			postingsSelect("(SELECT * FROM "+s.local+" WHERE seq <= ? AND seq NOT IN (SELECT seq FROM "+s.postingsLocal+" WHERE seq <= ?))"), upTo, upTo); err != nil {
			return fmt.Errorf("clickhouse: filling postings: %w", err)
		}
	}
	return nil
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
	if miss, isMiss := err.(errIndexMiss); isMiss {
		s.indexMisses.Add(1)
		slog.Error("clickhouse: postings disagree with the events table; this page was answered from the events table alone",
			"structure", "postings", "database", s.db, "mismatch", miss.what)
		return nil, false, nil
	}
	if ok && err == nil {
		s.postingsPages.Add(1)
	}
	return evs, ok, err
}

func (s *Store) postingsPage(ctx context.Context, st state, q store.Query, c compiled, keys []pkey) ([]store.Event, bool, error) {
	keyCond := frag{sql: "(kind, key) IN (" + strings.TrimSuffix(strings.Repeat("(?, ?), ", len(keys)), ", ") + ")"}
	for _, k := range keys {
		keyCond.args = append(keyCond.args, k.kind, k.key)
	}
	// The postings of these keys must be all there: as many rows as
	// posting_counts says they have.
	var have, want uint64
	chk := join("AND", keyCond, keyCond) // the condition's arguments twice, once per subquery
	if err := s.conn.QueryRow(ctx, "SELECT (SELECT count() FROM "+s.postings+" WHERE "+keyCond.sql+"), (SELECT sum(n) FROM "+s.counts+" WHERE "+keyCond.sql+")", chk.args...).Scan(&have, &want); err != nil {
		return nil, false, fmt.Errorf("clickhouse: postings: %w", err)
	}
	// More rows than counted is harmless (a fill that ran twice, or a
	// month dropped from posting_counts and not yet from postings):
	// DISTINCT and the seq checks below keep each event once.
	if have < want {
		return nil, false, errIndexMiss{fmt.Sprintf("%d postings rows for %d keys, posting_counts says %d", have, len(keys), want)}
	}

	exact := len(q.Keywords) == 0 && postingsExact(q.Filter)
	parts := []frag{keyCond, st.visible()}
	if c.key.sql != "" {
		parts = append(parts, c.key)
	}
	if !q.Since.IsZero() {
		parts = append(parts, frag{"published_ms >= ?", []any{q.Since.UnixMilli()}})
	}
	if !q.Until.IsZero() {
		parts = append(parts, frag{"published_ms < ?", []any{q.Until.UnixMilli()}})
	}
	order, after := orderClause(q)
	if after.sql != "" {
		parts = append(parts, after)
	}
	w := join("AND", parts...)
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
// granule or so per row.
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
	t, err := keysTable(cands)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: postings: %w", err)
	}
	qctx := clickhouse.Context(ctx, clickhouse.WithExternalTable(t))
	rows, err := s.conn.Query(qctx, "SELECT seq, toUInt8("+where.sql+") FROM "+s.events+
		" WHERE (event_type, published_ms, seq) IN idlog_keys", where.args...)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: postings: %w", err)
	}
	defer rows.Close()
	match := make(map[int64]bool, len(cands))
	for rows.Next() {
		var seq int64
		var ok uint8
		if err := rows.Scan(&seq, &ok); err != nil {
			return nil, err
		}
		match[seq] = ok == 1
	}
	if err := rows.Err(); err != nil {
		return nil, err
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
		" WHERE (event_type, published_ms, seq) IN idlog_keys", nil)
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
