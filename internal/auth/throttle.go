package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/idlog/idlog/internal/atomicfile"
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

	// path, when set by Persist, is where the counts are kept so that a
	// restart does not hand a guesser a fresh allowance; pending is true
	// while a write is scheduled.
	path    string
	pending bool
}

type failures struct {
	first time.Time
	n     int
}

// ThrottleFile is the name of the throttle's file in the data directory.
const ThrottleFile = "throttle.json"

// throttleFile is the file's content: per key, when its window began and
// how many failures it has seen.
type throttleFile struct {
	Failures map[string]throttleEntry `json:"failures"`
}

type throttleEntry struct {
	First time.Time `json:"first"`
	N     int       `json:"n"`
}

// flushDelay is how long after a failure the counts are written: at most
// one write per delay, so a spray of guesses is not a spray of writes. A
// crash loses at most this much of the counts.
const flushDelay = time.Second

// Persist loads the counts kept in path (those still inside their window)
// and keeps them there from now on. A missing file is an empty one.
func (t *Throttle) Persist(path string) error {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var f throttleFile
	if len(b) > 0 {
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("%s: %w (delete the file to start the counts afresh)", path, err)
		}
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.path = path
	for k, e := range f.Failures {
		if now.Sub(e.First) > t.Window || e.N <= 0 {
			continue
		}
		if cur := t.keys[k]; cur == nil || cur.first.Before(e.First) {
			t.keys[k] = &failures{first: e.First, n: e.N}
		}
	}
	return nil
}

// Flush writes the counts now, if Persist named a file.
func (t *Throttle) Flush() error {
	if t == nil {
		return nil
	}
	now := t.now()
	t.mu.Lock()
	t.pending = false
	path := t.path
	f := throttleFile{Failures: map[string]throttleEntry{}}
	for k, e := range t.keys {
		if now.Sub(e.first) <= t.Window {
			f.Failures[k] = throttleEntry{First: e.first, N: e.n}
		}
	}
	t.mu.Unlock()
	if path == "" {
		return nil
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'))
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
	if t.path != "" && !t.pending {
		t.pending = true
		time.AfterFunc(flushDelay, func() { t.Flush() })
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
