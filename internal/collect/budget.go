package collect

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// budget keeps the collector to a share of the org's rate limit. Okta
// reports the limit per window with every response (X-Rate-Limit-Limit,
// -Remaining, and -Reset in epoch seconds); the bucket is shared with every
// other API client of the org, and running it dry is logged in the org as a
// violation, so the collector spends at most percent of the limit per window
// and never the last request of it.
type budget struct {
	percent int

	known      bool
	limit      int
	remaining  int
	resetEpoch int64     // the window, as the server names it
	resetAt    time.Time // when it ends, on our clock
	used       int       // our requests in this window
}

// rateHeaders is what one response says about the window.
type rateHeaders struct {
	ok               bool
	limit, remaining int
	reset            int64 // epoch seconds
	date             time.Time
}

func parseRateHeaders(h http.Header) rateHeaders {
	var r rateHeaders
	var err1, err2, err3 error
	r.limit, err1 = strconv.Atoi(h.Get("X-Rate-Limit-Limit"))
	r.remaining, err2 = strconv.Atoi(h.Get("X-Rate-Limit-Remaining"))
	r.reset, err3 = strconv.ParseInt(h.Get("X-Rate-Limit-Reset"), 10, 64)
	r.ok = err1 == nil && err2 == nil && err3 == nil && r.limit > 0
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		r.date = d
	}
	return r
}

// allowance is how many requests of a window the budget lets us make.
func (b *budget) allowance() int {
	return max(1, b.limit*b.percent/100)
}

// observe records one response, sent at now.
func (b *budget) observe(now time.Time, h rateHeaders) {
	if !h.ok {
		return
	}
	// The reset time is on the server's clock. With the response's Date we
	// can turn it into a wait that does not depend on our clock agreeing;
	// without it, we trust our clock.
	resetAt := time.Unix(h.reset, 0)
	if !h.date.IsZero() {
		resetAt = now.Add(time.Unix(h.reset, 0).Sub(h.date))
	}
	if !b.known || h.reset != b.resetEpoch {
		b.used = 0
	}
	b.known = true
	b.limit, b.remaining, b.resetEpoch, b.resetAt = h.limit, h.remaining, h.reset, resetAt
	b.used++
}

// wait says how long to wait before the next request, and why (for the log).
func (b *budget) wait(now time.Time) (time.Duration, string) {
	if !b.known || !now.Before(b.resetAt) {
		return 0, "" // a new window: the next response tells us about it
	}
	// A second more than the reset, because the reset is rounded to the
	// second and the server's window must really be over.
	d := b.resetAt.Sub(now) + time.Second
	if b.used >= b.allowance() {
		return d, fmt.Sprintf("rate budget: used %d of the %d requests allowed (%d%% of the org's %d per window), waiting %s until reset",
			b.used, b.allowance(), b.percent, b.limit, d.Round(time.Second))
	}
	if b.remaining <= 1 {
		return d, fmt.Sprintf("rate limit: %d of %d left, waiting %s until reset", b.remaining, b.limit, d.Round(time.Second))
	}
	return 0, ""
}

// throttled is the wait after a 429: until the window resets, or false when
// the response did not say when that is.
func (b *budget) throttled(now time.Time, h rateHeaders) (time.Duration, bool) {
	if !h.ok {
		return 0, false
	}
	b.remaining = 0
	d := b.resetAt.Sub(now) + time.Second
	if d < time.Second {
		d = time.Second
	}
	return d, true
}
