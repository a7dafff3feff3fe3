package ui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"github.com/idlog/idlog/internal/auth"
)

// CookieName is the session cookie. It holds only a random session id; the
// token the user signed in with stays on the server.
const CookieName = "idlog_session"

// LookupFunc returns the caller an API token belongs to, or an error
// (auth.Tokens.Lookup).
type LookupFunc func(secret string) (*auth.Principal, error)

// Sessions is the server-side store of signed-in browsers. It is also an
// auth.Authenticator: put it in the API server's auth.Chain so that the
// page's own fetches to /api/v1/logs and /api/idlog/v1/* are authorized by
// the cookie.
//
// A session keeps the token it was opened with and looks it up again on
// every request, so revoking the token ends its sessions too. A session
// only ever authorizes safe methods (GET, HEAD): the page never writes, and
// a cookie that cannot write cannot be abused by a cross-site form either.
type Sessions struct {
	lookup LookupFunc
	// Idle ends a session unused for this long; Max ends any session this
	// long after sign-in.
	Idle, Max time.Duration
	now       func() time.Time

	mu sync.Mutex
	m  map[string]*session
}

type session struct {
	token     string
	csrf      string
	name      string
	created   time.Time
	lastSeen  time.Time
	principal *auth.Principal
}

// NewSessions returns an empty store that checks tokens with lookup.
// Sessions last 1 hour idle and 12 hours at most.
func NewSessions(lookup LookupFunc) *Sessions {
	return &Sessions{lookup: lookup, Idle: time.Hour, Max: 12 * time.Hour, now: time.Now, m: map[string]*session{}}
}

func randomID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// create opens a session for a token already checked by the caller.
func (s *Sessions) create(token string, p *auth.Principal) (id string, sess *session) {
	now := s.now()
	sess = &session{token: token, csrf: randomID(), name: p.Name, created: now, lastSeen: now, principal: p}
	id = randomID()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.m { // sign-ins are rare; sweeping here bounds the map
		if s.expired(v, now) {
			delete(s.m, k)
		}
	}
	s.m[id] = sess
	return id, sess
}

func (s *Sessions) expired(v *session, now time.Time) bool {
	return now.Sub(v.lastSeen) > s.Idle || now.Sub(v.created) > s.Max
}

// get returns the live session of r's cookie, refreshing its idle timer.
func (s *Sessions) get(r *http.Request) (string, *session) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return "", nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.m[c.Value]
	if v == nil {
		return "", nil
	}
	if s.expired(v, now) {
		delete(s.m, c.Value)
		return "", nil
	}
	v.lastSeen = now
	return c.Value, v
}

func (s *Sessions) delete(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

// current returns r's session after checking that its token still reads
// logs; a revoked or downgraded token ends the session.
func (s *Sessions) current(r *http.Request) (string, *session, *auth.Principal) {
	id, v := s.get(r)
	if v == nil {
		return "", nil, nil
	}
	p, err := s.lookup(v.token)
	if err != nil || !p.Has(auth.ScopeRead) {
		s.delete(id)
		return "", nil, nil
	}
	return id, v, p
}

// Authenticate implements auth.Authenticator. Without a live session cookie
// it answers auth.ErrNoCredentials, so the next authenticator of a chain
// (or the server's 401) decides.
func (s *Sessions) Authenticate(r *http.Request) (*auth.Principal, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return nil, auth.ErrNoCredentials
	}
	_, v, p := s.current(r)
	if v == nil {
		return nil, auth.ErrNoCredentials
	}
	return p, nil
}

func (v *session) checkCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(v.csrf)) == 1
}
