package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/cursor"
	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/scenario"
	"github.com/idlog/idlog/internal/store"
)

// cannedStore answers every Query with the same page, so a benchmark
// measures the server's own work: auth, parameters, filter parsing,
// cursor signing and writing the page.
type cannedStore struct {
	store.Store
	page []store.Event
}

func (c cannedStore) Query(ctx context.Context, q store.Query) ([]store.Event, error) {
	return c.page[:min(len(c.page), q.Limit)], nil
}

func BenchmarkListLogsHandler(b *testing.B) {
	var page []store.Event
	for i, raw := range genEvents(1, 101, t0, time.Hour) {
		ev, err := ingest.ParseEvent(raw)
		if err != nil {
			b.Fatal(err)
		}
		ev.Seq = int64(i + 1)
		page = append(page, ev)
	}
	dir := b.TempDir()
	tokens := auth.OpenTokens(dir)
	tok, _, _ := tokens.Create("bench", []auth.Scope{auth.ScopeRead})
	codec, _ := cursor.Open(dir)
	srv, err := api.New(cannedStore{page: page}, api.Options{Gzip: true, Authenticator: auth.Chain{tokens}, Cursors: codec, Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	sc, _ := scenario.Lookup("signin-events-user")
	f, _ := sc.Expand("00u1abcdefghijklmnop")
	for _, bc := range []struct {
		name, query string
		gzip        bool
	}{
		{"no filter", "limit=100&since=2026-11-01T00:00:00Z&until=2026-11-02T00:00:00Z", false},
		{"no filter gzip", "limit=100&since=2026-11-01T00:00:00Z&until=2026-11-02T00:00:00Z", true},
		{"seed scenario", "limit=100&since=2026-11-01T00:00:00Z&until=2026-11-02T00:00:00Z&filter=" + url.QueryEscape(f), false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "http://idlog/api/v1/logs?"+bc.query, nil)
			req.Header.Set("Authorization", "SSWS "+tok)
			if bc.gzip {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			var n int64
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
				n = int64(w.Body.Len())
			}
			b.SetBytes(n)
		})
	}
}
