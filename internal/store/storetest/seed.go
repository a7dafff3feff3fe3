package storetest

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
)

type seedFile struct{ name, text string }

// placeholder matches any other <…> placeholder of the seed queries.
var placeholder = regexp.MustCompile(`<[^<>"]*>`)

// filepathGlob reads files of the filter package's testdata.
func filepathGlob(pattern string) ([]seedFile, error) {
	_, here, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(here), "..", "..", "filter", "testdata")
	names, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		return nil, err
	}
	var out []seedFile
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, seedFile{filepath.Base(n), string(b)})
	}
	return out, nil
}
