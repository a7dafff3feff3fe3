// Package ui is the web System Log page: a sign-in page that turns an API
// token into a cookie session, and the report page at /report/system_log_2,
// whose address bar holds Okta's share-link state. The page is plain
// HTML, CSS and JavaScript modules embedded in the binary; it reads events
// through the same API as every other client (GET /api/v1/logs and
// /api/idlog/v1/*), authorized by the session (see Sessions).
package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/audit"
	"github.com/idlog/idlog/internal/auth"
)

//go:embed assets templates
var files embed.FS

// ReportPath is where the page lives, as in Okta.
const ReportPath = "/report/system_log_2"

// CookieName is the session cookie.
const CookieName = auth.SessionCookie

// UI serves the page, its assets and the sign-in flow.
type UI struct {
	sessions *auth.Sessions
	log      *slog.Logger
	// Throttle counts failed sign-ins per address and per account (the
	// token form's account is the token, when it exists); New sets 10
	// failures per 15 minutes.
	Throttle *auth.Throttle
	// Audit records sign-ins and sign-outs; nil records nothing.
	Audit *audit.Log
	// OIDC, when set, signs people in with the identity provider; the
	// token form stays for those who have a token unless NoTokenSignIn.
	OIDC *OIDC
	// NoTokenSignIn hides the token form and refuses its posts, so people
	// sign in to the page only through the identity provider (API tokens
	// still work for scripts). It has no effect without OIDC.
	NoTokenSignIn bool
	tmpl          *template.Template
	assets        map[string]asset
	// Secure marks the cookie Secure even when the request did not come
	// over TLS (a TLS-terminating proxy in front).
	Secure bool
	// TrustForwarded takes the public host and scheme from
	// X-Forwarded-Host and X-Forwarded-Proto (a reverse proxy in front, as
	// api.Options.TrustForwarded): the Origin check compares with them, and
	// "https" marks the cookie Secure.
	TrustForwarded bool
}

type asset struct {
	body  []byte
	etag  string
	ctype string
}

// New returns the UI over a session store. log may be nil.
func New(s *auth.Sessions, log *slog.Logger) *UI {
	if log == nil {
		log = slog.Default()
	}
	u := &UI{sessions: s, log: log, assets: map[string]asset{}, Throttle: auth.NewThrottle(10, 15*time.Minute)}
	u.tmpl = template.Must(template.ParseFS(files, "templates/*.html"))
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	err := fs.WalkDir(files, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		u.assets["/"+p] = asset{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: types[path.Ext(p)]}
		return nil
	})
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return u
}

// Mounter is what the API server offers to join it (api.Server.Handle).
type Mounter interface {
	Handle(pattern string, scope auth.Scope, public bool, h http.Handler)
}

// Mount registers the page's routes on the server. They are public to the
// server's token check: the UI does its own session check and redirects to
// sign-in rather than answering with an API error.
func (u *UI) Mount(m Mounter) {
	for _, p := range []string{"/{$}", "/signin", "/signin/", "/signout", ReportPath, AuditPath, "/assets/"} {
		m.Handle(p, "", true, u)
	}
}

// ServeHTTP routes the UI's paths; anything else is 404.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, "/assets/"):
		u.serveAsset(w, r)
	case p == "/":
		if !safeMethod(w, r) {
			return
		}
		http.Redirect(w, r, ReportPath, http.StatusFound)
	case p == ReportPath:
		u.serveReport(w, r)
	case p == AuditPath:
		u.serveAudit(w, r)
	case p == "/signin":
		u.serveSignIn(w, r)
	case p == oidcStartPath:
		u.serveOIDCStart(w, r)
	case p == oidcCallbackPath:
		u.serveOIDCCallback(w, r)
	case p == "/signout":
		u.serveSignOut(w, r)
	default:
		http.NotFound(w, r)
	}
}

func safeMethod(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

func (u *UI) serveAsset(w http.ResponseWriter, r *http.Request) {
	if !safeMethod(w, r) {
		return
	}
	a, ok := u.assets[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("ETag", a.etag)
	// Revalidate every time: the files change with the binary, and a 304
	// costs one small round trip.
	h.Set("Cache-Control", "no-cache")
	if a.ctype != "" {
		h.Set("Content-Type", a.ctype)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

func (u *UI) render(w http.ResponseWriter, name string, status int, data any) {
	var b bytes.Buffer
	if err := u.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		u.log.Error("ui: template", "name", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func (u *UI) serveReport(w http.ResponseWriter, r *http.Request) {
	if !safeMethod(w, r) {
		return
	}
	id, v, p := u.sessions.FromRequest(r)
	if v == nil {
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	u.render(w, "report.html", http.StatusOK, map[string]string{"Name": p.Name, "Role": string(p.Role), "User": p.ID, "CSRF": auth.CSRFToken(id)})
}

// AuditPath is the page of idlog's own audit trail, for admins.
const AuditPath = "/report/audit"

func (u *UI) serveAudit(w http.ResponseWriter, r *http.Request) {
	if !safeMethod(w, r) {
		return
	}
	id, v, p := u.sessions.FromRequest(r)
	if v == nil {
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if !p.Allows(auth.RoleAdmin) {
		u.render(w, "refused.html", http.StatusForbidden, refusal{Title: "Admins only",
			Message: "The audit trail needs the admin role; you have " + string(p.Role) + "."})
		return
	}
	u.render(w, "audit.html", http.StatusOK, map[string]string{"Name": p.Name, "Role": string(p.Role), "CSRF": auth.CSRFToken(id)})
}

// localNext accepts only a path on this site as the place to return to
// after sign-in, so the sign-in page cannot be used to bounce users to
// another site.
func localNext(s string) string {
	if s == "" || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") || strings.ContainsAny(s, "\r\n") {
		return ReportPath
	}
	if u, err := url.Parse(s); err != nil || u.Scheme != "" || u.Host != "" {
		return ReportPath
	}
	return s
}

func (u *UI) sameOrigin(r *http.Request) bool { return auth.SameOrigin(r, u.TrustForwarded) }

// secure reports whether the cookie should be Secure.
func (u *UI) secure(r *http.Request) bool {
	if u.Secure || r.TLS != nil {
		return true
	}
	return u.TrustForwarded && strings.EqualFold(strings.TrimSpace(strings.Split(r.Header.Get("X-Forwarded-Proto"), ",")[0]), "https")
}

// signInPage is what the sign-in template shows.
type signInPage struct {
	Next, Error string
	// Provider names the identity provider's button; "" hides it.
	Provider string
	// TokenForm shows the token form.
	TokenForm bool
}

func (u *UI) signInPage(next, msg string) signInPage {
	p := signInPage{Next: next, Error: msg, TokenForm: !u.NoTokenSignIn || u.OIDC == nil}
	if u.OIDC != nil {
		p.Provider = u.OIDC.DisplayName
	}
	return p
}

// throttled answers 429 when the address (or account) has failed too
// often; it reports whether it did.
func (u *UI) throttled(w http.ResponseWriter, r *http.Request, next string, keys ...string) bool {
	blocked, until := u.Throttle.Blocked(keys...)
	if !blocked {
		return false
	}
	secs := int(time.Until(until).Seconds()) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	u.render(w, "signin.html", http.StatusTooManyRequests, u.signInPage(next,
		"Too many failed sign-ins from here; try again after "+until.UTC().Format("15:04:05")+" UTC."))
	return true
}

func addrKey(a string) string    { return "addr:" + a }
func accountKey(a string) string { return "account:" + a }

func (u *UI) setCookie(w http.ResponseWriter, r *http.Request, id string) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: u.secure(r), MaxAge: int(u.sessions.Max / time.Second)})
}

// record adds a sign-in or sign-out to the audit trail.
func (u *UI) record(r *http.Request, e audit.Entry) {
	e.Addr, e.UserAgent = auth.ClientAddr(r, u.TrustForwarded), r.UserAgent()
	if err := u.Audit.Record(e); err != nil {
		u.log.Error("ui: audit trail", "err", err)
	}
}

func (u *UI) serveSignIn(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		next := localNext(r.URL.Query().Get("next"))
		if _, v, _ := u.sessions.FromRequest(r); v != nil {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
		u.render(w, "signin.html", http.StatusOK, u.signInPage(next, ""))
	case http.MethodPost:
		if !u.sameOrigin(r) {
			http.Error(w, "cross-site sign-in refused", http.StatusForbidden)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		next := localNext(r.PostForm.Get("next"))
		if !u.signInPage(next, "").TokenForm {
			u.render(w, "signin.html", http.StatusForbidden, u.signInPage(next, "Sign in with "+u.OIDC.DisplayName+": this server takes no tokens on the page."))
			return
		}
		addr := auth.ClientAddr(r, u.TrustForwarded)
		if u.throttled(w, r, next, addrKey(addr)) {
			return
		}
		token := strings.TrimSpace(r.PostForm.Get("token"))
		var p *auth.Principal
		var err error
		if token == "" {
			err = auth.ErrInvalid
		} else {
			p, err = u.sessions.Tokens().Lookup(token)
		}
		if err == nil && u.throttled(w, r, next, accountKey(p.ID)) {
			return
		}
		if err != nil || !p.Allows(auth.RoleViewer) {
			msg, who := "That token is not valid.", ""
			if err == nil {
				msg, who = "That token may not read events (it has no role, only ingest).", p.ID
			}
			u.Throttle.Fail(addrKey(addr), accountKey(who))
			u.record(r, audit.Entry{EventType: audit.SignIn, Actor: p, ActorName: "unknown token", Outcome: audit.Failure, Reason: msg,
				AuthProviderType: "API_TOKEN"})
			u.render(w, "signin.html", http.StatusUnauthorized, u.signInPage(next, msg))
			return
		}
		p.Kind = "user"
		id, err := u.sessions.Create(p, auth.HashToken(token), r)
		if err != nil {
			u.log.Error("ui: session", "err", err)
			http.Error(w, "could not start a session", http.StatusInternalServerError)
			return
		}
		u.setCookie(w, r, id)
		u.log.Info("ui: signed in", "token", p.ID, "name", p.Name)
		u.record(r, audit.Entry{EventType: audit.SignIn, Actor: p, AuthProviderType: "API_TOKEN"})
		http.Redirect(w, r, next, http.StatusSeeOther)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// serveSignOut ends the session, or with everywhere=1 every session of
// the same person (all browsers, all devices).
func (u *UI) serveSignOut(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !u.sameOrigin(r) {
		http.Error(w, "cross-site sign-out refused", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if id, v, p := u.sessions.FromRequest(r); v != nil {
		if !auth.CheckCSRF(id, r.PostForm.Get("csrf")) {
			http.Error(w, "stale or missing form token; reload the page", http.StatusForbidden)
			return
		}
		everywhere := r.PostForm.Get("everywhere") == "1"
		var err error
		n := 1
		if everywhere {
			n, err = u.sessions.DeleteUser(v.UserID)
		} else {
			err = u.sessions.Delete(id)
		}
		if err != nil {
			u.log.Error("ui: sign-out", "err", err)
			http.Error(w, "could not end the session", http.StatusInternalServerError)
			return
		}
		u.record(r, audit.Entry{EventType: audit.SignOut, Actor: p, Debug: map[string]any{"everywhere": everywhere, "sessionsEnded": n}})
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: u.secure(r), MaxAge: -1})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}
