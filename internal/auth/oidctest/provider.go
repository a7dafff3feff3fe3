// Package oidctest is a small OpenID Connect provider for tests: discovery,
// keys, an authorization endpoint with a sign-in form, a token endpoint
// that checks the client secret and PKCE, and userinfo. It signs ID tokens
// with a fresh RSA key. It implements what idlog's sign-in uses and checks
// what a real provider checks on those paths (redirect URI, code reuse,
// code_verifier), so the tests exercise idlog's side of the protocol
// against a provider that refuses mistakes.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// User is an account at the provider.
type User struct {
	Subject, Email, Password string
	Groups                   []string
}

// Provider is a running test provider.
type Provider struct {
	*httptest.Server
	ClientID, ClientSecret string
	// RedirectURIs are the registered callbacks; empty accepts any (set it
	// for the redirect checks).
	RedirectURIs []string
	// GroupsInUserinfo leaves groups out of the ID token (as Okta's org
	// server does when there are many) and serves them from userinfo.
	GroupsInUserinfo bool

	key    *rsa.PrivateKey
	signer jose.Signer
	mu     sync.Mutex
	users  map[string]User // by email
	codes  map[string]grant
	access map[string]User
	// Exchanges counts redeemed codes.
	Exchanges int
}

type grant struct {
	user                                  User
	clientID, redirect, challenge, method string
	nonce                                 string
	created                               time.Time
}

// New starts a provider on a loopback port.
func New(clientID, clientSecret string, users ...User) *Provider {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "test-key"))
	if err != nil {
		panic(err)
	}
	p := &Provider{ClientID: clientID, ClientSecret: clientSecret, key: key, signer: signer,
		users: map[string]User{}, codes: map[string]grant{}, access: map[string]User{}}
	for _, u := range users {
		p.users[u.Email] = u
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /keys", p.keys)
	mux.HandleFunc("/authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /userinfo", p.userinfo)
	p.Server = httptest.NewServer(mux)
	return p
}

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.URL }

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]any{
		"issuer":                                p.URL,
		"authorization_endpoint":                p.URL + "/authorize",
		"token_endpoint":                        p.URL + "/token",
		"userinfo_endpoint":                     p.URL + "/userinfo",
		"jwks_uri":                              p.URL + "/keys",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                      []string{"openid", "profile", "email", "groups"},
	})
}

func (p *Provider) keys(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "test-key", Algorithm: "RS256", Use: "sig"}}})
}

var form = template.Must(template.New("f").Parse(`<!doctype html><html><head><title>Test provider sign-in</title></head><body>
<h1>Test provider</h1>{{if .Error}}<p id="op-error">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<label>Email <input id="op-email" name="email"></label>
<label>Password <input id="op-password" name="password" type="password"></label>
<button id="op-submit" type="submit">Sign in</button></form></body></html>`))

// authorize shows a sign-in form (GET) and, on a right password (POST),
// redirects back with a code.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	if q.Get("client_id") != p.ClientID || q.Get("response_type") != "code" || redirect == "" ||
		!strings.Contains(" "+q.Get("scope")+" ", " openid ") {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	if len(p.RedirectURIs) > 0 && !contains(p.RedirectURIs, redirect) {
		http.Error(w, "redirect_uri is not registered", http.StatusBadRequest)
		return
	}
	if q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" {
		// Okta requires PKCE for this kind of app; so does this provider.
		back(w, r, redirect, url.Values{"error": {"invalid_request"}, "error_description": {"PKCE is required"}, "state": {q.Get("state")}})
		return
	}
	if r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		form.Execute(w, map[string]any{"Action": template.URL("/authorize?" + r.URL.RawQuery)})
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	u, ok := p.users[r.PostForm.Get("email")]
	p.mu.Unlock()
	if !ok || subtle.ConstantTimeCompare([]byte(u.Password), []byte(r.PostForm.Get("password"))) != 1 {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		form.Execute(w, map[string]any{"Action": template.URL("/authorize?" + r.URL.RawQuery), "Error": "wrong email or password"})
		return
	}
	code := random()
	p.mu.Lock()
	p.codes[code] = grant{user: u, clientID: p.ClientID, redirect: redirect, challenge: q.Get("code_challenge"),
		method: q.Get("code_challenge_method"), nonce: q.Get("nonce"), created: time.Now()}
	p.mu.Unlock()
	back(w, r, redirect, url.Values{"code": {code}, "state": {q.Get("state")}})
}

func back(w http.ResponseWriter, r *http.Request, redirect string, v url.Values) {
	sep := "?"
	if strings.Contains(redirect, "?") {
		sep = "&"
	}
	http.Redirect(w, r, redirect+sep+v.Encode(), http.StatusFound)
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, "invalid_request", "bad form")
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || (p.ClientSecret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(p.ClientSecret)) != 1) {
		tokenError(w, "invalid_client", "client authentication failed")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		tokenError(w, "unsupported_grant_type", "")
		return
	}
	p.mu.Lock()
	g, ok := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code")) // a code is used once
	p.mu.Unlock()
	if !ok || time.Since(g.created) > time.Minute || g.redirect != r.PostForm.Get("redirect_uri") {
		tokenError(w, "invalid_grant", "unknown, used or expired code, or another redirect_uri")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		tokenError(w, "invalid_grant", "PKCE verification failed")
		return
	}
	claims := map[string]any{"iss": p.URL, "sub": g.user.Subject, "aud": p.ClientID, "iat": time.Now().Unix(),
		"exp": time.Now().Add(time.Hour).Unix(), "email": g.user.Email, "name": g.user.Email}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	if !p.GroupsInUserinfo {
		claims["groups"] = g.user.Groups
	}
	b, _ := json.Marshal(claims)
	sig, err := p.signer.Sign(b)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	idToken, _ := sig.CompactSerialize()
	at := random()
	p.mu.Lock()
	p.access[at] = g.user
	p.Exchanges++
	p.mu.Unlock()
	writeJSON(w, 200, map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 3600, "id_token": idToken, "scope": "openid profile email"})
}

func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	at := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	u, ok := p.access[at]
	p.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	writeJSON(w, 200, map[string]any{"sub": u.Subject, "email": u.Email, "groups": u.Groups})
}

func tokenError(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func random() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
