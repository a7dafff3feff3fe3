package detect

import (
	"fmt"
	"slices"
	"time"

	"github.com/idlog/idlog/internal/event"
	"github.com/idlog/idlog/internal/filter"
)

// Rules read a few fields of each event, while building the whole tree of
// a 2 KB event (filter.DecodeJSON) cost nearly all of a rule run's CPU. So
// the engine decodes only the members its rules read, with internal/event's
// scanner, and evaluates on that partial tree: the evaluator only follows
// the paths it is given, so it answers the same on the partial tree as on
// the whole one (TestSelectedDecodeAgrees checks this on every rule).

// reads returns every path the rule looks at: its query or steps, its
// groups, its distinct field, the fields an alert shows. all is true when
// the rule can look anywhere (a matcher whose paths are not known).
func (r *Rule) reads() (paths []filter.Path, all bool) {
	if r.Query != "" {
		x, err := filter.Parse(r.Query)
		if err != nil {
			return nil, true
		}
		paths = append(paths, filter.Paths(x)...)
	}
	if s := r.Sequence; s != nil {
		for i := range s.Steps {
			paths = append(paths, filter.Paths(s.Steps[i].expr)...)
			paths = append(paths, s.Steps[i].by...)
		}
	}
	if t := r.Threshold; t != nil && t.distinct != nil {
		paths = append(paths, t.distinct)
	}
	paths = append(paths, r.groups...)
	for _, f := range r.Fields {
		if p, err := fieldPath(f); err == nil {
			paths = append(paths, p)
		}
	}
	if r.sigma {
		if r.sigmaReads == nil {
			return nil, true
		}
		paths = append(paths, r.sigmaReads...)
	}
	return paths, false
}

// selection is what an engine for rules decodes of each event: the paths
// they read, plus what the engine itself needs (uuid, published,
// eventType). all is true when some rule needs the whole event.
func selection(rules []*Rule) (sel event.Selection, all bool) {
	sel = event.Selection{}
	for _, p := range []string{"uuid", "published", "eventType"} {
		sel[p] = nil
	}
	for _, r := range rules {
		paths, all := r.reads()
		if all {
			return nil, true
		}
		for _, p := range paths {
			if len(p) == 0 {
				return nil, true
			}
			if !addPath(sel, p) {
				return nil, true
			}
		}
	}
	return sel, false
}

// addPath adds p to sel. A digit name in a path picks an array element
// where it meets an array and is an ordinary member name where it meets an
// object; a selection applies alike to every element of an array, so p is
// added both ways: with each digit name kept and left out. It reports false
// for a path with too many digit names to spell out (it needs the whole
// event).
func addPath(sel event.Selection, p filter.Path) bool {
	digits := 0
	for _, name := range p {
		if _, ok := filter.Index(name); ok {
			digits++
		}
	}
	if digits > 4 {
		return false
	}
	var spell func(p filter.Path, from int)
	spell = func(p filter.Path, from int) {
		for j := from; j < len(p); j++ {
			if _, ok := filter.Index(p[j]); ok {
				spell(p, j+1)                                    // a member name
				spell(slices.Delete(slices.Clone(p), j, j+1), j) // an array index
				return
			}
		}
		if len(p) > 0 {
			addMembers(sel, p)
		}
	}
	spell(p, 0)
	return true
}

// addMembers adds the member path p to sel, the value at its end whole.
func addMembers(sel event.Selection, p filter.Path) {
	for i, name := range p {
		sub, seen := sel[name]
		if seen && sub == nil {
			return // already whole
		}
		if i == len(p)-1 {
			sel[name] = nil
			return
		}
		if !seen {
			sub = event.Selection{}
			sel[name] = sub
		}
		sel = sub
	}
}

// Decode decodes one LogEvent for this engine: only the members its rules
// read (the whole event when a rule can read anywhere).
func (e *Engine) Decode(raw []byte) (Event, error) {
	if e.selAll {
		return DecodeEvent(raw)
	}
	m, err := event.DecodeSelected(raw, e.sel)
	if err != nil {
		return Event{}, err
	}
	return eventOf(m)
}

// Members returns the top-level LogEvent members the engine's rules read
// (with uuid, published and eventType), sorted; ok is false when some rule
// can read anywhere and the whole event is needed. A store that hands over
// only these members (store.Projector) gives every rule the decisions the
// whole event gives: Decode keeps nothing else.
func (e *Engine) Members() (names []string, ok bool) {
	if e.selAll {
		return nil, false
	}
	for k := range e.sel {
		names = append(names, k)
	}
	slices.Sort(names)
	return names, true
}

// eventOf reads the uuid and published time of a decoded event.
func eventOf(m map[string]any) (Event, error) {
	u, _ := m["uuid"].(string)
	p, _ := m["published"].(string)
	t, err := time.Parse(time.RFC3339Nano, p)
	if err != nil {
		return Event{}, fmt.Errorf("detect: event %s: published %q: %w", u, p, err)
	}
	return Event{UUID: u, Published: t, Doc: m}, nil
}
