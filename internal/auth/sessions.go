package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/idlog/idlog/internal/atomicfile"
)

// SessionCookie is the page's session cookie. It holds only a random
// session id; the server keeps the session, under the id's hash.
const SessionCookie = "idlog_session"

// CSRFHeader carries the session's CSRF token on the page's own
// state-changing API calls (POST, PUT, DELETE).
const CSRFHeader = "X-Idlog-Csrf"

// SessionsFile is the sessions file inside the data directory.
const SessionsFile = "sessions.json"

// Session is one signed-in browser as the sessions file keeps it. The
// cookie's id is never stored, only its SHA-256, so a copy of the file
// does not let anyone in.
type Session struct {
	IDHash string `json:"idSha256"`
	// UserID, Name and Role are the person; for a session opened with an
	// API token, TokenHash is the token's hash and the token's current
	// role is looked up on every request (revoking the token ends the
	// session).
	UserID    string    `json:"userId"`
	Name      string    `json:"name"`
	Role      Role      `json:"role,omitempty"`
	TokenHash string    `json:"tokenSha256,omitempty"`
	Method    string    `json:"method"` // "token" or "oidc"
	Created   time.Time `json:"created"`
	LastSeen  time.Time `json:"lastSeen"`
	Addr      string    `json:"addr,omitempty"`
	UserAgent string    `json:"userAgent,omitempty"`
}

// Sessions is the server-side store of signed-in browsers, kept in a file
// of the data directory so that a restart signs nobody out. It is also an
// Authenticator: put it in the server's Chain so the page's own API calls
// are authorized by the cookie. State-changing calls (anything but GET and
// HEAD) must carry the session's CSRF token in CSRFHeader and come from
// the same origin.
type Sessions struct {
	path   string
	tokens *Tokens
	// Idle ends a session unused for this long; Max ends any session this
	// long after sign-in.
	Idle, Max time.Duration
	// TrustForwarded takes the public host from X-Forwarded-Host for the
	// same-origin check (a reverse proxy in front).
	TrustForwarded bool
	now            func() time.Time

	mu      sync.Mutex
	loaded  bool
	m       map[string]*Session // by IDHash
	written map[string]time.Time
}

// OpenSessions returns the sessions of data directory dir (the file need
// not exist). tokens checks sessions opened with an API token; it may be
// nil when only the identity provider signs people in. Sessions last 1
// hour idle and 12 hours at most.
func OpenSessions(dir string, tokens *Tokens) *Sessions {
	return &Sessions{path: filepath.Join(dir, SessionsFile), tokens: tokens, Idle: time.Hour, Max: 12 * time.Hour, now: time.Now}
}

// SetClock replaces the clock, for tests of the timeouts.
func (s *Sessions) SetClock(now func() time.Time) { s.now = now }

func newSessionID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashSessionID(id string) string {
	h := sha256.Sum256([]byte("idlog session\x00" + id))
	return hex.EncodeToString(h[:])
}

// CSRFToken is the CSRF token of a session: derived from the session id,
// so it is not stored, and the page gets it in its HTML.
func CSRFToken(id string) string {
	m := hmac.New(sha256.New, []byte(id))
	m.Write([]byte("idlog csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF compares a submitted CSRF token with the session's in
// constant time.
func CheckCSRF(id, token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(CSRFToken(id))) == 1
}

func (s *Sessions) load() error {
	if s.loaded {
		return nil
	}
	s.m = map[string]*Session{}
	s.written = map[string]time.Time{}
	b, err := os.ReadFile(s.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if len(b) > 0 {
		var f struct {
			Sessions []*Session `json:"sessions"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("%s: %w", s.path, err)
		}
		for _, v := range f.Sessions {
			s.m[v.IDHash] = v
			s.written[v.IDHash] = v.LastSeen
		}
	}
	s.loaded = true
	return nil
}

// save writes the file; the caller holds s.mu. Expired sessions are left
// out.
func (s *Sessions) save() error {
	now := s.now()
	f := struct {
		Sessions []*Session `json:"sessions"`
	}{Sessions: []*Session{}}
	for k, v := range s.m {
		if s.expired(v, now) {
			delete(s.m, k)
			continue
		}
		f.Sessions = append(f.Sessions, v)
		s.written[k] = v.LastSeen
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(s.path, append(b, '\n'))
}

func (s *Sessions) expired(v *Session, now time.Time) bool {
	return now.Sub(v.LastSeen) > s.Idle || now.Sub(v.Created) > s.Max
}

// Create opens a session for p, already checked by the caller, and
// returns the cookie's id. tokenHash is the hash of the API token p signed
// in with, or "" (identity provider).
func (s *Sessions) Create(p *Principal, tokenHash string, r *http.Request) (string, error) {
	id := newSessionID()
	now := s.now()
	v := &Session{IDHash: hashSessionID(id), UserID: p.ID, Name: p.Name, Role: p.Role, TokenHash: tokenHash,
		Method: "oidc", Created: now, LastSeen: now}
	if tokenHash != "" {
		v.Method, v.Role = "token", ""
	}
	if r != nil {
		v.Addr, v.UserAgent = ClientAddr(r, s.TrustForwarded), truncate(r.UserAgent(), 200)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return "", err
	}
	s.m[v.IDHash] = v
	return id, s.save()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Lookup returns the live session of a cookie's id and its caller,
// refreshing the idle timer, or nil. A session opened with a token that
// was revoked, or no longer allows viewing, ends.
func (s *Sessions) Lookup(id string) (*Session, *Principal) {
	if id == "" {
		return nil, nil
	}
	h := hashSessionID(id)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return nil, nil
	}
	v := s.m[h]
	if v == nil {
		return nil, nil
	}
	if s.expired(v, now) {
		delete(s.m, h)
		_ = s.save()
		return nil, nil
	}
	p := &Principal{ID: v.UserID, Name: v.Name, Kind: "user", Role: v.Role}
	if v.TokenHash != "" {
		tp, err := s.tokens.LookupHash(v.TokenHash)
		if err != nil || !tp.Allows(RoleViewer) {
			delete(s.m, h)
			_ = s.save()
			return nil, nil
		}
		p.Role = tp.Role
	}
	v.LastSeen = now
	// The idle timer is kept to the minute on disk: writing the file on
	// every request would cost more than it is worth.
	if now.Sub(s.written[h]) > time.Minute {
		_ = s.save()
	}
	c := *v
	return &c, p
}

// Delete ends the session of a cookie's id.
func (s *Sessions) Delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return err
	}
	delete(s.m, hashSessionID(id))
	return s.save()
}

// DeleteUser ends every session of a user (sign out everywhere) and
// returns how many there were.
func (s *Sessions) DeleteUser(userID string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return 0, err
	}
	n := 0
	for k, v := range s.m {
		if v.UserID == userID {
			delete(s.m, k)
			n++
		}
	}
	return n, s.save()
}

// FromRequest returns the cookie's id, the live session and its caller.
func (s *Sessions) FromRequest(r *http.Request) (string, *Session, *Principal) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return "", nil, nil
	}
	v, p := s.Lookup(c.Value)
	if v == nil {
		return "", nil, nil
	}
	return c.Value, v, p
}

// Authenticate implements Authenticator. Without a live session cookie it
// answers ErrNoCredentials, so the next authenticator of a chain (or the
// server's 401) decides. A state-changing request with the cookie but
// without the session's CSRF token, or from another origin, is refused
// with an *Error.
func (s *Sessions) Authenticate(r *http.Request) (*Principal, error) {
	id, v, p := s.FromRequest(r)
	if v == nil {
		return nil, ErrNoCredentials
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if !SameOrigin(r, s.TrustForwarded) {
			return nil, &Error{Reason: "A cross-site request with the page's session was refused."}
		}
		if !CheckCSRF(id, r.Header.Get(CSRFHeader)) {
			return nil, &Error{Reason: "The request lacks the page's CSRF token (" + CSRFHeader + "); reload the page."}
		}
	}
	return p, nil
}

// SameOrigin is the origin half of the CSRF check: the browser's Origin
// header must name this server. Browsers send Origin on every POST, PUT
// and DELETE; a request without it (and without a same-origin
// Sec-Fetch-Site) is refused.
func SameOrigin(r *http.Request, trustForwarded bool) bool {
	if o := r.Header.Get("Origin"); o != "" {
		p, err := url.Parse(o)
		return err == nil && p.Host == PublicHost(r, trustForwarded) && (p.Scheme == "http" || p.Scheme == "https")
	}
	return r.Header.Get("Sec-Fetch-Site") == "same-origin"
}

// PublicHost is the host the browser sees.
func PublicHost(r *http.Request, trustForwarded bool) string {
	if trustForwarded {
		if h := strings.TrimSpace(strings.Split(r.Header.Get("X-Forwarded-Host"), ",")[0]); h != "" {
			return h
		}
	}
	return r.Host
}

// Tokens is the tokens file sessions opened with a token are checked
// against.
func (s *Sessions) Tokens() *Tokens { return s.tokens }
