package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/flowdef"
	"github.com/idlog/idlog/internal/store"
)

// Selector picks the instances to reconstruct from a store: those of one
// user, one session or one client IP, within [Since, Until).
type Selector struct {
	User    string // Okta user id or login; also finds what admins did to the user
	Session string // authenticationContext.externalSessionId
	IP      string // client.ipAddress
	Since   time.Time
	Until   time.Time
}

// ErrNoSelector is returned by Find when the selector names no user,
// session or IP.
var ErrNoSelector = errors.New("flows: name a user, a session or an IP")

func eq(path, value string) filter.Expr {
	return &filter.Compare{Path: filter.Path(splitPath(path)), Op: filter.OpEq, Value: filter.Value{Kind: filter.String, Str: value}}
}

func splitPath(p string) []string {
	var out []string
	start := 0
	for i := 0; i < len(p); i++ {
		if p[i] == '.' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return append(out, p[start:])
}

// anyOf ORs the expressions (nil for none).
func anyOf(xs ...filter.Expr) filter.Expr {
	var out filter.Expr
	for _, x := range xs {
		if out == nil {
			out = x
		} else {
			out = &filter.Logical{Left: out, Right: x}
		}
	}
	return out
}

func allOf(xs ...filter.Expr) filter.Expr {
	var out filter.Expr
	for _, x := range xs {
		switch {
		case x == nil:
		case out == nil:
			out = x
		default:
			out = &filter.Logical{And: true, Left: &filter.Paren{X: out}, Right: &filter.Paren{X: x}}
		}
	}
	return out
}

// Filter is the store filter that selects the events of s.
func (s Selector) Filter() (filter.Expr, error) {
	var parts []filter.Expr
	if s.User != "" {
		// A login has an @ and an Okta id never does: compare only the
		// fields the value can be in, half the work for the store.
		field := "id"
		if strings.Contains(s.User, "@") {
			field = "alternateId"
		}
		parts = append(parts, &filter.Paren{X: anyOf(eq("actor."+field, s.User), eq("target."+field, s.User))})
	}
	if s.Session != "" {
		parts = append(parts, eq("authenticationContext.externalSessionId", s.Session))
	}
	if s.IP != "" {
		parts = append(parts, eq("client.ipAddress", s.IP))
	}
	if len(parts) == 0 {
		return nil, ErrNoSelector
	}
	return allOf(parts...), nil
}

// pageSize is how many events one store query fetches.
const pageSize = 20000

// Stream reads every event matching q from st in published order and
// passes what flow analysis needs of each to fn.
func Stream(ctx context.Context, st store.Store, q store.Query, fn func(Event) error) error {
	return stream(ctx, st, q, func(e Event, _ int64) error { return fn(e) })
}

// stream is Stream that also passes each event's ingest sequence.
func stream(ctx context.Context, st store.Store, q store.Query, fn func(Event, int64) error) error {
	q.Order, q.Descending, q.Limit, q.After = store.ByPublished, false, pageSize, nil
	for {
		page, err := st.Query(ctx, q)
		if err != nil {
			return err
		}
		for i := range page {
			e, err := FromRaw(page[i].Raw)
			if err != nil {
				return fmt.Errorf("flows: event %s: %w", page[i].UUID, err)
			}
			if err := fn(e, page[i].Seq); err != nil {
				return err
			}
		}
		if len(page) < pageSize {
			return nil
		}
		last := page[len(page)-1]
		q.After = &store.Position{Published: last.Published, Seq: last.Seq}
	}
}

// Load is Stream into a slice. limit > 0 stops with an error past that
// many events, so a careless query cannot exhaust memory.
func Load(ctx context.Context, st store.Store, q store.Query, limit int) ([]Event, error) {
	var out []Event
	err := Stream(ctx, st, q, func(e Event) error {
		out = append(out, e)
		if limit > 0 && len(out) > limit {
			return fmt.Errorf("flows: more than %d events match; narrow the time range or the filter", limit)
		}
		return nil
	})
	return out, err
}

// MaxEvents bounds what one Find or funnel reads from a store.
var MaxEvents = 5_000_000

// Find reconstructs the instances sel names, oldest first.
func Find(ctx context.Context, st store.Store, sel Selector) ([]*Instance, error) {
	f, err := sel.Filter()
	if err != nil {
		return nil, err
	}
	evs, err := Load(ctx, st, store.Query{Filter: f, Since: sel.Since, Until: sel.Until}, MaxEvents)
	if err != nil {
		return nil, err
	}
	return Reconstruct(evs), nil
}

// FunnelQuery asks for the funnel of one flow.
type FunnelQuery struct {
	Flow         string
	Since, Until time.Time
	Filter       filter.Expr // applied to the events; nil for all
	Split        string      // "", or one of Splits
}

// FunnelFilter is the filter whose events a funnel reconstructs: the
// user's filter x (nil for every event). A funnel cannot read only its own
// flow's event types: the MFA events are shared, and an MFA prompt of a
// sign-in read without the sign-in's other events would look like an app
// access or a step-up of its own. Reading every flow's types instead costs
// the store a long OR for the few events of no flow it saves (admin
// changes, which reconstruction sets aside as "other").
func FunnelFilter(x filter.Expr) filter.Expr { return x }

// FunnelFromStore reads the events in the time range and filter, passes
// them through an Index (so memory grows with instances, not events) and
// builds the funnel of the flow asked for.
func FunnelFromStore(ctx context.Context, st store.Store, q FunnelQuery) (*Funnel, error) {
	if _, ok := flowdef.Lookup(q.Flow); !ok {
		return nil, fmt.Errorf("flows: unknown flow %q (one of %s)", q.Flow, kindList())
	}
	if err := checkSplit(q.Split); err != nil {
		return nil, err
	}
	x := NewIndex()
	err := Stream(ctx, st, store.Query{Filter: FunnelFilter(q.Filter), Since: q.Since, Until: q.Until}, func(e Event) error {
		x.Add(e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	x.Flush()
	return x.Funnel(q.Flow, time.Time{}, time.Time{}, q.Split)
}

func kindList() string {
	s := ""
	for i, f := range flowdef.All() {
		if i > 0 {
			s += ", "
		}
		s += f.Kind
	}
	return s
}

// eventWindow is how far around an event ForEvent reads: longer than any
// flow's MaxGap times the steps a flow can have.
const eventWindow = 6 * time.Hour

// ForEvent reconstructs the flow the event with this uuid belongs to, from
// the events of its session (or, without one, of its user) around it. It
// returns store.ErrNotFound when no event has the uuid.
func ForEvent(ctx context.Context, st store.Store, uuid string) (*Instance, error) {
	ev, err := st.Get(ctx, uuid)
	if err != nil {
		return nil, err
	}
	e, err := FromRaw(ev.Raw)
	if err != nil {
		return nil, err
	}
	sel := Selector{Session: e.Session, Since: ev.Published.Add(-eventWindow), Until: ev.Published.Add(eventWindow)}
	if e.Session == "" {
		sel.User = e.User
		if strings.HasPrefix(e.User, "unknown:") {
			sel.User = e.ActorName
		}
	}
	var ins []*Instance
	if sel.Session != "" || sel.User != "" {
		if ins, err = Find(ctx, st, sel); err != nil {
			return nil, err
		}
	}
	for _, in := range ins {
		if slices.Contains(in.UUIDs, uuid) {
			return in, nil
		}
	}
	// An event its own selection cannot find (no session, no user): it
	// stands alone.
	return Reconstruct([]Event{e})[0], nil
}
