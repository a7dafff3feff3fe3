package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/idlog/idlog/internal/event"
	"github.com/idlog/idlog/internal/filter"
)

// Event is one LogEvent as the engine sees it: its uuid, its published
// time and its document decoded by filter.DecodeJSON.
type Event struct {
	UUID      string
	Published time.Time
	Doc       any
}

// Alert statuses.
const (
	StatusOpen         = "open"
	StatusAcknowledged = "acknowledged"
	StatusClosed       = "closed"
)

// Alert is what a rule raised for one group: every event that made it, by
// uuid, between First and Last.
type Alert struct {
	ID       string            `json:"id"`
	Rule     string            `json:"rule"`
	Title    string            `json:"title"`
	Severity string            `json:"severity"`
	Group    string            `json:"group"`
	First    time.Time         `json:"first"`
	Last     time.Time         `json:"last"`
	Count    int               `json:"count"`
	UUIDs    []string          `json:"uuids"`
	Fields   map[string]string `json:"fields,omitempty"`
	Status   string            `json:"status"`
	Note     string            `json:"note,omitempty"`
	Updated  time.Time         `json:"updated"`
}

// MaxAlertUUIDs bounds the uuids one alert lists; Count goes on counting.
const MaxAlertUUIDs = 1000

// Engine runs rules over events. Events may arrive in any order: windows
// are computed on published times, and each group keeps the events of one
// window past the newest it has seen, so an event up to one window late
// still completes (or extends) a match. It is safe for concurrent use.
type Engine struct {
	mu    sync.Mutex
	rules []*Rule
	index *ruleIndex
	// sel is what Decode reads of an event; selAll: the whole event.
	sel    event.Selection
	selAll bool
	st     engineState
	since  int // events since the last sweep
}

// engineState is everything that must survive a restart (Snapshot).
type engineState struct {
	Groups map[string]*groupState `json:"groups"` // rule id + "\x00" + group
	Open   map[string]*openAlert  `json:"open"`   // rule id + "\x00" + group
	Newest int64                  `json:"newest"` // newest published seen, ms
}

type hit struct {
	T     int64  `json:"t"`
	UUID  string `json:"u"`
	Val   string `json:"v,omitempty"` // threshold: the distinct field's value
	Steps uint64 `json:"s,omitempty"` // sequence: the steps it matches, a bit each
}

type groupState struct {
	Hits []hit `json:"hits"` // ascending T
}

type openAlert struct {
	Alert
	Seen map[string]bool `json:"seen"`
}

// NewEngine returns an engine for rules (already loaded and checked).
func NewEngine(rules []*Rule) *Engine {
	sel, all := selection(rules)
	return &Engine{rules: rules, index: newRuleIndex(rules), sel: sel, selAll: all,
		st: engineState{Groups: map[string]*groupState{}, Open: map[string]*openAlert{}}}
}

// Rules returns the engine's rules.
func (e *Engine) Rules() []*Rule { return e.rules }

// Process runs every rule on ev and returns the alerts it created or
// changed, as copies.
func (e *Engine) Process(ev Event) []Alert {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := ev.Published.UnixMilli()
	if t > e.st.Newest {
		e.st.Newest = t
	}
	var out []Alert
	candidates := e.rules
	if m, ok := ev.Doc.(map[string]any); ok {
		if et, ok := m["eventType"].(string); ok {
			candidates = e.index.forType(et)
		}
	}
	for _, r := range candidates {
		if !r.match(ev.Doc) {
			continue
		}
		var a *Alert
		switch {
		case r.Threshold != nil:
			a = e.threshold(r, ev, t)
		case r.Sequence != nil:
			a = e.sequence(r, ev, t)
		default:
			key := groupKey(r.groups, ev.Doc)
			if key == "" {
				key = "-"
			}
			a = e.raise(r, key, ev, []hit{{T: t, UUID: ev.UUID}})
		}
		if a != nil {
			c := *a
			c.UUIDs = slices.Clone(a.UUIDs)
			out = append(out, c)
		}
	}
	if e.since++; e.since >= 20000 {
		e.sweep()
	}
	return out
}

// groupKey is the group's values, "path=value" joined by ", "; "" when a
// path has no string value.
func groupKey(paths []filter.Path, doc any) string { return labeledKey(paths, paths, doc) }

// labeledKey is groupKey with the values of paths under the names of
// labels: a sequence step keyed by target.alternateId joins the group of
// the rule's actor.alternateId.
func labeledKey(labels, paths []filter.Path, doc any) string {
	if len(labels) != len(paths) {
		labels = paths
	}
	var b strings.Builder
	for i, p := range paths {
		v := firstString(doc, p)
		if v == "" {
			return ""
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(labels[i].String())
		b.WriteByte('=')
		b.WriteString(v)
	}
	return b.String()
}

func firstString(doc any, p filter.Path) string {
	for _, v := range filter.Resolve(doc, p) {
		switch x := v.(type) {
		case string:
			if x != "" {
				return x
			}
		case json.Number:
			return string(x)
		case bool:
			return fmt.Sprint(x)
		}
	}
	return ""
}

// insert adds h to the group's hits in time order (a uuid already there is
// not added twice) and drops hits older than two windows before the
// newest.
func (g *groupState) insert(h hit, window time.Duration) bool {
	i, _ := slices.BinarySearchFunc(g.Hits, h.T, func(x hit, t int64) int { return cmp(x.T, t) })
	for j := i; j < len(g.Hits) && g.Hits[j].T == h.T; j++ {
		if g.Hits[j].UUID == h.UUID {
			g.Hits[j].Steps |= h.Steps
			return false
		}
	}
	g.Hits = slices.Insert(g.Hits, i, h)
	cut := g.Hits[len(g.Hits)-1].T - 2*window.Milliseconds()
	k := 0
	for k < len(g.Hits) && g.Hits[k].T < cut {
		k++
	}
	if k > 0 {
		g.Hits = slices.Delete(g.Hits, 0, k)
	}
	return true
}

func cmp(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (e *Engine) group(r *Rule, key string) *groupState {
	k := r.ID + "\x00" + key
	g := e.st.Groups[k]
	if g == nil {
		g = &groupState{}
		e.st.Groups[k] = g
	}
	return g
}

func (e *Engine) threshold(r *Rule, ev Event, t int64) *Alert {
	key := groupKey(r.groups, ev.Doc)
	if key == "" {
		return nil
	}
	th := r.Threshold
	h := hit{T: t, UUID: ev.UUID}
	if th.distinct != nil {
		h.Val = firstString(ev.Doc, th.distinct)
	}
	w := time.Duration(th.Within)
	g := e.group(r, key)
	if !g.insert(h, w) {
		return nil
	}
	wm := w.Milliseconds()
	// Every window [start, start+w] that holds t, in start order.
	for i, x := range g.Hits {
		if x.T < t-wm {
			continue
		}
		if x.T > t {
			break
		}
		j := i
		for j < len(g.Hits) && g.Hits[j].T <= x.T+wm {
			j++
		}
		if j-i < th.Count {
			continue
		}
		in := g.Hits[i:j]
		if th.distinct != nil {
			vals := map[string]bool{}
			for _, y := range in {
				if y.Val != "" {
					vals[y.Val] = true
				}
			}
			if len(vals) < th.DistinctCount {
				continue
			}
		}
		return e.raise(r, key, ev, in)
	}
	return nil
}

func (e *Engine) sequence(r *Rule, ev Event, t int64) *Alert {
	s := r.Sequence
	w := time.Duration(s.Within)
	// The event joins the group of each step it matches, under that
	// step's key.
	byKey := map[string]uint64{}
	for i := range s.Steps {
		st := &s.Steps[i]
		if !st.match(ev.Doc) {
			continue
		}
		if k := labeledKey(r.groups, st.by, ev.Doc); k != "" {
			byKey[k] |= 1 << i
		}
	}
	var out *Alert
	for _, key := range sortedKeys(byKey) {
		g := e.group(r, key)
		if !g.insert(hit{T: t, UUID: ev.UUID, Steps: byKey[key]}, w) {
			continue
		}
		if used := matchSequence(s, g.Hits, t, w.Milliseconds()); used != nil {
			out = e.raise(r, key, ev, used)
		}
	}
	return out
}

func sortedKeys(m map[string]uint64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// matchSequence finds the steps in order within w, in a window that holds
// t, and returns the hits it used (nil when there is none).
func matchSequence(s *Sequence, hits []hit, t, w int64) []hit {
	if s.AnyOrder {
		return matchUnordered(s, hits, t, w)
	}
	for i, x := range hits {
		if x.T < t-w || x.Steps&1 == 0 {
			continue
		}
		if x.T > t {
			break
		}
		var used []hit
		step, n := 0, 0
		for j := i; j < len(hits) && hits[j].T <= x.T+w && step < len(s.Steps); j++ {
			if hits[j].Steps&(1<<step) == 0 {
				continue
			}
			used = append(used, hits[j])
			if n++; n == s.Steps[step].Count {
				step, n = step+1, 0
			}
		}
		if step == len(s.Steps) && used[len(used)-1].T >= t-w {
			return used
		}
	}
	return nil
}

// raise creates the alert of rule r for group key, or extends the open one
// when ev lies within the dedup window of it.
func (e *Engine) raise(r *Rule, key string, ev Event, hits []hit) *Alert {
	k := r.ID + "\x00" + key
	d := r.dedup().Milliseconds()
	first, last := hits[0].T, hits[len(hits)-1].T
	for _, h := range hits {
		first, last = min(first, h.T), max(last, h.T)
	}
	o := e.st.Open[k]
	if o == nil || first > o.Last.UnixMilli()+d || last < o.First.UnixMilli()-d {
		o = &openAlert{Alert: Alert{
			Rule: r.ID, Title: r.Title, Severity: r.Severity, Group: key,
			First: time.UnixMilli(first).UTC(), Last: time.UnixMilli(last).UTC(), Status: StatusOpen,
		}, Seen: map[string]bool{}}
		o.ID = alertID(r.ID, key, first)
		if len(r.Fields) > 0 {
			o.Fields = map[string]string{}
			for _, f := range r.Fields {
				p, _ := fieldPath(f)
				if v := firstString(ev.Doc, p); v != "" {
					o.Fields[f] = v
				}
			}
		}
		e.st.Open[k] = o
	}
	changed := false
	for _, h := range hits {
		if o.Seen[h.UUID] {
			continue
		}
		o.Seen[h.UUID] = true
		o.Count++
		changed = true
		if len(o.UUIDs) < MaxAlertUUIDs {
			o.UUIDs = append(o.UUIDs, h.UUID)
		}
		if tt := time.UnixMilli(h.T).UTC(); tt.Before(o.First) {
			o.First = tt
		} else if tt.After(o.Last) {
			o.Last = tt
		}
	}
	if !changed {
		return nil
	}
	o.Updated = time.UnixMilli(e.st.Newest).UTC()
	return &o.Alert
}

// alertID is stable for a rule, group and first event time, so replaying
// history raises the same ids.
func alertID(rule, key string, first int64) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d", rule, key, first))
	return hex.EncodeToString(h[:8])
}

// sweep forgets groups and open alerts that no event in order could touch
// again.
func (e *Engine) sweep() {
	e.since = 0
	byID := map[string]*Rule{}
	for _, r := range e.rules {
		byID[r.ID] = r
	}
	for k, g := range e.st.Groups {
		r := byID[strings.SplitN(k, "\x00", 2)[0]]
		if r == nil || len(g.Hits) == 0 || g.Hits[len(g.Hits)-1].T < e.st.Newest-2*r.Window().Milliseconds() {
			delete(e.st.Groups, k)
		}
	}
	for k, o := range e.st.Open {
		r := byID[o.Rule]
		if r == nil || o.Last.UnixMilli() < e.st.Newest-2*r.dedup().Milliseconds()-r.Window().Milliseconds() {
			delete(e.st.Open, k)
		}
	}
}

// Snapshot returns the engine's state (windows in progress and open alerts)
// so that a restarted engine can Restore it and go on where it stopped.
func (e *Engine) Snapshot() ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sweep()
	return json.Marshal(&e.st)
}

// Restore loads a Snapshot. State of rules the engine no longer has is
// dropped at the next sweep.
func (e *Engine) Restore(b []byte) error {
	var st engineState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("detect: state: %w", err)
	}
	if st.Groups == nil {
		st.Groups = map[string]*groupState{}
	}
	if st.Open == nil {
		st.Open = map[string]*openAlert{}
	}
	e.mu.Lock()
	e.st = st
	e.mu.Unlock()
	return nil
}

// DecodeEvent decodes the whole of one LogEvent (Engine.Decode decodes
// only what the engine's rules read).
func DecodeEvent(raw []byte) (Event, error) {
	doc, err := filter.DecodeJSON(raw)
	if err != nil {
		return Event{}, err
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return Event{}, fmt.Errorf("detect: event is not a JSON object")
	}
	return eventOf(m)
}

// matchUnordered is matchSequence for steps in any order: a window of w
// that holds t and each step at least its count of times.
func matchUnordered(s *Sequence, hits []hit, t, w int64) []hit {
	counts := make([]int, len(s.Steps))
	for i, x := range hits {
		if x.T < t-w {
			continue
		}
		if x.T > t {
			break
		}
		clear(counts)
		var used []hit
		missing := len(s.Steps)
		for j := i; j < len(hits) && hits[j].T <= x.T+w && missing > 0; j++ {
			took := false
			for k := range s.Steps {
				if hits[j].Steps&(1<<k) != 0 && counts[k] < s.Steps[k].Count {
					if counts[k]++; counts[k] == s.Steps[k].Count {
						missing--
					}
					took = true
				}
			}
			if took {
				used = append(used, hits[j])
			}
		}
		if missing == 0 && used[len(used)-1].T >= t-w {
			return used
		}
	}
	return nil
}
