package clickhouse

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/idlog/idlog/internal/filter"
)

// TestCompileGolden pins the SQL of every operator on every kind of path
// (hot column, kv array, numbers, booleans, published) and of the logical
// nodes. The differential tests prove the SQL right against filter.Match;
// this table makes any change to it visible in review.
func TestCompileGolden(t *testing.T) {
	tests := []struct {
		filter string
		where  string
		args   []any
		key    string // the implied sort-key condition, if any
	}{
		// Hot columns: strings in their own Array(String).
		{`eventType eq "user.session.start"`, `has(s_event_type, ?)`, []any{"user.session.start"}, `event_type IN (?, '')`},
		{`actor.id eq "00u1"`, `has(s_actor_id, ?)`, []any{"00u1"}, ``},
		{`target.id co "u1"`, `arrayExists(x -> position(x, ?) > 0, s_target_id)`, []any{"u1"}, ``},
		{`client.ipAddress sw "10."`, `arrayExists(x -> startsWith(x, ?), s_client_ip)`, []any{"10."}, ``},
		{`outcome.result ew "URE"`, `arrayExists(x -> endsWith(x, ?), s_outcome_result)`, []any{"URE"}, ``},
		{`actor.alternateId gt "m"`, `arrayExists(x -> x > ?, s_actor_alternate_id)`, []any{"m"}, ``},
		{`authenticationContext.externalSessionId le "x"`, `arrayExists(x -> x <= ?, s_external_session_id)`, []any{"x"}, ``},
		// Other string paths: "path=value" entries of kv.
		{`debugContext.debugData.dtHash eq "ab"`, `has(kv, ?)`, []any{"debugContext.debugData.dtHash=ab"}, ``},
		{`client.zone sw "n"`, `arrayExists(x -> startsWith(x, ?), kv)`, []any{"client.zone=n"}, ``},
		{`debugContext.debugData.requestUri co "/idp"`, `arrayExists(x -> startsWith(x, ?) AND position(substring(x, 35), ?) > 0, kv)`,
			[]any{"debugContext.debugData.requestUri=", "/idp"}, ``},
		{`severity ew "FO"`, `arrayExists(x -> startsWith(x, ?) AND endsWith(substring(x, 10), ?), kv)`, []any{"severity=", "FO"}, ``},
		{`severity ge "INFO"`, `arrayExists(x -> startsWith(x, ?) AND substring(x, 10) >= ?, kv)`, []any{"severity=", "INFO"}, ``},
		{`severity lt "WARN"`, `arrayExists(x -> startsWith(x, ?) AND substring(x, 10) < ?, kv)`, []any{"severity=", "WARN"}, ``},
		// Numbers and booleans.
		{`client.geographicalContext.geolocation.lat gt 45.5`, `arrayExists((p, v) -> p = ? AND v > reinterpretAsFloat64(reinterpretAsString(toUInt64(?))), num_path, num_val)`,
			[]any{"client.geographicalContext.geolocation.lat", math.Float64bits(45.5)}, ``},
		{`securityContext.asNumber eq 7922`, `arrayExists((p, v) -> p = ? AND v = reinterpretAsFloat64(reinterpretAsString(toUInt64(?))), num_path, num_val)`,
			[]any{"securityContext.asNumber", math.Float64bits(7922)}, ``},
		{`securityContext.isProxy eq true`, `has(kv, ?)`, []any{"securityContext.isProxy?true"}, ``},
		// pr, null, ne.
		{`target pr`, `has(present, ?)`, []any{"target"}, ``},
		{`actor.id eq null`, `NOT (has(present, ?))`, []any{"actor.id"}, ``},
		{`actor.id ne null`, `has(present, ?)`, []any{"actor.id"}, ``},
		{`actor.id ne "x"`, `NOT (has(s_actor_id, ?))`, []any{"x"}, ``},
		{`eventType ne "x"`, `NOT (has(s_event_type, ?))`, []any{"x"}, ``},
		// published: the document's own value(s), in ms.
		{`published gt "2026-03-02T00:00:00Z"`, `arrayExists(x -> x > ?, pub_ms)`, []any{int64(1772409600000)}, ``},
		{`published eq "2026-03-02T00:00:00.123456Z"`, `arrayExists(x -> x = ?, pub_ms)`, []any{int64(1772409600123)}, ``},
		{`published pr`, `has(present, ?)`, []any{"published"}, ``},
		// Logic, and how the sort-key condition follows it.
		{`eventType eq "a" or eventType eq "b"`, `(has(s_event_type, ?) OR has(s_event_type, ?))`, []any{"a", "b"},
			`(event_type IN (?, '') OR event_type IN (?, ''))`},
		{`actor.id eq "u" and (eventType eq "a" or eventType eq "b")`, `(has(s_actor_id, ?) AND (has(s_event_type, ?) OR has(s_event_type, ?)))`,
			[]any{"u", "a", "b"}, `(event_type IN (?, '') OR event_type IN (?, ''))`},
		{`actor.id eq "u" or eventType eq "a"`, `(has(s_actor_id, ?) OR has(s_event_type, ?))`, []any{"u", "a"}, ``},
		{`not (eventType eq "a")`, `NOT (has(s_event_type, ?))`, []any{"a"}, ``},
		{`eventType eq ""`, `has(s_event_type, ?)`, []any{""}, ``},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			e, err := filter.Parse(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			c, err := compile(e)
			if err != nil {
				t.Fatal(err)
			}
			if c.where.sql != tt.where {
				t.Errorf("where:\n got %s\nwant %s", c.where.sql, tt.where)
			}
			if !reflect.DeepEqual(c.where.args, tt.args) {
				t.Errorf("args: got %#v, want %#v", c.where.args, tt.args)
			}
			if c.key.sql != tt.key {
				t.Errorf("key:\n got %s\nwant %s", c.key.sql, tt.key)
			}
			if n := countMarks(c.where.sql); n != len(c.where.args) {
				t.Errorf("%d placeholders, %d args", n, len(c.where.args))
			}
		})
	}
}

func countMarks(s string) int {
	n := 0
	for _, r := range s {
		if r == '?' {
			n++
		}
	}
	return n
}

// TestCompileRefuses: comparisons the parser refuses are refused here too,
// with the comparison's position, rather than compiled to a guess.
func TestCompileRefuses(t *testing.T) {
	for _, c := range []*filter.Compare{
		{Path: filter.Path{"a"}, Op: filter.OpGt, Value: filter.Value{Kind: filter.Bool, Bool: true}, From: 3},
		{Path: filter.Path{"a"}, Op: filter.OpCo, Value: filter.Value{Kind: filter.Number, Num: 1}, From: 3},
		{Path: filter.Path{"a"}, Op: filter.OpLt, Value: filter.Value{Kind: filter.Null}, From: 3},
		{Path: filter.Path{"published"}, Op: filter.OpSw, Value: filter.Value{Kind: filter.String, Str: "2026"}, From: 3},
	} {
		_, err := compile(c)
		if err == nil {
			t.Errorf("%s: compiled", c)
			continue
		}
		if want := fmt.Sprintf("at %d:", c.From); !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %q does not say %q", c, err, want)
		}
	}
}
