package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/backup"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

// TestBackupUnderPushLoad takes a backup through a server while clients
// push, restores it into a new store, and re-sends what the original
// stored after the backup's seq: the restored store then holds every event
// of the original exactly once. The tokens come back with the backup.
func TestBackupUnderPushLoad(t *testing.T) {
	url, token, st := testServer(t)
	data := simulatedOrg(t, 100, 30) // the crash test's data (built once)
	batches := bytes.SplitAfter(bytes.TrimSpace(data), []byte("\n"))
	// Push in batches of 50 lines from two clients until told to stop.
	var pushed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c * 50; i < len(batches); i += 100 {
				select {
				case <-stop:
					return
				default:
				}
				body := bytes.Join(batches[i:min(i+50, len(batches))], nil)
				req, _ := http.NewRequest("POST", url+"/api/v1/logs", bytes.NewReader(body))
				req.Header.Set("Authorization", "SSWS "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("push: %s", resp.Status)
					return
				}
				pushed.Add(1)
			}
		}()
	}
	for pushed.Load() < 5 {
		runtimeGosched()
	}
	dir := t.TempDir()
	bdir := filepath.Join(dir, "backup")
	r := idlog(t, nil, "", "backup", "--to", bdir, "--server", url, "--token", token)
	pushedAtBackup := pushed.Load()
	close(stop)
	wg.Wait()
	if r.code != 0 {
		t.Fatalf("backup: %d %s", r.code, r.stderr)
	}
	m := regexp.MustCompile(`(\d+) events up to ingest seq (\d+)`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("backup output %q does not name the seq", r.stdout)
	}
	seq, _ := strconv.ParseInt(m[2], 10, 64)
	man, err := backup.Verify(bdir)
	if err != nil {
		t.Fatal(err)
	}
	if man.Seq != seq || strconv.FormatInt(man.Events, 10) != m[1] {
		t.Errorf("backup.json %+v, output %q", man.BackupInfo, r.stdout)
	}
	t.Logf("backup at seq %d after %d pushed batches (%d at the end)", seq, pushedAtBackup, pushed.Load())
	if _, err := os.Stat(filepath.Join(bdir, backup.DataDir, auth.FileName)); err != nil {
		t.Errorf("the backup lacks the tokens: %v", err)
	}

	// Restore into a new place.
	rdir := filepath.Join(dir, "restored")
	rst := "duckdb:" + filepath.Join(rdir, "events.duckdb")
	r = idlog(t, nil, "", "restore", "--from", bdir, "--store", rst)
	if r.code != 0 || !strings.Contains(r.stdout, "up to ingest seq "+m[2]) {
		t.Fatalf("restore: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if p, err := auth.OpenTokens(rdir).Lookup(token); err != nil || !p.Has(auth.ScopeAdmin) {
		t.Errorf("the restored tokens do not know the admin token: %v", err)
	}

	// The original, read in this process beside its server.
	ctx := context.Background()
	orig, err := storeurl.Open(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	all, err := orig.Query(ctx, store.Query{Order: store.BySeq})
	orig.Close()
	if err != nil {
		t.Fatal(err)
	}
	var after bytes.Buffer
	for _, e := range all {
		if e.Seq > seq {
			after.Write(e.Raw)
			after.WriteByte('\n')
		}
	}
	if seq >= int64(len(all)) {
		t.Errorf("the pushes ended before the backup (seq %d of %d): it was not taken under load", seq, len(all))
	}
	restored := storedEvents(t, rst)
	if int64(len(restored)) != seq {
		t.Fatalf("restored store holds %d events, the backup names seq %d", len(restored), seq)
	}
	for _, e := range all {
		if _, ok := restored[e.UUID]; ok != (e.Seq <= seq) {
			t.Fatalf("event seq %d (%s): in the restored store %v, backup seq %d", e.Seq, e.UUID, ok, seq)
		}
	}
	// Re-run from the named seq, then everything again: each event once.
	if r := idlog(t, nil, after.String(), "import", "--store", rst, "-"); r.code != 0 {
		t.Fatalf("import after the seq: %d %s", r.code, r.stderr)
	}
	if r := idlog(t, nil, string(data), "import", "--store", rst, "-"); r.code != 0 {
		t.Fatalf("import all: %d %s", r.code, r.stderr)
	}
	final := storedEvents(t, rst) // fails on a uuid stored twice
	origSet := map[string]bool{}
	for _, e := range all {
		origSet[e.UUID] = true
	}
	if len(final) != lines(data) {
		t.Errorf("after re-sending, the restored store holds %d events, the data has %d", len(final), lines(data))
	}
	for u := range origSet {
		if _, ok := final[u]; !ok {
			t.Fatalf("event %s of the original is not in the restored store", u)
		}
	}

	// A store with events is not replaced without --force.
	r = idlog(t, nil, "", "restore", "--from", bdir, "--store", rst)
	if r.code != 1 || !strings.Contains(r.stderr, "holds "+strconv.Itoa(len(final))+" events; add --force") {
		t.Errorf("restore over a full store: %d %q", r.code, r.stderr)
	}
	r = idlog(t, nil, "", "restore", "--from", bdir, "--store", rst, "--force")
	if r.code != 0 {
		t.Fatalf("restore --force: %d %s", r.code, r.stderr)
	}
	if got := storedEvents(t, rst); int64(len(got)) != seq {
		t.Errorf("after restore --force: %d events, want %d", len(got), seq)
	}

	// A damaged backup is refused before anything is replaced.
	os.WriteFile(filepath.Join(bdir, backup.DataDir, auth.FileName), []byte("{}"), 0o600)
	r = idlog(t, nil, "", "restore", "--from", bdir, "--store", "duckdb:"+filepath.Join(dir, "third", "events.duckdb"))
	if r.code != 1 || !strings.Contains(r.stderr, "tokens.json is damaged") {
		t.Errorf("restore of a damaged backup: %d %q", r.code, r.stderr)
	}

	// A backup through the server needs the admin scope.
	rd := idlog(t, nil, "", "token", "create", "--data-dir", filepath.Dir(strings.TrimPrefix(st, "duckdb:")), "--name", "reader", "--scope", "logs.read")
	r = idlog(t, nil, "", "backup", "--to", filepath.Join(dir, "b2"), "--server", url, "--token", strings.TrimSpace(rd.stdout))
	if r.code != 1 || !strings.Contains(r.stderr, "403") || !strings.Contains(r.stderr, "admin scope") {
		t.Errorf("backup with a read token: %d %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "b2")); err == nil {
		t.Error("a refused backup left its directory")
	}
}

// TestBackupDirect backs up a store nothing holds, and refuses an existing target.
func TestBackupDirect(t *testing.T) {
	dir := t.TempDir()
	st := "duckdb:" + filepath.Join(dir, "store", "events.duckdb")
	data := simulated(t, 1)
	if r := idlog(t, nil, string(data), "import", "--store", st, "-"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	idlog(t, nil, "", "token", "create", "--data-dir", filepath.Join(dir, "store"), "--name", "a", "--scope", "admin")
	r := idlog(t, nil, "", "backup", "--to", filepath.Join(dir, "b"), "--store", st)
	if r.code != 0 || !strings.Contains(r.stdout, strconv.Itoa(lines(data))+" events up to ingest seq "+strconv.Itoa(lines(data))) {
		t.Fatalf("backup: %d %q %q", r.code, r.stdout, r.stderr)
	}
	man, err := backup.Verify(filepath.Join(dir, "b"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range man.Files {
		names = append(names, f.Name)
	}
	js, _ := json.Marshal(names)
	if !strings.Contains(string(js), `"data/tokens.json"`) || !strings.Contains(string(js), `"events.duckdb"`) || strings.Contains(string(js), "data/events.duckdb") {
		t.Errorf("backup files: %s", js)
	}
	r = idlog(t, nil, "", "backup", "--to", filepath.Join(dir, "b"), "--store", st)
	if r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("backup over an existing directory: %d %q", r.code, r.stderr)
	}
}

func runtimeGosched() { time.Sleep(5 * time.Millisecond) }
