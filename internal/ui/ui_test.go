package ui

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/auth"
)

// fakeTokens maps secrets to principals; deleting one revokes it.
type fakeTokens map[string]*auth.Principal

func (f fakeTokens) lookup(s string) (*auth.Principal, error) {
	if p := f[s]; p != nil {
		return p, nil
	}
	return nil, auth.ErrInvalid
}

type harness struct {
	t      *testing.T
	tokens fakeTokens
	s      *Sessions
	u      *UI
	now    time.Time
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, tokens: fakeTokens{
		"read":  {ID: "t1", Name: "reader", Scopes: []auth.Scope{auth.ScopeRead}},
		"write": {ID: "t2", Name: "writer", Scopes: []auth.Scope{auth.ScopeWrite}},
		"admin": {ID: "t3", Name: "root", Scopes: []auth.Scope{auth.ScopeAdmin}},
	}, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	h.s = NewSessions(h.tokens.lookup)
	h.s.now = func() time.Time { return h.now }
	h.u = New(h.s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return h
}

func (h *harness) do(method, target string, form url.Values, hdr map[string]string, cookie *http.Cookie) *httptest.ResponseRecorder {
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	h.u.ServeHTTP(w, r)
	return w
}

var sameSite = map[string]string{"Origin": "http://example.com"}

// signIn signs in with token and returns the session cookie (nil when
// refused) and the response.
func (h *harness) signIn(token, next string) (*http.Cookie, *httptest.ResponseRecorder) {
	w := h.do("POST", "/signin", url.Values{"token": {token}, "next": {next}}, sameSite, nil)
	for _, c := range w.Result().Cookies() {
		if c.Name == CookieName && c.Value != "" {
			return c, w
		}
	}
	return nil, w
}

func TestSignIn(t *testing.T) {
	for _, tc := range []struct {
		name, token string
		hdr         map[string]string
		status      int
		session     bool
	}{
		{"read token", "read", sameSite, http.StatusSeeOther, true},
		{"admin token", "admin", sameSite, http.StatusSeeOther, true},
		{"write-only token", "write", sameSite, http.StatusUnauthorized, false},
		{"unknown token", "nope", sameSite, http.StatusUnauthorized, false},
		{"empty token", "", sameSite, http.StatusUnauthorized, false},
		{"cross-site form", "read", map[string]string{"Origin": "http://evil.test"}, http.StatusForbidden, false},
		{"no Origin", "read", nil, http.StatusForbidden, false},
		{"same-origin fetch metadata", "read", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			w := h.do("POST", "/signin", url.Values{"token": {tc.token}}, tc.hdr, nil)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			var c *http.Cookie
			for _, x := range w.Result().Cookies() {
				if x.Name == CookieName {
					c = x
				}
			}
			if (c != nil) != tc.session {
				t.Fatalf("session cookie set: %v, want %v", c != nil, tc.session)
			}
			if c != nil && (!c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || len(c.Value) < 40) {
				t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/ and a long random id", c)
			}
		})
	}
}

func TestSignInBehindProxy(t *testing.T) {
	fwd := map[string]string{"Origin": "https://logs.example.org", "X-Forwarded-Host": "logs.example.org", "X-Forwarded-Proto": "https"}
	for _, trust := range []bool{false, true} {
		h := newHarness(t)
		h.u.TrustForwarded = trust
		w := h.do("POST", "/signin", url.Values{"token": {"read"}}, fwd, nil)
		if trust {
			cs := w.Result().Cookies()
			if w.Code != http.StatusSeeOther || len(cs) != 1 || !cs[0].Secure {
				t.Errorf("trusted proxy: %d, cookies %v; want a Secure session cookie", w.Code, cs)
			}
		} else if w.Code != http.StatusForbidden {
			t.Errorf("untrusted X-Forwarded-Host: %d, want 403 (the Origin is not this host)", w.Code)
		}
	}
}

func TestSignInNext(t *testing.T) {
	for next, want := range map[string]string{
		"/report/system_log_2?search=a+b&view=map": "/report/system_log_2?search=a+b&view=map",
		"":                    ReportPath,
		"https://evil.test/":  ReportPath,
		"//evil.test/x":       ReportPath,
		"/\\evil.test":        ReportPath,
		"javascript:alert(1)": ReportPath,
	} {
		h := newHarness(t)
		_, w := h.signIn("read", next)
		if loc := w.Header().Get("Location"); loc != want {
			t.Errorf("next=%q: redirected to %q, want %q", next, loc, want)
		}
	}
}

func TestReportNeedsSession(t *testing.T) {
	h := newHarness(t)
	w := h.do("GET", "/report/system_log_2?search=x&view=map", nil, nil, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/signin?next="+url.QueryEscape("/report/system_log_2?search=x&view=map") {
		t.Fatalf("without a session: %d to %q", w.Code, w.Header().Get("Location"))
	}
	c, _ := h.signIn("read", "")
	w = h.do("GET", "/report/system_log_2", nil, nil, c)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `name="csrf"`) {
		t.Fatalf("with a session: %d", w.Code)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if w := h.do("GET", "/", nil, nil, nil); w.Code != http.StatusFound || w.Header().Get("Location") != ReportPath {
		t.Errorf("/ answers %d to %q", w.Code, w.Header().Get("Location"))
	}
}

func TestSessionAuthenticate(t *testing.T) {
	h := newHarness(t)
	c, _ := h.signIn("read", "")
	req := func(method string, c *http.Cookie) (*auth.Principal, error) {
		r := httptest.NewRequest(method, "/api/v1/logs", nil)
		if c != nil {
			r.AddCookie(c)
		}
		return h.s.Authenticate(r)
	}
	if p, err := req("GET", c); err != nil || p.ID != "t1" {
		t.Fatalf("GET with the session: %v %v", p, err)
	}
	if _, err := req("POST", c); !errors.Is(err, auth.ErrNoCredentials) {
		t.Errorf("POST with the session: %v, want ErrNoCredentials (sessions never write)", err)
	}
	if _, err := req("GET", nil); !errors.Is(err, auth.ErrNoCredentials) {
		t.Errorf("no cookie: %v", err)
	}
	if _, err := req("GET", &http.Cookie{Name: CookieName, Value: "forged"}); !errors.Is(err, auth.ErrNoCredentials) {
		t.Errorf("unknown session id: %v", err)
	}
	// Idle expiry, refreshed by use.
	h.now = h.now.Add(50 * time.Minute)
	if _, err := req("GET", c); err != nil {
		t.Fatalf("after 50 idle minutes: %v", err)
	}
	h.now = h.now.Add(61 * time.Minute)
	if _, err := req("GET", c); !errors.Is(err, auth.ErrNoCredentials) {
		t.Errorf("after 61 idle minutes: %v, want the session gone", err)
	}
	// Absolute expiry, however busy.
	c, _ = h.signIn("read", "")
	for i := 0; i < 13; i++ {
		h.now = h.now.Add(59 * time.Minute)
		req("GET", c)
	}
	if _, err := req("GET", c); !errors.Is(err, auth.ErrNoCredentials) {
		t.Errorf("after 12.8 busy hours: %v, want the session gone", err)
	}
	// Revoking the token ends its sessions.
	c, _ = h.signIn("read", "")
	delete(h.tokens, "read")
	if _, err := req("GET", c); !errors.Is(err, auth.ErrNoCredentials) {
		t.Errorf("after revoking the token: %v", err)
	}
}

func TestSignOut(t *testing.T) {
	h := newHarness(t)
	c, _ := h.signIn("read", "")
	page := h.do("GET", ReportPath, nil, nil, c).Body.String()
	i := strings.Index(page, `name="csrf" value="`)
	csrf := page[i+len(`name="csrf" value="`):]
	csrf = csrf[:strings.IndexByte(csrf, '"')]
	live := func() bool { return h.do("GET", ReportPath, nil, nil, c).Code == 200 }

	if w := h.do("POST", "/signout", url.Values{"csrf": {"wrong"}}, sameSite, c); w.Code != http.StatusForbidden || !live() {
		t.Errorf("sign-out with a wrong CSRF token: %d, session live %v", w.Code, live())
	}
	if w := h.do("POST", "/signout", url.Values{"csrf": {csrf}}, map[string]string{"Origin": "http://evil.test"}, c); w.Code != http.StatusForbidden || !live() {
		t.Errorf("cross-site sign-out: %d", w.Code)
	}
	if w := h.do("GET", "/signout", nil, nil, c); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /signout: %d", w.Code)
	}
	w := h.do("POST", "/signout", url.Values{"csrf": {csrf}}, sameSite, c)
	if w.Code != http.StatusSeeOther || live() {
		t.Errorf("sign-out: %d, session still live: %v", w.Code, live())
	}
}

func TestAssets(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct{ path, ctype string }{
		{"/assets/app.js", "text/javascript; charset=utf-8"},
		{"/assets/filter.js", "text/javascript; charset=utf-8"},
		{"/assets/style.css", "text/css; charset=utf-8"},
	} {
		w := h.do("GET", tc.path, nil, nil, nil)
		if w.Code != 200 || w.Header().Get("Content-Type") != tc.ctype || w.Body.Len() == 0 {
			t.Errorf("%s: %d %q", tc.path, w.Code, w.Header().Get("Content-Type"))
		}
		etag := w.Header().Get("ETag")
		if w := h.do("GET", tc.path, nil, map[string]string{"If-None-Match": etag}, nil); w.Code != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d, want 304", tc.path, w.Code)
		}
	}
	if w := h.do("GET", "/assets/nope.js", nil, nil, nil); w.Code != 404 {
		t.Errorf("missing asset: %d", w.Code)
	}
	if w := h.do("GET", "/elsewhere", nil, nil, nil); w.Code != 404 {
		t.Errorf("unknown path: %d", w.Code)
	}
}
