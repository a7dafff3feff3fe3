// Package atomicfile writes a file so that a reader sees either the old
// content or the new, never a half-written file: the bytes go to a
// temporary file in the same directory, are synced to disk, and the
// temporary file is renamed over the old one (a rename within one
// directory is atomic on POSIX file systems).
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path's content with b. Missing parent directories are
// created with mode 0700, since everything idlog writes this way (tokens,
// sessions, saved searches, spilled queries) is private to the server. The
// file itself gets CreateTemp's mode, 0600.
func Write(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	err = write(tmp, b)
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

func write(f *os.File, b []byte) error {
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	// Sync before the rename: otherwise a crash can leave the new name
	// pointing at an empty file on file systems that reorder the two.
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
