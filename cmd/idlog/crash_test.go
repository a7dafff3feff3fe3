package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/chtest"
	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

// buildIdlog compiles the command into a temporary directory.
func buildIdlog(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "idlog")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// storedEvents reads every event of a store, checking that each decodes
// and is what ParseEvent makes of its own raw JSON.
func storedEvents(t *testing.T, url string) map[string]json.RawMessage {
	t.Helper()
	ctx := context.Background()
	st, err := storeurl.Open(ctx, url)
	if err != nil {
		t.Fatalf("reopening the store: %v", err)
	}
	defer st.Close()
	stats, err := st.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]json.RawMessage{}
	q := store.Query{Order: store.BySeq, Limit: 5000}
	rows := 0
	for {
		evs, err := st.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			rows++
			back, err := ingest.ParseEvent(e.Raw)
			if err != nil || back.UUID != e.UUID || !back.Published.Equal(e.Published) {
				t.Fatalf("stored event %s does not decode to itself: %v", e.UUID, err)
			}
			if _, dup := got[e.UUID]; dup {
				t.Fatalf("uuid %s stored twice", e.UUID)
			}
			got[e.UUID] = e.Raw
		}
		if len(evs) < q.Limit {
			break
		}
		last := evs[len(evs)-1]
		q.After = &store.Position{Published: last.Published, Seq: last.Seq}
	}
	if stats.Events != int64(rows) {
		t.Fatalf("Stats says %d events, a full scan finds %d", stats.Events, rows)
	}
	return got
}

// TestBinary runs the built command in its own processes: what an
// in-process run cannot show (a SIGKILL, a lock held by another process).
func TestBinary(t *testing.T) {
	bin := buildIdlog(t)
	t.Run("crash", func(t *testing.T) { testCrash(t, bin, "duckdb:"+filepath.Join(t.TempDir(), "events.duckdb"), true) })
	t.Run("crash-clickhouse", func(t *testing.T) {
		// The ClickHouse store: rows a killed insert left on the server are
		// stored but not visible, so the re-import counts them as
		// duplicates too; what must hold is every event once at the end.
		testCrash(t, bin, chtest.StartServer(t), false)
	})
	t.Run("locked", func(t *testing.T) { testLockedStore(t, bin) })
}

// testCrash kills 'idlog import' with SIGKILL half-way, then checks that the
// store opens, holds whole batches only (every stored event intact, counts
// agreeing), and that re-running the import stores every event exactly once.
func testCrash(t *testing.T, bin, url string, exactCounts bool) {
	data := simulatedOrg(t, 100, 30)
	want := map[string]json.RawMessage{}
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		e, err := ingest.ParseEvent(l)
		if err != nil {
			t.Fatal(err)
		}
		want[e.UUID] = e.Raw
	}
	file := writeFile(t, "big.ndjson", data)
	t.Logf("%d events, %d MB", len(want), len(data)>>20)

	// A progress line follows each stored batch: kill after the second,
	// with most of the input still to go.
	// Batches of 1,000 events, whatever the store prefers (ClickHouse asks
	// for 20,000, as many as the input holds), so that the kill lands with
	// most of the input still to go.
	cmd := exec.Command(bin, "import", "--store", url, "--progress-every", "1ns", "--batch", "1000", file)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(pipe)
	var stderr strings.Builder
	for n := 0; n < 2 && sc.Scan(); {
		stderr.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "events read") {
			n++
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	killedAfter := time.Since(start)
	go io.Copy(io.Discard, pipe)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("import was not killed: %v\n%s", err, stderr.String())
	}

	got := storedEvents(t, url)
	t.Logf("killed after %v with %d of %d events stored", killedAfter.Round(time.Millisecond), len(got), len(want))
	if len(got) >= len(want) {
		t.Fatalf("all %d events were stored before the kill: the test proves nothing; make the input larger", len(got))
	}
	for id, raw := range got {
		if w, ok := want[id]; !ok || !bytes.Equal(w, raw) {
			t.Fatalf("stored event %s is not the input's", id)
		}
	}
	if exactCounts { // the DuckDB store: its postings on disk agree with its rows
		checkPostings(t, bin, url, len(got))
	}

	out, err := exec.Command(bin, "import", "--store", url, file).Output()
	if err != nil {
		t.Fatalf("re-import: %v", err)
	}
	if exactCounts && !strings.HasPrefix(string(out), "imported "+thousands(int64(len(want)-len(got)))+", duplicates "+thousands(int64(len(got)))+", rejected 0") {
		t.Errorf("re-import said %q; want %d imported, %d duplicates", out, len(want)-len(got), len(got))
	}
	final := storedEvents(t, url)
	if len(final) != len(want) {
		t.Fatalf("after re-import %d events stored, want %d", len(final), len(want))
	}
	for id, raw := range want {
		if !bytes.Equal(final[id], raw) {
			t.Fatalf("event %s missing or changed after re-import", id)
		}
	}
	if exactCounts {
		checkPostings(t, bin, url, len(final))
	}
}

// testLockedStore checks the one-line message when a server holds the store.
func testLockedStore(t *testing.T, bin string) {
	dir := t.TempDir()
	url := "duckdb:" + filepath.Join(dir, "events.duckdb")
	srv := exec.Command(bin, "serve", "--store", url, "--data-dir", dir, "--addr", "127.0.0.1:0")
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.Contains(line, "serving") {
		t.Fatalf("serve said %q: %v", line, err)
	}
	go io.Copy(io.Discard, stdout)
	for _, args := range [][]string{
		{"stats", "--store", url},
		{"import", "--store", url, "-"},
		{"query", "--store", url},
		{"prune", "--store", url, "--before", "-90d"},
	} {
		r := idlog(t, nil, "", args...)
		want := "idlog: the store " + url + " is in use by another idlog process (an 'idlog serve'?); run this through it: --server http://HOST:PORT --token TOKEN (or IDLOG_SERVER, IDLOG_TOKEN)\n"
		if r.code != 1 || r.stderr != want {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", args[0], r.code, r.stderr, want)
		}
	}
}
