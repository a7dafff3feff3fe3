package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/idlog/idlog/internal/store"
)

var _ store.Backuper = (*Store)(nil)

var backupSerial atomic.Int64

// Backup implements store.Backuper. It copies every table into a new
// DuckDB file inside one read transaction: DuckDB's transactions see one
// snapshot, so the copy holds exactly the batches committed before it
// began (up to the seq it reports) while appends go on beside it. The copy
// is written under dst+".partial" and renamed to dst once it is complete
// and synced, so dst is either a whole backup or absent.
func (s *Store) Backup(ctx context.Context, dst string) (store.BackupInfo, error) {
	var info store.BackupInfo
	if _, err := os.Stat(dst); err == nil {
		return info, fmt.Errorf("duckdb: backup: %s already exists; give a new path", dst)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return info, fmt.Errorf("duckdb: backup: %w", err)
	}
	part := dst + ".partial"
	os.Remove(part)
	os.Remove(part + ".wal")
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return info, fmt.Errorf("duckdb: backup: %w", err)
	}
	defer conn.Close()
	var src string
	if err := conn.QueryRowContext(ctx, `SELECT current_database()`).Scan(&src); err != nil {
		return info, fmt.Errorf("duckdb: backup: %w", err)
	}
	alias := fmt.Sprintf("idlog_backup_%d", backupSerial.Add(1))
	// ATTACH takes no parameters: the path goes as a quoted literal.
	if _, err := conn.ExecContext(ctx, `ATTACH '`+strings.ReplaceAll(part, `'`, `''`)+`' AS `+alias); err != nil {
		return info, fmt.Errorf("duckdb: backup: creating %s: %w", part, err)
	}
	attached := true
	detach := func() error {
		if !attached {
			return nil
		}
		attached = false
		_, err := conn.ExecContext(context.Background(), `DETACH `+alias)
		return err
	}
	fail := func(err error) (store.BackupInfo, error) {
		conn.ExecContext(context.Background(), `ROLLBACK`)
		detach()
		os.Remove(part)
		os.Remove(part + ".wal")
		return store.BackupInfo{}, fmt.Errorf("duckdb: backup to %s: %w", dst, err)
	}
	if _, err := conn.ExecContext(ctx, `BEGIN TRANSACTION`); err != nil {
		return fail(err)
	}
	if err := conn.QueryRowContext(ctx, `SELECT (SELECT last_seq FROM state WHERE id = 1), count(*) FROM events`).Scan(&info.Seq, &info.Events); err != nil {
		return fail(err)
	}
	if _, err := conn.ExecContext(ctx, `COPY FROM DATABASE "`+strings.ReplaceAll(src, `"`, `""`)+`" TO `+alias); err != nil {
		return fail(err)
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		return fail(err)
	}
	// DETACH checkpoints the copy: its WAL goes into the file.
	if err := detach(); err != nil {
		return fail(err)
	}
	if _, err := os.Stat(part + ".wal"); err == nil {
		return fail(errors.New("the copy kept a WAL after it was closed"))
	}
	if err := syncFile(part); err != nil {
		return fail(err)
	}
	if err := os.Rename(part, dst); err != nil {
		return fail(err)
	}
	syncDir(filepath.Dir(dst))
	info.Format = FormatVersion
	return info, nil
}

// ReadBackupInfo opens a backup file read-only and says what it holds.
func ReadBackupInfo(path string) (store.BackupInfo, error) {
	var info store.BackupInfo
	if _, err := os.Stat(path); err != nil {
		return info, err
	}
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		return info, err
	}
	defer db.Close()
	err = db.QueryRow(`SELECT (SELECT last_seq FROM state WHERE id = 1), count(*), (SELECT value::INTEGER FROM idlog_meta WHERE key = 'format') FROM events`).
		Scan(&info.Seq, &info.Events, &info.Format)
	if err != nil {
		return info, fmt.Errorf("%s is not an idlog DuckDB backup: %w", path, err)
	}
	return info, nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
