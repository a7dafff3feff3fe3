package clickhouse

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/idlog/idlog/internal/store"
)

// events_hourly counts events by hour, event_type and outcome, kept by a
// materialized view on the events table, so a histogram over whole hours
// does not read the events. It also keeps each group's smallest and largest
// seq, which is what it takes to stay exact: a group whose largest seq is
// past the watermark holds rows not visible yet (an insert in flight, or
// left by a failed one), and a group that a tombstone cuts through holds
// rows some readers must not count. Histogram uses the rollup only for the
// groups where neither happens, and the events table otherwise.

const hourMs = int64(time.Hour / time.Millisecond)

// hourExpr is floor(published_ms / 1 h), also for times before 1970.
const hourExpr = "intDiv(published_ms - modulo(modulo(published_ms, 3600000) + 3600000, 3600000), 3600000)"

const hourlyColumns = `    hour Int64,
    month UInt32,
    event_type String,
    outcome String,
    n AggregateFunction(count),
    min_seq AggregateFunction(min, Int64),
    max_seq AggregateFunction(max, Int64)`

const hourlyEngine = `ENGINE = AggregatingMergeTree()
PARTITION BY month
ORDER BY (hour, event_type, outcome)`

func hourlySelect(from string) string {
	return "SELECT " + hourExpr + " AS hour, " + monthExpr + " AS month, event_type, outcome, countState() AS n, minState(seq) AS min_seq, maxState(seq) AS max_seq FROM " +
		from + " GROUP BY hour, month, event_type, outcome"
}

func (s *Store) hourlyDDL() []string {
	out := []string{
		"CREATE TABLE IF NOT EXISTS " + s.hourlyLocal + " (\n" + hourlyColumns + "\n) " + hourlyEngine,
		"CREATE MATERIALIZED VIEW IF NOT EXISTS `" + s.db + "`.`events_hourly_mv` TO " + s.hourlyLocal + " AS " + hourlySelect(s.local),
	}
	if s.cluster != "" {
		out = append(out, "CREATE TABLE IF NOT EXISTS "+s.hourly+" AS "+s.hourlyLocal+" ENGINE = Distributed('"+s.cluster+"', '"+s.db+"', 'events_hourly_local', rand())")
	}
	return out
}

// backfillHourly fills the rollup from the rows stored before it existed.
func (s *Store) backfillHourly(ctx context.Context, upTo int64) error {
	for _, n := range s.nodes {
		if err := n.Exec(ctx, "INSERT INTO "+s.hourlyLocal+" (hour, month, event_type, outcome, n, min_seq, max_seq) "+
			hourlySelect("(SELECT * FROM "+s.local+" WHERE seq <= ?)"), upTo); err != nil {
			return fmt.Errorf("clickhouse: filling events_hourly: %w", err)
		}
	}
	return nil
}

// hourlyHistogram answers a histogram from the rollup, or ok false when it
// cannot: a filter, a step that is not whole hours, or a group it cannot
// count exactly. The parts of the range before its first and after its
// last whole hour are read from the events table.
func (s *Store) hourlyHistogram(ctx context.Context, st state, q store.Query, step time.Duration) ([]store.Bucket, bool, error) {
	stepH := int64(step / time.Hour)
	if s.noRollup || !st.hourlyReady || q.Filter != nil || len(q.Keywords) > 0 || step%time.Hour != 0 || stepH < 1 {
		return nil, false, nil
	}
	var edges []store.Bucket
	edge := func(from, to time.Time) error {
		if !from.Before(to) {
			return nil
		}
		eq := store.Query{Since: from, Until: to}
		b, err := s.scanHistogram(ctx, whereClause(st, eq, compiled{where: fragTrue}), step.Milliseconds())
		edges = append(edges, b...)
		return err
	}
	// Whole hours [first, last) from the rollup, the rest from the events.
	where := frag{sql: "1"}
	var first, last int64
	if !q.Since.IsZero() {
		first = -floorDiv(-q.Since.UnixMilli(), hourMs)
		where = join("AND", where, frag{"hour >= ?", []any{first}})
	}
	if !q.Until.IsZero() {
		last = floorDiv(q.Until.UnixMilli(), hourMs)
		where = join("AND", where, frag{"hour < ?", []any{last}})
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && first >= last {
		return nil, false, nil // not one whole hour
	}
	if !q.Since.IsZero() {
		if err := edge(q.Since, time.UnixMilli(first*hourMs)); err != nil {
			return nil, false, err
		}
	}
	if !q.Until.IsZero() {
		if err := edge(time.UnixMilli(last*hourMs), q.Until); err != nil {
			return nil, false, err
		}
	}
	rows, err := s.conn.Query(ctx, "SELECT hour, outcome, countMerge(n), minMerge(min_seq), maxMerge(max_seq) FROM "+s.hourly+
		" WHERE "+where.sql+" GROUP BY hour, outcome ORDER BY hour", where.args...)
	if err != nil {
		return nil, false, fmt.Errorf("clickhouse: histogram: %w", err)
	}
	defer rows.Close()
	counts := map[int64]map[string]int64{}
	for rows.Next() {
		var hour, lo, hi int64
		var outcome string
		var n uint64
		if err := rows.Scan(&hour, &outcome, &n, &lo, &hi); err != nil {
			return nil, false, err
		}
		if hi > st.watermark {
			return nil, false, nil // rows not visible yet
		}
		keep, exact := survivesTombstones(st.tombstones, hour*hourMs, (hour+1)*hourMs, lo, hi)
		if !exact {
			return nil, false, nil
		}
		if !keep || n == 0 {
			continue
		}
		start := floorDiv(hour, stepH) * stepH * hourMs
		if counts[start] == nil {
			counts[start] = map[string]int64{}
		}
		counts[start][outcome] += int64(n)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	for _, b := range edges {
		start := b.Start.UnixMilli()
		if counts[start] == nil {
			counts[start] = map[string]int64{}
		}
		for k, v := range b.Counts {
			counts[start][k] += v
		}
	}
	starts := slices.Sorted(maps.Keys(counts))
	out := make([]store.Bucket, 0, len(starts))
	for _, st := range starts {
		out = append(out, store.Bucket{Start: time.UnixMilli(st).UTC(), Counts: counts[st]})
	}
	s.rollupHistograms.Add(1)
	return out, true, nil
}

// survivesTombstones says whether a group of rows published in [from, to)
// with seqs in [lo, hi] is visible (keep) through the tombstones, and
// whether that can be told without the rows (exact).
func survivesTombstones(ts []tombstone, from, to, lo, hi int64) (keep, exact bool) {
	keep = true
	for _, t := range ts {
		switch {
		case from >= t.T, lo > t.S: // not hidden by this one
		case to <= t.T && hi <= t.S: // wholly hidden
			keep = false
		default:
			return false, false
		}
	}
	return keep, true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
