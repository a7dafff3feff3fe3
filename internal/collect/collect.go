// Package collect mirrors an Okta org's System Log into a store: it polls
// GET /api/v1/logs the way Okta's polling guidance asks (one request from
// since, then only the rel="next" links), keeps the next link in the same
// transaction as the events of its page, and spends only a share of the
// org's rate limit. A crash at any moment resumes at the stored link, so
// the mirror has every event once: an event stored without its link is
// fetched again and dropped as a duplicate by uuid; a link is never stored
// without its events.
package collect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/store"
)

// Config configures a Collector. Zero values take the defaults noted.
type Config struct {
	// Org is the org's address, https://ORG.okta.com. Requests go only
	// there: next links are followed by path and query on this origin, so a
	// credential is never sent elsewhere.
	Org  string
	Auth Authorizer
	// Store must implement store.Checkpointer.
	Store store.Store
	// Since is where a store with no checkpoint starts; default 90 days
	// ago (Okta's retention). A stored next link wins over it.
	Since time.Time
	// Restart ignores the stored next link and starts from Since again;
	// events already stored are recognised by uuid and not stored twice.
	Restart bool
	// BudgetPercent is the share of the org's rate limit per window the
	// collector may spend; default 50.
	BudgetPercent int
	// PollInterval is the pause once the stream is caught up (a page
	// shorter than PageSize); default 10 s.
	PollInterval time.Duration
	// PageSize is the limit parameter; default 1000, Okta's largest.
	PageSize int
	// RequestTimeout bounds one request, body included; default 60 s.
	RequestTimeout time.Duration
	// MinBackoff and MaxBackoff bound the jittered exponential backoff
	// after a 5xx or a network error; default 1 s and 5 min.
	MinBackoff, MaxBackoff time.Duration
	// MaxEventBytes caps one event, as ingest does; default ingest's.
	MaxEventBytes int
	HTTPClient    *http.Client // default: a client with no overall timeout
	Clock         Clock        // default: the real one
	Logger        *slog.Logger // default slog.Default()
	// UserAgent is sent with every request.
	UserAgent string
}

// Collector pulls one org into one store.
type Collector struct {
	cfg   Config
	org   string
	key   string
	cp    store.Checkpointer
	clock Clock
	log   *slog.Logger
	bud   budget
	back  backoff
	// refused counts 401s since the credentials last worked; other
	// failures in between do not reset it.
	refused int

	mu      sync.Mutex
	state   State
	waitEnd time.Time
}

// PermanentError is a refusal that waiting will not fix (a bad token, a
// missing permission, a request the org rejects): Run stops with it.
type PermanentError struct {
	Status int
	Msg    string
}

func (e *PermanentError) Error() string { return e.Msg }

// New checks cfg and returns a collector.
func New(cfg Config) (*Collector, error) {
	org, err := NormalizeOrg(cfg.Org)
	if err != nil {
		return nil, err
	}
	if cfg.Auth == nil {
		return nil, errors.New("collect: no credentials (an API token or an OAuth service app)")
	}
	cp, ok := cfg.Store.(store.Checkpointer)
	if !ok {
		return nil, errors.New("collect: this store cannot keep the collector's position in the same transaction as the events (use DuckDB or ClickHouse)")
	}
	if cfg.BudgetPercent <= 0 {
		cfg.BudgetPercent = 50
	}
	if cfg.BudgetPercent > 100 {
		return nil, fmt.Errorf("collect: budget %d%% is more than the whole limit", cfg.BudgetPercent)
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 10 * time.Second
	}
	if cfg.PageSize <= 0 || cfg.PageSize > 1000 {
		cfg.PageSize = 1000
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 60 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = min(time.Second, cfg.MaxBackoff)
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = cfg.MinBackoff
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "idlog-pull"
	}
	if cfg.Since.IsZero() {
		cfg.Since = cfg.Clock.Now().Add(-90 * 24 * time.Hour)
	}
	c := &Collector{cfg: cfg, org: org, key: CheckpointKey(org), cp: cp, clock: cfg.Clock,
		log: cfg.Logger.With("org", org), bud: budget{percent: cfg.BudgetPercent},
		back: backoff{min: cfg.MinBackoff, max: cfg.MaxBackoff}}
	return c, nil
}

// Run builds a collector from cfg and runs it until ctx ends (it then
// returns nil) or a permanent error. It is what 'idlog serve --pull-org'
// starts in the background.
func Run(ctx context.Context, cfg Config) error {
	c, err := New(cfg)
	if err != nil {
		return err
	}
	return c.Run(ctx)
}

func (c *Collector) snapshot() (State, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state, c.waitEnd
}

// State returns the collector's current state (the stored one plus
// requests counted since the last write).
func (c *Collector) State() State {
	s, _ := c.snapshot()
	return s
}

func (c *Collector) update(f func(s *State)) State {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.state)
	return c.state
}

// Run pulls until ctx ends (returning nil) or a permanent error.
func (c *Collector) Run(ctx context.Context) error {
	running.Lock()
	if running.m == nil {
		running.m = map[*Collector]struct{}{}
	}
	running.m[c] = struct{}{}
	running.Unlock()
	defer func() {
		running.Lock()
		delete(running.m, c)
		running.Unlock()
	}()

	err := c.run(ctx)
	if ctx.Err() != nil {
		// A graceful stop leaves exact counters behind.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c.saveCurrent(sctx)
		cancel()
		return nil
	}
	return err
}

// saveCurrent stores the state as it is now, without events; the next link
// in it is the committed one.
func (c *Collector) saveCurrent(ctx context.Context) {
	s := c.State()
	if s.Next == "" {
		return // never started
	}
	if _, err := c.saveState(ctx, nil, s); err != nil {
		c.log.Warn("could not store the collector's state", "err", err)
	}
}

func (c *Collector) run(ctx context.Context) error {
	st, found, err := ReadState(ctx, c.cfg.Store, c.org)
	if err != nil {
		return err
	}
	st.Org = c.org
	switch {
	case found && st.Next != "" && !c.cfg.Restart:
		c.log.Info("resuming at the stored next link", "next", st.Next, "events", st.Events)
	default:
		st.Next = c.firstLink()
		c.log.Info("starting from since", "since", c.cfg.Since.UTC().Format(time.RFC3339), "next", st.Next)
		// Stored before the first request, so a relative --since (-7d)
		// that a restart would compute anew cannot move the start
		// forward past events no page has brought yet.
		if _, err := c.saveState(ctx, nil, st); err != nil {
			return fmt.Errorf("storing the starting position: %w", err)
		}
	}
	c.update(func(s *State) { *s = st })
	if _, err := c.cp.AppendCheckpoint(ctx, nil, lastOrgKey, c.org); err != nil {
		return fmt.Errorf("storing the org's name: %w", err)
	}

	for {
		if d, why := c.bud.wait(c.clock.Now()); d > 0 {
			if err := c.sleep(ctx, d, why); err != nil {
				return err
			}
			continue
		}
		n, err := c.step(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var pe *PermanentError
		if errors.As(err, &pe) {
			c.recordError(ctx, err)
			return err
		}
		var tw *throttledErr
		switch {
		case errors.As(err, &tw):
			// A 429 is not a failure of the org: no backoff growth.
			c.recordError(ctx, err)
			if err := c.sleep(ctx, tw.wait, tw.Error()); err != nil {
				return err
			}
		case err != nil:
			c.recordError(ctx, err)
			d := c.back.next()
			if err := c.sleep(ctx, d, fmt.Sprintf("retrying in %s after: %v", d.Round(time.Millisecond), err)); err != nil {
				return err
			}
		case n < c.cfg.PageSize:
			// A short page means we are caught up. Waiting here, rather
			// than on an empty page, saves the extra empty request per
			// interval that "follow next until empty" costs.
			lvl := slog.LevelDebug
			if n > 0 {
				// The counters stored with a page are those from before
				// it; once caught up, store the current ones, so status is
				// exact while the org is quiet. Said at Info once per quiet
				// spell, not every interval of it.
				c.saveCurrent(ctx)
				lvl = slog.LevelInfo
			}
			if err := c.sleepLog(ctx, lvl, c.cfg.PollInterval, fmt.Sprintf("caught up (%d events on the last page), polling again in %s", n, c.cfg.PollInterval)); err != nil {
				return err
			}
		}
	}
}

func (c *Collector) firstLink() string {
	v := url.Values{}
	v.Set("since", c.cfg.Since.UTC().Format("2006-01-02T15:04:05.000Z"))
	v.Set("limit", strconv.Itoa(c.cfg.PageSize))
	v.Set("sortOrder", "ASCENDING")
	return "/api/v1/logs?" + v.Encode()
}

func (c *Collector) sleep(ctx context.Context, d time.Duration, why string) error {
	return c.sleepLog(ctx, slog.LevelInfo, d, why)
}

// sleepLog says what the collector waits for, and waits.
func (c *Collector) sleepLog(ctx context.Context, lvl slog.Level, d time.Duration, why string) error {
	c.mu.Lock()
	c.waitEnd = c.clock.Now().Add(d)
	c.mu.Unlock()
	c.log.Log(ctx, lvl, why, "wait", d.Round(time.Millisecond))
	return c.clock.Sleep(ctx, d)
}

type throttledErr struct {
	wait time.Duration
	msg  string
}

func (e *throttledErr) Error() string { return e.msg }

// recordError keeps the error in the stored state, without events and
// without moving the next link.
func (c *Collector) recordError(ctx context.Context, err error) {
	s := c.update(func(s *State) {
		s.LastError = err.Error()
		s.LastErrorAt = c.clock.Now().UTC()
	})
	if _, werr := c.saveState(ctx, nil, s); werr != nil {
		c.log.Warn("could not store the collector's state", "err", werr)
	}
	var te *throttledErr
	if !errors.As(err, &te) {
		c.log.Warn("request failed", "err", err)
	}
}

func (c *Collector) saveState(ctx context.Context, events []store.Event, s State) (store.AppendResult, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return store.AppendResult{}, err
	}
	return c.cp.AppendCheckpoint(ctx, events, c.key, string(b))
}

// step makes one request and, when it brings a page, stores the page and
// its next link together. It returns the page's length.
func (c *Collector) step(ctx context.Context) (int, error) {
	cur := c.State()
	target := c.org + cur.Next
	rctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, &PermanentError{Msg: fmt.Sprintf("bad next link %q: %v", cur.Next, err)}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if err := c.cfg.Auth.Authorize(rctx, req); err != nil {
		var te *TokenError
		if errors.As(err, &te) && te.Permanent() {
			return 0, &PermanentError{Status: te.Status, Msg: err.Error()}
		}
		return 0, err
	}
	sent := c.clock.Now()
	c.update(func(s *State) { s.Requests++ })
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", cur.Next, err)
	}
	defer resp.Body.Close()
	rh := parseRateHeaders(resp.Header)
	c.bud.observe(sent, rh)
	if ob, ok := c.cfg.Auth.(interface{ Observe(*http.Response) bool }); ok && ob.Observe(resp) {
		return 0, errors.New("the org asked for a DPoP nonce; retrying with it")
	}

	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
		c.refused = 0 // the credentials were accepted
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		d, ok := c.bud.throttled(c.clock.Now(), rh)
		if !ok {
			d = c.back.next()
		}
		return 0, &throttledErr{wait: d, msg: fmt.Sprintf("rate limit: HTTP 429 (0 of %d left), waiting %s until reset", rh.limit, d.Round(time.Second))}
	case resp.StatusCode == http.StatusUnauthorized:
		// An expired OAuth token: drop it and retry once with a new one;
		// a second refusal in a row is for real.
		msg := oktaError(resp)
		c.cfg.Auth.Invalidate()
		c.refused++
		if c.refused > 1 {
			return 0, &PermanentError{Status: 401, Msg: "the org refused the credentials (HTTP 401): " + msg}
		}
		return 0, fmt.Errorf("HTTP 401: %s", msg)
	case resp.StatusCode >= 500:
		return 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, oktaError(resp))
	case resp.StatusCode == http.StatusBadRequest:
		// Most likely a stored position Okta no longer accepts (a since
		// past 180 days after a long stop).
		return 0, &PermanentError{Status: 400, Msg: fmt.Sprintf("the org refused GET %s: HTTP 400: %s (if the stored position is too old, start again with --restart and a recent --since)", cur.Next, oktaError(resp))}
	case resp.StatusCode != http.StatusOK:
		return 0, &PermanentError{Status: resp.StatusCode, Msg: fmt.Sprintf("the org refused GET %s: HTTP %d: %s", cur.Next, resp.StatusCode, oktaError(resp))}
	}

	next, err := nextLink(resp.Header)
	if err != nil {
		return 0, err
	}
	var events []store.Event
	var rejected int64
	dec := ingest.Decoder{MaxEventBytes: c.cfg.MaxEventBytes}
	err = dec.Decode(resp.Body, func(it ingest.Item) error {
		if it.Err != nil {
			var se *ingest.SyntaxError
			if errors.As(it.Err, &se) {
				return it.Err // a cut body, not a bad event: fetch it again
			}
			rejected++
			c.log.Warn("event rejected", "index", it.Index, "err", it.Err)
			return nil
		}
		events = append(events, it.Event)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reading the page of GET %s: %w", cur.Next, err)
	}
	if rctx.Err() != nil {
		return 0, fmt.Errorf("GET %s: %w", cur.Next, rctx.Err())
	}

	newest := cur.Newest
	for _, e := range events {
		if e.Published.After(newest) {
			newest = e.Published
		}
	}
	upd := cur
	upd.Next = next
	upd.Newest = newest
	upd.Rejected += rejected
	upd.LastSuccess = c.clock.Now().UTC()
	upd.LastError, upd.LastErrorAt = "", time.Time{}
	upd.Requests = c.State().Requests
	// The event counters stored with a page are those before it (how many
	// of its events are new is known only after the commit); they catch up
	// with the next write.
	ar, err := c.saveState(ctx, events, upd)
	if err != nil {
		return 0, fmt.Errorf("storing a page: %w", err)
	}
	c.back.reset()
	c.update(func(s *State) {
		s.Next, s.Newest, s.Rejected, s.LastSuccess, s.LastError, s.LastErrorAt = upd.Next, upd.Newest, upd.Rejected, upd.LastSuccess, "", time.Time{}
		s.Events += int64(ar.Added)
		s.Duplicates += int64(ar.Duplicates)
	})
	c.log.Debug("page stored", "events", len(events), "added", ar.Added, "duplicates", ar.Duplicates)
	return len(events), nil
}

// nextLink finds rel="next" among the Link headers and returns its path and
// query. Okta always sends one on a polling request; its absence means the
// answer is not the stream we asked for.
func nextLink(h http.Header) (string, error) {
	for _, line := range h.Values("Link") {
		for _, part := range splitLinks(line) {
			target, params, ok := strings.Cut(part, ";")
			if !ok {
				continue
			}
			if !isNextRel(params) {
				continue
			}
			target = strings.TrimSpace(target)
			target = strings.TrimSuffix(strings.TrimPrefix(target, "<"), ">")
			u, err := url.Parse(target)
			if err != nil {
				return "", fmt.Errorf("unreadable next link %q: %w", target, err)
			}
			if u.Path == "" {
				return "", fmt.Errorf("next link %q has no path", target)
			}
			return u.RequestURI(), nil
		}
	}
	return "", errors.New(`the answer has no Link rel="next" (a polling request always gets one)`)
}

// splitLinks splits a Link header that joins several links with commas,
// minding commas inside <…>.
func splitLinks(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<':
			depth++
		case '>':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func isNextRel(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
			continue
		}
		for _, r := range strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)) {
			if strings.EqualFold(r, "next") {
				return true
			}
		}
	}
	return false
}

// oktaError reads an Okta error body into "E0000047 API call exceeded…".
func oktaError(resp *http.Response) string {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e struct {
		Code    string `json:"errorCode"`
		Summary string `json:"errorSummary"`
	}
	if json.Unmarshal(b, &e) == nil && e.Summary != "" {
		return strings.TrimSpace(e.Code + " " + e.Summary)
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return strings.TrimSpace(string(b))
}
