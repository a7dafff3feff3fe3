package main

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestImportWithReadToken: a token that may only read gets a 403 for every
// batch; the summary counts the events not stored and says why.
func TestImportWithReadToken(t *testing.T) {
	url, _, st := testServer(t)
	rd := idlog(t, nil, "", "token", "create", "--data-dir", filepath.Dir(strings.TrimPrefix(st, "duckdb:")), "--name", "reader", "--scope", "logs.read")
	data := simulated(t, 1)
	file := writeFile(t, "day.ndjson", data)
	r := idlog(t, nil, "", "import", "--server", url, "--token", strings.TrimSpace(rd.stdout), file)
	if r.code != 1 || summaryOf(t, r) != "0 0 0" {
		t.Fatalf("import with a read token: %d %q %q", r.code, r.stdout, r.stderr)
	}
	want := "not stored " + thousands(int64(lines(data))) + " of " + file + ": the server refused them: the token may not store events"
	if !strings.Contains(r.stdout, want) {
		t.Errorf("stdout %q lacks %q", r.stdout, want)
	}
	// From a pipe the total is unknown: the summary says from where.
	r = idlog(t, nil, string(data), "import", "--server", url, "--token", strings.TrimSpace(rd.stdout), "-")
	if r.code != 1 || !strings.Contains(r.stdout, "not stored: the rest of stdin, from event 1 on: the server refused them") {
		t.Errorf("import - with a read token: %d %q %q", r.code, r.stdout, r.stderr)
	}
}

// TestImportNotJSON: a file of random bytes, or any text that is not JSON,
// is named as such at once instead of being rejected line by line.
func TestImportNotJSON(t *testing.T) {
	random := make([]byte, 1<<20)
	rand.Read(random)
	random[0] = '{' // even when it happens to start like JSON
	st := tempStore(t)
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"random.bin", random, "holds"},
		{"notes.txt", []byte("user.session.start at 10:00\nanother line\n"), `it starts with "user.session", and no line`},
		{"events.csv", []byte("uuid,published,eventType\n1,2026-01-01T00:00:00Z,x\n"), `it starts with "uuid,publish"`},
	} {
		file := writeFile(t, c.name, c.data)
		r := idlog(t, nil, "", "import", "--store", st, file)
		if r.code != 1 || !strings.Contains(r.stderr, "is not NDJSON or JSON") || !strings.Contains(r.stderr, c.want) || strings.Contains(r.stderr, "rejected;") {
			t.Errorf("%s: %d %q %q", c.name, r.code, r.stdout, r.stderr)
		}
	}
	// Valid inputs still pass: leading blanks, a byte-order mark, an array.
	for _, data := range []string{"\n\n  " + ev("a1") + "\n", "\ufeff" + ev("a2") + "\n", "[" + ev("a3") + "]"} {
		file := writeFile(t, "ok.json", []byte(data))
		if r := idlog(t, nil, "", "import", "--store", st, file); r.code != 0 {
			t.Errorf("import %q: %d %q", data, r.code, r.stderr)
		}
		os.Remove(file)
	}
}

// TestFlowsNothingFound: an unknown user in a range with events is told
// apart from a range with no events, which names the range the store holds.
func TestFlowsNothingFound(t *testing.T) {
	st := tempStore(t)
	if r := idlog(t, nil, string(simulated(t, 2)), "import", "--store", st, "-"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	since, until := simEnd.Add(-48*time.Hour).Format(time.RFC3339), simEnd.Format(time.RFC3339)
	r := idlog(t, nil, "", "flows", "--store", st, "--user", "nobody", "--since", since, "--until", until)
	if r.code != 0 || !strings.Contains(r.stderr, `no events for --user "nobody" between`) || !strings.Contains(r.stderr, "that range holds other events") {
		t.Errorf("unknown user: %d %q", r.code, r.stderr)
	}
	r = idlog(t, nil, "", "flows", "--store", st, "--user", "nobody", "--since", "2001-01-01", "--until", "2001-02-01")
	if r.code != 0 || !strings.Contains(r.stderr, "no events between 2001-01-01 00:00Z and 2001-02-01 00:00Z; the store holds events from "+simEnd.Add(-48*time.Hour).Format("2006-01-02")) {
		t.Errorf("empty range: %d %q", r.code, r.stderr)
	}
}
