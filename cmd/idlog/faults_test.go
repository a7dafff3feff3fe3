package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/ingest"
)

// mountTmpfs mounts a tmpfs of size (e.g. "12m") in a temporary directory
// for the test, or skips the test where mounting is not permitted.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the full-disk test mounts a tmpfs: Linux only")
	}
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("the full-disk test mounts a %s tmpfs and cannot here (it needs root or CAP_SYS_ADMIN): %v %s", size, err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// serveAt runs 'idlog serve' in-process on the store st with data dir dir
// and returns its URL and a stop function (also run at cleanup).
func serveAt(t *testing.T, dir, st string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }},
			serveConfig{addr: "127.0.0.1:0", storeURL: st, dataDir: dir, bodyLimit: 64 << 20,
				queryTimeout: 30 * time.Second, shutdownTimeout: 5 * time.Second}, func(u string) { ready <- u })
	}()
	var url string
	select {
	case url = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	t.Cleanup(stop)
	return url, stop
}

// push POSTs body and returns the status, Retry-After and body of the answer.
func push(t *testing.T, url, token string, body []byte) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/api/v1/logs", bytes.NewReader(body))
	req.Header.Set("Authorization", "SSWS "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), b
}

// fill writes zeros into path until the filesystem is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	// The last bytes, one at a time.
	for {
		if _, err := f.Write(buf[:1]); err != nil {
			break
		}
	}
}

// TestFullDisk: with the store on a small filesystem that fills up, a push
// is answered 503 in Okta's shape with Retry-After; what was acknowledged
// before stays stored and readable; once space is freed the same server
// stores the resent batch and the rest, every event exactly once.
func TestFullDisk(t *testing.T) {
	mnt := mountTmpfs(t, "96m")
	st := "duckdb:" + filepath.Join(mnt, "events.duckdb")
	r := idlog(t, nil, "", "token", "create", "--data-dir", mnt, "--name", "pusher", "--scope", "admin")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	token := strings.TrimSpace(r.stdout)
	url, stop := serveAt(t, mnt, st)

	lines := bytes.SplitAfter(bytes.TrimSpace(simulatedOrg(t, 100, 30)), []byte("\n"))
	const batch = 500
	body := func(i int) []byte { return bytes.Join(lines[i*batch:min((i+1)*batch, len(lines))], nil) }
	nb := (len(lines) + batch - 1) / batch
	if nb < 6 {
		t.Fatalf("test premise: %d batches", nb)
	}
	acked := 0
	for i := range 3 {
		if code, _, b := push(t, url, token, body(i)); code != 200 {
			t.Fatalf("push %d before the disk is full: %d %s", i, code, b)
		}
		acked = i + 1
	}
	filler := filepath.Join(mnt, "filler")
	fill(t, filler)

	// Full: every push is refused as temporary, in Okta's shape.
	refused := 0
	i := acked
	for ; i < nb && refused == 0; i++ {
		code, retry, b := push(t, url, token, body(i))
		if code == 200 {
			continue // DuckDB had room left in its own blocks
		}
		refused++
		var oe struct {
			ErrorCode    string `json:"errorCode"`
			ErrorSummary string `json:"errorSummary"`
			ErrorCauses  []any  `json:"errorCauses"`
		}
		if code != 503 || retry == "" || json.Unmarshal(b, &oe) != nil || oe.ErrorCode != "E0000010" || !strings.Contains(oe.ErrorSummary, "disk is full") {
			t.Fatalf("push %d on a full disk: %d Retry-After %q %s", i, code, retry, b)
		}
		t.Logf("push %d on a full disk: %d Retry-After %s: %s", i, code, retry, oe.ErrorSummary)
	}
	if refused == 0 {
		t.Fatal("every push succeeded: the disk never filled")
	}
	failed := i - 1
	// Reads still answer, with every acknowledged event.
	if code, b := get(t, url+"/api/idlog/v1/stats", token); code != 200 || !strings.Contains(b, `"events":`) {
		t.Errorf("stats on a full disk: %d %s", code, b)
	}

	// Free the space: the same server takes the refused batch and the rest.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _, b := push(t, url, token, body(failed))
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after space was freed the resent batch is still refused: %d %s", code, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for j := failed + 1; j < nb; j++ {
		if code, _, b := push(t, url, token, body(j)); code != 200 {
			t.Fatalf("push %d after space was freed: %d %s", j, code, b)
		}
	}
	stop()

	got := storedEvents(t, st) // fails on a uuid stored twice or an event that does not decode
	if len(got) != len(lines) {
		t.Errorf("the store holds %d events, %d were pushed", len(got), len(lines))
	}
	for _, l := range lines {
		e, err := ingest.ParseEvent(bytes.TrimSpace(l))
		if err != nil {
			t.Fatal(err)
		}
		if raw, ok := got[e.UUID]; !ok || !bytes.Equal(raw, e.Raw) {
			t.Fatalf("event %s is missing or changed", e.UUID)
		}
	}
}
