package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// The blooms (blooms.go) and event_counts (rollup.go) are derived from the
// events and kept in the transactions that change them: an append writes
// the rows' filters and counts with the rows, DeleteBefore prunes them with
// the rows, so a crash leaves them agreeing with the events.

// addDerived creates the derived tables in a file that lacks them (a new
// file, or one of format 2 or older), in one transaction: event_counts is
// filled from the events already stored, and blooms_from records the first
// seq the filters will cover; older rows are always q candidates, as they
// were before the filters existed.
func (s *Store) addDerived() error {
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name IN ('event_counts', 'blooms', 'blooms_from')`).Scan(&n); err != nil {
		return err
	}
	if n == 3 {
		return s.readBloomsFrom()
	}
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmts := []string{`DROP TABLE IF EXISTS event_counts`, `DROP TABLE IF EXISTS blooms`, `DROP TABLE IF EXISTS blooms_from`}
	stmts = append(stmts, rollupDDL...)
	stmts = append(stmts, bloomDDL...)
	stmts = append(stmts,
		rollupFill("TRUE"),
		`INSERT INTO blooms_from SELECT greatest(coalesce(max(seq), 0), (SELECT last_seq FROM state WHERE id = 1)) + 1 FROM events`,
	)
	for _, q := range stmts {
		if _, err := tx.Exec(q); err != nil {
			return fmt.Errorf("adding the blooms and counts: %w\n%s", err, q)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return s.readBloomsFrom()
}

// readBloomsFrom reads the first seq the blooms cover, which never changes
// once the table is there.
func (s *Store) readBloomsFrom() error {
	return s.db.QueryRow(`SELECT coalesce(min(seq), 0) FROM blooms_from`).Scan(&s.bloomsFrom)
}

// pruneDerived keeps the derived tables right after DeleteBefore(t)
// deleted the events published before t, in its transaction: the filters
// of blocks with no row left go (a block with some left keeps its filter,
// which then only holds more tokens than its rows), and the counts are
// pruned.
func pruneDerived(ctx context.Context, c *sql.Conn, t time.Time) error {
	if _, err := c.ExecContext(ctx, `DELETE FROM blooms WHERE pmax < $1`, ms(t)); err != nil {
		return err
	}
	return pruneCounts(ctx, c, t)
}
