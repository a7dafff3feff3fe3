package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/backup"
	"github.com/idlog/idlog/internal/storeurl"
)

func init() {
	register(&command{name: "backup", summary: "copy the store and its tokens and keys, consistently, while serve keeps running", run: runBackup})
}

func runBackup(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	to := fs.String("to", "", "the new `directory` to write the backup into (required)")
	dataDir := fs.String("data-dir", "", "the `directory` of tokens and keys to include (default: as serve's --data-dir, the DuckDB file's directory)")
	sf := addStoreFlags(fs, true)
	sf.mustExist = true
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: idlog backup --to DIR [--store URL | --server URL --token TOKEN]

Makes a consistent copy of the store: every event stored up to one ingest
sequence and none after, taken while 'idlog serve' keeps ingesting. The
copy goes into the new directory DIR with the data directory's files
(tokens, the cursor key, the Okta hook secret, …) and backup.json, which
names that sequence and a SHA-256 of every file. DIR appears only once the
backup is whole.

When a server holds the store, go through it (an admin token is needed);
the backup streams to this machine. Otherwise the store is opened directly.

`+storeFlagsHelp+`
Examples:
  idlog backup --to /backups/idlog-2026-12-07 --server http://127.0.0.1:8080 --token $ADMIN_TOKEN
  idlog backup --to /backups/idlog-today --store duckdb:/var/lib/idlog/events.duckdb

Restore with 'idlog restore --from DIR --store URL'. The ClickHouse store
has no built-in backup: see docs/reliability.md for its route.

Flags:
`)
		fs.PrintDefaults()
	}
	if _, help, err := parseFlags(fs, e, args, false); help || err != nil {
		return err
	}
	if *to == "" {
		return &exitError{code: 2, msg: "backup: --to DIR is required (a new directory for the backup)"}
	}
	if err := sf.resolve(e); err != nil {
		return err
	}
	began := time.Now()
	var m backup.Manifest
	var err error
	if sf.server != "" {
		fmt.Fprintf(e.stderr, "idlog: backing up through %s…\n", sf.server)
		m, err = backupFromServer(ctx, sf.server, sf.token, *to)
	} else {
		st, oerr := sf.openStore(ctx)
		if oerr != nil {
			return oerr
		}
		defer st.Close()
		dir := *dataDir
		if dir == "" {
			dir = defaultDataDir(sf.store)
		}
		o := backup.Options{DataDir: dir, Release: releaseName()}
		if f, ok := storeurl.File(sf.store); ok {
			o.Skip = []string{f, f + ".wal"}
		}
		fmt.Fprintf(e.stderr, "idlog: backing up %s and %s…\n", sf.store, dir)
		m, err = backup.Make(ctx, st, *to, o)
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	var size int64
	for _, f := range m.Files {
		size += f.Size
	}
	fmt.Fprintf(e.stdout, "backup %s: %d events up to ingest seq %d, %d files, %d bytes, in %s\n",
		*to, m.Events, m.Seq, len(m.Files), size, time.Since(began).Round(time.Millisecond))
	return nil
}

// backupFromServer asks a server for a backup and unpacks the stream into dst.
func backupFromServer(ctx context.Context, server, token, dst string) (backup.Manifest, error) {
	u := strings.TrimSuffix(server, "/") + api.BackupPath
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return backup.Manifest{}, err
	}
	req.Header.Set("Authorization", "SSWS "+token)
	req.Header.Set("User-Agent", "idlog-backup/"+releaseName())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return backup.Manifest{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var oe struct {
			ErrorCode    string `json:"errorCode"`
			ErrorSummary string `json:"errorSummary"`
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &oe) == nil && oe.ErrorSummary != "" {
			msg = oe.ErrorCode + " " + oe.ErrorSummary
		}
		if resp.StatusCode == http.StatusForbidden {
			msg += " (a backup needs a token with the admin scope)"
		}
		return backup.Manifest{}, fmt.Errorf("%s answered %s: %s", server, resp.Status, msg)
	}
	abs, err := filepath.Abs(dst)
	if err != nil {
		return backup.Manifest{}, err
	}
	return backup.ReadTar(resp.Body, abs)
}

// mountBackup adds the admin backup route to serve's API. The backup is
// made beside the store, where there is room for a copy of it.
func mountBackup(srv *api.Server, c serveConfig) {
	o := api.BackupOptions{Options: backup.Options{DataDir: c.dataDir, Release: releaseName()}, TempDir: c.dataDir}
	if f, ok := storeurl.File(c.storeURL); ok {
		o.Skip = []string{f, f + ".wal"}
		o.TempDir = filepath.Dir(f)
	}
	api.MountBackup(srv, o)
}
