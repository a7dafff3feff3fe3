package api

import (
	"compress/gzip"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idlog/idlog/internal/audit"
	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/cursor"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
)

const (
	defaultLimit  = 100
	maxLimit      = 1000
	defaultWindow = 7 * 24 * time.Hour // Okta's default since: until − 7 days
)

// ExportHeader marks the first request of a download (the page's CSV or
// NDJSON export): exports need the analyst role and are recorded as
// idlog.log.export rather than a search.
const ExportHeader = "X-Idlog-Export"

// listLogs is GET /api/v1/logs. See docs/api.md for the two modes.
func (s *Server) listLogs(w http.ResponseWriter, r *http.Request) error {
	if format := r.Header.Get(ExportHeader); format != "" {
		if rec := auditRecordOf(r); rec != nil {
			rec.EventType = audit.Export
			rec.Debug["format"] = format
		}
		if p := auth.FromContext(r.Context()); !p.Allows(auth.RoleAnalyst) {
			return forbidden(auth.RoleAnalyst, p)
		}
	}
	v := r.URL.Query()
	cur, err := s.logsCursor(v, s.opts.Now().UTC())
	if err != nil {
		return err
	}
	expr, kws, err := parseFilter(cur.Filter, cur.Q)
	if err != nil {
		return err
	}

	var page []store.Event
	more := false
	if cur.Limit > 0 {
		q := store.Query{Filter: expr, Keywords: kws, Since: cur.Since, Until: cur.Until,
			Descending: cur.Descending, Limit: cur.Limit}
		if cur.HasPos {
			q.After = &store.Position{Published: cur.Published, Seq: cur.Seq}
		}
		if cur.Mode == cursor.Polling {
			q.Order = store.BySeq
		} else {
			q.Order = store.ByPublished
			q.Limit++ // one more than asked tells whether a next page exists
		}
		ctx, cancel := s.queryContext(r.Context())
		page, err = s.st.Query(ctx, q)
		cancel()
		if err != nil {
			return storeError(r.Context(), err)
		}
		if len(page) > cur.Limit {
			page, more = page[:cur.Limit], true
		}
	}

	next := cur
	if len(page) > 0 {
		last := page[len(page)-1]
		next.HasPos, next.Published, next.Seq = true, last.Published, last.Seq
	}
	h := w.Header()
	base := s.baseURL(r)
	// The self link repeats the request, unless that is long (a long
	// filter): then it is a cursor for this same page, because some
	// clients (Okta's Node.js SDK) join every Link line and give up on
	// long ones.
	self := base + r.URL.RequestURI()
	if len(self) > maxEchoedLink {
		if self, err = s.cursorLink(base, cur); err != nil {
			return err
		}
	}
	h.Add("Link", "<"+self+`>; rel="self"`)
	// Polling never ends: the next link is there even on an empty page
	// and then continues from the same position.
	if cur.Mode == cursor.Polling || more {
		link, err := s.cursorLink(base, next)
		if err != nil {
			return err
		}
		h.Add("Link", "<"+link+`>; rel="next"`)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-cache, no-store")
	return writeEvents(w, r, page, s.opts.Gzip)
}

// maxEchoedLink is the longest request URL a self link repeats as it is.
const maxEchoedLink = 800

func (s *Server) cursorLink(base string, c cursor.Cursor) (string, error) {
	token, err := s.opts.Cursors.Encode(c)
	if err != nil {
		return "", internalError(err)
	}
	return base + "/api/v1/logs?after=" + token + "&limit=" + strconv.Itoa(c.Limit), nil
}

// gzipMin is the smallest page worth compressing; gzip writers are pooled
// since each holds several hundred KB of state.
const gzipMin = 4 << 10

var gzips = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// acceptsGzip reports whether Accept-Encoding names gzip without q=0.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(params, " ", "")
			return !(q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000")
		}
	}
	return false
}

// writeEvents writes the events exactly as stored, as one JSON array. With
// gzipOK (Options.Gzip) it gzips large pages for clients that accept it (a
// 1,000-event page is about 1 MB of JSON and compresses about tenfold).
func writeEvents(w http.ResponseWriter, r *http.Request, page []store.Event, gzipOK bool) error {
	n := 2
	for _, e := range page {
		n += len(e.Raw) + 1
	}
	buf := make([]byte, 0, n)
	buf = append(buf, '[')
	for i, e := range page {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, e.Raw...)
	}
	buf = append(buf, ']')
	if gzipOK {
		w.Header().Add("Vary", "Accept-Encoding")
	}
	if !gzipOK || len(buf) < gzipMin || !acceptsGzip(r) {
		_, err := w.Write(buf)
		return err
	}
	w.Header().Set("Content-Encoding", "gzip")
	gz := gzips.Get().(*gzip.Writer)
	defer gzips.Put(gz)
	gz.Reset(w)
	if _, err := gz.Write(buf); err != nil {
		return err
	}
	return gz.Close()
}

// logsCursor turns the parameters of GET /api/v1/logs into the query state
// they ask for: decoded from after, or built from the other parameters.
func (s *Server) logsCursor(v url.Values, now time.Time) (cursor.Cursor, error) {
	var c causes
	limitGiven := strings.TrimSpace(v.Get("limit")) != ""
	limit := intParam(v, "limit", defaultLimit, 0, maxLimit, &c)
	order := strings.TrimSpace(v.Get("sortOrder"))
	var desc bool
	switch strings.ToUpper(order) {
	case "", "ASCENDING":
	case "DESCENDING":
		desc = true
	default:
		c.add("sortOrder", "must be ASCENDING or DESCENDING.")
	}
	since := timeParam(v, "since", &c)
	until := timeParam(v, "until", &c)
	if err := c.err(); err != nil {
		return cursor.Cursor{}, err
	}

	if after := v.Get("after"); after != "" {
		cur, err := s.opts.Cursors.Decode(after)
		if errors.Is(err, cursor.ErrInvalid) {
			s.log.Info("refused cursor", "err", err)
			return cur, validationError("after", "is not a cursor this server issued (it may have been changed or cut). Start again without 'after' and follow the next links.")
		}
		if err != nil {
			return cur, internalError(err)
		}
		// Clients that repeat their first request's parameters next to
		// after are fine as long as they say the same thing; anything
		// else would silently answer a different question.
		if v.Has("filter") && !sameFilter(v.Get("filter"), cur.Filter) {
			c.add("filter", conflictMsg)
		}
		if v.Has("q") && !sameKeywords(v.Get("q"), cur.Q) {
			c.add("q", conflictMsg)
		}
		if !since.IsZero() && !since.Equal(cur.Since) {
			c.add("since", conflictMsg)
		}
		if !until.IsZero() && !until.Equal(cur.Until) {
			c.add("until", conflictMsg)
		}
		if order != "" && desc != cur.Descending {
			c.add("sortOrder", conflictMsg)
		}
		if err := c.err(); err != nil {
			return cur, err
		}
		if limitGiven {
			cur.Limit = limit
		}
		return cur, nil
	}

	cur := cursor.Cursor{Filter: v.Get("filter"), Q: v.Get("q"), Since: since, Until: until,
		Descending: desc, Limit: limit}
	if until.IsZero() && !desc {
		cur.Mode = cursor.Polling
		if cur.Since.IsZero() {
			cur.Since = now.Add(-defaultWindow)
		}
		return cur, nil
	}
	cur.Mode = cursor.Bounded
	if cur.Until.IsZero() {
		cur.Until = now // DESCENDING without until: bounded at now
	}
	if cur.Since.IsZero() {
		cur.Since = cur.Until.Add(-defaultWindow)
	}
	if !cur.Since.Before(cur.Until) {
		c.add("since", "must be earlier than until.")
		return cur, c.err()
	}
	return cur, nil
}

const conflictMsg = "differs from the query that 'after' continues. Send the next link as given, or repeat the first request's parameters unchanged."

// sameFilter compares filters by meaning where both parse, so whitespace
// and operator case do not matter.
func sameFilter(a, b string) bool {
	if strings.TrimSpace(a) == strings.TrimSpace(b) {
		return true
	}
	ea, erra := filter.Parse(a)
	eb, errb := filter.Parse(b)
	return erra == nil && errb == nil && ea.String() == eb.String()
}

func sameKeywords(a, b string) bool {
	ka, erra := filter.ParseKeywords(a)
	kb, errb := filter.ParseKeywords(b)
	if erra != nil || errb != nil {
		return a == b
	}
	return strings.Join(ka, " ") == strings.Join(kb, " ")
}

// baseURL is scheme://host of the request, as the client reached us.
func (s *Server) baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if s.opts.TrustForwarded {
		if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
			scheme = p
		}
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" {
			host = h
		}
	}
	return scheme + "://" + host
}

func firstValue(h string) string {
	v, _, _ := strings.Cut(h, ",")
	return strings.TrimSpace(v)
}
