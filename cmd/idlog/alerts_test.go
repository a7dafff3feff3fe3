package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServeAlerts: a server raises an alert from the built-in library on
// events pushed to it, posts it to the webhook, lists it through
// 'idlog alerts', takes an acknowledgement, and still has it (with the
// acknowledgement) after a restart.
func TestServeAlerts(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	defer hook.Close()

	dir := t.TempDir()
	mk := func(scope string) string {
		return strings.TrimSpace(idlog(t, nil, "", "token", "create", "--data-dir", dir, "--name", scope, "--scope", scope).stdout)
	}
	read, write, admin := mk("logs.read"), mk("logs.write"), mk("admin")
	analyst := strings.TrimSpace(idlog(t, nil, "", "token", "create", "--data-dir", dir, "--name", "analyst", "--role", "analyst").stdout)
	storeArgs := []string{"--addr", "127.0.0.1:0", "--store", "duckdb:" + filepath.Join(dir, "events.duckdb"), "--data-dir", dir}
	base, _, stop := startServe(t, nil, append(storeArgs, "--alert-webhook", hook.URL)...)

	at := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339Nano)
	ev := fmt.Sprintf(`{"uuid":"tok-1","published":%q,"eventType":"system.api_token.create","version":"0","severity":"INFO","displayMessage":"Create API token","actor":{"id":"00uadmin","type":"User","alternateId":"admin@example.com"},"outcome":{"result":"SUCCESS"}}`, at)
	req, _ := http.NewRequest("POST", base+"/api/v1/logs", strings.NewReader(ev+"\n"))
	req.Header.Set("Authorization", "SSWS "+write)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("push: %d %s", resp.StatusCode, b)
	}

	r := idlog(t, nil, "", "alerts", "--server", base, "--token", read, "--output", "ndjson")
	if r.code != 0 {
		t.Fatalf("alerts: %d %s", r.code, r.stderr)
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var a struct {
			ID, Rule string
			UUIDs    []string
		}
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if strings.Join(a.UUIDs, ",") != "tok-1" {
			t.Errorf("alert %s has events %v", a.Rule, a.UUIDs)
		}
		if a.Rule == "api-token-created" {
			ids = append(ids, a.ID)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("no api-token-created alert: %s", r.stdout)
	}
	// Changing an alert's status is an analyst's (an ingest token cannot).
	if r := idlog(t, nil, "", "alerts", "ack", ids[0], "--server", base, "--token", write); r.code == 0 || !strings.Contains(r.stderr, "403") {
		t.Errorf("ack with an ingest token: %d %s", r.code, r.stderr)
	}
	r = idlog(t, nil, "", "alerts", "ack", ids[0], "--server", base, "--token", analyst, "--note", "expected")
	if r.code != 0 || !strings.Contains(r.stdout, "acknowledged") {
		t.Fatalf("ack: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := idlog(t, nil, "", "alerts", "ack", ids[0], "--server", base, "--token", read); r.code == 0 || !strings.Contains(r.stderr, "403") {
		t.Errorf("ack with a read token: %d %s", r.code, r.stderr)
	}
	code, metrics := get(t, base+"/metrics", admin)
	if code != 200 || !strings.Contains(metrics, `idlog_alerts_total{rule="api-token-created",severity="medium"} 1`) {
		t.Errorf("metrics: %d %s", code, metrics)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	n := 0
	for _, m := range got {
		if m["rule"] == "api-token-created" && strings.Contains(fmt.Sprint(m["text"]), "API token created") {
			n++
		}
	}
	mu.Unlock()
	if n != 1 {
		t.Errorf("webhook got %d api-token-created alerts: %v", n, got)
	}
	// Stopped: the data directory still has the alert, acknowledged.
	r = idlog(t, nil, "", "alerts", "--data-dir", dir, "--rule", "api-token-created")
	if r.code != 0 || !strings.Contains(r.stdout, ids[0]) || !strings.Contains(r.stdout, "acknowledged") {
		t.Errorf("after stop: %d %s %s", r.code, r.stdout, r.stderr)
	}
}
