package storeurl

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/duckdb"
)

// DuckDB reports a damaged file in these words: a block whose checksum
// does not match, a file shorter than its blocks, a header or WAL it
// cannot read. One of them means the file (not the request) is at fault.
var damageSigns = []string{
	"Corrupt database file",
	"Could not read enough bytes from file",
	"not a valid DuckDB database file",
	"Failure while replaying WAL",
	"database has been invalidated",
	"INTERNAL Error",
	"checksum",
}

func isDamage(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	for _, s := range damageSigns {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// damagedError says which file is damaged and what to do, in one line.
func damagedError(path string, err error) error {
	return fmt.Errorf("%w: the store file %s is damaged (%v); stop idlog, move the file away and restore the store from a backup: idlog restore --from BACKUP-DIR --store duckdb:%s", store.ErrDamaged, path, err, path)
}

// checked is the DuckDB store with the errors of a damaged file turned
// into damagedError. Embedding the store keeps its other methods (and the
// optional interfaces they implement) as they are.
type checked struct {
	*duckdb.Store
	path string
}

func (c checked) wrap(err error) error {
	if isDamage(err) {
		return damagedError(c.path, err)
	}
	return err
}

func (c checked) Append(ctx context.Context, events []store.Event) (store.AppendResult, error) {
	r, err := c.Store.Append(ctx, events)
	return r, c.wrap(err)
}

func (c checked) StartAppend(ctx context.Context, events []store.Event) (func() (store.AppendResult, error), error) {
	wait, err := c.Store.StartAppend(ctx, events)
	if err != nil {
		return nil, c.wrap(err)
	}
	return func() (store.AppendResult, error) {
		r, err := wait()
		return r, c.wrap(err)
	}, nil
}

func (c checked) AppendCheckpoint(ctx context.Context, events []store.Event, key, value string) (store.AppendResult, error) {
	r, err := c.Store.AppendCheckpoint(ctx, events, key, value)
	return r, c.wrap(err)
}

func (c checked) Checkpoint(ctx context.Context, key string) (string, error) {
	v, err := c.Store.Checkpoint(ctx, key)
	return v, c.wrap(err)
}

func (c checked) Query(ctx context.Context, q store.Query) ([]store.Event, error) {
	evs, err := c.Store.Query(ctx, q)
	if err != nil {
		return nil, c.wrap(err)
	}
	return evs, nil
}

func (c checked) Count(ctx context.Context, q store.Query) (int64, error) {
	n, err := c.Store.Count(ctx, q)
	return n, c.wrap(err)
}

func (c checked) Histogram(ctx context.Context, q store.Query, step time.Duration) ([]store.Bucket, error) {
	b, err := c.Store.Histogram(ctx, q, step)
	if err != nil {
		return nil, c.wrap(err)
	}
	return b, nil
}

func (c checked) TopValues(ctx context.Context, q store.Query, path filter.Path, n int) ([]store.ValueCount, error) {
	v, err := c.Store.TopValues(ctx, q, path, n)
	if err != nil {
		return nil, c.wrap(err)
	}
	return v, nil
}

func (c checked) Get(ctx context.Context, uuid string) (store.Event, error) {
	e, err := c.Store.Get(ctx, uuid)
	return e, c.wrap(err)
}

func (c checked) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	n, err := c.Store.DeleteBefore(ctx, t)
	return n, c.wrap(err)
}

func (c checked) Stats(ctx context.Context) (store.Stats, error) {
	s, err := c.Store.Stats(ctx)
	return s, c.wrap(err)
}

func (c checked) Backup(ctx context.Context, dst string) (store.BackupInfo, error) {
	i, err := c.Store.Backup(ctx, dst)
	return i, c.wrap(err)
}
