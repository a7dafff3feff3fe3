package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/event"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
)

// The idlog extension endpoints (/api/idlog/v1/…) serve the web page and
// the CLI. They take the same filter, q, since and until as
// GET /api/v1/logs; absent times leave that side open.

func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache, no-store")
	return json.NewEncoder(w).Encode(v)
}

func jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := s.queryContext(r.Context())
	defer cancel()
	st, err := s.st.Stats(ctx)
	if err != nil {
		return storeError(ctx, err)
	}
	return writeJSON(w, struct {
		Events      int64   `json:"events"`
		Oldest      *string `json:"oldest"`
		Newest      *string `json:"newest"`
		MaxSeq      int64   `json:"maxSeq"`
		BytesOnDisk int64   `json:"bytesOnDisk"`
	}{st.Events, jsonTime(st.Oldest), jsonTime(st.Newest), st.MaxSeq, st.BytesOnDisk})
}

func (s *Server) count(w http.ResponseWriter, r *http.Request) error {
	sel, err := parseSelection(r.URL.Query())
	if err != nil {
		return err
	}
	ctx, cancel := s.queryContext(r.Context())
	defer cancel()
	n, err := s.st.Count(ctx, sel.query())
	if err != nil {
		return storeError(ctx, err)
	}
	return writeJSON(w, map[string]int64{"count": n})
}

// niceSteps are the bucket widths an automatic histogram picks from.
var niceSteps = []time.Duration{
	time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour,
}

const (
	autoBuckets = 120   // an automatic step aims at no more bars than this
	maxBuckets  = 10000 // an explicit step may not ask for more
)

// parseStep reads a bucket width: a Go duration ("90s", "1h30m") or a
// number of days ("1d", "7d").
func parseStep(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, errors.New("bad days")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

func (s *Server) histogram(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	sel, err := parseSelection(v)
	if err != nil {
		return err
	}
	ctx, cancel := s.queryContext(r.Context())
	defer cancel()
	from, to := sel.since, sel.until
	if from.IsZero() || to.IsZero() {
		st, err := s.st.Stats(ctx)
		if err != nil {
			return storeError(ctx, err)
		}
		if from.IsZero() {
			from = st.Oldest
		}
		if to.IsZero() {
			to = st.Newest
		}
	}
	span := to.Sub(from)
	var step time.Duration
	if sv := strings.TrimSpace(v.Get("step")); sv != "" && sv != "auto" {
		step, err = parseStep(sv)
		if err != nil || step < time.Second {
			return validationError("step", "must be a duration of at least 1s, such as 5m, 1h or 1d.")
		}
		if span > 0 && span/step > maxBuckets {
			return validationError("step", sv+" makes more than "+strconv.Itoa(maxBuckets)+" buckets for this time range; use a larger step.")
		}
	} else {
		step = niceSteps[len(niceSteps)-1]
		for _, d := range niceSteps {
			if span/d <= autoBuckets {
				step = d
				break
			}
		}
	}
	buckets, err := s.st.Histogram(ctx, sel.query(), step)
	if err != nil {
		return storeError(ctx, err)
	}
	type bucket struct {
		Start  string           `json:"start"`
		Counts map[string]int64 `json:"counts"`
	}
	out := make([]bucket, len(buckets))
	for i, b := range buckets {
		out[i] = bucket{b.Start.UTC().Format(time.RFC3339), b.Counts}
	}
	w.Header().Set("X-Idlog-Step", step.String())
	return writeJSON(w, out)
}

func (s *Server) top(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	var c causes
	n := intParam(v, "n", 10, 1, 1000, &c)
	field := strings.TrimSpace(v.Get("field"))
	var path filter.Path
	if field == "" {
		c.add("field", "is required: an attribute path such as actor.id or client.ipAddress.")
	} else if e, err := filter.Parse(field + " pr"); err != nil {
		c.add("field", "is not a valid attribute path: "+err.Error())
	} else if cmp, ok := filter.Unparen(e).(*filter.Compare); ok {
		path = cmp.Path
	} else {
		c.add("field", "is not a single attribute path.")
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
	vals, err := s.st.TopValues(ctx, sel.query(), path, n)
	if err != nil {
		return storeError(ctx, err)
	}
	type row struct {
		Value string `json:"value"`
		Count int64  `json:"count"`
	}
	out := make([]row, len(vals))
	for i, vc := range vals {
		out[i] = row{vc.Value, vc.Count}
	}
	return writeJSON(w, out)
}

func (s *Server) eventTypes(w http.ResponseWriter, r *http.Request) error {
	type typ struct {
		Name            string   `json:"name"`
		Category        string   `json:"category"`
		Description     string   `json:"description"`
		LegacyEventType string   `json:"legacyEventType,omitempty"`
		Flows           []string `json:"flows"`
	}
	types := event.Types()
	out := make([]typ, len(types))
	for i, t := range types {
		out[i] = typ{t.Name, t.Category, t.Description, t.LegacyEventType, t.Flows}
		if out[i].Flows == nil {
			out[i].Flows = []string{}
		}
	}
	return writeJSON(w, out)
}

// Scenario is one saved investigation the web page offers: a filter
// template with one parameter.
type Scenario struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Param       string `json:"param"`          // user, ip or session
	Flow        string `json:"flow,omitempty"` // the flow kind it shows
	Template    string `json:"template"`       // filter text; "{value}" marks the parameter
}

func (s *Server) scenarios(w http.ResponseWriter, r *http.Request) error {
	out := s.opts.Scenarios
	if out == nil {
		out = []Scenario{}
	}
	return writeJSON(w, out)
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := s.queryContext(r.Context())
	defer cancel()
	ev, err := s.st.Get(ctx, r.PathValue("uuid"))
	if errors.Is(err, store.ErrNotFound) {
		return &Error{kind: kindNotFound, Code: codeNotFound, Summary: "Not found: Resource not found: " + r.PathValue("uuid") + " (LogEvent)"}
	}
	if err != nil {
		return storeError(ctx, err)
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(ev.Raw)
	return err
}

func (s *Server) prune(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	var c causes
	before := timeParam(v, "before", &c)
	if before.IsZero() && len(c.list) == 0 {
		c.add("before", "is required: events published before this time are deleted.")
	}
	if err := c.err(); err != nil {
		return err
	}
	// Pruning may take longer than a query; it runs to the end unless
	// the client goes away.
	n, err := s.st.DeleteBefore(r.Context(), before)
	if err != nil {
		return storeError(r.Context(), err)
	}
	s.log.Info("pruned", "before", before, "deleted", n, "caller", callerID(r))
	return writeJSON(w, map[string]int64{"deleted": n})
}

// check verifies the store's derived structures against its events
// (store.Checker); repair=true rebuilds what is wrong. It is a POST
// because a repair writes, and because even a check can take long on a
// big store; like prune it runs until the client goes away.
func (s *Server) check(w http.ResponseWriter, r *http.Request) error {
	ch, ok := s.st.(store.Checker)
	if !ok {
		return writeJSON(w, store.CheckReport{Findings: []store.Finding{}})
	}
	repair := r.URL.Query().Get("repair") == "true"
	rep, err := ch.Check(r.Context(), repair)
	if err != nil {
		return storeError(r.Context(), err)
	}
	if rep.Findings == nil {
		rep.Findings = []store.Finding{}
	}
	s.log.Info("store checked", "repair", repair, "damaged", rep.Damaged(), "caller", callerID(r))
	return writeJSON(w, rep)
}
