package bytesize

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1234", 1234, true},
		{"256MiB", 256 << 20, true},
		{" 2 GiB ", 2 << 30, true},
		{"500MB", 500e6, true},
		{"64K", 64 << 10, true},
		{"10B", 10, true},
		{"-1", 0, false},
		{"MiB", 0, false},
		{"1.5GiB", 0, false},
		{"12TB", 0, false},
		{"9999999999GiB", 0, false},
	} {
		got, err := Parse(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("Parse(%q) = %d, %v; want %d, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestFormatRoundTrip(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{{0, "0 bytes"}, {1000, "1000 bytes"}, {1 << 10, "1 KiB"}, {3 << 20, "3 MiB"}, {5 << 30, "5 GiB"}, {1<<20 + 1, "1048577 bytes"}} {
		s := Format(c.n)
		if s != c.want {
			t.Errorf("Format(%d) = %q, want %q", c.n, s, c.want)
		}
		if got, err := Parse(strings.TrimSuffix(s, " bytes")); err != nil || got != c.n {
			t.Errorf("Parse(Format(%d)) = %d, %v", c.n, got, err)
		}
	}
}
