package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/idlog/idlog/internal/audit"
	"github.com/idlog/idlog/internal/auth"
)

// The audit trail endpoint, for admins:
//
//	GET /api/idlog/v1/audit?filter&q&since&until&limit&sortOrder&after
//
// answers a JSON array of LogEvents (eventType idlog.…), oldest first (or
// newest first with sortOrder=DESCENDING), with Okta's Link rel="next"
// when there are more: the same filter language and paging as
// GET /api/v1/logs, over idlog's own trail instead of the org's events.

func (s *Server) auditRoutes() {
	s.audited("GET /api/idlog/v1/audit", auth.RoleAdmin, audit.AuditSearch, s.auditLog)
}

type auditKey struct{}

// auditDebugParams are the query parameters an audit record keeps: what
// was searched, never a cursor or a secret.
var auditDebugParams = []string{"filter", "q", "since", "until", "sortOrder", "limit", "before", "user", "ip", "session", "event"}

// auditEntry starts the record of one request.
func (s *Server) auditEntry(r *http.Request, p *auth.Principal, eventType string) *audit.Entry {
	debug := map[string]any{"requestUri": r.URL.Path, "requestMethod": r.Method}
	v := r.URL.Query()
	for _, k := range auditDebugParams {
		if v.Has(k) {
			debug[k] = v.Get(k)
		}
	}
	return &audit.Entry{EventType: eventType, Actor: p, Addr: auth.ClientAddr(r, s.opts.TrustForwarded),
		UserAgent: r.UserAgent(), Outcome: audit.Success, Debug: debug, TransactionID: newErrorID()[3:]}
}

// auditRecordOf returns the record a handler may add to (targets, more
// debug data, a more precise eventType), or nil when the route is not
// audited.
func auditRecordOf(r *http.Request) *audit.Entry {
	e, _ := r.Context().Value(auditKey{}).(*audit.Entry)
	return e
}

func failRecord(e *audit.Entry, outcome, reason string) {
	if e != nil {
		e.Outcome, e.Reason = outcome, reason
	}
}

// failRecordWith marks the record failed with the error the client sees.
func failRecordWith(e *audit.Entry, err error) {
	if e == nil {
		return
	}
	var ae *Error
	switch {
	case errors.As(err, &ae) && ae.kind == kindForbidden:
		failRecord(e, audit.Deny, strings.Join(append([]string{ae.Summary}, ae.Causes...), " "))
	case errors.As(err, &ae):
		failRecord(e, audit.Failure, ae.Summary)
	case errors.Is(err, context.Canceled):
		failRecord(e, audit.Failure, "the client went away")
	default:
		failRecord(e, audit.Failure, "Internal Server Error")
	}
}

func (s *Server) record(e *audit.Entry) {
	if err := s.opts.Audit.Record(*e); err != nil {
		// The action happened; losing its record is logged loudly.
		s.log.Error("audit trail: could not record", "eventType", e.EventType, "err", err)
	}
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Audit == nil {
		return errNotFound
	}
	v := r.URL.Query()
	sel, err := parseSelection(v)
	if err != nil {
		return err
	}
	var c causes
	limit := intParam(v, "limit", 100, 1, 1000, &c)
	after := intParam(v, "after", 0, 0, 1<<62, &c)
	desc := false
	switch so := v.Get("sortOrder"); so {
	case "", "ASCENDING":
	case "DESCENDING":
		desc = true
	default:
		c.add("sortOrder", "must be ASCENDING or DESCENDING.")
	}
	if err := c.err(); err != nil {
		return err
	}
	res, err := s.opts.Audit.Find(audit.Query{Filter: sel.expr, Keywords: sel.keywords, Since: sel.since, Until: sel.until,
		Descending: desc, After: after, Limit: limit})
	if err != nil {
		return internalError(err)
	}
	if rec := auditRecordOf(r); rec != nil {
		rec.Debug["returned"] = len(res.Events)
	}
	if res.Next > 0 {
		next := *r.URL
		q := next.Query()
		q.Set("after", strconv.Itoa(res.Next))
		next.RawQuery = q.Encode()
		w.Header().Add("Link", "<"+s.baseURL(r)+next.RequestURI()+`>; rel="next"`)
	}
	return writeJSON(w, res.Events)
}
