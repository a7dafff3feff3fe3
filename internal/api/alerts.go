package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/idlog/idlog/internal/audit"
	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/detect"
)

// Alert endpoints (when Options.Alerts is set):
//
//	GET  /api/idlog/v1/alerts?rule=&severity=&status=&since=&until=&limit=&after=
//	GET  /api/idlog/v1/alerts/{id}
//	POST /api/idlog/v1/alerts/{id}   {"status": "acknowledged"|"closed"|"open", "note": "…"}
//
// The list is newest first (by the alert's last event); since and until
// bound that last event. Paging is Okta's: at most limit alerts (default
// 100, at most 1000) and, when there may be more, a Link header with
// rel="next" whose after is the last alert's id.

func (s *Server) alertRoutes() {
	if s.opts.Alerts == nil {
		return
	}
	s.route("GET /api/idlog/v1/alerts", auth.RoleViewer, s.listAlerts)
	s.route("GET /api/idlog/v1/alerts/{id}", auth.RoleViewer, s.getAlert)
	s.audited("POST /api/idlog/v1/alerts/{id}", auth.RoleAnalyst, audit.AlertStatus, s.updateAlert)
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	var c causes
	q := detect.AlertQuery{
		Rule: strings.TrimSpace(v.Get("rule")), Severity: strings.ToLower(strings.TrimSpace(v.Get("severity"))),
		Status: strings.ToLower(strings.TrimSpace(v.Get("status"))), After: strings.TrimSpace(v.Get("after")),
	}
	if q.Severity != "" && !slices.Contains(detect.Severities, q.Severity) {
		c.add("severity", "must be one of "+strings.Join(detect.Severities, ", ")+".")
	}
	if q.Status != "" && q.Status != detect.StatusOpen && q.Status != detect.StatusAcknowledged && q.Status != detect.StatusClosed {
		c.add("status", "must be open, acknowledged or closed.")
	}
	q.Since = timeParam(v, "since", &c)
	q.Until = timeParam(v, "until", &c)
	q.Limit = intParam(v, "limit", 100, 1, 1000, &c)
	if err := c.err(); err != nil {
		return err
	}
	list, err := s.opts.Alerts.List(r.Context(), q)
	if err != nil {
		if q.After != "" {
			return validationError("after", "names no alert of this selection.")
		}
		return internalError(err)
	}
	if len(list) == q.Limit {
		next := url.Values{}
		for k, vs := range v {
			next[k] = vs
		}
		next.Set("after", list[len(list)-1].ID)
		w.Header().Add("Link", "<"+s.baseURL(r)+"/api/idlog/v1/alerts?"+next.Encode()+`>; rel="next"`)
	}
	if list == nil {
		list = []detect.Alert{}
	}
	return writeJSON(w, list)
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) error {
	a, err := s.opts.Alerts.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, detect.ErrNoAlert) {
		return &Error{kind: kindNotFound, Code: codeNotFound, Summary: "Not found: Resource not found: " + r.PathValue("id") + " (Alert)"}
	}
	if err != nil {
		return internalError(err)
	}
	return writeJSON(w, a)
}

func (s *Server) updateAlert(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Status string `json:"status"`
		Note   string `json:"note"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return validationError("body", "must be a JSON object with status (open, acknowledged or closed) and an optional note.")
	}
	body.Status = strings.ToLower(strings.TrimSpace(body.Status))
	switch body.Status {
	case detect.StatusOpen, detect.StatusAcknowledged, detect.StatusClosed:
	default:
		return validationError("status", "must be open, acknowledged or closed.")
	}
	if len(body.Note) > 4000 {
		return validationError("note", "must be at most 4000 bytes.")
	}
	note := body.Note
	if p := auth.FromContext(r.Context()); p != nil && note != "" {
		note = note + " (" + p.ID + ")"
	}
	a, err := s.opts.Alerts.Update(r.Context(), r.PathValue("id"), body.Status, note, s.opts.Now())
	if errors.Is(err, detect.ErrNoAlert) {
		return &Error{kind: kindNotFound, Code: codeNotFound, Summary: "Not found: Resource not found: " + r.PathValue("id") + " (Alert)"}
	}
	if err != nil {
		return internalError(err)
	}
	return writeJSON(w, a)
}
