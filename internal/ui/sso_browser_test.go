package ui_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/audit"
	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/auth/oidctest"
	"github.com/idlog/idlog/internal/cursor"
	"github.com/idlog/idlog/internal/saved"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/duckdb"
	"github.com/idlog/idlog/internal/ui"
)

// ssoServer is idlog wired as `idlog serve --oidc-issuer …` wires it, over
// a data directory that outlives restart(): the handler behind the one
// address is replaced by a new server reading the same directory, which
// is what a browser sees of a restarted process.
type ssoServer struct {
	*httptest.Server
	t       *testing.T
	dir     string
	st      store.Store
	op      *oidctest.Provider
	h       atomic.Pointer[http.Handler]
	page    *ui.UI
	maxFail int
}

func newSSOServer(t *testing.T, op *oidctest.Provider, maxFail int) *ssoServer {
	st, err := duckdb.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := &ssoServer{t: t, dir: t.TempDir(), st: st, op: op, maxFail: maxFail}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*s.h.Load()).ServeHTTP(w, r) }))
	t.Cleanup(s.Close)
	s.restart()
	return s
}

func (s *ssoServer) restart() {
	t := s.t
	tokens := auth.OpenTokens(s.dir)
	sessions := auth.OpenSessions(s.dir, tokens)
	codec, err := cursor.Open(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	trail := audit.Open(s.dir)
	srv, err := api.New(s.st, api.Options{Authenticator: auth.Chain{sessions, tokens}, Cursors: codec,
		Scenarios: testScenarios, Logger: quietLogger(), Audit: trail, Searches: saved.Open(s.dir)})
	if err != nil {
		t.Fatal(err)
	}
	sso, err := ui.NewOIDC(context.Background(), ui.OIDCConfig{Issuer: s.op.Issuer(), ClientID: s.op.ClientID,
		ClientSecret: s.op.ClientSecret, Roles: auth.RoleMap{"SecOps": auth.RoleAnalyst, "IdentityAdmins": auth.RoleAdmin, "Helpdesk": auth.RoleViewer},
		DisplayName: "Test Okta"})
	if err != nil {
		t.Fatal(err)
	}
	s.page = ui.New(sessions, quietLogger())
	s.page.OIDC = sso
	s.page.Audit = trail
	s.page.Throttle = auth.NewThrottle(s.maxFail, time.Minute)
	s.page.Mount(srv)
	var h http.Handler = srv
	s.h.Store(&h)
}

// ssoSignIn goes through the provider's form as a person would.
func ssoSignIn(t *testing.T, ctx context.Context, s *ssoServer, email, password string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(s.URL+ui.ReportPath), chromedp.WaitVisible(chromedp.CSS("#sso")))
	do(t, ctx, chromedp.Click(chromedp.CSS("#sso")), chromedp.WaitVisible(chromedp.CSS("#op-email")))
	if loc := location(t, ctx); !strings.HasPrefix(loc.String(), s.op.URL+"/authorize") || loc.Query().Get("code_challenge_method") != "S256" {
		t.Fatalf("the sign-in button went to %s, want the provider with a PKCE challenge", loc)
	}
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#op-email"), email),
		chromedp.SendKeys(chromedp.CSS("#op-password"), password),
		chromedp.Click(chromedp.CSS("#op-submit")),
	)
}

// pageFetch calls idlog from the page's own JavaScript and returns the
// status and body.
func pageFetch(t *testing.T, ctx context.Context, method, path string, withCSRF bool) (int, string) {
	t.Helper()
	hdr := "{}"
	if withCSRF {
		hdr = `{"X-Idlog-Csrf": document.querySelector('meta[name="idlog-csrf"]').content}`
	}
	r := eval[struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}](t, ctx, `fetch(`+jsString(path)+`, {method: `+jsString(method)+`, credentials: "same-origin", headers: `+hdr+`}).then(async r => ({status: r.status, body: await r.text()}))`)
	return r.Status, r.Body
}

func TestSSOEndToEnd(t *testing.T) {
	op := oidctest.New("idlog-test", "s3cret",
		oidctest.User{Subject: "00u1", Email: "alice@example.com", Password: "pw-alice", Groups: []string{"Everyone", "SecOps"}},
		oidctest.User{Subject: "00u2", Email: "bob@example.com", Password: "pw-bob", Groups: []string{"IdentityAdmins", "SecOps"}},
		oidctest.User{Subject: "00u3", Email: "carol@example.com", Password: "pw-carol", Groups: []string{"Marketing"}},
	)
	defer op.Close()
	// The provider is another site, as Okta is to a real idlog: localhost
	// and 127.0.0.1 are different sites to the browser (ports are not), so
	// SameSite cookies meet the same cross-site navigations they would.
	op.URL = strings.Replace(op.URL, "127.0.0.1", "localhost", 1)
	s := newSSOServer(t, op, 3)
	ctx := browserCtx(t)
	role := func() string { return eval[string](t, ctx, `document.getElementById("role").textContent`) }

	// Sign in: the group SecOps maps to analyst.
	ssoSignIn(t, ctx, s, "alice@example.com", "pw-alice")
	waitFor(t, ctx, "#search")
	if loc := location(t, ctx); loc.Path != ui.ReportPath {
		t.Fatalf("after sign-in: %s", loc)
	}
	if r := role(); r != "analyst" {
		t.Fatalf("alice's role %q, want analyst (SecOps)", r)
	}
	if st, body := pageFetch(t, ctx, "GET", "/api/idlog/v1/stats", false); st != 200 {
		t.Fatalf("the page's API call: %d %s", st, body)
	}
	if st, body := pageFetch(t, ctx, "GET", "/api/idlog/v1/audit", false); st != 403 || !strings.Contains(body, "admin") {
		t.Fatalf("an analyst reading the audit trail: %d %s, want 403 naming admin", st, body)
	}

	// The session survives a restart of the server.
	s.restart()
	do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#search")))
	if loc := location(t, ctx); loc.Path != ui.ReportPath || role() != "analyst" {
		t.Fatalf("after a restart: at %s as %q, want still signed in", loc, role())
	}

	// CSRF: the page's own state-changing call without its token is
	// refused; a form on another origin cannot sign the person out.
	if st, body := pageFetch(t, ctx, "POST", "/api/idlog/v1/searches", false); st != 403 || !strings.Contains(body, "CSRF") {
		t.Fatalf("POST without the CSRF token: %d %s, want 403", st, body)
	}
	if st, body := pageFetch(t, ctx, "POST", "/api/idlog/v1/searches", true); st == 403 || st == 401 {
		t.Fatalf("POST with the CSRF token: %d %s, want it let through", st, body)
	}
	// Save a shared search from the page, next to the scenarios.
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#search"), `eventType eq "user.account.lock"`),
		chromedp.SendKeys(chromedp.CSS("#save-name"), "Lockouts this week"),
		chromedp.Click(chromedp.CSS("#save-shared")),
		chromedp.Click(chromedp.CSS("#save-form button[type=submit]")))
	waitFor(t, ctx, "#saved li[data-id]")
	shareLink := eval[string](t, ctx, `document.querySelector("#saved li[data-id] a.share").href`)
	if !strings.Contains(shareLink, ui.ReportPath+"?saved=ss") {
		t.Fatalf("share link %q", shareLink)
	}
	if st, body := pageFetch(t, ctx, "GET", "/report/audit", false); st != 403 || !strings.Contains(body, "Admins only") {
		t.Fatalf("an analyst opening the Audit view: %d", st)
	}
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<form id="f" method="post" action="` + s.URL + `/signout"><input name="csrf" value="guess"><button id="go">win a prize</button></form>`))
	}))
	defer evil.Close()
	do(t, ctx, chromedp.Navigate(evil.URL), chromedp.WaitVisible(chromedp.CSS("#go")), chromedp.Click(chromedp.CSS("#go")))
	body := ""
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if location(t, ctx).Host == strings.TrimPrefix(s.URL, "http://") {
			body = eval[string](t, ctx, `document.body ? document.body.innerText : ""`)
			break
		}
	}
	if !strings.Contains(body, "cross-site sign-out refused") {
		t.Fatalf("a cross-site sign-out form: %q, want it refused", body)
	}
	do(t, ctx, chromedp.Navigate(s.URL+ui.ReportPath), chromedp.WaitVisible(chromedp.CSS("#search")))

	// Sign-out ends the session on the server, not only in this browser.
	if got := eval[string](t, ctx, `document.cookie`); strings.Contains(got, auth.SessionCookie) {
		t.Fatalf("the session cookie is readable by scripts: %q", got)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS("#signout button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#sso")))
	do(t, ctx, chromedp.Navigate(s.URL+ui.ReportPath), chromedp.WaitVisible(chromedp.CSS("#sso")))
	if loc := location(t, ctx); loc.Path != "/signin" {
		t.Fatalf("after sign-out the page opened at %s", loc)
	}

	// Role mapping: the highest group wins (IdentityAdmins → admin).
	ssoSignIn(t, ctx, s, "bob@example.com", "pw-bob")
	waitFor(t, ctx, "#search")
	if r := role(); r != "admin" {
		t.Fatalf("bob's role %q, want admin", r)
	}
	if st, body := pageFetch(t, ctx, "GET", "/api/idlog/v1/audit?filter="+`eventType+eq+"idlog.user.session.start"`, false); st != 200 || !strings.Contains(body, "alice@example.com") {
		t.Fatalf("an admin reading the audit trail: %d %s", st, body)
	}
	// Another person opens the shared search's link.
	do(t, ctx, chromedp.Navigate(shareLink))
	waitFor(t, ctx, "#saved li[data-id]")
	for deadline := time.Now().Add(10 * time.Second); eval[string](t, ctx, `document.getElementById("search").value`) != `eventType eq "user.account.lock"`; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the share link filled the search with %q", eval[string](t, ctx, `document.getElementById("search").value`))
		}
	}
	// The Audit view shows who saved it, among the sign-ins.
	do(t, ctx, chromedp.Click(chromedp.CSS("#audit-link")))
	waitFor(t, ctx, "tr.audit-row")
	rows := eval[string](t, ctx, `document.getElementById("audit-rows").innerText`)
	if !strings.Contains(rows, "idlog.search.create") || !strings.Contains(rows, "alice@example.com") || !strings.Contains(rows, "idlog.user.session.start") {
		t.Fatalf("the Audit view shows %q", rows)
	}
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#audit-filter"), `eventType eq "idlog.search.create" and outcome.result eq "SUCCESS"`),
		chromedp.Click(chromedp.CSS("#audit-form button[type=submit]")))
	for deadline := time.Now().Add(10 * time.Second); eval[int](t, ctx, `document.querySelectorAll("tr.audit-row").length`) != 1; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("filtered Audit view: %q", eval[string](t, ctx, `document.getElementById("audit-rows").innerText`))
		}
	}
	do(t, ctx, chromedp.Navigate(s.URL+ui.ReportPath))
	waitFor(t, ctx, "#search")
	do(t, ctx, chromedp.Click(chromedp.CSS("#signout button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#sso")))

	// A person with no mapped group is refused with a page that says so.
	ssoSignIn(t, ctx, s, "carol@example.com", "pw-carol")
	waitFor(t, ctx, "#refused-title")
	if title := eval[string](t, ctx, `document.getElementById("refused-title").textContent`); title != "No access to idlog" {
		t.Fatalf("refused page title %q", title)
	}
	do(t, ctx, chromedp.Navigate(s.URL+ui.ReportPath), chromedp.WaitVisible(chromedp.CSS("#sso")))

	// Throttling: after the limit of failures from this address (carol's
	// refusal counted as one), the sign-in page answers 429 even for a
	// good token.
	s.restart() // a fresh throttle (it is kept in memory), limit 3
	for i := 0; i < 3; i++ {
		do(t, ctx, chromedp.Navigate(s.URL+"/signin"), chromedp.WaitVisible(chromedp.CSS("#token")),
			chromedp.SendKeys(chromedp.CSS("#token"), "idl_wrong"), chromedp.Submit(chromedp.CSS("#token")),
			chromedp.WaitVisible(chromedp.CSS("#signin-error")))
		if msg := eval[string](t, ctx, `document.getElementById("signin-error").textContent`); !strings.Contains(msg, "not valid") {
			t.Fatalf("bad token %d: %q", i+1, msg)
		}
	}
	do(t, ctx, chromedp.Navigate(s.URL+"/signin"), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), "idl_wrong"), chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("#signin-error")))
	if msg := eval[string](t, ctx, `document.getElementById("signin-error").textContent`); !strings.Contains(msg, "Too many failed sign-ins") {
		t.Fatalf("the 4th bad token: %q, want throttled", msg)
	}
	// The identity provider's button is throttled too.
	do(t, ctx, chromedp.Navigate(s.URL+"/signin"), chromedp.WaitVisible(chromedp.CSS("#sso")),
		chromedp.Click(chromedp.CSS("#sso")), chromedp.WaitVisible(chromedp.CSS("#signin-error")))
	if msg := eval[string](t, ctx, `document.getElementById("signin-error").textContent`); !strings.Contains(msg, "Too many failed sign-ins") {
		t.Fatalf("sign-in with the provider from a throttled address: %q", msg)
	}
}

// waitFor waits for an element and, if it never comes, says where the
// browser is and what it shows.
func waitFor(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		// An error here is a page navigating away mid-question (the
		// sign-in's own page moving on): ask again.
		found, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector(`+jsString(sel)+`)`))
		if err == nil && found {
			return
		}
		if ctx.Err() != nil {
			t.Fatal(ctx.Err())
		}
	}
	t.Fatalf("waiting for %s: at %s showing %q", sel, location(t, ctx), eval[string](t, ctx, `document.body ? document.body.innerText.slice(0, 500) : ""`))
}
