package api

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strconv"

	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/backup"
)

// BackupPath is the admin route that makes a backup and streams it as a
// tar of the backup directory (internal/backup). The backup's ingest
// sequence is in the X-Idlog-Backup-Seq header and in backup.json.
const BackupPath = "/api/idlog/v1/backup"

// BackupOptions are what MountBackup needs besides the server's store.
type BackupOptions struct {
	backup.Options
	// TempDir holds the backup while it is streamed; it should be on the
	// store's disk, with room for a copy of the store.
	TempDir string
}

// MountBackup adds POST /api/idlog/v1/backup (admin scope) to s.
func MountBackup(s *Server, o BackupOptions) {
	s.route("POST "+BackupPath, auth.RoleAdmin, func(w http.ResponseWriter, r *http.Request) error {
		return s.backup(w, r, o)
	})
}

func (s *Server) backup(w http.ResponseWriter, r *http.Request, o BackupOptions) error {
	if err := os.MkdirAll(o.TempDir, 0o700); err != nil {
		return internalError(err)
	}
	tmp, err := os.MkdirTemp(o.TempDir, ".backup-")
	if err != nil {
		return internalError(err)
	}
	defer os.RemoveAll(tmp)
	dir := tmp + "/backup"
	m, err := backup.Make(r.Context(), s.st, dir, o.Options)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return internalError(err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-tar")
	h.Set("X-Idlog-Backup-Seq", strconv.FormatInt(m.Seq, 10))
	h.Set("X-Idlog-Backup-Events", strconv.FormatInt(m.Events, 10))
	s.log.Info("backup", "seq", m.Seq, "events", m.Events)
	if err := backup.WriteTar(w, dir, m); err != nil {
		// Headers are gone: the client sees a stream that ends early, and
		// its check of backup.json refuses it.
		s.log.Error("backup stream broke off", "err", err)
	}
	return nil
}
