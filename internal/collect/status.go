package collect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/idlog/idlog/internal/store"
)

// State is what the collector keeps in the store, under CheckpointKey(org),
// written in the same transaction as each page's events. Next is the whole
// position: the path and query of the request that continues the stream.
type State struct {
	Org  string `json:"org"`
	Next string `json:"next"`
	// Counters since the first run against this store.
	Events     int64 `json:"events"`     // newly stored
	Duplicates int64 `json:"duplicates"` // already stored (repeats across pages, restarts)
	Rejected   int64 `json:"rejected"`   // not valid LogEvents; logged
	Requests   int64 `json:"requests"`   // requests sent to the org, answered or not
	// Newest is the newest published time among pulled events.
	Newest      time.Time `json:"newest,omitzero"`
	LastSuccess time.Time `json:"lastSuccess,omitzero"` // last page stored
	LastError   string    `json:"lastError,omitempty"`
	LastErrorAt time.Time `json:"lastErrorAt,omitzero"`
}

// Lag is how far behind the org the mirror is: now minus the newest
// published time pulled. It keeps growing on an org with no activity.
func (s State) Lag(now time.Time) time.Duration {
	if s.Newest.IsZero() {
		return 0
	}
	return now.Sub(s.Newest)
}

// lastOrgKey names the org most recently pulled into the store, so
// 'idlog pull status' needs no --org when there is one.
const lastOrgKey = "okta-pull:last-org"

// CheckpointKey is the store.Checkpointer key of an org's state.
func CheckpointKey(org string) string { return "okta-pull:" + org }

// NormalizeOrg turns the --org argument into scheme://host: the origin every
// request goes to, and the name of the org's checkpoint.
func NormalizeOrg(org string) (string, error) {
	org = strings.TrimSpace(org)
	if !strings.Contains(org, "://") {
		org = "https://" + org
	}
	u, err := url.Parse(org)
	if err != nil {
		return "", fmt.Errorf("org %q: %w", org, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("org %q: want https://ORG.okta.com", org)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return "", fmt.Errorf("org %q: give only the org's address, https://ORG.okta.com, without a path", org)
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}

// ReadState returns the stored state of org, or of the org last pulled when
// org is "". ok is false when nothing was pulled yet.
func ReadState(ctx context.Context, st store.Store, org string) (s State, ok bool, err error) {
	cp, isCP := st.(store.Checkpointer)
	if !isCP {
		return s, false, errors.New("this store keeps no collector state (it has no checkpoints)")
	}
	if org == "" {
		if org, err = cp.Checkpoint(ctx, lastOrgKey); err != nil || org == "" {
			return s, false, err
		}
	} else if org, err = NormalizeOrg(org); err != nil {
		return s, false, err
	}
	v, err := cp.Checkpoint(ctx, CheckpointKey(org))
	if err != nil || v == "" {
		return State{Org: org}, false, err
	}
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return s, false, fmt.Errorf("collector state of %s: %w", org, err)
	}
	return s, true, nil
}

// running are the collectors of this process, for WriteMetrics.
var running struct {
	sync.Mutex
	m map[*Collector]struct{}
}

// WriteMetrics writes the state of this process's collectors in
// Prometheus' text format, for a server's /metrics.
func WriteMetrics(w io.Writer) {
	running.Lock()
	cs := make([]*Collector, 0, len(running.m))
	for c := range running.m {
		cs = append(cs, c)
	}
	running.Unlock()
	if len(cs) == 0 {
		return
	}
	type row struct {
		s       State
		waiting float64
		up      float64
	}
	rows := make([]row, 0, len(cs))
	for _, c := range cs {
		s, waitingUntil := c.snapshot()
		r := row{s: s, up: 1}
		if now := c.clock.Now(); waitingUntil.After(now) {
			r.waiting = waitingUntil.Sub(now).Seconds()
		}
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].s.Org < rows[j].s.Org })
	metric := func(name, typ, help string, v func(r row) float64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for _, r := range rows {
			fmt.Fprintf(w, "%s{org=%q} %g\n", name, r.s.Org, v(r))
		}
	}
	unix := func(t time.Time) float64 {
		if t.IsZero() {
			return 0
		}
		return float64(t.UnixMilli()) / 1000
	}
	metric("idlog_pull_events_total", "counter", "Events pulled from the org and newly stored.", func(r row) float64 { return float64(r.s.Events) })
	metric("idlog_pull_duplicates_total", "counter", "Pulled events that were already stored.", func(r row) float64 { return float64(r.s.Duplicates) })
	metric("idlog_pull_rejected_total", "counter", "Pulled events that were not valid LogEvents.", func(r row) float64 { return float64(r.s.Rejected) })
	metric("idlog_pull_requests_total", "counter", "Requests sent to the org's System Log API.", func(r row) float64 { return float64(r.s.Requests) })
	metric("idlog_pull_newest_published_seconds", "gauge", "Published time of the newest pulled event (Unix seconds); lag is time() minus this.", func(r row) float64 { return unix(r.s.Newest) })
	metric("idlog_pull_last_success_seconds", "gauge", "When a page was last stored (Unix seconds).", func(r row) float64 { return unix(r.s.LastSuccess) })
	metric("idlog_pull_last_error_seconds", "gauge", "When a request last failed (Unix seconds; 0: never).", func(r row) float64 { return unix(r.s.LastErrorAt) })
	metric("idlog_pull_waiting_seconds", "gauge", "How long the collector still waits (rate limit, backoff or poll interval).", func(r row) float64 { return r.waiting })
}
