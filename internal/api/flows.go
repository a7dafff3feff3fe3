package api

import (
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/idlog/idlog/internal/audit"
	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/flowdef"
	"github.com/idlog/idlog/internal/flows"
	"github.com/idlog/idlog/internal/store"
)

// Flow analysis endpoints:
//
//	GET /api/idlog/v1/flows?user=|session=|ip=|event=&since&until
//	GET /api/idlog/v1/funnels?flow=&since&until&filter&split=
//	GET /api/idlog/v1/flowdefs
//
// flows answers a JSON array of instances (package flows' Instance), oldest
// first; with event=UUID, the one instance holding that event. funnels
// answers one Funnel: without a filter from an index of the whole store kept
// up to date by ingest sequence (counting the instances that started in the
// range; X-Idlog-Funnel-Source: index), with one (or while the index is first
// built) from the events in the range (X-Idlog-Funnel-Source: events).
// flowdefs lists the flow definitions, for the page's timelines.

// flowRoutes mounts the flow endpoints; routes calls it.
func (s *Server) flowRoutes() {
	s.audited("GET /api/idlog/v1/flows", auth.RoleViewer, audit.FlowSearch, s.flows)
	s.route("GET /api/idlog/v1/funnels", auth.RoleViewer, s.funnels)
	s.route("GET /api/idlog/v1/flowdefs", auth.RoleViewer, s.flowDefs)
}

func (s *Server) flows(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	var c causes
	sel := flows.Selector{User: strings.TrimSpace(v.Get("user")), Session: strings.TrimSpace(v.Get("session")),
		IP: strings.TrimSpace(v.Get("ip"))}
	sel.Since = timeParam(v, "since", &c)
	sel.Until = timeParam(v, "until", &c)
	uuid := strings.TrimSpace(v.Get("event"))
	if uuid == "" && sel.User == "" && sel.Session == "" && sel.IP == "" {
		c.add("user", "name a user, session, ip or event.")
	}
	if err := c.err(); err != nil {
		return err
	}
	ctx, cancel := s.queryContext(r.Context())
	defer cancel()
	if uuid != "" {
		in, err := flows.ForEvent(ctx, s.st, uuid)
		if errors.Is(err, store.ErrNotFound) {
			return &Error{kind: kindNotFound, Code: codeNotFound, Summary: "Not found: Resource not found: " + uuid + " (LogEvent)"}
		}
		if err != nil {
			return storeError(ctx, err)
		}
		return writeJSON(w, []*flows.Instance{in})
	}
	ins, err := flows.Find(ctx, s.st, sel)
	if err != nil {
		return storeError(ctx, err)
	}
	if ins == nil {
		ins = []*flows.Instance{}
	}
	return writeJSON(w, ins)
}

// liveIndexes holds each server's funnel index (*flows.Live), made on the
// first unfiltered funnel request.
var liveIndexes sync.Map // *Server → *flows.Live

func (s *Server) funnels(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	var c causes
	kind := strings.TrimSpace(v.Get("flow"))
	if _, ok := flowdef.Lookup(kind); !ok {
		c.add("flow", "must be one of "+strings.Join(flowKinds(), ", ")+".")
	}
	split := strings.TrimSpace(v.Get("split"))
	if split != "" && !containsString(flows.Splits, split) {
		c.add("split", "must be one of "+strings.Join(flows.Splits, ", ")+" or empty.")
	}
	if err := c.err(); err != nil {
		return err
	}
	sel, err := parseSelection(v)
	if err != nil {
		return err
	}
	ctx, cancel := s.queryContext(r.Context())
	defer cancel()
	// Without a filter the server's live index answers (instances that
	// started in the range), once built; until then, and with a filter, the
	// events are read from the store.
	if sel.expr == nil && len(sel.keywords) == 0 {
		v, _ := liveIndexes.LoadOrStore(s, flows.NewLive(s.st))
		fn, err := v.(*flows.Live).Funnel(ctx, kind, sel.since, sel.until, split)
		if err == nil {
			w.Header().Set("X-Idlog-Funnel-Source", "index")
			return writeJSON(w, fn)
		}
		if !errors.Is(err, flows.ErrNotReady) {
			return storeError(ctx, err)
		}
	}
	w.Header().Set("X-Idlog-Funnel-Source", "events")
	fn, err := flows.FunnelFromStore(ctx, s.st, flows.FunnelQuery{Flow: kind, Since: sel.since, Until: sel.until, Filter: sel.expr, Split: split})
	if err != nil {
		return storeError(ctx, err)
	}
	return writeJSON(w, fn)
}

func (s *Server) flowDefs(w http.ResponseWriter, r *http.Request) error {
	type step struct {
		Name       string   `json:"name"`
		EventTypes []string `json:"eventTypes"`
		Optional   bool     `json:"optional,omitempty"`
		Repeatable bool     `json:"repeatable,omitempty"`
	}
	type def struct {
		Kind     string `json:"kind"`
		Title    string `json:"title"`
		MaxGapMS int64  `json:"maxGapMs"`
		Steps    []step `json:"steps"`
	}
	var out []def
	for _, f := range flowdef.All() {
		d := def{Kind: f.Kind, Title: f.Title, MaxGapMS: f.MaxGap.Milliseconds()}
		for _, st := range f.Steps {
			d.Steps = append(d.Steps, step{st.Name, st.EventTypes, st.Optional, st.Repeatable})
		}
		out = append(out, d)
	}
	return writeJSON(w, out)
}

func flowKinds() []string {
	var out []string
	for _, f := range flowdef.All() {
		out = append(out, f.Kind)
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
