package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/detect"
	"github.com/idlog/idlog/internal/store"
)

const tokenRule = `
id: api-token
title: API token created
severity: medium
query: eventType eq "system.api_token.create"
dedup: 1h
`

func tokenEvent(i int, at time.Time) string {
	return fmt.Sprintf(`{"uuid":"tok-%d","published":%q,"eventType":"system.api_token.create","version":"0","severity":"INFO","displayMessage":"Create API token","actor":{"id":"00uadmin%d","type":"User","alternateId":"admin%d@example.com"},"outcome":{"result":"SUCCESS"}}`,
		i, at.Format(time.RFC3339Nano), i%2, i%2)
}

// TestAlertsOnPush: events pushed to POST /api/v1/logs raise alerts that
// GET /api/idlog/v1/alerts lists, POST …/alerts/{id} acknowledges, the
// webhook receives (after a failed attempt, retried) and /metrics counts;
// the alerts survive reopening their file.
func TestAlertsOnPush(t *testing.T) {
	var mu sync.Mutex
	var hooks []map[string]any
	calls := 0
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		hooks = append(hooks, m)
	}))
	defer hook.Close()

	r, err := detect.ParseRule([]byte(tokenRule), "test")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "alerts.ndjson")
	alerts, err := detect.OpenFileAlerts(path)
	if err != nil {
		t.Fatal(err)
	}
	runner, err := detect.NewRunner([]*detect.Rule{r}, alerts, detect.RunnerOptions{
		Webhook: &detect.Webhook{URL: hook.URL, Backoff: 10 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvStore(t, api.Options{Alerts: runner.Alerts(), ExtraMetrics: runner.WriteMetrics}, func(st store.Store) store.Store { return runner.Wrap(st) })

	now := time.Now().UTC().Add(-time.Hour)
	body := tokenEvent(1, now) + "\n" + tokenEvent(2, now.Add(time.Minute)) + "\n" + tokenEvent(3, now.Add(2*time.Minute)) + "\n"
	resp, b := e.do("POST", e.write, "/api/v1/logs", strings.NewReader(body), http.Header{"Content-Type": {"application/x-ndjson"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("push: %d %s", resp.StatusCode, b)
	}

	resp, b = e.get(e.read, "/api/idlog/v1/alerts")
	var list []detect.Alert
	if resp.StatusCode != 200 || json.Unmarshal(b, &list) != nil || len(list) != 2 {
		t.Fatalf("alerts: %d %s", resp.StatusCode, b)
	}
	// admin1 made tokens 1 and 3, admin0 token 2: newest first.
	if list[0].Group != "actor.alternateId=admin1@example.com" || list[0].Count != 2 || strings.Join(list[0].UUIDs, ",") != "tok-1,tok-3" {
		t.Errorf("first alert %+v", list[0])
	}
	// Paging: one at a time, with a next link.
	resp, _ = e.get(e.read, "/api/idlog/v1/alerts?limit=1")
	link := resp.Header.Get("Link")
	if !strings.Contains(link, "after="+list[0].ID) || !strings.Contains(link, `rel="next"`) {
		t.Errorf("Link %q", link)
	}
	// Filters and validation.
	if resp, b = e.get(e.read, "/api/idlog/v1/alerts?severity=high"); resp.StatusCode != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("severity=high: %d %s", resp.StatusCode, b)
	}
	resp, b = e.get(e.read, "/api/idlog/v1/alerts?severity=bad&limit=0")
	wantError(t, resp, b, 400, "E0000001")

	id := list[0].ID
	// A read token cannot change an alert.
	resp, b = e.do("POST", e.read, "/api/idlog/v1/alerts/"+id, strings.NewReader(`{"status":"acknowledged"}`), nil)
	wantError(t, resp, b, 403, "E0000006")
	// Nor can an ingest token: changing an alert's status is an analyst's.
	resp, b = e.do("POST", e.write, "/api/idlog/v1/alerts/"+id, strings.NewReader(`{"status":"acknowledged"}`), nil)
	wantError(t, resp, b, 403, "E0000006")
	resp, b = e.do("POST", e.analyst, "/api/idlog/v1/alerts/"+id, strings.NewReader(`{"status":"acknowledged","note":"rotating the token"}`), nil)
	var upd detect.Alert
	if resp.StatusCode != 200 || json.Unmarshal(b, &upd) != nil || upd.Status != "acknowledged" || !strings.HasPrefix(upd.Note, "rotating the token") {
		t.Fatalf("ack: %d %s", resp.StatusCode, b)
	}
	resp, b = e.do("POST", e.analyst, "/api/idlog/v1/alerts/"+id, strings.NewReader(`{"status":"gone"}`), nil)
	wantError(t, resp, b, 400, "E0000001")
	resp, b = e.do("POST", e.analyst, "/api/idlog/v1/alerts/nope", strings.NewReader(`{"status":"closed"}`), nil)
	wantError(t, resp, b, 404, "E0000007")
	if resp, b = e.get(e.read, "/api/idlog/v1/alerts?status=acknowledged"); !strings.Contains(string(b), id) || strings.Count(string(b), `"id"`) != 1 {
		t.Errorf("status=acknowledged: %d %s", resp.StatusCode, b)
	}

	_, b = e.get(e.admin, "/metrics")
	if !strings.Contains(string(b), `idlog_alerts_total{rule="api-token",severity="medium"} 2`) {
		t.Errorf("metrics: %s", b)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := runner.Close(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if calls != 3 || len(hooks) != 2 {
		t.Errorf("webhook: %d calls, %d delivered; want 3 and 2 (the first retried)", calls, len(hooks))
	}
	for _, h := range hooks {
		if h["rule"] != "api-token" || !strings.Contains(fmt.Sprint(h["text"]), "API token created") {
			t.Errorf("webhook body %v", h)
		}
	}
	mu.Unlock()

	// The alerts outlive the process.
	again, err := detect.OpenFileAlerts(path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	a, err := again.Get(context.Background(), id)
	if err != nil || a.Status != "acknowledged" || a.Count != 2 {
		t.Errorf("after reopening: %+v %v", a, err)
	}
}
