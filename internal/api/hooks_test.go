package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/cursor"
	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

// hookServer is a server whose data directory has a hook secret.
func hookServer(t *testing.T) (url, secret string, st store.Store) {
	t.Helper()
	dir := t.TempDir()
	st, err := storeurl.Open(context.Background(), "duckdb::memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	codec, err := cursor.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(st, api.Options{Authenticator: auth.Chain{auth.OpenTokens(dir)}, Cursors: codec,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := api.MountOktaHook(srv, dir, ingest.New(st, ingest.Options{})); err != nil || ok {
		t.Fatalf("without a secret the hook must stay off: %v, %v", ok, err)
	}
	secret, err = api.CreateHookSecret(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := api.MountOktaHook(srv, dir, ingest.New(st, ingest.Options{})); err != nil || !ok {
		t.Fatalf("MountOktaHook: %v, %v", ok, err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL, secret, st
}

func TestOktaHook(t *testing.T) {
	url, secret, st := hookServer(t)
	ev := func(uuid, pub string) string {
		return `{"uuid":"` + uuid + `","published":"` + pub + `","eventType":"user.session.start","version":"0"}`
	}
	delivery := func(events ...string) string {
		return `{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1","source":"https://acme.okta.com/api/v1/eventHooks/who1","eventId":"d1","data":{"events":[` +
			strings.Join(events, ",") + `]},"eventTime":"2026-03-01T00:00:02.000Z","contentType":"application/json"}`
	}
	tests := []struct {
		name, method, auth, challenge, body string
		status                              int
		want                                string // substring of the answer
	}{
		{"verification", "GET", secret, "abc-123", "", 200, `{"verification":"abc-123"}`},
		{"verification without the secret", "GET", "", "abc-123", "", 401, "E0000011"},
		{"verification with a wrong secret", "GET", secret + "x", "abc-123", "", 401, "E0000011"},
		{"an idlog token is not the secret", "GET", "SSWS " + secret, "abc-123", "", 401, "E0000011"},
		{"GET without challenge", "GET", secret, "", "", 400, "x-okta-verification-challenge"},
		{"delivery", "POST", secret, "", delivery(ev("h1", "2026-03-01T00:00:01.000Z"), ev("h2", "2026-03-01T00:00:00.000Z")), 200, `"accepted":2`},
		{"retried delivery", "POST", secret, "", delivery(ev("h1", "2026-03-01T00:00:01.000Z"), ev("h2", "2026-03-01T00:00:00.000Z")), 200, `"duplicates":2`},
		{"one bad event", "POST", secret, "", delivery(ev("h3", "2026-03-01T00:00:03.000Z"), `{"uuid":"h4"}`), 200, `"rejectedCount":1`},
		{"delivery without the secret", "POST", "", "", delivery(ev("h9", "2026-03-01T00:00:01.000Z")), 401, "E0000011"},
		{"not a hook", "POST", secret, "", `{"eventType":"something.else","data":{"events":[]}}`, 400, "com.okta.event_hook"},
		{"not JSON", "POST", secret, "", `{"eventType":`, 400, "E0000001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, url+api.OktaHookPath, strings.NewReader(tc.body))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			if tc.challenge != "" {
				req.Header.Set("x-okta-verification-challenge", tc.challenge)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
				t.Errorf("%d %s; want %d containing %s", resp.StatusCode, b, tc.status, tc.want)
			}
		})
	}
	stats, err := st.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Events != 3 {
		t.Errorf("store holds %d events, want h1, h2, h3", stats.Events)
	}
	e, err := st.Get(context.Background(), "h2")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(e.Raw, &doc); err != nil || doc["eventType"] != "user.session.start" {
		t.Errorf("stored h2 = %s", e.Raw)
	}
}
