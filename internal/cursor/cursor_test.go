package cursor

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testCodec(t *testing.T) (*Codec, string) {
	t.Helper()
	dir := t.TempDir()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c, dir
}

func TestRoundTrip(t *testing.T) {
	c, _ := testCodec(t)
	pub := time.Date(2026, 3, 2, 10, 0, 0, 123456789, time.UTC)
	tests := []Cursor{
		{Mode: Polling, Since: pub.Add(-time.Hour), Limit: 100},
		{Mode: Polling, Limit: 7, HasPos: true, Seq: 123456789, Published: pub},
		{Mode: Bounded, Filter: `eventType eq "user.session.start"`, Q: "00u1 mfa", Since: pub.Add(-24 * time.Hour), Until: pub, Descending: true, Limit: 1000, HasPos: true, Published: pub, Seq: 1},
		{Mode: Bounded, Filter: strings.Repeat(`actor.id eq "00uabcdefghijk" or `, 200) + `actor.id pr`, Limit: 3},
		{Mode: Bounded, Since: time.Unix(-86400*365*30, 0).UTC(), Until: time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Mode: Polling, Filter: "ünïcödé eq \"\\u2028\"", HasPos: true, Seq: -5},
		// The longest inline filter, incompressible: the worst case.
		{Mode: Bounded, Filter: incompressible(inlineMax), Since: pub, Until: pub.Add(time.Hour), HasPos: true, Published: pub, Seq: 1 << 40, Limit: 1000},
	}
	for i, want := range tests {
		s, err := c.Encode(want)
		if err != nil {
			t.Fatal(err)
		}
		if len(s) > 500 { // a next link must stay under 1,000 characters with any host
			t.Errorf("case %d: cursor of %d chars", i, len(s))
		}
		if strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Errorf("case %d: cursor %q is not URL-safe", i, s)
		}
		got, err := c.Decode(s)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if got.Mode != want.Mode || got.Filter != want.Filter || got.Q != want.Q || !got.Since.Equal(want.Since) ||
			!got.Until.Equal(want.Until) || got.Descending != want.Descending || got.Limit != want.Limit ||
			got.HasPos != want.HasPos || !got.Published.Equal(want.Published) || got.Seq != want.Seq {
			t.Errorf("case %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
}

func TestTamperedCursorsAreRefused(t *testing.T) {
	c, _ := testCodec(t)
	s, err := c.Encode(Cursor{Mode: Bounded, Filter: `eventType eq "x"`, Limit: 10, HasPos: true, Seq: 42})
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range s {
		for _, r := range []byte{alphabet[(strings.IndexByte(alphabet, s[i])+1)%64], alphabet[(strings.IndexByte(alphabet, s[i])+33)%64]} {
			bad := s[:i] + string(r) + s[i+1:]
			if _, err := c.Decode(bad); !errors.Is(err, ErrInvalid) {
				// The last character's low bits are padding that base64url
				// may ignore; any other change must be caught.
				if i == len(s)-1 && err == nil {
					continue
				}
				t.Fatalf("changed char %d: err %v", i, err)
			}
		}
	}
	for _, bad := range []string{"", "x", "1627500044869_1", s[:len(s)/2], s + s, "!!!!", strings.Repeat("A", 10000)} {
		if _, err := c.Decode(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%.30q: err %v", bad, err)
		}
	}
	// Another server's key.
	other, _ := testCodec(t)
	if _, err := other.Decode(s); !errors.Is(err, ErrInvalid) {
		t.Fatalf("another key: %v", err)
	}
}

func TestKeyPersists(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := a.Encode(Cursor{Mode: Polling, Limit: 5})
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Decode(s); err != nil {
		t.Fatalf("a reopened codec refuses its cursor: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, "cursor.key"))
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	os.WriteFile(filepath.Join(dir, "cursor.key"), []byte("short"), 0o600)
	if _, err := Open(dir); err == nil {
		t.Fatal("a short key file was accepted")
	}
}

func TestSpill(t *testing.T) {
	c, dir := testCodec(t)
	long := strings.Repeat("x", 100)
	var f strings.Builder
	for i := 0; f.Len() < 4096; i++ {
		f.WriteString(`actor.id eq "` + string(rune('a'+i%26)) + long[:i%50] + `" or `)
	}
	cur := Cursor{Mode: Bounded, Filter: f.String(), Q: "keyword", Limit: 7}
	s, err := c.Encode(cur)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) > 200 {
		t.Fatalf("a spilled cursor is %d chars", len(s))
	}
	got, err := c.Decode(s)
	if err != nil || got.Filter != cur.Filter || got.Q != cur.Q {
		t.Fatalf("%v %q", err, got.Q)
	}
	// Same query again: same file, same cursor.
	s2, _ := c.Encode(cur)
	if s2 != s {
		t.Fatal("encoding the same cursor twice differs")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "cursors", "*", "*.json"))
	if len(files) != 1 {
		t.Fatalf("%d spill files", len(files))
	}
	// An edited spill file is noticed.
	b, _ := os.ReadFile(files[0])
	os.WriteFile(files[0], bytes.Replace(b, []byte("actor.id"), []byte("target.id"), 1), 0o600)
	if _, err := c.Decode(s); err == nil || !strings.Contains(err.Error(), "changed") {
		t.Fatalf("edited spill file: %v", err)
	}
	os.Remove(files[0])
	if _, err := c.Decode(s); err == nil {
		t.Fatal("missing spill file accepted")
	}
}

func FuzzDecode(f *testing.F) {
	c, err := NewCodec(bytes.Repeat([]byte{7}, 32), nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, cur := range []Cursor{{Mode: Polling}, {Mode: Bounded, Filter: "a eq 1", HasPos: true}} {
		s, _ := c.Encode(cur)
		f.Add(s)
	}
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, s string) {
		cur, err := c.Decode(s)
		if err != nil {
			return
		}
		// Whatever decodes must encode back to something that decodes the same.
		s2, err := c.Encode(cur)
		if err != nil {
			t.Fatal(err)
		}
		again, err := c.Decode(s2)
		if err != nil || again != cur {
			t.Fatalf("re-encoding changed the cursor: %v", err)
		}
	})
}

// incompressible returns n printable bytes that deflate cannot shrink much.
func incompressible(n int) string {
	b := make([]byte, n)
	x := uint64(88172645463325252)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(33 + x%90)
	}
	return string(b)
}
