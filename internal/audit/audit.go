// Package audit is idlog's record of its own users' actions: every
// sign-in and sign-out, search, export, token, saved search, retention and
// prune action becomes a LogEvent (eventType "idlog.…"), so analysts query
// it with the filter language they already use on the org's log.
//
// The trail is kept apart from the org's events, in an append-only file of
// the data directory (audit.jsonl): retention and prune of the store never
// touch it, and the CLI can add to it while the server runs. It is read
// with the filter package's reference evaluator; the trail grows with
// people's actions, not with the org's traffic, so a scan is fast enough
// (see docs/sso.md for its size).
package audit

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/filter"
)

// FileName is the audit trail inside the data directory.
const FileName = "audit.jsonl"

// Event types. Each audited action records exactly one of these.
const (
	SignIn       = "idlog.user.session.start"
	SignOut      = "idlog.user.session.end"
	Search       = "idlog.log.search"
	Export       = "idlog.log.export"
	FlowSearch   = "idlog.flows.search"
	AuditSearch  = "idlog.audit.search"
	Prune        = "idlog.log.prune"
	Retention    = "idlog.log.retention"
	TokenCreate  = "idlog.token.create"
	TokenRevoke  = "idlog.token.revoke"
	SearchCreate = "idlog.search.create"
	SearchUpdate = "idlog.search.update"
	SearchDelete = "idlog.search.delete"
	// For the alert and rule routes (register them with api's audited):
	AlertStatus = "idlog.alert.status.update"
	RuleCreate  = "idlog.rule.create"
	RuleUpdate  = "idlog.rule.update"
	RuleDelete  = "idlog.rule.delete"
)

// Outcomes, as Okta's outcome.result.
const (
	Success = "SUCCESS"
	Failure = "FAILURE"
	Deny    = "DENY"
)

// Target is one object an action was about.
type Target struct {
	ID, Type, Name string
}

// Entry is one action to record.
type Entry struct {
	EventType string
	Message   string // displayMessage
	// Actor did it; nil is the server itself (retention).
	Actor *auth.Principal
	// ActorName stands in for an actor that did not sign in (a refused
	// sign-in: the account that tried).
	ActorName        string
	Addr, UserAgent  string
	Outcome, Reason  string
	Targets          []Target
	Debug            map[string]any // debugContext.debugData: the query, the request
	TransactionID    string
	ExternalSession  string
	Published        time.Time // default now
	AuthProviderType string
}

// Log is the audit trail of a data directory.
type Log struct {
	path string
	mu   sync.Mutex
	now  func() time.Time
}

// Open returns the trail of data directory dir; the file need not exist.
func Open(dir string) *Log {
	return &Log{path: filepath.Join(dir, FileName), now: time.Now}
}

// Path is the file's path.
func (l *Log) Path() string { return l.path }

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Event builds the LogEvent of an entry.
func (l *Log) Event(e Entry) map[string]any {
	pub := e.Published
	if pub.IsZero() {
		pub = l.now()
	}
	actor := map[string]any{"id": "idlog", "type": "System", "alternateId": "idlog", "displayName": "idlog server", "detailEntry": nil}
	if e.Actor != nil {
		typ := "User"
		if e.Actor.Kind == "token" {
			typ = "Token"
		}
		actor = map[string]any{"id": e.Actor.ID, "type": typ, "alternateId": e.Actor.Name, "displayName": e.Actor.Name,
			"detailEntry": map[string]any{"role": auth.Grants(e.Actor.Role, e.Actor.Ingest)}}
	} else if e.ActorName != "" {
		actor = map[string]any{"id": e.ActorName, "type": "User", "alternateId": e.ActorName, "displayName": e.ActorName, "detailEntry": nil}
	}
	var ua any
	if e.UserAgent != "" {
		ua = map[string]any{"rawUserAgent": e.UserAgent, "os": nil, "browser": nil}
	}
	var ip any
	if e.Addr != "" {
		ip = e.Addr
	}
	targets := []any{}
	for _, t := range e.Targets {
		targets = append(targets, map[string]any{"id": t.ID, "type": t.Type, "alternateId": t.Name, "displayName": t.Name, "detailEntry": nil})
	}
	debug := map[string]any{}
	for k, v := range e.Debug {
		debug[k] = v
	}
	outcome := e.Outcome
	if outcome == "" {
		outcome = Success
	}
	var reason any
	if e.Reason != "" {
		reason = e.Reason
	}
	severity := "INFO"
	if outcome != Success {
		severity = "WARN"
	}
	msg := e.Message
	if msg == "" {
		msg = messages[e.EventType]
	}
	var txid any
	if e.TransactionID != "" {
		txid = e.TransactionID
	}
	var ext any
	if e.ExternalSession != "" {
		ext = e.ExternalSession
	}
	var prov any
	if e.AuthProviderType != "" {
		prov = e.AuthProviderType
	}
	return map[string]any{
		"uuid":            newUUID(),
		"published":       pub.UTC().Format("2006-01-02T15:04:05.000Z"),
		"eventType":       e.EventType,
		"version":         "0",
		"severity":        severity,
		"legacyEventType": nil,
		"displayMessage":  msg,
		"actor":           actor,
		"client": map[string]any{"ipAddress": ip, "userAgent": ua, "zone": nil, "device": nil, "id": nil,
			"geographicalContext": nil},
		"outcome":      map[string]any{"result": outcome, "reason": reason},
		"target":       targets,
		"transaction":  map[string]any{"type": "WEB", "id": txid, "detail": map[string]any{}},
		"debugContext": map[string]any{"debugData": debug},
		"authenticationContext": map[string]any{"authenticationProvider": prov, "credentialProvider": nil, "credentialType": nil,
			"issuer": nil, "interface": nil, "authenticationStep": 0, "externalSessionId": ext},
		"securityContext": map[string]any{"asNumber": nil, "asOrg": nil, "isp": nil, "domain": nil, "isProxy": nil},
		"request":         map[string]any{"ipChain": []any{}},
	}
}

var messages = map[string]string{
	SignIn:       "Sign in to idlog",
	SignOut:      "Sign out of idlog",
	Search:       "Search the System Log",
	Export:       "Export System Log events",
	FlowSearch:   "Look up sign-in flows",
	AuditSearch:  "Search idlog's audit trail",
	Prune:        "Delete events published before a time",
	Retention:    "Delete events older than the retention period",
	TokenCreate:  "Create an API token",
	TokenRevoke:  "Revoke an API token",
	SearchCreate: "Save a search",
	SearchUpdate: "Change a saved search",
	SearchDelete: "Delete a saved search",
	AlertStatus:  "Change an alert's status",
	RuleCreate:   "Create a detection rule",
	RuleUpdate:   "Change a detection rule",
	RuleDelete:   "Delete a detection rule",
}

// Record appends one entry to the trail. The line is written with one
// write to a file opened for appending, so the server and the CLI can add
// to it at once.
func (l *Log) Record(e Entry) error {
	if l == nil {
		return nil
	}
	b, err := json.Marshal(l.Event(e))
	if err != nil {
		return err
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Query selects events of the trail.
type Query struct {
	Filter       filter.Expr // nil: all
	Keywords     []string    // q
	Since, Until time.Time   // published in [Since, Until); zero: open
	Descending   bool
	// After continues a previous answer: the Next it returned.
	After int
	Limit int // default 100
}

// Result is one page of the trail.
type Result struct {
	Events []json.RawMessage
	// Next is the After of the following page, or 0 when this page is the
	// last.
	Next int
}

// Find reads the trail and returns the matching events, oldest first (or
// newest first with Descending), at most Limit of them; Next says where
// the rest starts, so no answer is short without saying so.
func (l *Log) Find(q Query) (Result, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	f, err := os.Open(l.path)
	if errors.Is(err, os.ErrNotExist) {
		return Result{Events: []json.RawMessage{}}, nil
	}
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	// Matching lines by position (1-based), so a cursor is a line number:
	// the file is only ever appended to.
	type hit struct {
		n   int
		raw []byte
	}
	var hits []hit
	br := bufio.NewReaderSize(f, 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if ok, merr := matches(line, q); merr != nil {
				return Result{}, fmt.Errorf("%s line %d: %w", l.path, n, merr)
			} else if ok {
				hits = append(hits, hit{n, bytes.TrimSpace(line)})
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return Result{}, err
		}
	}
	if q.Descending {
		for i, j := 0, len(hits)-1; i < j; i, j = i+1, j-1 {
			hits[i], hits[j] = hits[j], hits[i]
		}
	}
	var res Result
	res.Events = []json.RawMessage{}
	lastN := 0
	for _, h := range hits {
		if q.After > 0 && ((!q.Descending && h.n <= q.After) || (q.Descending && h.n >= q.After)) {
			continue
		}
		if len(res.Events) == q.Limit {
			res.Next = lastN
			break
		}
		res.Events = append(res.Events, json.RawMessage(h.raw))
		lastN = h.n
	}
	return res, nil
}

// publishedOf finds the published time of a line written by Record
// without decoding the whole event; ok is false when it cannot (a line
// written otherwise), and the full decode decides.
func publishedOf(line []byte) (time.Time, bool) {
	const key = `"published":"`
	i := bytes.Index(line, []byte(key))
	if i < 0 {
		return time.Time{}, false
	}
	rest := line[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(rest[:j]))
	return t, err == nil
}

func matches(line []byte, q Query) (bool, error) {
	if !q.Since.IsZero() || !q.Until.IsZero() {
		// Most reads ask for a recent range: skip the lines outside it
		// before paying for a full decode.
		if t, ok := publishedOf(line); ok && ((!q.Since.IsZero() && t.Before(q.Since)) || (!q.Until.IsZero() && !t.Before(q.Until))) {
			return false, nil
		}
	}
	doc, err := filter.DecodeJSON(line)
	if err != nil {
		return false, err
	}
	if !q.Since.IsZero() || !q.Until.IsZero() {
		m, _ := doc.(map[string]any)
		pub, _ := m["published"].(string)
		t, err := time.Parse(time.RFC3339Nano, pub)
		if err != nil {
			return false, fmt.Errorf("published %q: %w", pub, err)
		}
		if (!q.Since.IsZero() && t.Before(q.Since)) || (!q.Until.IsZero() && !t.Before(q.Until)) {
			return false, nil
		}
	}
	if q.Filter != nil && !filter.Match(q.Filter, doc) {
		return false, nil
	}
	if len(q.Keywords) > 0 && !filter.MatchKeywords(q.Keywords, doc) {
		return false, nil
	}
	return true, nil
}
