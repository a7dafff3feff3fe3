// Package client talks to a running idlog server's API, so the CLI can work
// on a store that the server holds open: Okta's GET /api/v1/logs with its
// Link paging, POST /api/v1/logs, and idlog's stats and prune endpoints.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/store"
)

// MaxPage is the largest page Okta's API (and idlog's) answers.
const MaxPage = 1000

// Client is one server and token. It is safe for concurrent use.
type Client struct {
	base  *url.URL
	token string
	// HTTP is the transport; nil means http.DefaultClient.
	HTTP *http.Client
}

// New returns a client for the server at baseURL (scheme and host, e.g.
// http://127.0.0.1:8080) with an API token.
func New(baseURL, token string) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server %q is not an http:// or https:// URL", baseURL)
	}
	return &Client{base: u, token: token}, nil
}

// APIError is a non-2xx answer, in Okta's error shape.
type APIError struct {
	Status  int
	Code    string   // errorCode, e.g. E0000053
	Summary string   // errorSummary
	Causes  []string // errorCauses[].errorSummary
}

func (e *APIError) Error() string {
	msg := e.Summary
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	for _, c := range e.Causes {
		if !strings.Contains(msg, c) {
			msg += "; " + c
		}
	}
	if e.Code != "" {
		return fmt.Sprintf("server: %s (HTTP %d, %s)", msg, e.Status, e.Code)
	}
	return fmt.Sprintf("server: %s (HTTP %d)", msg, e.Status)
}

func (c *Client) do(ctx context.Context, method, u string, body io.Reader, hdr http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "SSWS "+c.token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// url.Error repeats the whole request URL (filter and all); the
		// server's address and the cause are what the user can act on.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("cannot reach the idlog server at %s: %w", c.base.Host, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, readError(resp)
	}
	return resp, nil
}

func readError(resp *http.Response) error {
	e := &APIError{Status: resp.StatusCode}
	var body struct {
		ErrorCode    string `json:"errorCode"`
		ErrorSummary string `json:"errorSummary"`
		ErrorCauses  []struct {
			ErrorSummary string `json:"errorSummary"`
		} `json:"errorCauses"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(raw, &body) == nil && body.ErrorSummary != "" {
		e.Code, e.Summary = body.ErrorCode, body.ErrorSummary
		for _, c := range body.ErrorCauses {
			e.Causes = append(e.Causes, c.ErrorSummary)
		}
	} else if s := strings.TrimSpace(string(raw)); s != "" && len(s) < 300 {
		e.Summary = s // not idlog, or a proxy in between: show what it said
	}
	return e
}

func (c *Client) url(path string, q url.Values) string {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = q.Encode()
	return u.String()
}

func (c *Client) getJSON(ctx context.Context, method, path string, q url.Values, out any) error {
	resp, err := c.do(ctx, method, c.url(path, q), nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("server: reading %s answer: %w", path, err)
	}
	return nil
}

// LogsQuery is GET /api/v1/logs's parameters. Zero fields are not sent.
type LogsQuery struct {
	Since, Until time.Time
	Filter, Q    string
	Descending   bool
	// Limit is the total to return across pages; 0 means every event.
	Limit int
}

// Logs calls fn for each event of the query, in order, following the
// rel="next" links until Limit events, an empty page or a page without a
// next link (Okta's polling queries always have one, so the empty page is
// what ends them).
func (c *Client) Logs(ctx context.Context, q LogsQuery, fn func(raw json.RawMessage) error) error {
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	if q.Filter != "" {
		v.Set("filter", q.Filter)
	}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	if q.Descending {
		v.Set("sortOrder", "DESCENDING")
	} else {
		v.Set("sortOrder", "ASCENDING")
	}
	page := MaxPage
	if q.Limit > 0 && q.Limit < page {
		page = q.Limit
	}
	v.Set("limit", strconv.Itoa(page))
	next := c.url("/api/v1/logs", v)
	got := 0
	for next != "" {
		resp, err := c.do(ctx, http.MethodGet, next, nil, nil)
		if err != nil {
			return err
		}
		var events []json.RawMessage
		err = json.NewDecoder(resp.Body).Decode(&events)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("server: reading a page of events: %w", err)
		}
		for _, ev := range events {
			if err := fn(ev); err != nil {
				return err
			}
			if got++; q.Limit > 0 && got >= q.Limit {
				return nil
			}
		}
		if len(events) == 0 {
			return nil
		}
		next, err = c.nextLink(resp.Header)
		if err != nil {
			return err
		}
	}
	return nil
}

// nextLink finds rel="next" among the Link header lines. It refuses a link
// to another host: the token goes with every request.
func (c *Client) nextLink(h http.Header) (string, error) {
	for _, line := range h.Values("Link") {
		for _, l := range parseLinks(line) {
			if !l.next {
				continue
			}
			u, err := c.base.Parse(l.url)
			if err != nil {
				return "", fmt.Errorf("server: bad next link %q: %w", l.url, err)
			}
			if u.Scheme != c.base.Scheme || u.Host != c.base.Host {
				return "", fmt.Errorf("server: next link %q leaves %s; not following it with the token (behind a proxy, start the server with --trust-proxy)", l.url, c.base.Host)
			}
			return u.String(), nil
		}
	}
	return "", nil
}

type link struct {
	url  string
	next bool
}

// parseLinks reads one Link header value, which may itself hold several
// comma-separated links: <url>; rel="next", <url>; rel="self".
func parseLinks(s string) []link {
	var out []link
	for {
		open := strings.IndexByte(s, '<')
		if open < 0 {
			return out
		}
		end := strings.IndexByte(s[open:], '>')
		if end < 0 {
			return out
		}
		l := link{url: s[open+1 : open+end]}
		s = s[open+end+1:]
		params := s
		if i := strings.IndexByte(s, '<'); i >= 0 {
			params = s[:i]
		}
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.Trim(strings.TrimSpace(p), ", "), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
				continue
			}
			for _, r := range strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)) {
				l.next = l.next || strings.EqualFold(r, "next")
			}
		}
		out = append(out, l)
	}
}

// Push sends a body of NDJSON (or a JSON array) to POST /api/v1/logs and
// returns the server's account of it.
func (c *Client) Push(ctx context.Context, body io.Reader, contentType string) (ingest.Result, error) {
	if contentType == "" {
		contentType = "application/x-ndjson"
	}
	resp, err := c.do(ctx, http.MethodPost, c.url("/api/v1/logs", nil), body, http.Header{"Content-Type": {contentType}})
	if err != nil {
		return ingest.Result{}, err
	}
	defer resp.Body.Close()
	var res ingest.Result
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return res, fmt.Errorf("server: reading the ingest answer: %w", err)
	}
	if res.RejectedCount < len(res.Rejected) {
		res.RejectedCount = len(res.Rejected)
	}
	return res, nil
}

// PushEvents sends checked events as one NDJSON body.
func (c *Client) PushEvents(ctx context.Context, events []store.Event) (ingest.Result, error) {
	var b bytes.Buffer
	for _, e := range events {
		b.Write(e.Raw)
		b.WriteByte('\n')
	}
	return c.Push(ctx, &b, "application/x-ndjson")
}

// Stats returns GET /api/idlog/v1/stats.
func (c *Client) Stats(ctx context.Context) (store.Stats, error) {
	var body struct {
		Events      int64  `json:"events"`
		Oldest      string `json:"oldest"`
		Newest      string `json:"newest"`
		MaxSeq      int64  `json:"maxSeq"`
		BytesOnDisk int64  `json:"bytesOnDisk"`
	}
	if err := c.getJSON(ctx, http.MethodGet, "/api/idlog/v1/stats", nil, &body); err != nil {
		return store.Stats{}, err
	}
	st := store.Stats{Events: body.Events, MaxSeq: body.MaxSeq, BytesOnDisk: body.BytesOnDisk}
	var err error
	for _, f := range []struct {
		s string
		t *time.Time
	}{{body.Oldest, &st.Oldest}, {body.Newest, &st.Newest}} {
		if f.s == "" {
			continue
		}
		if *f.t, err = time.Parse(time.RFC3339Nano, f.s); err != nil {
			return st, fmt.Errorf("server: stats time %q: %w", f.s, err)
		}
	}
	return st, nil
}

// Check asks the server to verify its store (and with repair, to rebuild
// what is wrong): POST /api/idlog/v1/check.
func (c *Client) Check(ctx context.Context, repair bool) (store.CheckReport, error) {
	var rep store.CheckReport
	v := url.Values{}
	if repair {
		v.Set("repair", "true")
	}
	if err := c.getJSON(ctx, http.MethodPost, "/api/idlog/v1/check", v, &rep); err != nil {
		return rep, err
	}
	if rep.Findings == nil {
		return rep, errors.New("server: the check answer has no findings")
	}
	return rep, nil
}

// Prune asks the server to delete events published before t.
func (c *Client) Prune(ctx context.Context, before time.Time) (int64, error) {
	var body struct {
		Deleted *int64 `json:"deleted"`
	}
	v := url.Values{"before": {before.UTC().Format(time.RFC3339Nano)}}
	if err := c.getJSON(ctx, http.MethodPost, "/api/idlog/v1/prune", v, &body); err != nil {
		return 0, err
	}
	if body.Deleted == nil {
		return 0, errors.New("server: the prune answer has no deleted count")
	}
	return *body.Deleted, nil
}
