package ui

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/idlog/idlog/internal/audit"
	"github.com/idlog/idlog/internal/auth"
)

const (
	oidcStartPath    = "/signin/oidc"
	oidcCallbackPath = "/signin/callback"
	// stateCookie binds a sign-in to the browser that started it, so a
	// code from someone else's sign-in cannot be planted (login CSRF).
	stateCookie = "idlog_oidc_state"
	// pendingTTL is how long a person may take at the provider.
	pendingTTL = 10 * time.Minute
)

// OIDCConfig is how idlog signs people in with an OpenID Connect provider
// (Okta, Entra ID, Google, Keycloak: anything with discovery).
type OIDCConfig struct {
	Issuer       string // e.g. https://ORG.okta.com or https://ORG.okta.com/oauth2/default
	ClientID     string
	ClientSecret string // "" for a public client (PKCE alone)
	// RedirectURL is the callback registered at the provider; "" derives
	// it from each request's host (…/signin/callback).
	RedirectURL string
	Scopes      []string // default openid, profile, email
	GroupsClaim string   // default "groups"
	Roles       auth.RoleMap
	// DisplayName labels the sign-in button; default the issuer's host.
	DisplayName string
	// HTTPClient talks to the provider; nil is http.DefaultClient.
	HTTPClient *http.Client
}

// OIDC is a configured provider: discovery done, keys fetched on demand.
type OIDC struct {
	OIDCConfig
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier

	mu      sync.Mutex
	pending map[string]pendingSignIn // by state
}

type pendingSignIn struct {
	verifier, nonce, next, redirect string
	created                         time.Time
}

// NewOIDC discovers the provider. It fails when the issuer cannot be
// reached or its discovery document is wrong, so a typo stops the server
// at start.
func NewOIDC(ctx context.Context, c OIDCConfig) (*OIDC, error) {
	if c.Issuer == "" || c.ClientID == "" {
		return nil, errors.New("oidc: the issuer and client id are required")
	}
	if len(c.Roles) == 0 {
		return nil, errors.New("oidc: a role map is required (which groups are viewers, analysts, admins)")
	}
	if c.GroupsClaim == "" {
		c.GroupsClaim = "groups"
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{oidc.ScopeOpenID, "profile", "email"}
	}
	if c.DisplayName == "" {
		if u, err := url.Parse(c.Issuer); err == nil {
			c.DisplayName = u.Host
		}
	}
	if c.HTTPClient != nil {
		ctx = oidc.ClientContext(ctx, c.HTTPClient)
	}
	p, err := oidc.NewProvider(ctx, c.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: discovery at %s: %w", c.Issuer, err)
	}
	return &OIDC{OIDCConfig: c, provider: p, verifier: p.Verifier(&oidc.Config{ClientID: c.ClientID}),
		pending: map[string]pendingSignIn{}}, nil
}

func (o *OIDC) ctx(ctx context.Context) context.Context {
	if o.HTTPClient != nil {
		return oidc.ClientContext(ctx, o.HTTPClient)
	}
	return ctx
}

func (o *OIDC) oauth(redirect string) *oauth2.Config {
	return &oauth2.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, Endpoint: o.provider.Endpoint(),
		RedirectURL: redirect, Scopes: o.Scopes}
}

func randomString() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (u *UI) redirectURL(r *http.Request) string {
	if u.OIDC.RedirectURL != "" {
		return u.OIDC.RedirectURL
	}
	scheme := "http"
	if u.secure(r) {
		scheme = "https"
	}
	return scheme + "://" + auth.PublicHost(r, u.TrustForwarded) + oidcCallbackPath
}

// serveOIDCStart sends the browser to the provider with a fresh state,
// nonce and PKCE verifier.
func (u *UI) serveOIDCStart(w http.ResponseWriter, r *http.Request) {
	if u.OIDC == nil {
		http.NotFound(w, r)
		return
	}
	if !safeMethod(w, r) {
		return
	}
	next := localNext(r.URL.Query().Get("next"))
	if u.throttled(w, r, next, addrKey(auth.ClientAddr(r, u.TrustForwarded))) {
		return
	}
	o := u.OIDC
	p := pendingSignIn{verifier: oauth2.GenerateVerifier(), nonce: randomString(), next: next,
		redirect: u.redirectURL(r), created: time.Now()}
	state := randomString()
	o.mu.Lock()
	for k, v := range o.pending { // sign-ins are rare; sweeping here bounds the map
		if time.Since(v.created) > pendingTTL {
			delete(o.pending, k)
		}
	}
	if len(o.pending) > 10000 {
		o.mu.Unlock()
		http.Error(w, "too many sign-ins in progress; try again in a few minutes", http.StatusServiceUnavailable)
		return
	}
	o.pending[state] = p
	o.mu.Unlock()
	// Lax, not Strict: the provider's redirect back is a cross-site
	// navigation, and the cookie must come with it.
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: state, Path: oidcCallbackPath, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: u.secure(r), MaxAge: int(pendingTTL / time.Second)})
	http.Redirect(w, r, o.oauth(p.redirect).AuthCodeURL(state, oidc.Nonce(p.nonce), oauth2.S256ChallengeOption(p.verifier)), http.StatusSeeOther)
}

// refusal is what the refused page shows.
type refusal struct {
	Title, Message, Account string
	Status                  int
}

func (u *UI) refuse(w http.ResponseWriter, r *http.Request, rf refusal, failKeys ...string) {
	u.Throttle.Fail(failKeys...)
	u.render(w, "refused.html", rf.Status, rf)
}

// serveOIDCCallback finishes a sign-in: checks the state against the
// browser's cookie, redeems the code with the PKCE verifier, verifies the
// ID token and its nonce, and maps the person's groups to a role.
func (u *UI) serveOIDCCallback(w http.ResponseWriter, r *http.Request) {
	if u.OIDC == nil {
		http.NotFound(w, r)
		return
	}
	if !safeMethod(w, r) {
		return
	}
	o := u.OIDC
	addr := auth.ClientAddr(r, u.TrustForwarded)
	if u.throttled(w, r, ReportPath, addrKey(addr)) {
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	c, err := r.Cookie(stateCookie)
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: "", Path: oidcCallbackPath, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: u.secure(r), MaxAge: -1})
	o.mu.Lock()
	p, ok := o.pending[state]
	delete(o.pending, state)
	o.mu.Unlock()
	if state == "" || err != nil || c.Value != state || !ok || time.Since(p.created) > pendingTTL {
		u.record(r, audit.Entry{EventType: audit.SignIn, ActorName: "unknown", Outcome: audit.Failure,
			Reason: "sign-in response without a matching state", AuthProviderType: "OIDC"})
		u.refuse(w, r, refusal{Title: "Sign-in expired", Status: http.StatusBadRequest,
			Message: "This sign-in was not started from this browser, or took longer than ten minutes. Start again from the sign-in page."}, addrKey(addr))
		return
	}
	if e := q.Get("error"); e != "" {
		desc := q.Get("error_description")
		u.record(r, audit.Entry{EventType: audit.SignIn, ActorName: "unknown", Outcome: audit.Failure,
			Reason: "the provider answered " + e + ": " + desc, AuthProviderType: "OIDC"})
		u.refuse(w, r, refusal{Title: "Sign-in refused by " + o.DisplayName, Status: http.StatusForbidden,
			Message: o.DisplayName + " did not sign you in: " + strings.TrimSpace(e+" "+desc)}, addrKey(addr))
		return
	}
	ctx, cancel := context.WithTimeout(o.ctx(r.Context()), 30*time.Second)
	defer cancel()
	tok, err := o.oauth(p.redirect).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		u.log.Warn("ui: oidc code exchange", "err", err)
		u.record(r, audit.Entry{EventType: audit.SignIn, ActorName: "unknown", Outcome: audit.Failure,
			Reason: "code exchange failed", AuthProviderType: "OIDC"})
		u.refuse(w, r, refusal{Title: "Sign-in failed", Status: http.StatusBadGateway,
			Message: "idlog could not redeem the sign-in at " + o.DisplayName + ". Try again; if it keeps failing, an admin should check the client id and secret."}, addrKey(addr))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := o.verifier.Verify(ctx, raw)
	if err == nil && idt.Nonce != p.nonce {
		err = errors.New("nonce mismatch")
	}
	if err != nil {
		u.log.Warn("ui: oidc id token", "err", err)
		u.record(r, audit.Entry{EventType: audit.SignIn, ActorName: "unknown", Outcome: audit.Failure,
			Reason: "ID token rejected: " + err.Error(), AuthProviderType: "OIDC"})
		u.refuse(w, r, refusal{Title: "Sign-in failed", Status: http.StatusBadGateway,
			Message: "The provider's answer did not verify. Try again."}, addrKey(addr))
		return
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		u.refuse(w, r, refusal{Title: "Sign-in failed", Status: http.StatusBadGateway, Message: "The ID token's claims are unreadable."}, addrKey(addr))
		return
	}
	groups, found := claimStrings(claims[o.GroupsClaim])
	if !found {
		// Okta's org server and others put groups only in userinfo when
		// the ID token would grow too large.
		if ui, err := o.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			var more map[string]any
			if ui.Claims(&more) == nil {
				groups, _ = claimStrings(more[o.GroupsClaim])
			}
		}
	}
	name := firstString(claims, "email", "preferred_username", "name", "sub")
	person := &auth.Principal{ID: o.Issuer + "#" + idt.Subject, Name: name, Kind: "user", Role: o.Roles.RoleOf(groups)}
	if u.throttled(w, r, p.next, accountKey(person.ID)) {
		return
	}
	if person.Role == "" {
		u.record(r, audit.Entry{EventType: audit.SignIn, ActorName: name, Outcome: audit.Deny,
			Reason: "no group maps to an idlog role", AuthProviderType: "OIDC",
			Debug: map[string]any{"groups": strings.Join(groups, ","), "groupsClaim": o.GroupsClaim}})
		u.refuse(w, r, refusal{Title: "No access to idlog", Status: http.StatusForbidden, Account: name,
			Message: fmt.Sprintf("You signed in at %s, but none of your groups gives a role in idlog. Ask an idlog admin to add you to a group for viewers, analysts or admins.", o.DisplayName)},
			addrKey(addr), accountKey(person.ID))
		return
	}
	id, err := u.sessions.Create(person, "", r)
	if err != nil {
		u.log.Error("ui: session", "err", err)
		http.Error(w, "could not start a session", http.StatusInternalServerError)
		return
	}
	u.setCookie(w, r, id)
	u.log.Info("ui: signed in", "user", person.ID, "name", name, "role", person.Role)
	u.record(r, audit.Entry{EventType: audit.SignIn, Actor: person, AuthProviderType: "OIDC",
		Debug: map[string]any{"groups": strings.Join(groups, ",")}})
	// Not a redirect: this response ends a navigation that began at the
	// provider, another site, and a browser does not send a SameSite=Strict
	// cookie on the rest of such a chain. A page of our own that moves on
	// makes the next navigation start here, so the new cookie goes with it.
	u.render(w, "signedin.html", http.StatusOK, map[string]string{"Next": p.next})
}

// claimStrings reads a groups claim: a list of strings, or one string.
func claimStrings(v any) ([]string, bool) {
	switch v := v.(type) {
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out, true
	case string:
		return []string{v}, true
	}
	return nil, false
}

func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}
