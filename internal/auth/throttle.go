package auth

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Throttle slows down guessing at sign-in: after Max failed attempts for
// one key (an address, an account) within Window, that key is refused
// until Window has passed since its first failure. A success does not
// clear the count: a guesser who owns one valid token must not reset it.
type Throttle struct {
	Max    int
	Window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	keys map[string]*failures
}

type failures struct {
	first time.Time
	n     int
}

// NewThrottle allows max failures per key and window.
func NewThrottle(max int, window time.Duration) *Throttle {
	return &Throttle{Max: max, Window: window, now: time.Now, keys: map[string]*failures{}}
}

// SetClock replaces the clock, for tests.
func (t *Throttle) SetClock(now func() time.Time) { t.now = now }

// Blocked reports whether any of keys is over its limit, and until when.
func (t *Throttle) Blocked(keys ...string) (bool, time.Time) {
	if t == nil || t.Max <= 0 {
		return false, time.Time{}
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	var until time.Time
	for _, k := range keys {
		f := t.keys[k]
		if f == nil || now.Sub(f.first) > t.Window {
			continue
		}
		if f.n >= t.Max {
			if end := f.first.Add(t.Window); end.After(until) {
				until = end
			}
		}
	}
	return !until.IsZero(), until
}

// Fail counts one failed attempt for each key.
func (t *Throttle) Fail(keys ...string) {
	if t == nil || t.Max <= 0 {
		return
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.keys) > 100000 {
		for k, f := range t.keys { // bound the map under a spray of addresses
			if now.Sub(f.first) > t.Window {
				delete(t.keys, k)
			}
		}
	}
	for _, k := range keys {
		if k == "" {
			continue
		}
		f := t.keys[k]
		if f == nil || now.Sub(f.first) > t.Window {
			f = &failures{first: now}
			t.keys[k] = f
		}
		f.n++
	}
}

// ClientAddr is the caller's address: the first X-Forwarded-For entry
// behind a trusted proxy, else the connection's.
func ClientAddr(r *http.Request, trustForwarded bool) string {
	if trustForwarded {
		if f := strings.TrimSpace(strings.Split(r.Header.Get("X-Forwarded-For"), ",")[0]); f != "" {
			return f
		}
	}
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}
