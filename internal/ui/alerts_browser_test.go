package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/cursor"
	"github.com/idlog/idlog/internal/detect"
	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store/duckdb"
	"github.com/idlog/idlog/internal/ui"
)

// TestAlertsView: a simulated org with attacks is pushed to the server over
// HTTP (POST /api/v1/logs), the built-in rules raise alerts as the events are
// stored, the webhook receives them, and the page's Alerts panel lists
// them; an alert's Events button puts exactly its events in the list, and
// Flow shows the flow its last event belongs to.
func TestAlertsView(t *testing.T) {
	ctx := browserCtx(t)
	var mu sync.Mutex
	hooked := map[string]string{} // alert id -> rule
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a detect.Alert
		json.NewDecoder(r.Body).Decode(&a)
		mu.Lock()
		hooked[a.ID] = a.Rule
		mu.Unlock()
	}))
	defer hook.Close()

	st, err := duckdb.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rules, _ := detect.Builtin()
	alerts, err := detect.OpenFileAlerts(t.TempDir() + "/alerts.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	runner, err := detect.NewRunner(rules, alerts, detect.RunnerOptions{Webhook: &detect.Webhook{URL: hook.URL, Backoff: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tokens := auth.OpenTokens(dir)
	read, _, _ := tokens.Create("reader", []auth.Role{auth.RoleViewer})
	write, _, _ := tokens.Create("writer", []auth.Role{auth.RoleIngest})
	codec, err := cursor.NewCodec([]byte(strings.Repeat("k", 32)), nil)
	if err != nil {
		t.Fatal(err)
	}
	sessions := auth.OpenSessions(dir, tokens)
	wrapped := runner.Wrap(st)
	srv, err := api.New(wrapped, api.Options{Authenticator: auth.Chain{tokens, sessions}, Cursors: codec,
		Ingest: api.PipelineIngest(ingest.New(wrapped, ingest.Options{})), Alerts: runner.Alerts(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ui.New(sessions, quietLogger()).Mount(srv)
	s := &server{token: read}
	s.Server = httptest.NewServer(srv)
	t.Cleanup(s.Close)

	body, err := simulate.NDJSON(simulate.Config{Users: 40, Days: 5, End: time.Now().UTC().Truncate(time.Hour), Seed: 3, Attacks: true})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", s.URL+"/api/v1/logs", bytes.NewReader(body))
	req.Header.Set("Authorization", "SSWS "+write)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("push: %d", resp.StatusCode)
	}
	var want []detect.Alert
	s.getAPI(t, "/api/idlog/v1/alerts", map[string][]string{"rule": {"mfa-push-bombing"}}, &want)
	if len(want) == 0 {
		t.Fatal("the pushed month raised no push-bombing alert")
	}
	bomb := want[0]

	s.signIn(t, ctx, s.URL+ui.ReportPath)
	sel := `#alerts li.alert[data-id="` + bomb.ID + `"]`
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(sel)))
	if title := eval[string](t, ctx, `document.querySelector(`+jsString(sel+" .alert-title")+`).textContent`); title != bomb.Title {
		t.Errorf("panel title %q, want %q", title, bomb.Title)
	}
	before := runs(t, ctx)
	do(t, ctx, chromedp.Click(chromedp.CSS(sel+" button.alert-events")))
	waitRun(t, ctx, before)
	got := rowUUIDs(t, ctx)
	wantIDs := slices.Clone(bomb.UUIDs)
	slices.Sort(got)
	slices.Sort(wantIDs)
	if !slices.Equal(got, wantIDs) {
		t.Errorf("the list shows %v, want the alert's events %v", got, wantIDs)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(sel+" button.alert-flowbtn")), chromedp.WaitVisible(chromedp.CSS(sel+" .alert-flow")))
	if flow := eval[string](t, ctx, `document.querySelector(`+jsString(sel+" .alert-flow")+`).textContent`); !strings.Contains(flow, ":") {
		t.Errorf("flow text %q", flow)
	}

	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	runner.Close(cctx)
	mu.Lock()
	defer mu.Unlock()
	if hooked[bomb.ID] != "mfa-push-bombing" {
		t.Errorf("the webhook did not get alert %s (%d alerts posted)", bomb.ID, len(hooked))
	}
}
