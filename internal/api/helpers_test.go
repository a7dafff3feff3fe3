package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/cursor"
	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

// env is a server over a fresh in-memory store, with one token per scope.
type env struct {
	t       testing.TB
	st      store.Store
	srv     *api.Server
	ts      *httptest.Server
	dir     string
	tokens  *auth.Tokens
	read    string // viewer (logs.read)
	analyst string
	write   string // ingest only (logs.write)
	admin   string
}

func newEnv(t testing.TB, opts api.Options) *env {
	t.Helper()
	return newEnvStore(t, opts, nil)
}

func newEnvStore(t testing.TB, opts api.Options, wrap func(store.Store) store.Store) *env {
	t.Helper()
	ctx := context.Background()
	st, err := storeurl.Open(ctx, "duckdb::memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if wrap != nil {
		st = wrap(st)
	}
	e := &env{t: t, st: st, dir: t.TempDir()}
	e.tokens = auth.OpenTokens(e.dir)
	mk := func(name string, s auth.Scope) string {
		secret, _, err := e.tokens.Create(name, []auth.Scope{s})
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	e.read, e.write, e.admin = mk("reader", auth.ScopeRead), mk("writer", auth.ScopeWrite), mk("admin", auth.ScopeAdmin)
	e.analyst = mk("analyst", auth.RoleAnalyst)
	if opts.Authenticator == nil {
		opts.Authenticator = auth.Chain{e.tokens}
	}
	if opts.Cursors == nil {
		opts.Cursors, err = cursor.Open(e.dir)
		if err != nil {
			t.Fatal(err)
		}
	}
	if opts.Ingest == nil {
		opts.Ingest = api.PipelineIngest(ingest.New(st, ingest.Options{}))
	}
	if opts.Logger == nil {
		opts.Logger = discardLogger()
	}
	e.srv, err = api.New(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(e.srv)
	t.Cleanup(e.ts.Close)
	return e
}

// get sends a GET with an SSWS token and returns the response and body.
func (e *env) get(token, pathAndQuery string) (*http.Response, []byte) {
	e.t.Helper()
	return e.do("GET", token, pathAndQuery, nil, nil)
}

func (e *env) do(method, token, pathAndQuery string, body io.Reader, hdr http.Header) (*http.Response, []byte) {
	e.t.Helper()
	u := pathAndQuery
	if !strings.HasPrefix(u, "http") {
		u = e.ts.URL + pathAndQuery
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "SSWS "+token)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

// add stores raw events directly (not through the API).
func (e *env) add(raws ...[]byte) {
	e.t.Helper()
	var evs []store.Event
	for _, r := range raws {
		ev, err := ingest.ParseEvent(r)
		if err != nil {
			e.t.Fatalf("bad test event %s: %v", r, err)
		}
		evs = append(evs, ev)
	}
	if _, err := e.st.Append(context.Background(), evs); err != nil {
		e.t.Fatal(err)
	}
}

type oktaError struct {
	ErrorCode    string `json:"errorCode"`
	ErrorSummary string `json:"errorSummary"`
	ErrorLink    string `json:"errorLink"`
	ErrorID      string `json:"errorId"`
	ErrorCauses  []struct {
		ErrorSummary string `json:"errorSummary"`
	} `json:"errorCauses"`
}

// wantError checks an Okta error answer.
func wantError(t *testing.T, resp *http.Response, body []byte, status int, code string) oktaError {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	var e oktaError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, body)
	}
	if e.ErrorCode != code || e.ErrorLink != code || e.ErrorSummary == "" || !strings.HasPrefix(e.ErrorID, "oae") || len(e.ErrorID) != 25 || e.ErrorCauses == nil {
		t.Fatalf("error %+v, want code %s in Okta's shape", e, code)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	return e
}

var eventTypes = []string{"user.session.start", "policy.evaluate_sign_on", "user.authentication.sso",
	"user.authentication.auth_via_mfa", "system.push.send_factor_verify_push", "user.session.end", "user.account.lock"}
var results = []string{"SUCCESS", "FAILURE", "ALLOW", "DENY", "CHALLENGE"}

// genEvent makes a LogEvent shaped like Okta's, with enough variety for
// filters and keywords.
func genEvent(r *rand.Rand, i int, published time.Time) []byte {
	ev := map[string]any{
		"uuid":            fmt.Sprintf("%08x-0000-4000-8000-%012x", r.Uint32(), i),
		"published":       published.UTC().Format("2006-01-02T15:04:05.000Z"),
		"eventType":       eventTypes[r.IntN(len(eventTypes))],
		"version":         "0",
		"severity":        "INFO",
		"displayMessage":  "Event number " + fmt.Sprint(i),
		"legacyEventType": nil,
		"actor": map[string]any{"id": fmt.Sprintf("00u%03d", r.IntN(40)), "type": "User",
			"alternateId": fmt.Sprintf("user%d@example.com", r.IntN(40)), "displayName": "User", "detailEntry": nil},
		"client": map[string]any{"ipAddress": fmt.Sprintf("10.0.%d.%d", r.IntN(4), r.IntN(250)), "zone": "null", "device": "Computer",
			"userAgent": map[string]any{"rawUserAgent": "Mozilla/5.0", "os": "Mac OS X", "browser": "CHROME"}},
		"outcome": map[string]any{"result": results[r.IntN(len(results))], "reason": nil},
		"target": []any{map[string]any{"id": fmt.Sprintf("0oa%02d", r.IntN(9)), "type": "AppInstance",
			"alternateId": "App", "displayName": "App", "detailEntry": nil}},
		"transaction":           map[string]any{"type": "WEB", "id": fmt.Sprintf("tx%d", i), "detail": map[string]any{}},
		"debugContext":          map[string]any{"debugData": map[string]any{"requestUri": "/idp/idx/identify", "threatSuspected": "false"}},
		"authenticationContext": map[string]any{"externalSessionId": fmt.Sprintf("idx%d", r.IntN(100)), "authenticationStep": 0},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b
}

// genEvents makes n events published over [start, start+span), in random
// published order.
func genEvents(seed uint64, n int, start time.Time, span time.Duration) [][]byte {
	r := rand.New(rand.NewPCG(seed, seed))
	out := make([][]byte, n)
	for i := range out {
		out[i] = genEvent(r, i, start.Add(time.Duration(r.Int64N(int64(span)))).Truncate(time.Millisecond))
	}
	return out
}

// newEnvFrom starts another server over e's store and data directory (a
// restart), pointing e's httptest server at it.
func newEnvFrom(t *testing.T, e *env, opts api.Options) *api.Server {
	t.Helper()
	var err error
	e.tokens = auth.OpenTokens(e.dir)
	opts.Authenticator = auth.Chain{e.tokens}
	if opts.Cursors, err = cursor.Open(e.dir); err != nil {
		t.Fatal(err)
	}
	opts.Logger = discardLogger()
	if e.srv, err = api.New(e.st, opts); err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(e.srv)
	t.Cleanup(e.ts.Close)
	return e.srv
}

func scopes(names ...string) []auth.Scope {
	out := make([]auth.Scope, len(names))
	for i, n := range names {
		out[i] = auth.Scope(n)
	}
	return out
}
