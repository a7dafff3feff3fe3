package clickhouse

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/idlog/idlog/internal/event"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
)

// deriveWalked computes an event's row from its walked nodes
// (store.Event.Doc, set by ingest; an event without them is walked here),
// without building the generic tree: decoding into maps and interfaces was
// the largest part of an import's client time. Strings without escapes are
// sliced from the row's copy of the text (which the raw column keeps
// anyway), and the kv, present and num_path entries of a row share one
// allocation. Members that a later one of the same key shadows are left
// out, as the decoded tree leaves them out. Tests check it gives the row
// that the tree gives (row_test.go).
//
// Entries come in document order, not sorted by key as on the tree: queries
// test membership only, and events of one producer lay their keys out the
// same way, which is what keeps the arrays compressible.
func deriveWalked(i int, e store.Event) (row, error) {
	d := e.Doc
	if d == nil || len(d.Raw) != len(e.Raw) {
		var err error
		if d, err = event.Walk(e.Raw); err != nil {
			return row{}, fmt.Errorf("clickhouse: event %d (%s): %w", i, e.UUID, err)
		}
	}
	if d.Nodes[0].Kind != event.KindObject {
		return row{}, fmt.Errorf("clickhouse: event %d (%s): not a JSON object", i, e.UUID)
	}
	// Sized for a typical event, so that appends rarely grow: the entries'
	// text is about twice the JSON's, and an event has about a hundred
	// scalars.
	raw := d.Text()
	p := deriver{d: d, inTarget: -1, buf: make([]byte, 0, 2*len(raw)), leaves: make([]any, 0, 128),
		kv: make(spans, 0, 128), present: make(spans, 0, 160)}
	p.value(0, true)
	r := row{
		uuid:        e.UUID,
		publishedMs: e.Published.UnixMilli(),
		hot:         p.hot,
		numVal:      p.numVal,
		pubMs:       p.pubMs,
		tokens:      filter.Tokens(p.leaves),
		raw:         raw,
	}
	if r.hot == nil {
		r.hot = make([][]string, len(hotColumns))
	}
	for i := range r.hot {
		if r.hot[i] == nil {
			r.hot[i] = []string{}
		}
	}
	if r.numVal == nil {
		r.numVal = []float64{}
	}
	if r.pubMs == nil {
		r.pubMs = []int64{}
	}
	all := string(p.buf)
	r.kv = p.kv.strings(all)
	r.present = p.present.strings(all)
	r.numPath = p.numPath.strings(all)
	r.eventType = single(r.hot[hotByPath["eventType"]])
	if p.outcomeN == 1 {
		r.outcome = p.outcome
	}
	r.userKey = p.actorID
	if p.actorType != "User" {
		for _, t := range p.targets {
			if t.typ == "User" && t.id != "" {
				r.userKey = t.id
				break
			}
		}
	}
	return r, nil
}

// spans are strings of a row kept as offsets into one buffer until the row
// is done.
type spans []int32

func (s spans) strings(all string) []string {
	out := make([]string, len(s)/2)
	for i := range out {
		out[i] = all[s[2*i]:s[2*i+1]]
	}
	return out
}

// target is what userKey needs of one object at path target: the first
// string of its type and of its id.
type target struct {
	typ, id       string
	gotTyp, gotID bool
}

type deriver struct {
	d    *event.Doc
	path []byte // dotted path of the current value; valid while reach

	buf                  []byte // text of kv, present and num_path entries
	kv, present, numPath spans
	seen                 map[string]struct{} // paths in present
	hot                  [][]string
	numVal               []float64
	pubMs                []int64
	leaves               []any // every scalar, for filter.Tokens
	arrays               int   // arrays the current value is in

	outcomeN             int // values at outcome.result
	outcome              string
	actorID, actorType   string
	gotActorID, gotActor bool
	targets              []target
	inTarget             int // index in targets of the innermost target object, or -1
}

func (p *deriver) pathIs(s string) bool { return string(p.path) == s }

// markPresent adds the current path to present once. Outside arrays a path
// is met once (an object's keys are distinct once shadowed members are left
// out), so only paths inside an array need the set.
func (p *deriver) markPresent() {
	if p.arrays == 0 {
		p.present = p.addSpan(p.present, p.path)
		return
	}
	if p.seen == nil {
		p.seen = make(map[string]struct{}, 64)
	}
	if _, ok := p.seen[string(p.path)]; ok {
		return
	}
	p.seen[string(p.path)] = struct{}{}
	p.present = p.addSpan(p.present, p.path)
}

func (p *deriver) addSpan(s spans, parts ...[]byte) spans {
	start := len(p.buf)
	for _, x := range parts {
		p.buf = append(p.buf, x...)
	}
	return append(s, int32(start), int32(len(p.buf)))
}

// value records node i. reach says whether the path to it is made of
// filter names only (a filter can reach it), as the tree walk requires for
// every entry but tokens.
func (p *deriver) value(i int, reach bool) {
	d := p.d
	n := &d.Nodes[i]
	switch n.Kind {
	case event.KindObject:
		p.object(i, reach)
	case event.KindArray:
		p.arrays++
		for c, end := i+1, int(n.Next); c < end; c = int(d.Nodes[c].Next) {
			p.value(c, reach)
		}
		p.arrays--
	case event.KindString:
		s := d.Str(i)
		p.leaves = append(p.leaves, s)
		if !reach {
			return
		}
		p.scalarAt()
		if s != "" {
			p.markPresent()
		}
		if h, ok := hotByPath[string(p.path)]; ok {
			if p.hot == nil {
				p.hot = make([][]string, len(hotColumns))
			}
			p.hot[h] = append(p.hot[h], s)
		} else {
			p.kv = p.addSpan(p.kv, p.path, eq, []byte(s))
		}
		switch {
		case p.pathIs("published"):
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				p.pubMs = append(p.pubMs, t.UnixMilli())
			}
		case p.pathIs("actor.id"):
			if !p.gotActorID {
				p.actorID, p.gotActorID = s, true
			}
		case p.pathIs("actor.type"):
			if !p.gotActor {
				p.actorType, p.gotActor = s, true
			}
		case p.inTarget >= 0 && p.pathIs("target.type"):
			if t := &p.targets[p.inTarget]; !t.gotTyp {
				t.typ, t.gotTyp = s, true
			}
		case p.inTarget >= 0 && p.pathIs("target.id"):
			if t := &p.targets[p.inTarget]; !t.gotID {
				t.id, t.gotID = s, true
			}
		case p.pathIs("outcome.result"):
			p.outcome = s
		}
	case event.KindTrue, event.KindFalse:
		v := n.Kind == event.KindTrue
		p.leaves = append(p.leaves, v)
		if reach {
			p.scalarAt()
			p.markPresent()
			suffix := "?false"
			if v {
				suffix = "?true"
			}
			p.kv = p.addSpan(p.kv, p.path, []byte(suffix))
		}
	case event.KindNumber:
		text := d.Bytes(i)
		num := json.Number(d.Text()[n.Start:n.End])
		p.leaves = append(p.leaves, num)
		if reach {
			p.scalarAt()
			p.markPresent()
			if f, ok := number(num); ok {
				p.numPath = p.addSpan(p.numPath, p.path)
				p.numVal = append(p.numVal, f)
			}
			p.kv = p.addSpan(p.kv, p.path, hash, text)
		}
	}
}

var (
	eq   = []byte("=")
	hash = []byte("#")
	dot  = []byte(".")
)

// scalarAt counts a non-null value at outcome.result: the histogram's
// outcome is that value only when it is the one value there and a string
// (which the string case records).
func (p *deriver) scalarAt() {
	if p.pathIs("outcome.result") {
		p.outcomeN++
	}
}

func (p *deriver) object(i int, reach bool) {
	if reach {
		p.scalarAt()
		if len(p.path) > 0 {
			p.markPresent()
		}
	}
	outerTarget := p.inTarget
	if reach && p.pathIs("target") {
		p.targets = append(p.targets, target{})
		p.inTarget = len(p.targets) - 1
	}
	d := p.d
	base := len(p.path)
	for c, end := i+1, int(d.Nodes[i].Next); c < end; c = int(d.Nodes[c].Next) {
		if d.Nodes[c].Flags&event.FlagShadowed != 0 {
			continue
		}
		k := d.Key(c)
		childReach := reach && isName(k)
		if childReach {
			if base > 0 {
				p.path = append(p.path, dot...)
			}
			p.path = append(p.path, k...)
		}
		p.value(c, childReach)
		p.path = p.path[:base]
	}
	p.inTarget = outerTarget
}
