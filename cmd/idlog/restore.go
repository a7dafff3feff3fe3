package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/idlog/idlog/internal/backup"
	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

func init() {
	register(&command{name: "restore", summary: "put a backup in place as a store, with its tokens and keys", run: runRestore})
}

func runRestore(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	from := fs.String("from", "", "the backup `directory` ('idlog backup --to') (required)")
	storeURL := fs.String("store", "", "the store `URL` to restore into, a DuckDB file (default IDLOG_STORE, else "+storeurl.Default+")")
	dataDir := fs.String("data-dir", "", "where the backup's tokens and keys go (default: as serve's --data-dir, the DuckDB file's directory)")
	force := fs.Bool("force", false, "replace a store that holds events, and data files that differ from the backup's")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: idlog restore --from DIR [--store URL] [--data-dir DIR] [--force]

Checks every file of the backup against the SHA-256 in its backup.json,
then puts the store copy in place and the tokens and keys in the data
directory. A store that holds events is not replaced without --force; stop
'idlog serve' first (the store must not be open).

The backup holds every event up to the ingest sequence it names. Events
stored after the backup was taken are not in it: 'idlog pull' resumes from
the collector's checkpoint kept in the backup, and clients that push can
send again what they sent since (duplicates are recognised by uuid and
stored once).

Examples:
  idlog restore --from /backups/idlog-2026-12-07 --store duckdb:/var/lib/idlog/events.duckdb

Flags:
`)
		fs.PrintDefaults()
	}
	if _, help, err := parseFlags(fs, e, args, false); help || err != nil {
		return err
	}
	if *from == "" {
		return &exitError{code: 2, msg: "restore: --from DIR is required (a directory made by 'idlog backup')"}
	}
	if *storeURL == "" {
		if *storeURL = e.getenv("IDLOG_STORE"); *storeURL == "" {
			*storeURL = storeurl.Default
		}
	}
	if *dataDir == "" {
		*dataDir = defaultDataDir(*storeURL)
	}
	man, err := backup.Verify(*from)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if man.Store == "export" {
		return restoreExport(ctx, e, *from, *storeURL, *dataDir, *force)
	}
	file, ok := storeurl.File(*storeURL)
	if !ok {
		return &exitError{code: 2, msg: fmt.Sprintf("restore: %s is not a DuckDB file; a backup of the DuckDB store restores into duckdb:PATH (to fill a ClickHouse store, import an export of the events: docs/reliability.md)", *storeURL)}
	}
	backends, err := storeurl.Backends(releaseName())
	if err != nil {
		return err
	}
	maxFormat := backends[0].Format
	// Is there a store there already, and does it hold events?
	if _, err := os.Stat(file); err == nil {
		st, err := storeurl.Open(ctx, *storeURL)
		if errors.Is(err, store.ErrLocked) {
			return &exitError{code: 1, msg: fmt.Sprintf("restore: the store %s is open in another idlog process (an 'idlog serve'?); stop it first", *storeURL)}
		}
		var n int64
		if err == nil {
			stats, serr := st.Stats(ctx)
			st.Close()
			n, err = stats.Events, serr
		}
		if err != nil && !*force {
			return fmt.Errorf("restore: the store %s exists and cannot be read (%v); add --force to replace it", *storeURL, err)
		}
		if n > 0 && !*force {
			return &exitError{code: 1, msg: fmt.Sprintf("restore: the store %s holds %d events; add --force to replace them with the backup", *storeURL, n)}
		}
	}
	m, err := backup.Restore(*from, backup.RestoreOptions{StoreFile: file, DataDir: *dataDir, MaxFormat: maxFormat, Force: *force})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// Open it once: migrations of an older format run now, and the counts
	// are checked against backup.json.
	st, err := storeurl.Open(ctx, *storeURL)
	if err != nil {
		return fmt.Errorf("restore: the restored store does not open: %w", err)
	}
	stats, err := st.Stats(ctx)
	st.Close()
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if stats.Events != m.Events || stats.MaxSeq != m.Seq {
		return fmt.Errorf("restore: the restored store holds %d events up to seq %d, but the backup says %d up to %d", stats.Events, stats.MaxSeq, m.Events, m.Seq)
	}
	fmt.Fprintf(e.stdout, "restored %d events up to ingest seq %d into %s (data files into %s; backup made %s by idlog %s)\n",
		m.Events, m.Seq, *storeURL, *dataDir, m.Created.Format("2006-01-02 15:04:05 UTC"), m.Release)
	return nil
}

// restoreExport imports an export backup (a store without a file of its
// own, ClickHouse) into any store: the events get new seqs there; each is
// stored once however often the restore runs.
func restoreExport(ctx context.Context, e *env, from, storeURL, dataDir string, force bool) error {
	st, err := storeurl.Open(ctx, storeURL)
	if errors.Is(err, store.ErrLocked) {
		return &exitError{code: 1, msg: fmt.Sprintf("restore: the store %s is open in another idlog process (an 'idlog serve'?); stop it first", storeURL)}
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer st.Close()
	stats, err := st.Stats(ctx)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if stats.Events > 0 && !force {
		return &exitError{code: 1, msg: fmt.Sprintf("restore: the store %s holds %d events; add --force to add the backup's events to them (duplicates are skipped)", storeURL, stats.Events)}
	}
	var res ingest.Result
	m, err := backup.RestoreExport(from, backup.RestoreOptions{DataDir: dataDir, Force: force}, func(r io.Reader) error {
		var err error
		res, err = ingest.New(st, ingest.Options{}).Ingest(ctx, r, nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if res.RejectedCount > 0 || int64(res.Accepted+res.Duplicates) != m.Events {
		return fmt.Errorf("restore: the backup lists %d events, the import stored %d and found %d already stored (%d rejected)", m.Events, res.Accepted, res.Duplicates, res.RejectedCount)
	}
	fmt.Fprintf(e.stdout, "restored %d events (up to ingest seq %d of the store backed up; %d were already here) into %s (data files into %s)\n",
		m.Events, m.Seq, res.Duplicates, storeURL, dataDir)
	return nil
}
