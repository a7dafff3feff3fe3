// Package backup makes, checks, moves and restores idlog backups. A backup
// is a directory: the store's own consistent copy (store.Backuper; for a
// store without one, ClickHouse, an export of its events up to one seq), the
// files of the data directory (tokens, keys, secrets and whatever else
// idlog keeps there), and backup.json, which names the ingest sequence the
// copy holds and a SHA-256 of every file. Through a server it travels as a
// tar stream of that directory.
package backup

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/store"
)

// ManifestName is the file in a backup that describes it.
const ManifestName = "backup.json"

// StoreFile is the name of the store's copy inside a backup.
const StoreFile = "events.duckdb"

// DataDir is the folder inside a backup that holds the data directory's files.
const DataDir = "data"

// Manifest is backup.json.
type Manifest struct {
	store.BackupInfo
	// Store is the backend the copy is for ("duckdb").
	Store   string    `json:"store"`
	Release string    `json:"release"`
	Created time.Time `json:"created"`
	Files   []File    `json:"files"`
}

// File is one file of a backup, by its slash-separated path inside it.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Options are the inputs of Make.
type Options struct {
	// DataDir is the directory of tokens and keys; "" when there is none.
	DataDir string
	// Skip are files of DataDir not to copy (the store's own file and WAL
	// when it lives there), by absolute path.
	Skip []string
	// Release names the idlog that made the backup.
	Release string
}

// Make writes a backup of st and the data directory into the new
// directory dst. It is written under dst+".partial" and renamed at the
// end, so dst is either a whole backup or absent.
func Make(ctx context.Context, st store.Store, dst string, o Options) (Manifest, error) {
	var m Manifest
	b, copies := st.(store.Backuper)
	if _, err := os.Stat(dst); err == nil {
		return m, fmt.Errorf("%s already exists; back up into a new directory", dst)
	}
	part := dst + ".partial"
	if err := os.RemoveAll(part); err != nil {
		return m, err
	}
	if err := os.MkdirAll(part, 0o700); err != nil {
		return m, err
	}
	fail := func(err error) (Manifest, error) {
		os.RemoveAll(part)
		return Manifest{}, err
	}
	// A store that copies itself gives a file to put in place; any other
	// (ClickHouse) is exported as its events, restored by importing them.
	kind := "duckdb"
	var info store.BackupInfo
	var err error
	if copies {
		info, err = b.Backup(ctx, filepath.Join(part, StoreFile))
	} else {
		kind = "export"
		if info, err = export(ctx, st, filepath.Join(part, ExportFile)); err != nil {
			err = exportErr(err)
		}
	}
	if err != nil {
		return fail(err)
	}
	m = Manifest{BackupInfo: info, Store: kind, Release: o.Release, Created: time.Now().UTC().Truncate(time.Second)}
	if o.DataDir != "" {
		if err := copyDataDir(o.DataDir, filepath.Join(part, DataDir), o.Skip); err != nil {
			return fail(fmt.Errorf("copying the data directory %s: %w", o.DataDir, err))
		}
	}
	if m.Files, err = sums(part); err != nil {
		return fail(err)
	}
	if err := writeManifest(part, m); err != nil {
		return fail(err)
	}
	if err := os.Rename(part, dst); err != nil {
		return fail(err)
	}
	return m, nil
}

// copyDataDir copies the regular files under src to dst, leaving out the
// skipped ones, the store's files and temporary files.
func copyDataDir(src, dst string, skip []string) error {
	skipped := map[string]bool{}
	for _, s := range skip {
		if a, err := filepath.Abs(s); err == nil {
			skipped[a] = true
		}
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == src {
				return fs.SkipAll
			}
			return err
		}
		abs, _ := filepath.Abs(p)
		name := d.Name()
		if p != src && (skipped[abs] || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".partial") ||
			strings.HasSuffix(name, ".duckdb") || strings.HasSuffix(name, ".duckdb.wal") || strings.HasSuffix(name, ".tmp") ||
			strings.HasSuffix(name, ".duckdb.idx")) { // the store's postings: rebuilt from the store file on first open
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			// A backup kept inside the data directory is not copied into the next.
			if _, err := os.Stat(filepath.Join(p, ManifestName)); err == nil && p != src {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		return copyFile(p, filepath.Join(dst, rel))
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// sums lists every file under dir but the manifest, with its checksum.
func sums(dir string) ([]File, error) {
	var files []File
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == ManifestName {
			return nil
		}
		f, err := sumFile(p)
		if err != nil {
			return err
		}
		f.Name = rel
		files = append(files, f)
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, err
}

func sumFile(p string) (File, error) {
	in, err := os.Open(p)
	if err != nil {
		return File{}, err
	}
	defer in.Close()
	h := sha256.New()
	n, err := io.Copy(h, in)
	if err != nil {
		return File{}, err
	}
	return File{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func writeManifest(dir string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	p := filepath.Join(dir, ManifestName)
	if err := os.WriteFile(p, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return syncPath(p)
}

func syncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Verify reads dir's manifest and checks that every file it lists is there
// with its size and checksum, and that nothing else is.
func Verify(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return m, fmt.Errorf("%s is not an idlog backup: it has no %s", dir, ManifestName)
	}
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: %s: %v", dir, ManifestName, err)
	}
	got, err := sums(dir)
	if err != nil {
		return m, err
	}
	want := map[string]File{}
	for _, f := range m.Files {
		want[f.Name] = f
	}
	for _, f := range got {
		w, ok := want[f.Name]
		switch {
		case !ok:
			return m, fmt.Errorf("backup %s: %s is not in %s", dir, f.Name, ManifestName)
		case w.Size != f.Size || w.SHA256 != f.SHA256:
			return m, fmt.Errorf("backup %s: %s is damaged (its size or SHA-256 differs from %s); use another backup", dir, f.Name, ManifestName)
		}
		delete(want, f.Name)
	}
	if len(want) > 0 {
		var missing []string
		for name := range want {
			missing = append(missing, name)
		}
		sort.Strings(missing)
		return m, fmt.Errorf("backup %s: %s is missing", dir, strings.Join(missing, ", "))
	}
	want1 := StoreFile
	if m.Store == "export" {
		want1 = ExportFile
	}
	if _, ok := m.fileNamed(want1); !ok {
		return m, fmt.Errorf("backup %s holds no %s", dir, want1)
	}
	return m, nil
}

func (m Manifest) fileNamed(name string) (File, bool) {
	for _, f := range m.Files {
		if f.Name == name {
			return f, true
		}
	}
	return File{}, false
}

// WriteTar writes the backup directory dir as a tar stream.
func WriteTar(w io.Writer, dir string, m Manifest) error {
	tw := tar.NewWriter(w)
	names := []string{ManifestName}
	for _, f := range m.Files {
		names = append(names, f.Name)
	}
	for _, name := range names {
		p := filepath.Join(dir, filepath.FromSlash(name))
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: fi.Size(), ModTime: fi.ModTime(), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return tw.Close()
}

// ReadTar unpacks a tar stream written by WriteTar into the new directory
// dst (through dst+".partial") and verifies it.
func ReadTar(r io.Reader, dst string) (Manifest, error) {
	if _, err := os.Stat(dst); err == nil {
		return Manifest{}, fmt.Errorf("%s already exists; back up into a new directory", dst)
	}
	part := dst + ".partial"
	if err := os.RemoveAll(part); err != nil {
		return Manifest{}, err
	}
	fail := func(err error) (Manifest, error) {
		os.RemoveAll(part)
		return Manifest{}, err
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(fmt.Errorf("reading the backup stream: %w", err))
		}
		name := path.Clean(h.Name)
		if h.Typeflag != tar.TypeReg || path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fail(fmt.Errorf("the backup stream holds an unexpected entry %q", h.Name))
		}
		p := filepath.Join(part, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return fail(err)
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fail(err)
		}
		_, err = io.Copy(f, tr)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fail(fmt.Errorf("reading the backup stream: %w", err))
		}
	}
	m, err := Verify(part)
	if err != nil {
		return fail(fmt.Errorf("the backup received is incomplete or damaged: %w", err))
	}
	if err := os.Rename(part, dst); err != nil {
		return fail(err)
	}
	return m, nil
}
