package backup

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// RestoreOptions say where a backup goes.
type RestoreOptions struct {
	// StoreFile is the DuckDB file to restore the store into.
	StoreFile string
	// DataDir receives the backup's data files; "" skips them.
	DataDir string
	// MaxFormat is the newest store format this release reads.
	MaxFormat int
	// Force overwrites data files that differ from the backup's (the
	// caller has checked the store itself).
	Force bool
}

// Restore verifies the backup in dir and puts its store copy and data
// files in place. The store file is replaced whole (through a temporary
// file and a rename), and its old WAL removed so that it cannot be
// replayed onto the copy.
func Restore(dir string, o RestoreOptions) (Manifest, error) {
	m, err := Verify(dir)
	if err != nil {
		return m, err
	}
	if m.Store != "duckdb" {
		return m, fmt.Errorf("backup %s is an export of events, not a store file: restore it with RestoreExport", dir)
	}
	if o.MaxFormat > 0 && m.Format > o.MaxFormat {
		return m, fmt.Errorf("backup %s has store format %d, newer than this idlog reads (%d): restore it with the release that made it (%s) or a newer one", dir, m.Format, o.MaxFormat, m.Release)
	}
	if err := checkData(dir, m, o); err != nil {
		return m, err
	}
	if err := os.MkdirAll(filepath.Dir(o.StoreFile), 0o755); err != nil {
		return m, err
	}
	tmp := o.StoreFile + ".restoring"
	os.Remove(tmp)
	if err := copyFile(filepath.Join(dir, StoreFile), tmp); err != nil {
		os.Remove(tmp)
		return m, err
	}
	if err := os.Remove(o.StoreFile + ".wal"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		os.Remove(tmp)
		return m, err
	}
	// The postings of the file being replaced (the DuckDB store would
	// notice they are not the copy's and build them again).
	if err := os.RemoveAll(o.StoreFile + ".idx"); err != nil {
		os.Remove(tmp)
		return m, err
	}
	if err := os.Rename(tmp, o.StoreFile); err != nil {
		os.Remove(tmp)
		return m, err
	}
	if d, err := os.Open(filepath.Dir(o.StoreFile)); err == nil {
		d.Sync()
		d.Close()
	}
	return m, putData(dir, m, o)
}

// checkData refuses to overwrite data files that differ from the
// backup's, unless o.Force.
func checkData(dir string, m Manifest, o RestoreOptions) error {
	var conflicts []string
	if o.DataDir != "" {
		for _, f := range m.Files {
			rel, ok := strings.CutPrefix(f.Name, DataDir+"/")
			if !ok {
				continue
			}
			cur, err := os.ReadFile(filepath.Join(o.DataDir, filepath.FromSlash(rel)))
			if err == nil {
				want, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Name)))
				if !bytes.Equal(cur, want) {
					conflicts = append(conflicts, rel)
				}
			} else if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	if len(conflicts) > 0 && !o.Force {
		return fmt.Errorf("the data directory %s already has other versions of %s; add --force to replace them with the backup's", o.DataDir, strings.Join(conflicts, ", "))
	}
	return nil
}

// putData copies the backup's data files into o.DataDir (each through a
// temporary file and a rename). Call it after checkData.
func putData(dir string, m Manifest, o RestoreOptions) error {
	if o.DataDir != "" {
		for _, f := range m.Files {
			rel, ok := strings.CutPrefix(f.Name, DataDir+"/")
			if !ok {
				continue
			}
			dst := filepath.Join(o.DataDir, filepath.FromSlash(rel))
			tmp := dst + ".restoring"
			os.Remove(tmp)
			if err := copyFile(filepath.Join(dir, filepath.FromSlash(f.Name)), tmp); err != nil {
				os.Remove(tmp)
				return err
			}
			if err := os.Rename(tmp, dst); err != nil {
				os.Remove(tmp)
				return err
			}
		}
	}
	return nil
}

// RestoreExport verifies an export backup, checks and puts its data files
// in place, and calls load with its events (gzipped NDJSON) for the
// caller to import into the target store.
func RestoreExport(dir string, o RestoreOptions, load func(r io.Reader) error) (Manifest, error) {
	m, err := Verify(dir)
	if err != nil {
		return m, err
	}
	if m.Store != "export" {
		return m, fmt.Errorf("backup %s holds a %s store file, not an export", dir, m.Store)
	}
	if err := checkData(dir, m, o); err != nil {
		return m, err
	}
	f, err := os.Open(filepath.Join(dir, ExportFile))
	if err != nil {
		return m, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return m, fmt.Errorf("%s: %w", ExportFile, err)
	}
	if err := load(zr); err != nil {
		return m, err
	}
	return m, putData(dir, m, o)
}
