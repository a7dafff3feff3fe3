package collect

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/storeurl"
)

// fakeClock advances only when the collector sleeps.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeOrg is an Okta org's rate-limit bookkeeping on the fake clock: a
// bucket of limit requests per minute shared with other clients, which use
// others of it at the start of every window. It answers every request with a
// full page, so only the budget holds the collector back.
type fakeOrg struct {
	clock  *fakeClock
	limit  int
	others int
	page   int
	cancel context.CancelFunc
	end    time.Time

	mu       sync.Mutex
	window   int64 // unix minute
	used     int   // by everyone this window
	ours     map[int64]int
	got429   int
	status   int // answer every request with this status instead
	attempts int
	eventNo  int
}

func (o *fakeOrg) RoundTrip(r *http.Request) (*http.Response, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	// Each request takes 200 ms of simulated time.
	o.attempts++
	o.clock.advance(200 * time.Millisecond)
	now := o.clock.Now()
	if !now.Before(o.end) {
		o.cancel()
		return nil, context.Canceled
	}
	w := now.Unix() / 60
	if w != o.window {
		o.window, o.used = w, o.others
	}
	h := http.Header{}
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(o.limit))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt((w+1)*60, 10))
	resp := &http.Response{StatusCode: 200, Header: h, Request: r}
	if o.status != 0 {
		o.used++
		o.ours[w]++
		h.Set("X-Rate-Limit-Remaining", strconv.Itoa(o.limit-o.used))
		resp.StatusCode = o.status
		resp.Body = io.NopCloser(strings.NewReader(`{"errorCode":"E0000009","errorSummary":"Internal Server Error"}`))
		return resp, nil
	}
	if o.used >= o.limit {
		o.got429++
		h.Set("X-Rate-Limit-Remaining", "0")
		resp.StatusCode = 429
		resp.Body = io.NopCloser(strings.NewReader(`{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests."}`))
		return resp, nil
	}
	o.used++
	o.ours[w]++
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(o.limit-o.used))
	h.Add("Link", `<https://example.okta.com/api/v1/logs?after=`+strconv.Itoa(o.eventNo)+`>; rel="self"`)
	h.Add("Link", `<https://example.okta.com/api/v1/logs?after=`+strconv.Itoa(o.eventNo+o.page)+`>; rel="next"`)
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; i < o.page; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		o.eventNo++
		fmt.Fprintf(&b, `{"uuid":"e-%d","published":%q,"eventType":"user.session.start"}`, o.eventNo, now.UTC().Format(time.RFC3339Nano))
	}
	b.WriteByte(']')
	resp.Body = io.NopCloser(strings.NewReader(b.String()))
	return resp, nil
}

// TestBudget runs the collector over simulated minutes of an org that always
// has more events, and checks how many requests it spent in each window.
func TestBudget(t *testing.T) {
	tests := []struct {
		name          string
		limit, others int
		budget        int
		wantPerWindow int // the most we may send in a window, and about what we should
	}{
		{"default half of 50", 50, 0, 50, 25},
		{"half of 50 while others use 10", 50, 10, 50, 25},
		{"a fifth of 120", 120, 30, 20, 24},
		// Budget 100% with others using 30 of 50: the last request of the
		// window is left to the others, and there is never a 429.
		{"all that remains", 50, 30, 100, 19},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC)
			clock := &fakeClock{t: start}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			org := &fakeOrg{clock: clock, limit: tc.limit, others: tc.others, page: 5, cancel: cancel,
				end: start.Add(5 * time.Minute), ours: map[int64]int{}}
			st, err := storeurl.Open(ctx, "duckdb::memory:")
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			c, err := New(Config{Org: "https://example.okta.com", Auth: APIToken("t"), Store: st,
				BudgetPercent: tc.budget, PageSize: 5, Since: start.Add(-time.Hour),
				HTTPClient: &http.Client{Transport: org}, Clock: clock,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Run(ctx); err != nil {
				t.Fatal(err)
			}
			org.mu.Lock()
			defer org.mu.Unlock()
			if org.got429 != 0 {
				t.Errorf("%d requests hit the org's limit (429)", org.got429)
			}
			// The first window is cut short by the start, the last by the
			// end; the full ones between must be at the budget, not under.
			first, last := start.Unix()/60, org.window
			full := 0
			for w := first; w <= last; w++ {
				n := org.ours[w]
				if n > tc.wantPerWindow {
					t.Errorf("window %d: %d requests, budget allows %d", w-first, n, tc.wantPerWindow)
				}
				if w != first && w != last {
					full++
					if n < tc.wantPerWindow-1 {
						t.Errorf("window %d: only %d requests, the budget allows %d: the collector idles", w-first, n, tc.wantPerWindow)
					}
				}
			}
			if full < 3 {
				t.Fatalf("only %d full windows simulated", full)
			}
			s := c.State()
			if s.Requests != int64(org.attempts) {
				t.Errorf("state counts %d requests, the org saw %d", s.Requests, org.attempts)
			}
			if s.Events != int64(org.eventNo) {
				t.Errorf("stored %d events, the org sent %d", s.Events, org.eventNo)
			}
			// After a clean stop the stored counters are exact.
			if stored, _, err := ReadState(context.Background(), st, ""); err != nil || stored.Events != s.Events || stored.Requests != s.Requests {
				t.Errorf("stored state %+v, want counters of %+v (%v)", stored, s, err)
			}
		})
	}
}

// TestPacing: a caught-up collector asks once per poll interval, and one
// facing a failing org backs off to the cap instead of hammering it.
func TestPacing(t *testing.T) {
	tests := []struct {
		name     string
		page     int // events per answer
		status   int
		min, max int // requests in 5 simulated minutes
	}{
		// Each cycle is the 10 s interval plus 200 ms of request.
		{"empty pages poll every 10 s", 0, 0, 28, 30},
		// Backoff 1, 2, 4, 8, 16 s, then 30 s (each 50 to 100 % of it).
		{"500s back off to the cap", 5, 500, 10, 25},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			clock := &fakeClock{t: start}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			org := &fakeOrg{clock: clock, limit: 600, page: tc.page, status: tc.status, cancel: cancel,
				end: start.Add(5 * time.Minute), ours: map[int64]int{}}
			c, err := New(Config{Org: "https://example.okta.com", Auth: APIToken("t"), Store: openMem(t),
				PageSize: 5, PollInterval: 10 * time.Second, MaxBackoff: 30 * time.Second, Since: start.Add(-time.Hour),
				HTTPClient: &http.Client{Transport: org}, Clock: clock, Logger: discard()})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Run(ctx); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, v := range org.ours {
				n += v
			}
			if n < tc.min || n > tc.max {
				t.Errorf("%d requests in 5 minutes, want %d to %d", n, tc.min, tc.max)
			}
		})
	}
}
