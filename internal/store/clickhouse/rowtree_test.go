package clickhouse

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
)

// deriveTree is deriveRow through filter.DecodeJSON's generic tree (what
// encoding/json builds): the reference the walked derivation is tested
// against.
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
