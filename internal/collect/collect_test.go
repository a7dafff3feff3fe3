package collect

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

func TestNextLink(t *testing.T) {
	tests := []struct {
		name  string
		links []string
		want  string
		err   bool
	}{
		{"okta lines", []string{`<https://o.okta.com/api/v1/logs?since=x>; rel="self"`, `<https://o.okta.com/api/v1/logs?limit=20&after=1627500044869_1>; rel="next"`}, "/api/v1/logs?limit=20&after=1627500044869_1", false},
		{"one joined line", []string{`<https://o/api/v1/logs?a=1>; rel="self", <https://o/api/v1/logs?after=b,c>; rel="next"`}, "/api/v1/logs?after=b,c", false},
		{"next first, unquoted", []string{`<http://h:1/api/v1/logs?after=z>; rel=next`, `<http://h:1/x>; rel="self"`}, "/api/v1/logs?after=z", false},
		{"other host is reduced to path", []string{`<https://evil.example/api/v1/logs?after=q>; rel="next"`}, "/api/v1/logs?after=q", false},
		{"no next", []string{`<https://o/api/v1/logs>; rel="self"`}, "", true},
		{"none", nil, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, l := range tc.links {
				h.Add("Link", l)
			}
			got, err := nextLink(h)
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("nextLink = %q, %v; want %q, error %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestNormalizeOrg(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://Acme.okta.com", "https://acme.okta.com"},
		{"acme.okta.com", "https://acme.okta.com"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
		{"https://acme.okta.com/api/v1/logs", ""},
		{"ftp://acme", ""},
	}
	for _, tc := range tests {
		got, err := NormalizeOrg(tc.in)
		if (err != nil) != (tc.want == "") || got != tc.want {
			t.Errorf("NormalizeOrg(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func openMem(t *testing.T) store.Store {
	t.Helper()
	st, err := storeurl.Open(context.Background(), "duckdb::memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// recorder answers 503 to everything and keeps the requested URLs.
type recorder struct {
	urls   []string
	cancel context.CancelFunc
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.urls = append(r.urls, req.URL.RequestURI())
	r.cancel()
	return nil, context.Canceled
}

// TestStartPosition: the first link is stored before the first request, so
// a restart with a later --since (a relative one, recomputed) starts where
// the first run meant to; Restart starts from the new since.
func TestStartPosition(t *testing.T) {
	st := openMem(t)
	run := func(since time.Time, restart bool) string {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		rec := &recorder{cancel: cancel}
		err := Run(ctx, Config{Org: "https://acme.okta.com", Auth: APIToken("t"), Store: st, Since: since, Restart: restart,
			HTTPClient: &http.Client{Transport: rec}, Logger: discard()})
		if err != nil || len(rec.urls) != 1 {
			t.Fatalf("run: %v, %v", err, rec.urls)
		}
		return rec.urls[0]
	}
	first := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	const want = "/api/v1/logs?limit=1000&since=2026-03-01T00%3A00%3A00.000Z&sortOrder=ASCENDING"
	if got := run(first, false); got != want {
		t.Fatalf("first request %s, want %s", got, want)
	}
	if got := run(first.Add(time.Hour), false); got != want {
		t.Errorf("after a restart: %s, want the stored %s", got, want)
	}
	if got := run(first.Add(time.Hour), true); got != "/api/v1/logs?limit=1000&since=2026-03-01T01%3A00%3A00.000Z&sortOrder=ASCENDING" {
		t.Errorf("with Restart: %s", got)
	}
}
