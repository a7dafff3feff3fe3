package duckdb

import (
	"bytes"
	"maps"
	"testing"

	"github.com/idlog/idlog/internal/event"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store/storetest"
)

// checkTokenHashes fails unless appendTokenHashes finds every token
// filter.Tokens finds in raw, and nothing but tokens of raw's values
// (compared as hashes).
func checkTokenHashes(t *testing.T, raw []byte) {
	t.Helper()
	doc, err := filter.DecodeJSON(raw)
	if err != nil {
		return
	}
	got := map[uint64]bool{}
	for _, h := range appendTokenHashes(nil, raw) {
		got[h] = true
	}
	want := map[uint64]bool{}
	for _, tok := range filter.Tokens(doc) {
		h := tokenHash([]byte(tok))
		want[h] = true
		if !got[h] {
			t.Errorf("%s: token %q missing", raw, tok)
		}
	}
	if d, err := event.Walk(raw); err == nil {
		// The walked event's hashes are the text's, as a set.
		fromDoc := map[uint64]bool{}
		for _, h := range appendDocTokenHashes(nil, d) {
			fromDoc[h] = true
		}
		if !maps.Equal(fromDoc, got) {
			t.Errorf("%s: %d hashes from the walked event, %d from the text", raw, len(fromDoc), len(got))
		}
	}
	if d, err := event.Walk(raw); err == nil && !d.Dup {
		// Only a repeated key may add tokens the decoded event lacks.
		for h := range got {
			if !want[h] {
				t.Errorf("%s: a hash (%x) of no token", raw, h)
				break
			}
		}
	}
}

func TestTokenHashes(t *testing.T) {
	for _, raw := range []string{
		`{}`,
		`{"a":"Hello World"}`,
		`{"uuid":"4b301e44-8ece-11f1-a346-db22c99ef6c4","n":-1.5E3,"b":true,"f":false,"z":null}`,
		`{"k":"XOxBw-2JIRnCFd0gG0GjHAAABjY","l":["A B","c--d",{"x":"Émile Zoë"}]}`,
		`{"esc":"a\"b\\c\u0041\u00e9","kelvin":"\u212aelvin","key\"q":"v"}`,
		`{"a" : [ 1 , 2.5e-3 , "x:y@z.com/p?q=1" ] , "b" : { "c" : "" } }`,
		`{"dup":"first","dup":"second"}`,
		`{"ws":"  leading and trailing  ","sep":"a,b;c|d","ip":"2001:db8::1"}`,
		`{"bad":"\ud800x","ctl":"tab\there"}`,
	} {
		checkTokenHashes(t, []byte(raw))
	}
	for _, e := range storetest.Dataset() {
		checkTokenHashes(t, e.Raw)
	}
	for _, e := range storetest.EdgeCases() {
		checkTokenHashes(t, e.Raw)
	}
}

func FuzzTokenHashes(f *testing.F) {
	for _, s := range []string{`{"a":"Hello-World x@y.z"}`, `{"n":[1,-2E5,true,null]}`, `{"e":"\u00c9\u212a\\"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkTokenHashes(t, raw) })
}

// TestASCIITokenHashes: the one-pass hashing of an ASCII value gives the
// same set of hashes as lower-casing it and cutting it into tokens.
func TestASCIITokenHashes(t *testing.T) {
	for _, s := range []string{
		"", "a", "-", "--", "a-", "-a", "a--b", "Hello World", "XOxBw-2JIRnCFd0gG0GjHAAABjY",
		"x:y@z.com/p?q=1", "  leading and trailing  ", "a,b;c|d", "2001:db8::1",
		"user.session.start", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
		"-9.5E-3", "a - b -c- d-", "UPPER-lower-MiXeD_9",
	} {
		checkASCIITokenHashes(t, []byte(s))
	}
	for _, e := range storetest.Dataset() {
		d, err := event.Walk(e.Raw)
		if err != nil {
			t.Fatal(err)
		}
		for i := range d.Nodes {
			if d.Nodes[i].Kind == event.KindString {
				if s := d.Str(i); plainText(s) {
					checkASCIITokenHashes(t, []byte(s))
				}
			}
		}
	}
}

func checkASCIITokenHashes(t *testing.T, s []byte) {
	t.Helper()
	set := func(hs []uint64) map[uint64]bool {
		m := map[uint64]bool{}
		for _, h := range hs {
			m[h] = true
		}
		return m
	}
	got := set(appendASCIITokenHashes(nil, s))
	want := set(appendValueTokenHashes(nil, bytes.ToLower(s)))
	if !maps.Equal(got, want) {
		t.Errorf("%q: %d hashes, want %d", s, len(got), len(want))
	}
}

func FuzzASCIITokenHashes(f *testing.F) {
	f.Add([]byte("Hello-World x@y.z a--b -"))
	f.Fuzz(func(t *testing.T, s []byte) {
		for _, c := range s {
			if c >= 0x80 {
				return
			}
		}
		checkASCIITokenHashes(t, s)
	})
}
