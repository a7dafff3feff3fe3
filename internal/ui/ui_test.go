package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/audit"
	"github.com/idlog/idlog/internal/auth"
)

type harness struct {
	t      *testing.T
	dir    string
	tokens *auth.Tokens
	secret map[string]string // "read", "write", "admin" → token
	s      *auth.Sessions
	u      *UI
	now    time.Time
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, dir: t.TempDir(), secret: map[string]string{}, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	h.tokens = auth.OpenTokens(h.dir)
	for name, role := range map[string]auth.Role{"read": auth.RoleViewer, "write": auth.RoleIngest, "admin": auth.RoleAdmin} {
		sec, _, err := h.tokens.Create(name, []auth.Role{role})
		if err != nil {
			t.Fatal(err)
		}
		h.secret[name] = sec
	}
	h.restart()
	return h
}

// restart makes new sessions and a new UI over the same data directory,
// as a restarted server would.
func (h *harness) restart() {
	h.s = auth.OpenSessions(h.dir, h.tokens)
	h.s.SetClock(func() time.Time { return h.now })
	h.u = New(h.s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.u.Audit = audit.Open(h.dir)
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
	if s, ok := h.secret[token]; ok {
		token = s
	}
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
			tok := tc.token
			if s, ok := h.secret[tok]; ok {
				tok = s
			}
			w := h.do("POST", "/signin", url.Values{"token": {tok}}, tc.hdr, nil)
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
		w := h.do("POST", "/signin", url.Values{"token": {h.secret["read"]}}, fwd, nil)
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

// csrfOf reads the page's CSRF token for a session.
func (h *harness) csrfOf(c *http.Cookie) string {
	page := h.do("GET", ReportPath, nil, nil, c).Body.String()
	i := strings.Index(page, `name="csrf" value="`)
	if i < 0 {
		h.t.Fatalf("the page has no CSRF token: %s", page)
	}
	csrf := page[i+len(`name="csrf" value="`):]
	return csrf[:strings.IndexByte(csrf, '"')]
}

func TestSessionAuthenticate(t *testing.T) {
	h := newHarness(t)
	c, _ := h.signIn("read", "")
	csrf := h.csrfOf(c)
	req := func(method string, c *http.Cookie, hdr map[string]string) (*auth.Principal, error) {
		r := httptest.NewRequest(method, "/api/v1/logs", nil)
		if c != nil {
			r.AddCookie(c)
		}
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		return h.s.Authenticate(r)
	}
	tok, _ := h.tokens.Lookup(h.secret["read"])
	if p, err := req("GET", c, nil); err != nil || p.ID != tok.ID || p.Role != auth.RoleViewer || p.Kind != "user" {
		t.Fatalf("GET with the session: %+v %v", p, err)
	}
	// State-changing requests need the CSRF token and the same origin.
	var ae *auth.Error
	for name, hdr := range map[string]map[string]string{
		"no CSRF token":    sameSite,
		"wrong CSRF token": {"Origin": "http://example.com", auth.CSRFHeader: "x" + csrf},
		"cross-site":       {"Origin": "http://evil.test", auth.CSRFHeader: csrf},
		"no Origin":        {auth.CSRFHeader: csrf},
	} {
		for _, m := range []string{"POST", "PUT", "DELETE"} {
			if _, err := req(m, c, hdr); !errors.As(err, &ae) {
				t.Errorf("%s with the session, %s: %v, want refused", m, name, err)
			}
		}
	}
	if p, err := req("POST", c, map[string]string{"Origin": "http://example.com", auth.CSRFHeader: csrf}); err != nil || p.ID != tok.ID {
		t.Errorf("POST with the session and its CSRF token: %v %v", p, err)
	}
	if _, err := req("GET", nil, nil); !errors.Is(err, auth.ErrNoCredentials) {
		t.Errorf("no cookie: %v", err)
	}
	if _, err := req("GET", &http.Cookie{Name: CookieName, Value: "forged"}, nil); !errors.Is(err, auth.ErrNoCredentials) {
		t.Errorf("unknown session id: %v", err)
	}
	// Idle expiry, refreshed by use.
	h.now = h.now.Add(50 * time.Minute)
	if _, err := req("GET", c, nil); err != nil {
		t.Fatalf("after 50 idle minutes: %v", err)
	}
	h.now = h.now.Add(61 * time.Minute)
	if _, err := req("GET", c, nil); !errors.Is(err, auth.ErrNoCredentials) {
		t.Errorf("after 61 idle minutes: %v, want the session gone", err)
	}
	// Absolute expiry, however busy.
	c, _ = h.signIn("read", "")
	for i := 0; i < 13; i++ {
		h.now = h.now.Add(59 * time.Minute)
		req("GET", c, nil)
	}
	if _, err := req("GET", c, nil); !errors.Is(err, auth.ErrNoCredentials) {
		t.Errorf("after 12.8 busy hours: %v, want the session gone", err)
	}
	// Revoking the token ends its sessions (the tokens file is reread
	// within 250 ms).
	c, _ = h.signIn("read", "")
	if _, err := h.tokens.Revoke("read"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := req("GET", c, nil); !errors.Is(err, auth.ErrNoCredentials) {
		t.Errorf("after revoking the token: %v", err)
	}
}

// TestSessionSurvivesRestart checks that sessions live in the data
// directory, under the hash of their id only.
func TestSessionSurvivesRestart(t *testing.T) {
	h := newHarness(t)
	c, _ := h.signIn("admin", "")
	h.restart()
	if w := h.do("GET", ReportPath, nil, nil, c); w.Code != 200 {
		t.Fatalf("after a restart the session is gone: %d", w.Code)
	}
	b, err := os.ReadFile(filepath.Join(h.dir, auth.SessionsFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), c.Value) || strings.Contains(string(b), h.secret["admin"]) || strings.Contains(string(b), auth.CSRFToken(c.Value)) {
		t.Fatalf("the sessions file holds a session id, token or CSRF token in the clear: %s", b)
	}
	// Expiry counts across restarts too.
	h.now = h.now.Add(2 * time.Hour)
	h.restart()
	if w := h.do("GET", ReportPath, nil, nil, c); w.Code != http.StatusSeeOther {
		t.Fatalf("an idle session came back after a restart: %d", w.Code)
	}
}

func TestSignOutEverywhere(t *testing.T) {
	h := newHarness(t)
	laptop, _ := h.signIn("read", "")
	phone, _ := h.signIn("read", "")
	other, _ := h.signIn("admin", "")
	live := func(c *http.Cookie) bool { return h.do("GET", ReportPath, nil, nil, c).Code == 200 }
	w := h.do("POST", "/signout", url.Values{"csrf": {h.csrfOf(laptop)}, "everywhere": {"1"}}, sameSite, laptop)
	if w.Code != http.StatusSeeOther || live(laptop) || live(phone) || !live(other) {
		t.Fatalf("sign-out everywhere: %d; laptop %v phone %v other person %v", w.Code, live(laptop), live(phone), live(other))
	}
}

func TestSignInThrottle(t *testing.T) {
	h := newHarness(t)
	h.u.Throttle.SetClock(func() time.Time { return h.now })
	bad := func(addr, token string) int {
		r := httptest.NewRequest("POST", "/signin", strings.NewReader(url.Values{"token": {token}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", "http://example.com")
		r.RemoteAddr = addr + ":1234"
		w := httptest.NewRecorder()
		h.u.ServeHTTP(w, r)
		return w.Code
	}
	for i := 0; i < h.u.Throttle.Max; i++ {
		if code := bad("10.0.0.1", "idl_wrong"); code != http.StatusUnauthorized {
			t.Fatalf("bad attempt %d: %d", i+1, code)
		}
	}
	if code := bad("10.0.0.1", "idl_wrong"); code != http.StatusTooManyRequests {
		t.Fatalf("attempt %d from one address: %d, want 429", h.u.Throttle.Max+1, code)
	}
	if code := bad("10.0.0.1", h.secret["read"]); code != http.StatusTooManyRequests {
		t.Fatalf("a good token from a throttled address: %d, want 429", code)
	}
	if code := bad("10.0.0.2", h.secret["read"]); code != http.StatusSeeOther {
		t.Fatalf("another address: %d, want a sign-in", code)
	}
	// Per account: the ingest-only token tried from many addresses.
	for i := 0; i < h.u.Throttle.Max; i++ {
		if code := bad(fmt.Sprintf("10.1.0.%d", i), h.secret["write"]); code != http.StatusUnauthorized {
			t.Fatalf("account attempt %d: %d", i+1, code)
		}
	}
	if code := bad("10.2.0.1", h.secret["write"]); code != http.StatusTooManyRequests {
		t.Fatalf("the account after %d failures from other addresses: %d, want 429", h.u.Throttle.Max, code)
	}
	// The window passes.
	h.now = h.now.Add(16 * time.Minute)
	if code := bad("10.0.0.1", h.secret["read"]); code != http.StatusSeeOther {
		t.Fatalf("after the window: %d", code)
	}
}

func TestSignOut(t *testing.T) {
	h := newHarness(t)
	c, _ := h.signIn("read", "")
	csrf := h.csrfOf(c)
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

// TestSignInAudit checks that each sign-in, refused sign-in and sign-out
// adds exactly one audit record, with who, from where and the outcome.
func TestSignInAudit(t *testing.T) {
	h := newHarness(t)
	trail := audit.Open(h.dir)
	records := func() []map[string]any {
		res, err := trail.Find(audit.Query{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var out []map[string]any
		for _, raw := range res.Events {
			var m map[string]any
			json.Unmarshal(raw, &m)
			out = append(out, m)
		}
		return out
	}
	get := func(m map[string]any, path ...string) any {
		var v any = m
		for _, p := range path {
			mm, _ := v.(map[string]any)
			v = mm[p]
		}
		return v
	}
	tok, _ := h.tokens.Lookup(h.secret["read"])
	steps := []struct {
		name                   string
		do                     func()
		eventType, actor, outc string
	}{
		{"sign-in", func() { h.signIn("read", "") }, audit.SignIn, tok.ID, audit.Success},
		{"bad token", func() { h.signIn("idl_nope", "") }, audit.SignIn, "unknown token", audit.Failure},
		{"sign-out", func() {
			c, _ := h.signIn("read", "")
			h.do("POST", "/signout", url.Values{"csrf": {h.csrfOf(c)}}, sameSite, c)
		}, audit.SignOut, tok.ID, audit.Success},
	}
	for _, st := range steps {
		before := len(records())
		st.do()
		recs := records()
		added := recs[before:]
		if st.eventType == audit.SignOut {
			added = added[1:] // its own sign-in first
		}
		if len(added) != 1 {
			t.Fatalf("%s: %d records, want 1", st.name, len(added))
		}
		r := added[0]
		if r["eventType"] != st.eventType || get(r, "actor", "id") != st.actor || get(r, "outcome", "result") != st.outc || get(r, "client", "ipAddress") != "192.0.2.1" {
			t.Errorf("%s: %v", st.name, r)
		}
	}
}

// TestOIDCOnly checks that with NoTokenSignIn and a provider the token
// form is gone and its posts are refused; without a provider the flag
// cannot lock everyone out.
func TestOIDCOnly(t *testing.T) {
	h := newHarness(t)
	h.u.NoTokenSignIn = true
	if c, w := h.signIn("read", ""); c == nil || w.Code != http.StatusSeeOther {
		t.Fatalf("without a provider the token form must stay: %d", w.Code)
	}
	h.u.OIDC = &OIDC{OIDCConfig: OIDCConfig{DisplayName: "Okta"}}
	if w := h.do("GET", "/signin", nil, nil, nil); strings.Contains(w.Body.String(), `id="token"`) || !strings.Contains(w.Body.String(), "Sign in with Okta") {
		t.Fatalf("sign-in page with --oidc-only: %s", w.Body)
	}
	if c, w := h.signIn("read", ""); c != nil || w.Code != http.StatusForbidden {
		t.Fatalf("a token post with --oidc-only: %d", w.Code)
	}
}
