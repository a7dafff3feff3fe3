package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/api"
)

func TestAuthorizationForms(t *testing.T) {
	e := newEnv(t, api.Options{})
	tests := []struct {
		name, header string
		status       int
	}{
		{"SSWS", "SSWS " + e.read, 200},
		{"SSWS without space (Okta's Python SDK)", "SSWS" + e.read, 200},
		{"Bearer", "Bearer " + e.read, 200},
		{"scheme case", "ssws " + e.read, 200},
		{"none", "", 401},
		{"unknown token", "SSWS idl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401},
		{"Basic", "Basic dXNlcjpwYXNz", 401},
		{"Bearer without space", "Bearer" + e.read, 401},
		{"token alone", e.read, 401},
		{"two words", "SSWS " + e.read + " extra", 401},
	}
	for _, tc := range tests {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Authorization", tc.header)
		}
		resp, body := e.do("GET", "", "/api/v1/logs", nil, h)
		if tc.status == 200 {
			if resp.StatusCode != 200 {
				t.Errorf("%s: %d %s", tc.name, resp.StatusCode, body)
			}
			continue
		}
		er := wantError(t, resp, body, 401, "E0000011")
		if er.ErrorSummary != "Invalid token provided" {
			t.Errorf("%s: %q", tc.name, er.ErrorSummary)
		}
	}
}

func TestScopes(t *testing.T) {
	e := newEnv(t, api.Options{})
	tests := []struct {
		method, path string
		ok, denied   []string
	}{
		{"GET", "/api/v1/logs", []string{e.read, e.admin}, []string{e.write}},
		{"POST", "/api/v1/logs", []string{e.write, e.admin}, []string{e.read}},
		{"GET", "/api/idlog/v1/stats", []string{e.read, e.admin}, []string{e.write}},
		{"POST", "/api/idlog/v1/prune?before=2000-01-01T00:00:00Z", []string{e.admin}, []string{e.read, e.write}},
		{"GET", "/metrics", []string{e.read, e.write, e.admin}, nil},
	}
	for _, tc := range tests {
		for _, tok := range tc.ok {
			resp, body := e.do(tc.method, tok, tc.path, strings.NewReader(""), nil)
			if resp.StatusCode != 200 {
				t.Errorf("%s %s: %d %s", tc.method, tc.path, resp.StatusCode, body)
			}
		}
		for _, tok := range tc.denied {
			resp, body := e.do(tc.method, tok, tc.path, strings.NewReader(""), nil)
			er := wantError(t, resp, body, 403, "E0000006")
			if er.ErrorSummary != "You do not have permission to perform the requested action" {
				t.Errorf("%q", er.ErrorSummary)
			}
		}
	}
	// Health needs nothing.
	if resp, body := e.get("", "/healthz"); resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("healthz: %d %s", resp.StatusCode, body)
	}
	// Unknown API paths and methods answer in Okta's shape too (after
	// authentication).
	resp, body := e.get(e.read, "/api/v1/users")
	wantError(t, resp, body, 404, "E0000007")
	resp, body = e.do("DELETE", e.admin, "/api/v1/logs", nil, nil)
	wantError(t, resp, body, 405, "E0000022")
	if allow := resp.Header.Get("Allow"); allow != "GET, POST" {
		t.Errorf("Allow %q", allow)
	}
}

func TestTokenRevokedWhileServing(t *testing.T) {
	e := newEnv(t, api.Options{})
	if _, _, err := e.tokens.Create("late", nil); err == nil {
		t.Fatal("a token without scopes was created")
	}
	secret, tok, err := e.tokens.Create("late", scopes("logs.read"))
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.get(secret, "/api/v1/logs"); resp.StatusCode != 200 {
		t.Fatalf("a token created while serving: %d", resp.StatusCode)
	}
	if _, err := e.tokens.Revoke(tok.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		resp, _ := e.get(secret, "/api/v1/logs")
		if resp.StatusCode == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a revoked token still works after 3 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, api.Options{RateLimit: 5})
	// Windows are aligned to the minute: start well inside one.
	if now := time.Now(); now.Second() >= 50 {
		time.Sleep(now.Truncate(time.Minute).Add(time.Minute + 100*time.Millisecond).Sub(now))
	}
	var last *http.Response
	for i := range 5 {
		resp, body := e.get(e.read, "/api/v1/logs")
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
		if got := resp.Header.Get("X-Rate-Limit-Remaining"); got != strconv.Itoa(4-i) {
			t.Fatalf("request %d: remaining %q", i, got)
		}
		last = resp
	}
	if last.Header.Get("X-Rate-Limit-Limit") != "5" {
		t.Fatalf("limit header %q", last.Header.Get("X-Rate-Limit-Limit"))
	}
	reset, err := strconv.ParseInt(last.Header.Get("X-Rate-Limit-Reset"), 10, 64)
	if now := time.Now().Unix(); err != nil || reset <= now-1 || reset > now+61 {
		t.Fatalf("reset %q is not the end of this minute", last.Header.Get("X-Rate-Limit-Reset"))
	}
	resp, body := e.get(e.read, "/api/v1/logs")
	if time.Now().Unix() >= reset {
		t.Skip("the minute ended during the test")
	}
	er := wantError(t, resp, body, 429, "E0000047")
	if er.ErrorSummary != "API call exceeded rate limit due to too many requests." || resp.Header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Fatalf("%q remaining %q", er.ErrorSummary, resp.Header.Get("X-Rate-Limit-Remaining"))
	}
	// Another token has its own budget.
	if resp, _ := e.get(e.admin, "/api/v1/logs"); resp.StatusCode != 200 {
		t.Fatalf("another token: %d", resp.StatusCode)
	}
}

func TestForwardedHeaders(t *testing.T) {
	hdr := http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"logs.example.com"}}
	for _, trust := range []bool{false, true} {
		e := newEnv(t, api.Options{TrustForwarded: trust})
		resp, _ := e.do("GET", e.read, "/api/v1/logs", nil, hdr)
		self := resp.Header.Values("Link")[0]
		want := "<" + e.ts.URL + "/api/v1/logs>"
		if trust {
			want = "<https://logs.example.com/api/v1/logs>"
		}
		if !strings.HasPrefix(self, want) {
			t.Errorf("trust %v: self %q, want %s", trust, self, want)
		}
	}
}
