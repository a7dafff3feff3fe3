package duckdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/idlog/idlog/internal/event"
)

// The kept JSON is not stored as one text. Each top-level member of the event
// goes to its own VARCHAR column (m_actor, m_client, …) holding the member's
// JSON text exactly as received, and a layout column records the order of the
// members. Split this way, members that repeat from event to event (a user's
// actor and client, an app's target, the IP chain) fall into DuckDB's
// dictionary compression, which a whole-event text never does. Values that a
// typed column already holds (uuid, published, ids, hashes) are replaced in
// the member text by a short marker, so they are stored once. The event comes
// back byte for byte (for a compact input), in Go (rebuild) and in SQL
// (memberSQL) alike.

// members are the LogEvent top-level fields, each a column.
var members = []string{
	"uuid", "published", "eventType", "version", "severity", "legacyEventType", "displayMessage",
	"actor", "client", "device", "outcome", "target", "transaction", "debugContext",
	"authenticationContext", "securityContext", "request",
}

var memberIndex = func() map[string]int {
	m := map[string]int{}
	for i, n := range members {
		m[n] = i
	}
	return m
}()

func memberColumn(name string) string { return "m_" + strings.ToLower(name) }

// subst is a typed value replaced by a marker inside a member's text.
type subst struct {
	marker string // a JSON string: `"\u0001` + code + `"`
	sql    string // SQL giving the JSON text of the value ('"' || col || '"')
	col    int    // index into columns, or -1 for uuid, -2 for published
}

const publishedFormat = "2006-01-02T15:04:05.000Z"

// substituted are the typed columns whose values are replaced in the member
// texts: all the VARCHAR ones. Even values that repeat (a user's ip, agent,
// city) are worth it: their combinations make a member text nearly unique,
// while the template left after replacing them is shared by many events.
var substituted = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range columns {
		if c.kind == kString {
			m[c.name] = true
		}
	}
	return m
}()

// substs lists, per member, the typed values replaced in it.
var substs = func() map[string][]subst {
	m := map[string][]subst{
		"uuid":      {{`"\u0001u"`, `'"' || uuid || '"'`, -1}},
		"published": {{`"\u0001p"`, `'"' || strftime(published, '%Y-%m-%dT%H:%M:%S.%gZ') || '"'`, -2}},
	}
	for i, c := range columns {
		if !substituted[c.name] {
			continue
		}
		top, _, _ := strings.Cut(c.path, ".")
		code := string(rune('A' + i))
		m[top] = append(m[top], subst{`"\u0001` + code + `"`, `'"' || ` + c.name + ` || '"'`, i})
		switch c.name {
		case "transaction_id":
			// Okta's debugData.requestId is the transaction id.
			m["debugContext"] = append(m["debugContext"], subst{`"\u0001` + code + `"`, `'"' || ` + c.name + ` || '"'`, i})
		case "client_ip", "geo_country", "geo_state", "geo_city":
			// request.ipChain repeats the client's address and place.
			m["request"] = append(m["request"], subst{`"\u0001` + code + `"`, `'"' || ` + c.name + ` || '"'`, i})
		}
	}
	return m
}()

// plainValue: a value whose JSON text is just the value in quotes, whatever
// encoder wrote it. Only such values are replaced.
func plainValue(s string) bool {
	if len(s) < 4 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// split cuts a walked JSON object into its members. It returns ok false
// when the event must be kept whole in rest instead: a top-level key that is
// not a LogEvent field or repeats, or a text holding the marker escape.
func split(d *event.Doc, uuid string, pub time.Time, cols []any) (layout string, vals []any, items []string, ok bool) {
	if bytes.Contains(d.Raw, []byte(`\u0001`)) {
		return "", nil, nil, false
	}
	vals = make([]any, len(members))
	keys := make([]string, 0, len(members))
	for c, end := 1, int(d.Nodes[0].Next); c < end; c = int(d.Nodes[c].Next) {
		i, known := memberIndex[d.Key(c)]
		if !known || vals[i] != nil {
			return "", nil, nil, false
		}
		k := members[i]
		subs := substs[k]
		var valBuf [8]string
		vs := valBuf[:0]
		for _, s := range subs {
			var val string
			switch s.col {
			case -1:
				val = uuid
			case -2:
				val = pub.Format(publishedFormat)
			default:
				val, _ = cols[s.col].(string)
			}
			vs = append(vs, val)
		}
		mtext, asKey := substMember(d, c, subs, vs)
		if asKey {
			return "", nil, nil, false
		}
		vals[i] = mtext
		if k == "target" {
			// Targets go one element a row of a list: the same app or
			// policy target recurs in many events, and each element then
			// falls into the dictionary of the list's strings.
			if els, ok := arrayElements(d, c); ok {
				items = substTargets(d, els, cols)
				vals[i] = nil
				for _, el := range items {
					if markerAsKey(el) {
						return "", nil, nil, false
					}
				}
			}
		}
		keys = append(keys, k)
	}
	return layoutText(keys), vals, items, true
}

// layoutText is json.Marshal(keys) for member names, which are plain.
func layoutText(keys []string) string {
	n := 2
	for _, k := range keys {
		n += len(k) + 3
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"')
	}
	return string(append(b, ']'))
}

// targetMarker stands, in a target element, for that element's id (the
// element's entry in target_ids). Actor values are replaced too: a user's
// AppUser target repeats the actor's login and name.
const targetMarker = `"\u0001#"`

var targetIDs = colIndex("target_ids")

// targetElemSubsts are the replacements in a target element, in order: its
// id, then targetSubsts.
var targetElemSubsts = append([]subst{{marker: targetMarker}}, targetSubsts...)

// targetSubsts are the actor values replaced in target elements.
var targetSubsts = func() []subst {
	var out []subst
	for _, s := range substs["actor"] {
		if c := columns[s.col].name; c == "actor_alternate_id" || c == "actor_display_name" {
			out = append(out, s)
		}
	}
	return out
}()

func colIndex(name string) int {
	for i, c := range columns {
		if c.name == name {
			return i
		}
	}
	panic("duckdb: no column " + name)
}

// substTargets replaces the ids and actor values in target elements (nodes
// of d). An element's id is replaced only when the elements and target_ids
// line up one to one (every element has one string id).
func substTargets(d *event.Doc, els []int, cols []any) []string {
	ids, _ := cols[targetIDs].([]string)
	aligned := len(ids) == len(els)
	for k := 0; aligned && k < len(els); k++ {
		if idIs(d, els[k], ids[k]) {
			continue
		}
		var el struct {
			ID any `json:"id"`
		}
		if json.Unmarshal(d.Bytes(els[k]), &el) != nil || el.ID != ids[k] {
			aligned = false
		}
	}
	out := make([]string, len(els))
	vals := make([]string, 1+len(targetSubsts))
	for k, el := range els {
		vals[0] = ""
		if aligned {
			vals[0] = ids[k]
		}
		for n, s := range targetSubsts {
			vals[1+n], _ = cols[s.col].(string)
		}
		out[k], _ = substMember(d, el, targetElemSubsts, vals)
	}
	return out
}

// idIs is the quick yes of substTargets' test that target element el's id
// is id: one key spelled exactly "id", no other key that encoding/json could
// take for it (any case, any non-ASCII key), and the value id in quotes.
// False means "ask encoding/json", not no.
func idIs(d *event.Doc, el int, id string) bool {
	if !plainValue(id) || d.Nodes[el].Kind != event.KindObject {
		return false
	}
	n := 0
	for c, end := el+1, int(d.Nodes[el].Next); c < end; c = int(d.Nodes[c].Next) {
		k := d.Key(c)
		if k == "id" {
			n++
			v := d.Bytes(c)
			if len(v) != len(id)+2 || string(v[1:len(v)-1]) != id || v[0] != '"' {
				return false
			}
			continue
		}
		for i := 0; i < len(k); i++ {
			if k[i] >= 0x80 {
				return false
			}
		}
		if strings.EqualFold(k, "id") {
			return false
		}
	}
	return n == 1
}

// unsubstTargets undoes substTargets.
func unsubstTargets(els []string, ids []string, typed []string) []string {
	for k, el := range els {
		if k < len(ids) && strings.Contains(el, targetMarker) {
			el = strings.ReplaceAll(el, targetMarker, `"`+ids[k]+`"`)
		}
		for _, s := range targetSubsts {
			if strings.Contains(el, s.marker) {
				el = strings.ReplaceAll(el, s.marker, `"`+typed[s.col]+`"`)
			}
		}
		els[k] = el
	}
	return els
}

// arrayElements returns the element nodes of array node a of a compact
// text, or false when a is not an array that joining its elements' texts
// with commas gives back.
func arrayElements(d *event.Doc, a int) ([]int, bool) {
	n := &d.Nodes[a]
	if n.Kind != event.KindArray {
		return nil, false
	}
	els := []int{}
	at := n.Start + 1 // where the next element must start
	for c, end := a+1, int(n.Next); c < end; c = int(d.Nodes[c].Next) {
		if d.Nodes[c].Start != at {
			return nil, false
		}
		els = append(els, c)
		at = d.Nodes[c].End + 1 // past the ',' (or the ']')
	}
	if len(els) == 0 {
		return els, n.End == n.Start+2
	}
	return els, at == n.End
}

// rawColumns is the select list that rebuild reads: layout, rest, uuid,
// published, the members and the substituted typed columns.
var rawColumns = func() string {
	cols := []string{"layout", "rest", "uuid", "published"}
	for _, m := range members {
		cols = append(cols, memberColumn(m))
	}
	cols = append(cols, "m_target_items", "target_ids_json")
	for _, c := range columns {
		if c.kind == kString {
			cols = append(cols, c.name)
		}
	}
	return strings.Join(cols, ", ")
}()

var nRawColumns = strings.Count(rawColumns, ",") + 1

// rebuild gives back the event's JSON from the values of rawColumns.
func rebuild(v []any) (string, error) { return rebuildMembers(v, nil) }

// rebuildMembers is rebuild keeping, of the members the layout names, only
// those want marks (by memberIndex; nil keeps all). The values of
// rawColumns that only left-out members need may be NULL (projectColumns).
// An event kept whole in rest comes back whole.
func rebuildMembers(v []any, want []bool) (string, error) {
	layout, _ := v[0].(string)
	if layout == "" {
		rest, ok := v[1].(string)
		if !ok {
			return "", fmt.Errorf("duckdb: row has neither layout nor rest")
		}
		return rest, nil
	}
	keys, err := layoutKeys(layout)
	if err != nil {
		return "", err
	}
	uuid, _ := v[2].(string)
	pub, _ := v[3].(time.Time)
	typed := make([]string, len(columns))
	j := 4 + len(members) + 2
	for i, c := range columns {
		if c.kind == kString {
			typed[i], _ = v[j].(string)
			j++
		}
	}
	var b strings.Builder
	size := 2
	for i := range members {
		if t, ok := v[4+i].(string); ok && (want == nil || want[i]) {
			size += len(t) + len(members[i]) + 4
		}
	}
	b.Grow(size + size/4) // room for the values of the markers
	n := 0
	b.WriteByte('{')
	for _, k := range keys {
		if want != nil && !want[memberIndex[k]] {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.WriteString(quotedMember[k])
		b.WriteByte(':')
		text, ok := v[4+memberIndex[k]].(string)
		if !ok && k == "target" {
			var ids []string
			if t, ok := v[5+len(members)].(string); ok {
				if err := json.Unmarshal([]byte(t), &ids); err != nil {
					return "", fmt.Errorf("duckdb: bad target_ids_json %q: %w", t, err)
				}
			}
			els := unsubstTargets(stringList(v[4+len(members)]), ids, typed)
			text = "[" + strings.Join(els, ",") + "]"
		}
		unmark(&b, text, substs[k], uuid, pub, typed)
	}
	b.WriteByte('}')
	return b.String(), nil
}

// unmark writes text to b with each marker of subs replaced by the value it
// stands for, in one pass (a marker of another code is left as it is, as
// it was written). Markers are whole string tokens: split keeps whole any
// event whose text holds the marker's escape.
func unmark(b *strings.Builder, text string, subs []subst, uuid string, pub time.Time, typed []string) {
	const lead = `"\u0001` // a marker's first 7 bytes; its code and '"' follow
	for {
		j := strings.Index(text, lead)
		if j < 0 || j+len(lead)+2 > len(text) {
			b.WriteString(text)
			return
		}
		end := j + len(lead) + 2
		m := text[j:end]
		var sub *subst
		for i := range subs {
			if subs[i].marker == m {
				sub = &subs[i]
				break
			}
		}
		if sub == nil {
			b.WriteString(text[:j+1])
			text = text[j+1:]
			continue
		}
		b.WriteString(text[:j])
		b.WriteByte('"')
		switch sub.col {
		case -1:
			b.WriteString(uuid)
		case -2:
			b.WriteString(pub.UTC().Format(publishedFormat))
		default:
			b.WriteString(typed[sub.col])
		}
		b.WriteByte('"')
		text = text[end:]
	}
}

// quotedMember holds each member name as a JSON string; a layout only ever
// names members (split keeps other events whole).
var quotedMember = func() map[string]string {
	m := map[string]string{}
	for _, n := range members {
		q, _ := json.Marshal(n)
		m[n] = string(q)
	}
	return m
}()

// layouts caches decoded layout texts: there are only as many as member
// orders that senders use, and decoding one per row read was a tenth of a
// page's time.
var layouts struct {
	sync.RWMutex
	m map[string][]string
}

func layoutKeys(layout string) ([]string, error) {
	layouts.RLock()
	keys, ok := layouts.m[layout]
	layouts.RUnlock()
	if ok {
		return keys, nil
	}
	if err := json.Unmarshal([]byte(layout), &keys); err != nil {
		return nil, fmt.Errorf("duckdb: bad layout %q: %w", layout, err)
	}
	for _, k := range keys {
		if _, ok := quotedMember[k]; !ok {
			return nil, fmt.Errorf("duckdb: layout %q names %q, not a LogEvent member", layout, k)
		}
	}
	layouts.Lock()
	defer layouts.Unlock()
	if layouts.m == nil || len(layouts.m) >= 4096 {
		layouts.m = map[string][]string{} // a bound, should a sender vary the order endlessly
	}
	layouts.m[layout] = keys
	return keys, nil
}

// memberSQL is the SQL for a member's JSON text with its markers replaced;
// NULL when the event lacks the member. Events kept whole in rest are odd
// and never decided by SQL on members.
func memberSQL(name string) string {
	e := memberColumn(name)
	if name == "target" {
		el := "replace(el, '" + targetMarker + "', coalesce('\"' || target_ids[i] || '\"', ''))"
		for _, s := range targetSubsts {
			el = "replace(" + el + ", '" + s.marker + "', coalesce(" + s.sql + ", ''))"
		}
		e = "coalesce(m_target, '[' || array_to_string(list_transform(m_target_items, (el, i) -> " + el + "), ',') || ']')"
	}
	for _, s := range substs[name] {
		e = "replace(" + e + ", '" + s.marker + "', coalesce(" + s.sql + ", ''))"
	}
	return e
}

// allTextSQL holds the text of every value of the event, for the q
// prefilter: the member texts as stored (markers and all, no rebuilding) and
// the typed values the markers stand for.
var allTextSQL = func() string {
	parts := []string{"rest", "uuid", "strftime(published, '%Y-%m-%dT%H:%M:%S.%gZ')", "array_to_string(m_target_items, ',')", "array_to_string(target_ids, ',')"}
	for _, m := range members {
		parts = append(parts, memberColumn(m))
	}
	for _, c := range columns {
		if substituted[c.name] {
			parts = append(parts, c.name)
		}
	}
	return "concat_ws(',', " + strings.Join(parts, ", ") + ")"
}()

// stringList converts a scanned VARCHAR[] value.
func stringList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// markerAsKey reports a marker that replaced an object key rather than a
// value. SQL reads members without rebuilding them (unmarkSQL), which is
// right only when markers stand for values; such an event is kept whole.
func markerAsKey(text string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], `"\u0001`)
		if j < 0 {
			return false
		}
		i += j + 1
		end := strings.IndexByte(text[i:], '"')
		if end < 0 {
			return false
		}
		i += end + 1
		if i < len(text) && text[i] == ':' {
			return true
		}
	}
}

// unmarkSQL maps a string read from a stored member (SQL expression s) back
// to the value its marker stands for; other strings are returned as they are.
func unmarkSQL(member, s string) string {
	subs := substs[member]
	if len(subs) == 0 {
		return s
	}
	var b strings.Builder
	b.WriteString("(CASE WHEN starts_with(" + s + ", chr(1)) THEN (CASE " + s)
	for _, sub := range subs {
		code := strings.TrimSuffix(strings.TrimPrefix(sub.marker, `"\u0001`), `"`)
		val := strings.TrimSuffix(strings.TrimPrefix(sub.sql, `'"' || `), ` || '"'`)
		b.WriteString(" WHEN chr(1) || '" + code + "' THEN " + val)
	}
	b.WriteString(" ELSE " + s + " END) ELSE " + s + " END)")
	return b.String()
}

// substMember is substText on the text of node m of d (a member, or a
// target element), and reports whether a marker replaced an object key
// rather than a value (see markerAsKey). It replaces the string tokens that
// the nodes mark, without scanning the text again; where a match could lie
// elsewhere than on a whole token (a text with an escaped quote, a value
// made only of the characters between tokens) it takes substText's way.
func substMember(d *event.Doc, m int, subs []subst, vals []string) (text string, asKey bool) {
	all := d.Text()
	nm := &d.Nodes[m]
	v := all[nm.Start:nm.End]
	any := false
	for n, val := range vals {
		if !plainValue(val) {
			vals[n] = ""
			continue
		}
		any = true
		if strings.Trim(val, "{}[]:, \t\r\n") == "" {
			any = false
			break
		}
	}
	if !any || strings.Contains(v, `\"`) {
		t, replaced := substText(v, subs, vals)
		return t, replaced && markerAsKey(t)
	}
	var out []byte
	last := int(nm.Start) // all[:last] is in out already
	match := func(start, end int32) bool {
		tok := all[start+1 : end-1]
		for n, val := range vals {
			if len(val) == len(tok) && val != "" && val == tok {
				if out == nil {
					out = make([]byte, 0, len(v))
				}
				out = append(out, all[last:start]...)
				out = append(out, subs[n].marker...)
				last = int(end)
				return true
			}
		}
		return false
	}
	for c := m; c < int(nm.Next); c++ {
		n := &d.Nodes[c]
		if c != m && n.KeyEnd != 0 && match(n.KeyStart, n.KeyEnd) {
			asKey = true
		}
		if n.Kind == event.KindString {
			match(n.Start, n.End)
		}
	}
	if out == nil {
		return v, false
	}
	out = append(out, all[last:nm.End]...)
	return string(out), asKey
}

// substText replaces, in a member's text, each string "val" of vals (one per
// sub, skipped unless plainValue) by the sub's marker, and reports whether it
// replaced any. It gives what replacing each in turn with strings.ReplaceAll
// gives, in one pass over the string tokens: in a text without an escaped
// quote, a quoted run holding neither ':' nor ',' can only be a whole string
// token (between two tokens JSON puts a ':' or ','). Other texts take the
// ReplaceAll way.
func substText(v string, subs []subst, vals []string) (string, bool) {
	tokenwise := !strings.Contains(v, `\"`)
	any := false
	for n, val := range vals {
		if !plainValue(val) {
			vals[n] = ""
			continue
		}
		any = true
		if strings.ContainsAny(val, ":,") {
			tokenwise = false
		}
	}
	if !any {
		return v, false
	}
	if !tokenwise {
		text := v
		for n, s := range subs {
			if vals[n] != "" {
				text = strings.ReplaceAll(text, `"`+vals[n]+`"`, s.marker)
			}
		}
		return text, text != v
	}
	var out []byte
	last := 0 // v[:last] is in out already
	for i := 0; i < len(v); {
		q := strings.IndexByte(v[i:], '"')
		if q < 0 {
			break
		}
		open := i + q
		e := strings.IndexByte(v[open+1:], '"')
		if e < 0 {
			break
		}
		end := open + 1 + e // the closing quote
		tok := v[open+1 : end]
		for n, val := range vals {
			if val != "" && val == tok {
				if out == nil {
					out = make([]byte, 0, len(v))
				}
				out = append(out, v[last:open]...)
				out = append(out, subs[n].marker...)
				last = end + 1
				break
			}
		}
		i = end + 1
	}
	if out == nil {
		return v, false
	}
	out = append(out, v[last:]...)
	return string(out), true
}
