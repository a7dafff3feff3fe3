package clickhouse

import (
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
)

// deriveFast computes the same row as deriveTree in one pass over the JSON
// text, without building the generic tree: decoding into maps and
// interfaces was the largest part of an import's client time. Strings
// without escapes are sliced from the row's copy of the text (which the raw
// column keeps anyway), and the kv, present and num_path entries of a row
// share one allocation.
//
// It gives up (ok false) on what it does not handle exactly as
// encoding/json does, and deriveRow then takes the tree path, which also
// reports the errors: a key repeated in one object (the tree keeps the last
// value), an object of more than maxKeys keys, nesting deeper than maxDepth,
// and anything that is not well-formed JSON. Tests check both paths give the
// same row (row_test.go).
//
// Entries come in document order, not sorted by key as in deriveTree:
// queries test membership only, and events of one producer lay their keys
// out the same way, which is what keeps the arrays compressible.
func deriveFast(e store.Event) (row, bool) {
	// Sized for a typical event, so that appends rarely grow: the entries'
	// text is about twice the JSON's, and an event has about a hundred
	// scalars.
	raw := string(e.Raw)
	p := parser{b: e.Raw, raw: raw, inTarget: -1, buf: make([]byte, 0, 2*len(e.Raw)), leaves: make([]any, 0, 128),
		kv: make(spans, 0, 128), present: make(spans, 0, 160), keys: make([]string, 0, 32)}
	p.skipSpace()
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		return row{}, false
	}
	if !p.value(true) {
		return row{}, false
	}
	p.skipSpace()
	if p.i != len(p.b) {
		return row{}, false
	}
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
	return r, true
}

// maxKeys bounds one object's keys for the duplicate check, which is
// quadratic; a LogEvent's objects have a few dozen at most. maxDepth bounds
// the recursion well below encoding/json's own limit.
const (
	maxKeys  = 256
	maxDepth = 1000
)

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

type parser struct {
	b    []byte
	raw  string // b as a string: plain strings and numbers are sliced from it
	i    int
	path []byte // dotted path of the current value; valid while reach

	buf                  []byte // text of kv, present and num_path entries
	kv, present, numPath spans
	seen                 map[string]struct{} // paths in present
	hot                  [][]string
	numVal               []float64
	pubMs                []int64
	leaves               []any    // every scalar, for filter.Tokens
	keys                 []string // keys of the objects being parsed
	depth                int
	arrays               int // arrays the current value is in

	outcomeN             int // values at outcome.result
	outcome              string
	actorID, actorType   string
	gotActorID, gotActor bool
	targets              []target
	inTarget             int // index in targets of the innermost target object, or -1
}

func (p *parser) skipSpace() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) pathIs(s string) bool { return string(p.path) == s }

// markPresent adds the current path to present once. Outside arrays a path
// is met once (an object's keys are distinct), so only paths inside an
// array need the set.
func (p *parser) markPresent() {
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

func (p *parser) addSpan(s spans, parts ...[]byte) spans {
	start := len(p.buf)
	for _, x := range parts {
		p.buf = append(p.buf, x...)
	}
	return append(s, int32(start), int32(len(p.buf)))
}

// value parses one JSON value at p.i. reach says whether the path to it is
// made of filter names only (a filter can reach it), as deriveTree's walk
// requires for every entry but tokens.
func (p *parser) value(reach bool) bool {
	p.skipSpace()
	if p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '{':
		p.depth++
		ok := p.depth <= maxDepth && p.object(reach)
		p.depth--
		return ok
	case c == '[':
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxDepth {
			return false
		}
		p.arrays++
		defer func() { p.arrays-- }()
		p.i++
		p.skipSpace()
		if p.i < len(p.b) && p.b[p.i] == ']' {
			p.i++
			return true
		}
		for {
			if !p.value(reach) {
				return false
			}
			p.skipSpace()
			if p.i >= len(p.b) {
				return false
			}
			if p.b[p.i] == ']' {
				p.i++
				return true
			}
			if p.b[p.i] != ',' {
				return false
			}
			p.i++
		}
	case c == '"':
		s, ok := p.str()
		if !ok {
			return false
		}
		p.leaves = append(p.leaves, s)
		if reach {
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
		}
		return true
	case c == 't' || c == 'f':
		v := c == 't'
		lit := "false"
		if v {
			lit = "true"
		}
		if len(p.b)-p.i < len(lit) || string(p.b[p.i:p.i+len(lit)]) != lit {
			return false
		}
		p.i += len(lit)
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
		return true
	case c == 'n':
		if len(p.b)-p.i < 4 || string(p.b[p.i:p.i+4]) != "null" {
			return false
		}
		p.i += 4
		return true
	case c == '-' || '0' <= c && c <= '9':
		start := p.i
		if !p.number() {
			return false
		}
		text := p.b[start:p.i]
		n := json.Number(p.raw[start:p.i])
		p.leaves = append(p.leaves, n)
		if reach {
			p.scalarAt()
			p.markPresent()
			if f, ok := number(n); ok {
				p.numPath = p.addSpan(p.numPath, p.path)
				p.numVal = append(p.numVal, f)
			}
			p.kv = p.addSpan(p.kv, p.path, hash, text)
		}
		return true
	}
	return false
}

var (
	eq   = []byte("=")
	hash = []byte("#")
	dot  = []byte(".")
)

// scalarAt counts a non-null value at outcome.result: the histogram's
// outcome is that value only when it is the one value there and a string
// (which the string case records).
func (p *parser) scalarAt() {
	if p.pathIs("outcome.result") {
		p.outcomeN++
	}
}

func (p *parser) object(reach bool) bool {
	p.i++ // '{'
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
	defer func() { p.inTarget = outerTarget }()
	base, keys0 := len(p.path), len(p.keys)
	defer func() { p.keys = p.keys[:keys0] }()
	p.skipSpace()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return true
	}
	for {
		p.skipSpace()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return false
		}
		k, ok := p.str()
		if !ok {
			return false
		}
		for _, o := range p.keys[keys0:] {
			if o == k {
				return false // repeated key: the tree keeps the last value
			}
		}
		if len(p.keys)-keys0 >= maxKeys {
			return false
		}
		p.keys = append(p.keys, k)
		p.skipSpace()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return false
		}
		p.i++
		childReach := reach && isName(k)
		if childReach {
			if base > 0 {
				p.path = append(p.path, dot...)
			}
			p.path = append(p.path, k...)
		}
		ok = p.value(childReach)
		p.path = p.path[:base]
		if !ok {
			return false
		}
		p.skipSpace()
		if p.i >= len(p.b) {
			return false
		}
		if p.b[p.i] == '}' {
			p.i++
			return true
		}
		if p.b[p.i] != ',' {
			return false
		}
		p.i++
	}
}

// str parses a JSON string at p.i. Strings with escapes or bytes that are
// not valid UTF-8 are decoded by encoding/json, so they come out exactly as
// on the tree path.
func (p *parser) str() (string, bool) {
	start := p.i
	p.i++
	plain := true
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			body := p.b[start+1 : p.i-1]
			if plain && utf8.Valid(body) {
				return p.raw[start+1 : p.i-1], true
			}
			var s string
			if err := json.Unmarshal(p.b[start:p.i], &s); err != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			plain = false
			p.i += 2
		case c < 0x20:
			return "", false
		default:
			p.i++
		}
	}
	return "", false
}

// number scans a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() bool {
	b, i := p.b, p.i
	digits := func() bool {
		s := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i > s
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	p.i = i
	return true
}
