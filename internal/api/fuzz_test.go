package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/api"
)

// FuzzListLogsQuery sends arbitrary query strings to GET /api/v1/logs. The
// server must answer 200 with a JSON array or 400 with Okta's error JSON:
// never a panic, never a 500.
func FuzzListLogsQuery(f *testing.F) {
	for _, s := range []string{
		"", "limit=3", "since=2026-11-01T00:00:00Z&until=2026-11-02T00:00:00Z&limit=2",
		"filter=eventType+eq+%22user.session.start%22&sortOrder=DESCENDING",
		"q=00u001+SUCCESS", "after=AQ", "after=x&filter=(", "until=2026-11-01T00:00:00+01:00",
		"limit=1001&sortOrder=x&since=y", "filter=actor.id%20pr%20and%20not%20(target.id%20sw%20%220oa%22)",
	} {
		f.Add(s)
	}
	e := newEnv(f, api.Options{Now: func() time.Time { return t0.Add(24 * time.Hour) }})
	e.add(genEvents(70, 40, t0, 12*time.Hour)...)
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest("GET", "http://idlog/api/v1/logs", nil)
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "SSWS "+e.read)
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK:
			var page []json.RawMessage
			if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
				t.Fatalf("200 with a body that is not an array: %v", err)
			}
			if links := w.Header().Values("Link"); len(links) == 0 || !strings.HasSuffix(links[0], `rel="self"`) {
				t.Fatalf("Link %q", links)
			}
		case http.StatusBadRequest:
			var er oktaError
			if err := json.Unmarshal(w.Body.Bytes(), &er); err != nil || er.ErrorCode == "" || er.ErrorSummary == "" {
				t.Fatalf("400 without Okta's error shape: %s", w.Body)
			}
		default:
			t.Fatalf("query %q: status %d %s", query, w.Code, w.Body)
		}
	})
}
