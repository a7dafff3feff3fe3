// Package auth decides who is calling the server and what they may do: API
// tokens kept hashed in a file of the data directory, roles, and a
// per-caller rate limit. Other ways to sign in (the web page's cookie
// session) plug in as further Authenticators.
package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// Principal is an authenticated caller.
type Principal struct {
	// ID identifies the caller for rate limiting and logs (a token id, or a
	// session's user); it is never a secret.
	ID   string
	Name string
	// Kind says how the caller signed in: "token", or "user" for a person
	// signed in on the page (with an API token or through the identity
	// provider). The audit trail records it as the actor's type.
	Kind string
	// Role is what the caller may read and change; Ingest lets an API
	// token POST events (the old logs.write scope), which no role gives
	// but admin.
	Role   Role
	Ingest bool
}

// Allows reports whether the caller may use a route that needs role need.
func (p *Principal) Allows(need Role) bool {
	if p == nil {
		return false
	}
	switch need {
	case RoleAnyone:
		return true
	case RoleIngest:
		return p.Ingest || p.Role == RoleAdmin
	}
	r, ok := rank[need]
	return ok && rank[p.Role] >= r
}

// Has is Allows under its old name (scopes became roles).
func (p *Principal) Has(s Scope) bool { return p.Allows(s) }

var (
	// ErrNoCredentials means the request carries nothing this authenticator
	// understands; a Chain then asks the next one.
	ErrNoCredentials = errors.New("auth: no credentials")
	// ErrInvalid means the request carries credentials that are wrong.
	ErrInvalid = errors.New("auth: invalid credentials")
)

// Authenticator finds the caller of a request. It returns ErrNoCredentials
// when the request has no credentials of its kind, so that several kinds can
// be chained, and ErrInvalid (or another error) when they are bad.
type Authenticator interface {
	Authenticate(r *http.Request) (*Principal, error)
}

// Chain tries each authenticator in turn and returns the first answer that
// is not ErrNoCredentials. An empty chain, or one where every member says
// ErrNoCredentials, answers ErrNoCredentials.
type Chain []Authenticator

func (c Chain) Authenticate(r *http.Request) (*Principal, error) {
	for _, a := range c {
		p, err := a.Authenticate(r)
		if errors.Is(err, ErrNoCredentials) {
			continue
		}
		return p, err
	}
	return nil, ErrNoCredentials
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the caller that the server authenticated, or nil.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// BearerToken extracts an API token from an Authorization header. It
// accepts Okta's "SSWS <token>", the "SSWS<token>" that Okta's Python SDK
// sends (no space), and "Bearer <token>"; scheme names are
// case-insensitive. ok is false when the header is present but has none of
// these forms; token is "" when there is no header at all.
func BearerToken(header string) (token string, ok bool) {
	h := strings.TrimSpace(header)
	if h == "" {
		return "", true
	}
	for _, scheme := range []string{"SSWS", "Bearer"} {
		if len(h) > len(scheme) && strings.EqualFold(h[:len(scheme)], scheme) {
			rest := h[len(scheme):]
			t := strings.TrimSpace(rest)
			if t == "" || strings.ContainsAny(t, " \t") {
				return "", false
			}
			// "Bearer" needs its space; "SSWS" may go without.
			if scheme == "Bearer" && rest[0] != ' ' && rest[0] != '\t' {
				return "", false
			}
			return t, true
		}
	}
	return "", false
}

// Error is a refusal an authenticator decides with a reason the caller
// should see (a page request without its CSRF token); the server answers
// it with 403 rather than 401.
type Error struct{ Reason string }

func (e *Error) Error() string { return "auth: " + e.Reason }
