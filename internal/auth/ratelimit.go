package auth

import (
	"sync"
	"time"
)

// Limiter counts requests per caller in fixed one-minute windows, the way
// Okta reports its limits: a limit, what remains of it, and when the window
// resets (X-Rate-Limit-Limit/-Remaining/-Reset).
type Limiter struct {
	limit int
	now   func() time.Time

	mu      sync.Mutex
	windows map[string]*window
	swept   time.Time
}

type window struct {
	start time.Time
	used  int
}

// NewLimiter allows perMinute requests per caller and minute; 0 turns the
// limit off.
func NewLimiter(perMinute int) *Limiter {
	return &Limiter{limit: perMinute, now: time.Now, windows: map[string]*window{}}
}

// Decision is the outcome of one Allow call.
type Decision struct {
	OK        bool
	Limit     int
	Remaining int
	Reset     time.Time // when the window ends
}

// Enabled reports whether there is a limit at all.
func (l *Limiter) Enabled() bool { return l != nil && l.limit > 0 }

// Allow counts one request of caller id.
func (l *Limiter) Allow(id string) Decision {
	if !l.Enabled() {
		return Decision{OK: true}
	}
	now := l.now()
	start := now.Truncate(time.Minute)
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		// Forget callers whose window is over, so the map stays small.
		for k, w := range l.windows {
			if w.start.Before(start) {
				delete(l.windows, k)
			}
		}
		l.swept = now
	}
	w := l.windows[id]
	if w == nil || !w.start.Equal(start) {
		w = &window{start: start}
		l.windows[id] = w
	}
	d := Decision{Limit: l.limit, Reset: start.Add(time.Minute)}
	if w.used >= l.limit {
		return d
	}
	w.used++
	d.OK = true
	d.Remaining = l.limit - w.used
	return d
}
