package duckdb

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/idlog/idlog/internal/event"
	"github.com/idlog/idlog/internal/filter"
)

// kind is how a typed column holds the values of its path.
type kind int

const (
	kString     kind = iota // VARCHAR: the path's single string value, NULL when it has none
	kNumber                 // DOUBLE: the path's single number
	kStringList             // VARCHAR[]: every string value the path fans out to
)

// column is a typed projection of one attribute path. The projection is
// exact only for events where the path resolves to values of the column's
// kind (at most one for scalar kinds); any other event has odd set, and the
// compiler answers it from the kept JSON instead (see compile.go).
type column struct {
	name string
	path string
	kind kind
}

// columns are the paths analysts filter, correlate and group on: the seed's
// queries (actor, target, eventType, ip, session), the correlation keys
// (transaction, root session, dtHash, requestId) and the geo fields of the
// map view. Order matters: it is the table's column order.
var columns = []column{
	{"event_type", "eventType", kString},
	{"severity", "severity", kString},
	{"display_message", "displayMessage", kString},
	{"actor_id", "actor.id", kString},
	{"actor_type", "actor.type", kString},
	{"actor_alternate_id", "actor.alternateId", kString},
	{"actor_display_name", "actor.displayName", kString},
	{"target_ids", "target.id", kStringList},
	{"target_alternate_ids", "target.alternateId", kStringList},
	{"target_types", "target.type", kStringList},
	{"client_ip", "client.ipAddress", kString},
	{"client_user_agent", "client.userAgent.rawUserAgent", kString},
	{"client_zone", "client.zone", kString},
	{"geo_country", "client.geographicalContext.country", kString},
	{"geo_state", "client.geographicalContext.state", kString},
	{"geo_city", "client.geographicalContext.city", kString},
	{"geo_lat", "client.geographicalContext.geolocation.lat", kNumber},
	{"geo_lon", "client.geographicalContext.geolocation.lon", kNumber},
	{"external_session_id", "authenticationContext.externalSessionId", kString},
	{"root_session_id", "authenticationContext.rootSessionId", kString},
	{"transaction_id", "transaction.id", kString},
	{"outcome_result", "outcome.result", kString},
	{"outcome_reason", "outcome.reason", kString},
	{"dt_hash", "debugContext.debugData.dtHash", kString},
	{"request_uri", "debugContext.debugData.requestUri", kString},
}

// columnByPath finds the typed column of a path, if it has one.
var columnByPath = func() map[string]*column {
	m := make(map[string]*column, len(columns))
	for i := range columns {
		m[columns[i].path] = &columns[i]
	}
	return m
}()

// splitPaths caches the parsed form of each column path.
var columnPaths = func() []filter.Path {
	out := make([]filter.Path, len(columns))
	for i, c := range columns {
		out[i] = filter.Path(strings.Split(c.path, "."))
	}
	return out
}()

// project computes the typed column values of one walked event. odd has
// bit i set when the path of columns[i] cannot be held exactly by its
// column; that column is then NULL and queries on it fall back to the JSON.
func project(d *event.Doc) (vals []any, odd uint64) {
	vals = make([]any, len(columns))
	var buf [4]int
	for i, c := range columns {
		rs := d.Resolve(0, columnPaths[i], buf[:0])
		switch c.kind {
		case kString:
			if len(rs) == 0 {
				continue
			}
			if len(rs) != 1 || d.Nodes[rs[0]].Kind != event.KindString {
				odd |= 1 << i
				continue
			}
			vals[i] = d.Str(rs[0])
		case kNumber:
			if len(rs) == 0 {
				continue
			}
			if len(rs) != 1 || d.Nodes[rs[0]].Kind != event.KindNumber {
				odd |= 1 << i
				continue
			}
			f, ok := toFloat(json.Number(d.Bytes(rs[0])))
			if !ok {
				odd |= 1 << i
				continue
			}
			vals[i] = f
		case kStringList:
			list := make([]string, 0, len(rs))
			for _, r := range rs {
				if d.Nodes[r].Kind != event.KindString {
					odd |= 1 << i
					list = nil
					break
				}
				list = append(list, d.Str(r))
			}
			if list != nil {
				vals[i] = list
			}
		}
	}
	return vals, odd
}

// toFloat converts a JSON number the way filter.Match does; a number too large
// for float64 is not representable in a DOUBLE column in the same way, so it
// makes the event odd.
func toFloat(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	return f, err == nil
}
