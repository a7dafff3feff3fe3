package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/ingest"
)

func ev(uuid string) string {
	return fmt.Sprintf(`{"uuid":%q,"published":"2026-03-02T10:00:00.000Z","eventType":"user.session.start","actor":{"id":"00u1"}}`, uuid)
}

// summaryRE reads import's summary line.
var summaryRE = regexp.MustCompile(`^imported ([\d,]+), duplicates ([\d,]+), rejected ([\d,]+) \(`)

func summaryOf(t *testing.T, r result) string {
	t.Helper()
	m := summaryRE.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no summary in stdout %q (stderr %q)", r.stdout, r.stderr)
	}
	return strings.ReplaceAll(m[1]+" "+m[2]+" "+m[3], ",", "")
}

// eventBridge wraps a LogEvent the way Okta's Log Streaming delivers it to AWS.
func eventBridge(event string) string {
	return `{"version":"0","id":"1","detail-type":"SystemLog","source":"aws.partner/okta.com/acme/idlog","account":"123456789012","time":"2026-03-02T10:00:01Z","region":"us-east-1","resources":[],"detail":` + event + `}`
}

func lines(b []byte) int { return bytes.Count(b, []byte("\n")) }

func TestImportSimulatedTwice(t *testing.T) {
	data := simulated(t, 2)
	n := lines(data)
	file := writeFile(t, "sim.ndjson", data)
	st := tempStore(t)

	r := idlog(t, nil, "", "import", "--store", st, file)
	if r.code != 0 || summaryOf(t, r) != fmt.Sprintf("%d 0 0", n) {
		t.Fatalf("first import: exit %d, stdout %q, stderr %q; want %d imported", r.code, r.stdout, r.stderr, n)
	}
	// Short, non-terminal imports print no progress lines.
	if r.stderr != "" {
		t.Errorf("stderr %q, want nothing", r.stderr)
	}
	r = idlog(t, nil, "", "import", file, "--store", st) // flags after the file work too
	if r.code != 0 || summaryOf(t, r) != fmt.Sprintf("0 %d 0", n) {
		t.Fatalf("second import: exit %d, %q %q; want all %d duplicates", r.code, r.stdout, r.stderr, n)
	}
	r = idlog(t, nil, "", "stats", "--store", st)
	if r.code != 0 || !regexp.MustCompile(`(?m)^events\s+`+thousands(int64(n))+`$`).MatchString(r.stdout) {
		t.Fatalf("stats after import: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
}

func TestImportFormats(t *testing.T) {
	nd := ev("a") + "\n" + ev("b") + "\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(nd))
	zw.Close()
	tests := []struct {
		name, file, stdin string
		data              []byte
	}{
		{name: "ndjson file", file: "e.ndjson", data: []byte(nd)},
		{name: "gzip by magic bytes, any name", file: "e.data", data: gz.Bytes()},
		{name: "json array", file: "page.json", data: []byte("[" + ev("a") + ",\n" + ev("b") + "]")},
		{name: "stdin", stdin: nd},
		{name: "gzip stdin", stdin: gz.String()},
		{name: "EventBridge records", file: "eb.ndjson", data: []byte(eventBridge(ev("a")) + "\n" + eventBridge(ev("b")) + "\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arg := "-"
			if tt.file != "" {
				arg = writeFile(t, tt.file, tt.data)
			}
			r := idlog(t, nil, tt.stdin, "import", "--store", tempStore(t), arg)
			if r.code != 0 || summaryOf(t, r) != "2 0 0" {
				t.Fatalf("exit %d, %q %q", r.code, r.stdout, r.stderr)
			}
		})
	}
}

func TestImportRejections(t *testing.T) {
	bad := strings.Join([]string{
		ev("a"),
		`{"uuid":"b","eventType":"x"}`,
		"",
		`{"uuid":"c","published":"yesterday","eventType":"x"}`,
		ev("a"),
		`{"uuid":`,
		ev("d"),
	}, "\n")
	nd := writeFile(t, "bad.ndjson", []byte(bad))
	arr := writeFile(t, "page.json", []byte("["+ev("e")+`,{"uuid":"f"},`+ev("g")+"]"))
	st := tempStore(t)
	r := idlog(t, nil, "", "import", "--store", st, nd, arr)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (stderr %q)", r.code, r.stderr)
	}
	if got := summaryOf(t, r); got != "4 1 4" {
		t.Errorf("summary %q, want 4 imported, 1 duplicate, 4 rejected", got)
	}
	for _, want := range []string{
		"idlog import: " + nd + ":2: missing published\n",
		"idlog import: " + nd + `:4: published "yesterday" is not an RFC 3339 time`,
		"idlog import: " + nd + ":6: invalid JSON: the event ends early, after 8 bytes\n",
		"idlog import: " + arr + ": event #1: missing published and eventType\n",
		"idlog: 4 events were rejected; the valid events were stored\n",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	// The valid ones are stored.
	q := idlog(t, nil, "", "query", "--store", st, "--since", "2026-03-01", "--until", "2026-03-03", "--all")
	if q.code != 0 || lines([]byte(q.stdout)) != 4 {
		t.Errorf("query after import: exit %d, %d events, want 4: %s", q.code, lines([]byte(q.stdout)), q.stderr)
	}
}

func TestImportReasonsAreCapped(t *testing.T) {
	in := strings.Repeat("nope\n", 12) + ev("a") + "\n"
	r := idlog(t, nil, in, "import", "--store", tempStore(t), "-")
	if r.code != 1 || summaryOf(t, r) != "1 0 12" {
		t.Fatalf("exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	if n := strings.Count(r.stderr, "idlog import: stdin:"); n != maxReasons {
		t.Errorf("%d reasons printed, want %d:\n%s", n, maxReasons, r.stderr)
	}
	if !strings.Contains(r.stderr, "stdin:1: invalid JSON at column 1 of the event: \"nope\" is not a JSON value") ||
		!strings.Contains(r.stderr, "… and 7 more") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestImportUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import"}, 2, "name at least one FILE"},
		{[]string{"import", "--nope", "x"}, 2, "flag provided but not defined"},
		{[]string{"import", "/does/not/exist.ndjson"}, 1, "no such file"},
		{[]string{"import", "--store", "nosuch:x", "-"}, 1, `unknown store "nosuch:x"`},
		{[]string{"import", "--store", "duckdb:x", "--server", "http://h", "-"}, 2, "exclude each other"},
		{[]string{"import", "--server", "localhost:8080", "--token", "t", "-"}, 2, "not an http:// or https:// URL"},
		{[]string{"import", "--server", "http://localhost:8080", "-"}, 2, "--server needs an API token"},
		{[]string{"import", "--batch", "-1", "-"}, 2, "--batch -1: give a positive number"},
	}
	for _, tt := range tests {
		r := idlog(t, nil, "", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tt.args, r.code, r.stderr, tt.code, tt.want)
		}
	}
	if r := idlog(t, nil, "", "import", "-h"); r.code != 0 || !strings.Contains(r.stderr, "imported N, duplicates D, rejected R") {
		t.Errorf("import -h: exit %d %q", r.code, r.stderr)
	}
}

// TestImportBatch: --batch sets how many events are stored at a time (a
// progress line follows each stored batch); 0 leaves it to the store.
func TestImportBatch(t *testing.T) {
	var in strings.Builder
	for i := range 25 {
		in.WriteString(ev(fmt.Sprintf("b%02d", i)) + "\n")
	}
	file := writeFile(t, "batch.ndjson", []byte(in.String()))
	for _, tc := range []struct {
		batch   string
		batches int
	}{
		{"10", 3},
		{"25", 1},
		{"1", 25},
		{"0", 1},
	} {
		t.Run("batch "+tc.batch, func(t *testing.T) {
			r := idlog(t, nil, "", "import", "--store", tempStore(t), "--progress-every", "1ns", "--batch", tc.batch, file)
			if r.code != 0 || summaryOf(t, r) != "25 0 0" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 25 imported", r.code, r.stdout, r.stderr)
			}
			if got := strings.Count(r.stderr, "events read"); got != tc.batches {
				t.Errorf("%d progress lines, want one for each of %d batches:\n%s", got, tc.batches, r.stderr)
			}
		})
	}
}

func TestProgressPrinter(t *testing.T) {
	var buf bytes.Buffer
	p := newProgressPrinter(&buf, false)
	if p.tty {
		t.Fatal("a buffer is not a terminal")
	}
	p.tty, p.every = true, 0
	f := p.forFile("a.ndjson", ingest.Result{Accepted: 10, RejectedCount: 1})
	f(ingest.Progress{Events: 2500, Bytes: 3 << 20, Accepted: 2000, Duplicates: 400, Rejected: 100})
	p.done()
	out := buf.String()
	for _, want := range []string{"\ra.ndjson: 2,500 events read (", "3.0 MiB): imported 2,010, duplicates 400, rejected 101\x1b[K", "\r\x1b[K"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress %q lacks %q", out, want)
		}
	}
	buf.Reset()
	p = newProgressPrinter(&buf, false) // not a terminal: one line per 10 s
	f = p.forFile("b", ingest.Result{})
	f(ingest.Progress{Events: 1})
	if buf.Len() != 0 {
		t.Errorf("printed %q within the first 10 s", buf.String())
	}
	if f := newProgressPrinter(&buf, true).forFile("c", ingest.Result{}); f != nil {
		t.Error("--quiet still reports progress")
	}
}

// cancelAfter cancels a context when the reader under it is drained, as
// Ctrl-C would in the middle of a long import.
type cancelAfter struct {
	r      io.Reader
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		c.cancel()
		select {} // a terminal that never sends EOF
	}
	return n, err
}

func TestImportInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var in strings.Builder
	for i := range 12000 {
		in.WriteString(ev(fmt.Sprint(i)) + "\n")
	}
	var out, errb bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run(ctx, &env{stdin: &cancelAfter{strings.NewReader(in.String()), cancel}, stdout: &out, stderr: &errb,
			getenv: func(string) string { return "" }}, []string{"import", "--store", tempStore(t), "-"})
	}()
	select {
	case code := <-done:
		if code != 130 || !strings.Contains(errb.String(), "import interrupted") {
			t.Errorf("exit %d, stderr %q", code, errb.String())
		}
		// Whole batches only: none, 5,000 or 10,000 of the 12,000 events.
		if m := summaryRE.FindStringSubmatch(out.String()); m == nil || (m[1] != "0" && m[1] != "5,000" && m[1] != "10,000") {
			t.Errorf("summary %q", out.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("import did not stop on cancel")
	}
}
