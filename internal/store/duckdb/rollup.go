package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"maps"
	"slices"
	"time"

	duck "github.com/duckdb/duckdb-go/v2"

	"github.com/idlog/idlog/internal/store"
)

// event_counts counts the events by hour of published and outcome.result,
// so that a histogram over whole hours without a filter (the page's
// overview of a time range) sums a few thousand counts rather than reading
// the published column of every event. Each append adds the counts of its
// rows in its own transaction, as rows of deltas: an hour may have several
// rows, and readers sum them. The writer folds them together now and then
// (compactCounts). DeleteBefore removes the hours it empties and counts the
// hour it cuts through again from the events.

const hourMs = int64(time.Hour / time.Millisecond)

var rollupDDL = []string{
	`CREATE TABLE IF NOT EXISTS event_counts (
	hour BIGINT NOT NULL,    -- floor(epoch ms of published / 1 h)
	outcome VARCHAR NOT NULL, -- outcome.result as the column holds it, '' for none
	n BIGINT NOT NULL
)`,
}

// hourSQL is the hour of the published column, floored also before 1970.
const hourSQL = "((epoch_ms(published) - ((epoch_ms(published) % 3600000) + 3600000) % 3600000) // 3600000)"

// rollupFill counts the events of the table (a file written before the
// rollup existed, or the hour DeleteBefore cut); where is a condition on
// events.
func rollupFill(where string) string {
	return "INSERT INTO event_counts SELECT " + hourSQL + ", coalesce(outcome_result, ''), count(*) FROM events WHERE " + where + " GROUP BY ALL"
}

// outcomeColumn is the index of outcome_result in columns.
var outcomeColumn = slices.IndexFunc(columns, func(c column) bool { return c.name == "outcome_result" })

type hourKey struct {
	hour    int64
	outcome string
}

// countBatch gathers the counts of one transaction's rows.
type countBatch map[hourKey]int64

func (cb countBatch) add(r *row) {
	o, _ := r.cols[outcomeColumn].(string)
	cb[hourKey{floorDiv(r.published.UnixMilli(), hourMs), o}]++
}

// write appends the batch's counts inside the writer's transaction, and
// folds the deltas together when they have grown many.
func (cb countBatch) write(ctx context.Context, c *sql.Conn, w *writer) error {
	if len(cb) == 0 {
		return nil
	}
	err := c.Raw(func(dc any) error {
		app, err := duck.NewAppenderFromConn(dc.(driver.Conn), "", "event_counts")
		if err != nil {
			return err
		}
		for k, n := range cb {
			if err := app.AppendRow(k.hour, k.outcome, n); err != nil {
				app.Close()
				return err
			}
		}
		return app.Close()
	})
	if err != nil {
		return err
	}
	w.countDeltas += len(cb)
	if w.countDeltas >= countCompactEvery {
		if err := compactCounts(ctx, c); err != nil {
			return err
		}
		w.countDeltas = 0
	}
	return nil
}

// countCompactEvery is how many delta rows the writer appends before it
// folds the table together: one row per hour and outcome is what stays.
const countCompactEvery = 4096

// compactCounts rewrites event_counts with one row per hour and outcome.
// The table is small (a row per hour and outcome of the whole history,
// about 6,500 for 90 days), so rewriting it whole costs milliseconds.
func compactCounts(ctx context.Context, c *sql.Conn) error {
	for _, q := range []string{
		`CREATE OR REPLACE TEMP TABLE event_counts_fold AS SELECT hour, outcome, sum(n)::BIGINT AS n FROM event_counts GROUP BY hour, outcome HAVING sum(n) <> 0`,
		`DELETE FROM event_counts`,
		`INSERT INTO event_counts SELECT hour, outcome, n FROM event_counts_fold ORDER BY hour, outcome`,
		`DROP TABLE event_counts_fold`,
	} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("folding event_counts: %w", err)
		}
	}
	return nil
}

// pruneCounts keeps event_counts right after the events published before t
// were deleted (in the same transaction): the hours before t's go, t's
// hour is counted again from the events that are left in it.
func pruneCounts(ctx context.Context, c *sql.Conn, t time.Time) error {
	h := floorDiv(ms(t).UnixMilli(), hourMs)
	start := time.UnixMilli(h * hourMs).UTC()
	if _, err := c.ExecContext(ctx, `DELETE FROM event_counts WHERE hour <= $1`, h); err != nil {
		return err
	}
	_, err := c.ExecContext(ctx, rollupFill("published >= $1 AND published < $2"), start, start.Add(time.Hour))
	return err
}

// rollupHistogram answers a histogram from event_counts, or ok false when
// it cannot: a filter or keywords, a step that is not whole hours, or a
// range shorter than an hour. The parts of the range before its first and
// after its last whole hour are counted from the events.
func (s *Store) rollupHistogram(ctx context.Context, q store.Query, step time.Duration) ([]store.Bucket, bool, error) {
	stepH := int64(step / time.Hour)
	if s.noRollup || q.Filter != nil || len(q.Keywords) > 0 || step%time.Hour != 0 || stepH < 1 {
		return nil, false, nil
	}
	where := "TRUE"
	var args []any
	var first, last int64
	if !q.Since.IsZero() {
		first = -floorDiv(-ms(q.Since).UnixMilli(), hourMs)
		args = append(args, first)
		where += fmt.Sprintf(" AND hour >= $%d", len(args))
	}
	if !q.Until.IsZero() {
		last = floorDiv(ms(q.Until).UnixMilli(), hourMs)
		args = append(args, last)
		where += fmt.Sprintf(" AND hour < $%d", len(args))
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && first >= last {
		return nil, false, nil // not one whole hour
	}
	counts := map[int64]map[string]int64{}
	add := func(start int64, outcome string, n int64) {
		if n == 0 {
			return
		}
		m := counts[start]
		if m == nil {
			m = map[string]int64{}
			counts[start] = m
		}
		m[outcome] += n
	}
	edge := func(from, to time.Time) error {
		if !from.Before(to) {
			return nil
		}
		b, err := s.scanHistogram(ctx, store.Query{Since: from, Until: to}, step)
		for _, x := range b {
			for o, n := range x.Counts {
				add(x.Start.UnixMilli(), o, n)
			}
		}
		return err
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
	rows, err := s.db.QueryContext(ctx, "SELECT hour, outcome, sum(n)::BIGINT FROM event_counts WHERE "+where+" GROUP BY hour, outcome", args...)
	if err != nil {
		return nil, false, fmt.Errorf("duckdb: histogram: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var hour, n int64
		var outcome string
		if err := rows.Scan(&hour, &outcome, &n); err != nil {
			return nil, false, fmt.Errorf("duckdb: histogram: %w", err)
		}
		add(floorDiv(hour, stepH)*stepH*hourMs, outcome, n)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("duckdb: histogram: %w", err)
	}
	starts := slices.Sorted(maps.Keys(counts))
	out := make([]store.Bucket, 0, len(starts))
	for _, st := range starts {
		out = append(out, store.Bucket{Start: time.UnixMilli(st).UTC(), Counts: counts[st]})
	}
	return out, true, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
