package clickhouse

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

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

// deriveRow checks one event and computes every column but seq, from the
// event's walked nodes.
func deriveRow(i int, e store.Event) (row, error) {
	if e.UUID == "" {
		return row{}, fmt.Errorf("clickhouse: event %d: no uuid", i)
	}
	if e.Published.IsZero() {
		return row{}, fmt.Errorf("clickhouse: event %d (%s): no published time", i, e.UUID)
	}
	return deriveWalked(i, e)
}

// single is the only element of ss, or "" when there is not exactly one.
func single(ss []string) string {
	if len(ss) == 1 {
		return ss[0]
	}
	return ""
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
