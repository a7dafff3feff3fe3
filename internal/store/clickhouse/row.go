package clickhouse

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
)

// ClickHouse 18.16 cannot read paths out of JSON (JSONExtract* came in 19.x,
// and visitParam* looks keys up anywhere in the text, ignoring nesting), so
// every value a filter can reach is laid out at ingest, in Go, into array
// columns the SQL can test exactly:
//
//	kv       "path=value" for every string, "path#text" for every number
//	         (its JSON text), "path?true"/"path?false" for every boolean
//	num_path, num_val   every number again, as a float for ordered comparison
//	present  every path that resolves to something `pr` counts as present
//	pub_ms   the document's own published value(s), in Unix milliseconds
//
// A path is the dotted list of object keys from the root with array levels
// left out, which is exactly how filter.Resolve fans out over arrays, so
// "any resolved value satisfies it" becomes "any entry for this path does".
// Paths are made of filter names ([A-Za-z_][A-Za-z0-9_]*) joined by dots, so
// '=', '#' and '?' can never occur in one and "path=" is an unambiguous
// prefix. Object keys that are not filter names cannot be reached by any
// filter and are left out (their values still give q tokens).
//
// The hot paths (hotColumns) keep their strings in their own Array(String)
// column instead of kv, so the seed's queries read small columns only.

// hotColumn is a path whose string values have their own column.
type hotColumn struct {
	name string // column name
	path string
}

var hotColumns = []hotColumn{
	{"s_event_type", "eventType"},
	{"s_actor_id", "actor.id"},
	{"s_actor_alternate_id", "actor.alternateId"},
	{"s_target_id", "target.id"},
	{"s_client_ip", "client.ipAddress"},
	{"s_external_session_id", "authenticationContext.externalSessionId"},
	{"s_outcome_result", "outcome.result"},
}

var hotByPath = func() map[string]int {
	m := map[string]int{}
	for i, h := range hotColumns {
		m[h.path] = i
	}
	return m
}()

// isName reports whether k is a filter name, [A-Za-z_][A-Za-z0-9_]*.
func isName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// row is one event as the events table stores it.
type row struct {
	seq         int64
	uuid        string
	publishedMs int64
	eventType   string // the single string eventType, "" when not exactly one
	userKey     string
	outcome     string // outcome.result when it is a single string, else ""
	pubMs       []int64
	hot         [][]string // parallel to hotColumns
	kv          []string
	numPath     []string
	numVal      []float64
	present     []string
	tokens      []string
	raw         string
}

// deriveRow checks one event and computes every column but seq: in one
// pass over the text when deriveFast can, else through the generic tree.
func deriveRow(i int, e store.Event) (row, error) {
	if e.UUID == "" {
		return row{}, fmt.Errorf("clickhouse: event %d: no uuid", i)
	}
	if e.Published.IsZero() {
		return row{}, fmt.Errorf("clickhouse: event %d (%s): no published time", i, e.UUID)
	}
	if r, ok := deriveFast(e); ok {
		return r, nil
	}
	return deriveTree(i, e)
}

// deriveTree is deriveRow through filter.DecodeJSON's generic tree: the
// reference deriveFast is tested against, and the path for what deriveFast
// does not handle, errors included.
func deriveTree(i int, e store.Event) (row, error) {
	doc, err := filter.DecodeJSON(e.Raw)
	if err != nil {
		return row{}, fmt.Errorf("clickhouse: event %d (%s): %w", i, e.UUID, err)
	}
	if _, ok := doc.(map[string]any); !ok {
		return row{}, fmt.Errorf("clickhouse: event %d (%s): not a JSON object", i, e.UUID)
	}
	r := row{
		uuid:        e.UUID,
		publishedMs: e.Published.UnixMilli(),
		hot:         make([][]string, len(hotColumns)),
		tokens:      filter.Tokens(doc),
		raw:         string(e.Raw),
	}
	for i := range r.hot {
		r.hot[i] = []string{}
	}
	r.kv, r.numPath, r.numVal, r.present = []string{}, []string{}, []float64{}, []string{}
	seen := map[string]bool{}
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch x := v.(type) {
		case nil:
		case []any:
			for _, el := range x {
				walk(el, path)
			}
		case map[string]any:
			if path != "" && !seen[path] {
				seen[path] = true
				r.present = append(r.present, path)
			}
			// Keys in order, so that events of one shape lay out the same
			// way and the arrays compress well (cheaper than sorting the
			// long, prefix-sharing entries afterwards).
			keys := make([]string, 0, len(x))
			for k := range x {
				if isName(k) {
					keys = append(keys, k)
				}
			}
			slices.Sort(keys)
			for _, k := range keys {
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(x[k], p)
			}
		case string:
			if x != "" && !seen[path] {
				seen[path] = true
				r.present = append(r.present, path)
			}
			if h, ok := hotByPath[path]; ok {
				r.hot[h] = append(r.hot[h], x)
			} else {
				r.kv = append(r.kv, path+"="+x)
			}
			if path == "published" {
				if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
					r.pubMs = append(r.pubMs, t.UnixMilli())
				}
			}
		case json.Number:
			if !seen[path] {
				seen[path] = true
				r.present = append(r.present, path)
			}
			f, ok := number(x)
			if ok {
				r.numPath = append(r.numPath, path)
				r.numVal = append(r.numVal, f)
			}
			r.kv = append(r.kv, path+"#"+x.String())
		case bool:
			if !seen[path] {
				seen[path] = true
				r.present = append(r.present, path)
			}
			if x {
				r.kv = append(r.kv, path+"?true")
			} else {
				r.kv = append(r.kv, path+"?false")
			}
		}
	}
	walk(doc, "")
	if r.pubMs == nil {
		r.pubMs = []int64{}
	}
	r.eventType = single(r.hot[hotByPath["eventType"]])
	// The histogram's outcome: the one value of outcome.result when that is
	// a string (two values, or one of another type, count as none).
	if rs := filter.Resolve(doc, filter.Path{"outcome", "result"}); len(rs) == 1 {
		r.outcome, _ = rs[0].(string)
	}
	r.userKey = userKey(doc)
	return r, nil
}

// single is the only element of ss, or "" when there is not exactly one.
func single(ss []string) string {
	if len(ss) == 1 {
		return ss[0]
	}
	return ""
}

// userKey names the user an event is about, to shard by: the actor when it
// is a user, otherwise the first target that is a user (an admin resetting
// someone's password lands with that someone's events), otherwise the
// actor whatever it is.
func userKey(doc any) string {
	str := func(v any, p ...string) string {
		for _, x := range filter.Resolve(v, filter.Path(p)) {
			if s, ok := x.(string); ok {
				return s
			}
		}
		return ""
	}
	actorID := str(doc, "actor", "id")
	if str(doc, "actor", "type") == "User" {
		return actorID
	}
	for _, t := range filter.Resolve(doc, filter.Path{"target"}) {
		if str(t, "type") == "User" {
			if id := str(t, "id"); id != "" {
				return id
			}
		}
	}
	return actorID
}

// number converts a JSON number as filter.Match does: out-of-range values
// become ±Inf, which still order correctly.
func number(n json.Number) (float64, bool) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true
}
