package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/event"
	"github.com/idlog/idlog/internal/store"
)

// maxUUIDBytes bounds the uuid: Okta's are 36 characters, and the store
// indexes the value, so a kilobyte "uuid" is a broken producer.
const maxUUIDBytes = 128

// ParseEvent checks one LogEvent and returns it ready for store.Append:
// a JSON object with string uuid, eventType and an RFC 3339 published,
// stored compacted and otherwise exactly as received. It is what every
// entry point runs, so an event the CLI accepts the API accepts too.
func ParseEvent(raw []byte) (store.Event, error) {
	v := validator{exact: true}
	return v.parse(raw)
}

// validator keeps the buffers that parse reuses from event to event.
type validator struct {
	c    event.Compactor
	out  []byte
	slab []byte // events' Raw are carved from it, to allocate per slab, not per event
	// nslab is the same for the events' nodes: the walk writes them
	// straight into it.
	nslab []event.Node
	// exact gives each event its own allocation: for one-off calls, where a
	// slab would be mostly waste and would stay pinned by the event.
	exact bool
}

const (
	slabSize  = 256 << 10
	nslabSize = 16 << 10 // nodes: about a hundred events' worth
)

// maxDepth bounds nesting; LogEvents nest about five deep, and the bound
// keeps a hostile "[[[[…" from costing more than an error.
const maxDepth = 512

func (v *validator) parse(raw []byte) (store.Event, error) {
	// Outside exact mode the compact text and its nodes are written where
	// they are kept, in the slabs, when the slabs have room for the most
	// the event can need (the compact text is at most the input; nodes at
	// most one per two bytes, plus one).
	dst, nodes := v.out[:0], []event.Node(nil)
	inSlabs := !v.exact && len(raw) <= slabSize/4
	if inSlabs {
		if cap(v.slab)-len(v.slab) < len(raw) {
			v.slab = make([]byte, 0, slabSize)
		}
		if cap(v.nslab)-len(v.nslab) < len(raw)/2+1 {
			v.nslab = make([]event.Node, 0, max(nslabSize, len(raw)/2+1))
		}
		dst, nodes = v.slab[len(v.slab):len(v.slab)], v.nslab[len(v.nslab):len(v.nslab)]
	}
	var out []byte
	var dup, plain bool
	var err error
	if inSlabs {
		out, nodes, dup, plain, err = v.c.CompactTo(dst, nodes, raw, maxDepth)
	} else {
		out, nodes, dup, plain, err = v.c.Compact(dst, raw, maxDepth)
		v.out = out
	}
	if err != nil {
		return store.Event{}, err
	}
	if out[0] != '{' {
		return store.Event{}, fmt.Errorf("event must be a JSON object, not %s", kind(out[0]))
	}
	// The required fields: the top-level members named so (the last, if
	// one repeats, which is an error anyway).
	fields := [3]int{-1, -1, -1}
	dupe := -1
	for c, end := 1, int(nodes[0].Next); c < end; c = int(nodes[c].Next) {
		n := &nodes[c]
		key := out[n.KeyStart+1 : n.KeyEnd-1]
		slot := fieldSlot(key, out[n.KeyStart:n.KeyEnd])
		if slot < 0 {
			continue
		}
		if fields[slot] >= 0 && dupe < 0 {
			dupe = slot
		}
		fields[slot] = c
	}
	if dupe >= 0 {
		return store.Event{}, fmt.Errorf("%s appears twice", fieldNames[dupe])
	}
	var vals [3][]byte
	for k, c := range fields {
		if c < 0 {
			continue
		}
		vals[k] = out[nodes[c].Start:nodes[c].End]
		if vals[k][0] != '"' {
			return store.Event{}, fmt.Errorf("%s must be a string, not %s", fieldNames[k], kind(vals[k][0]))
		}
	}
	uuid, published, eventType := vals[0], vals[1], vals[2]
	if missing := missingFields(uuid, published, eventType); missing != "" {
		return store.Event{}, errors.New("missing " + missing)
	}
	id, err := unquote(uuid, "uuid")
	if err != nil {
		return store.Event{}, err
	}
	if len(id) > maxUUIDBytes {
		return store.Event{}, fmt.Errorf("uuid is %d bytes, over the %d-byte limit", len(id), maxUUIDBytes)
	}
	ps, err := unquote(published, "published")
	if err != nil {
		return store.Event{}, err
	}
	if len(eventType) == 2 { // "": any escape would make it longer
		return store.Event{}, errors.New("eventType is empty")
	}
	t, err := time.Parse(time.RFC3339Nano, ps)
	if err != nil {
		return store.Event{}, fmt.Errorf("published %q is not an RFC 3339 time such as 2026-03-02T14:05:09.123Z", ps)
	}
	if inSlabs && cap(out) == cap(v.slab)-len(v.slab) && cap(nodes) == cap(v.nslab)-len(v.nslab) {
		// Both were written in place (neither outgrew the room checked
		// above): take them out of the slabs.
		v.slab = v.slab[:len(v.slab)+len(out)]
		v.nslab = v.nslab[:len(v.nslab)+len(nodes)]
		kept := json.RawMessage(out[:len(out):len(out)])
		return store.Event{UUID: id, Published: t.UTC(), Raw: kept,
			Doc: &event.Doc{Raw: kept, Nodes: nodes[:len(nodes):len(nodes)], Dup: dup, Plain: plain}}, nil
	}
	kept := append(json.RawMessage(nil), out...)
	return store.Event{UUID: id, Published: t.UTC(), Raw: kept, Doc: event.Keep(kept, nodes, dup, plain)}, nil
}

var fieldNames = [...]string{"uuid", "published", "eventType"}

// fieldSlot says which required field a key names, or -1.
func fieldSlot(key, quoted []byte) int {
	if bytes.IndexByte(key, '\\') >= 0 {
		var k string
		json.Unmarshal(quoted, &k) //nolint:errcheck // quoted is valid JSON
		key = []byte(k)
	}
	switch string(key) {
	case "uuid":
		return 0
	case "published":
		return 1
	case "eventType":
		return 2
	}
	return -1
}

// missingFields lists the absent required fields, all at once, so a producer
// learns everything it must fix from one rejection.
func missingFields(vals ...[]byte) string {
	var names []string
	for i, v := range vals {
		if v == nil {
			names = append(names, fieldNames[i])
		}
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// unquote returns a required string field's value.
func unquote(val []byte, name string) (string, error) {
	var s string
	if bytes.IndexByte(val, '\\') < 0 {
		s = string(val[1 : len(val)-1])
	} else if err := json.Unmarshal(val, &s); err != nil {
		return "", fmt.Errorf("%s: %v", name, err)
	}
	if s == "" {
		return "", fmt.Errorf("%s is empty", name)
	}
	return s, nil
}

func kind(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
