package filter

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// errMarker is an expected error written after the offending token,
// go/parser style. The token before the marker must end where the error's
// range ends.
var errMarker = regexp.MustCompile(`\s*/\* ERROR "((?:[^"\\]|\\.)*)" \*/`)

// TestErrorFiles runs the cases in testdata/errors/*.txt. Cases are separated
// by lines holding only "----"; each has exactly one marker.
func TestErrorFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no error files: %v", err)
	}
	n := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range strings.Split(string(data), "\n----\n") {
			c = strings.Trim(c, "\n")
			ms := errMarker.FindAllStringSubmatchIndex(c, -1)
			if len(ms) != 1 {
				t.Errorf("%s case %d: %d ERROR markers, want 1", file, i, len(ms))
				continue
			}
			m := ms[0]
			rx, err := regexp.Compile(strings.ReplaceAll(c[m[2]:m[3]], `\"`, `"`))
			if err != nil {
				t.Errorf("%s case %d: %v", file, i, err)
				continue
			}
			src := c[:m[0]] + c[m[1]:]
			at := Pos(m[0])
			_, perr := Parse(src)
			var pe *Error
			if !errors.As(perr, &pe) {
				t.Errorf("%s case %d: Parse(%q) = %v, want an error", file, i, src, perr)
				continue
			}
			if !rx.MatchString(pe.Msg) {
				t.Errorf("%s case %d: message %q does not match %q", file, i, pe.Msg, rx)
			}
			if pe.End != at {
				t.Errorf("%s case %d: error range [%d:%d] ends at %d, the marker is at %d\n%s", file, i, pe.Pos, pe.End, pe.End, at, pe.Caret())
			}
			n++
		}
	}
	if n < 25 {
		t.Errorf("only %d error cases ran", n)
	}
}
