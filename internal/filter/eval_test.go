package filter

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

func loadEvent(t testing.TB) any {
	t.Helper()
	raw, err := os.ReadFile("testdata/event.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := DecodeJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func mustParse(t testing.TB, s string) Expr {
	t.Helper()
	e, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return e
}

// TestMatchEvent evaluates filters against testdata/event.json, an Okta
// sign-in event with two targets, nested arrays and debugData strings.
func TestMatchEvent(t *testing.T) {
	doc := loadEvent(t)
	cases := []struct {
		filter string
		want   bool
	}{
		// eq / ne on strings: byte-wise, case-sensitive.
		{`eventType eq "user.session.start"`, true},
		{`eventType eq "USER.SESSION.START"`, false},
		{`eventType EQ "user.session.start"`, true},
		{`eventType ne "user.session.start"`, false},
		{`eventType ne "user.session.end"`, true},
		{`actor.alternateId eq "admin@okta.com"`, true},
		// Arrays of objects: any element.
		{`target.id eq "0oaz9fj21WKqTeaqs1d6"`, true},
		{`target.id eq "lae42mkdc9i9cbw3U1d6"`, true},
		{`target.id eq "0oaz9fj21WKqTeaqs1d6" and target.id eq "lae42mkdc9i9cbw3U1d6"`, true},
		{`target.id eq "nope"`, false},
		{`target.id ne "0oaz9fj21WKqTeaqs1d6"`, false}, // ne is not eq, not "some element differs"
		{`target.type eq "AppInstance" and target.displayName eq "Password"`, true},
		// Nested arrays fan out at any depth; null elements are dropped.
		{`target.detailEntry.tags eq "c"`, true},
		{`target.detailEntry.tags eq "a"`, true},
		{`target.detailEntry.tags eq "d"`, false},
		{`request.ipChain.ip eq "10.1.2.3"`, true},
		{`request.ipChain.geographicalContext.city eq "Toronto"`, true},
		{`request.ipChain.source pr`, false},
		// co sw ew.
		{`eventType co "session"`, true},
		{`eventType co "Session"`, false},
		{`eventType sw "user."`, true},
		{`eventType sw "session"`, false},
		{`eventType ew ".start"`, true},
		{`eventType ew "user"`, false},
		{`eventType co ""`, true},
		{`debugContext.debugData.url co "/idx/"`, true}, // Okta refuses co here; idlog allows it
		{`debugContext.debugData.requestUri co "identify"`, true},
		{`client.geographicalContext.geolocation.lat co "43"`, false}, // a number is not a string
		// gt ge lt le on strings: byte order.
		{`severity ge "INFO"`, true},
		{`severity gt "INFO"`, false},
		{`severity lt "J"`, true},
		{`severity le "I"`, false},
		{`severity gt "Info"`, false}, // 'N' < 'n'
		// Numbers: numeric, typed.
		{`client.geographicalContext.geolocation.lat gt 43`, true},
		{`client.geographicalContext.geolocation.lat eq 43.6567`, true},
		{`client.geographicalContext.geolocation.lat eq 436567e-4`, true},
		{`client.geographicalContext.geolocation.lon lt -79`, true},
		{`client.geographicalContext.geolocation.lon ge -79.34`, true},
		{`client.geographicalContext.geolocation.lon gt -79.34`, false},
		{`securityContext.asNumber eq 812`, true},
		{`securityContext.asNumber eq 812.0`, true},
		{`securityContext.asNumber eq "812"`, false},
		{`securityContext.asNumber gt 1e2`, true},
		{`authenticationContext.authenticationStep eq 0`, true},
		{`authenticationContext.authenticationStep eq -0`, true},
		{`version eq 0`, false}, // "0" is a string
		{`version eq "0"`, true},
		// Booleans: typed.
		{`securityContext.isProxy eq false`, true},
		{`securityContext.isProxy eq true`, false},
		{`securityContext.isProxy ne true`, true},
		{`securityContext.isProxy eq "false"`, false},
		{`debugContext.debugData.threatSuspected eq "false"`, true},
		{`debugContext.debugData.threatSuspected eq false`, false},
		// pr and null.
		{`actor.id pr`, true},
		{`securityContext.isProxy pr`, true},
		{`authenticationContext.authenticationStep pr`, true},
		{`transaction.detail pr`, true}, // {} is a value
		{`device pr`, false},
		{`client.id pr`, false},
		{`debugContext.debugData.empty pr`, false},
		{`debugContext.debugData.missing pr`, false},
		{`client.zone pr`, true}, // the string "null" is a value
		{`outcome.reason eq null`, true},
		{`outcome.reason ne null`, false},
		{`outcome.result eq null`, false},
		{`debugContext.debugData.empty eq null`, true},
		{`debugContext.debugData.empty eq ""`, true},
		{`outcome.reason eq "x"`, false},
		{`outcome.reason ne "x"`, true}, // ne is true when missing
		{`outcome.nothere.deeper ne "x"`, true},
		{`eventType.deeper pr`, false}, // a path through a string leads nowhere
		// Deep debugData paths.
		{`debugContext.debugData.risk eq "{reasons=Anomalous Location, level=MEDIUM}"`, true},
		{`debugContext.debugData.behaviors co "Velocity=NEGATIVE"`, true},
		// Unicode: byte-wise, no normalisation or case folding.
		{`debugContext.debugData.city eq "Z\u00fcrich"`, true},
		{`debugContext.debugData.city eq "Zurich"`, false},
		{`debugContext.debugData.city eq "zürich"`, false},
		{`debugContext.debugData.note co "Straße"`, true},
		{`debugContext.debugData.city gt "Zz"`, true}, // ü (0xC3 0xBC) sorts after z
		// published: chronological at millisecond precision.
		{`published eq "2023-03-26T21:05:32.159Z"`, true},
		{`published eq "2023-03-26T21:05:32.159999Z"`, true},
		{`published eq "2023-03-26T23:05:32.159+02:00"`, true},
		{`published gt "2023-03-26T21:05:32.158Z"`, true},
		{`published gt "2023-03-26T21:05:32.159Z"`, false},
		{`published ge "2023-03-26T21:05:32.159Z"`, true},
		{`published lt "2023-03-27T00:00:00Z"`, true},
		{`published lt "2023-03-26T22:00:00+01:00"`, false},
		{`published le "2023-03-26T21:05:32Z"`, false},
		{`published ne "2023-03-26T21:05:32.159Z"`, false},
		{`published pr`, true},
		// Logic and precedence.
		{`not eventType eq "x"`, true},
		{`not (eventType eq "user.session.start")`, false},
		{`not not eventType eq "user.session.start"`, true},
		{`eventType eq "x" or eventType eq "user.session.start" and severity eq "INFO"`, true},
		{`(eventType eq "x" or eventType eq "user.session.start") and severity eq "DEBUG"`, false},
		{`eventType eq "x" or eventType eq "user.session.start" and severity eq "DEBUG"`, false},
		{`eventType eq "user.session.start" or eventType eq "x" and severity eq "DEBUG"`, true},
		{`not eventType eq "user.session.start" and severity eq "INFO"`, false},
	}
	for _, tc := range cases {
		e := mustParse(t, tc.filter)
		if got := Match(e, doc); got != tc.want {
			t.Errorf("Match(%s) = %v, want %v", tc.filter, got, tc.want)
		}
	}
}

// TestMatchShapes covers document shapes the sample event lacks.
func TestMatchShapes(t *testing.T) {
	cases := []struct {
		doc, filter string
		want        bool
	}{
		{`{"target":[]}`, `target pr`, false},
		{`{"target":null}`, `target pr`, false},
		{`{}`, `target pr`, false},
		{`{"target":[]}`, `target eq null`, true},
		{`{"target":[null]}`, `target pr`, false},
		{`{"target":[""]}`, `target pr`, false},
		{`{"target":["", "x"]}`, `target pr`, true},
		{`{"target":[{}]}`, `target pr`, true},
		{`{"target":[{"id":null},{"id":"a"}]}`, `target.id eq "a"`, true},
		{`{"target":[{"id":null},{"id":"a"}]}`, `target.id ne null`, true},
		{`{"target":[[{"id":"deep"}]]}`, `target.id eq "deep"`, true},
		{`{"target":[{"id":["x",["y"]]}]}`, `target.id eq "y"`, true},
		{`{"target":[{"id":1},{"id":"1"}]}`, `target.id gt 0`, true},
		{`{"target":[{"id":"1"}]}`, `target.id gt 0`, false},
		{`{"target":[{"id":"b"},{"id":"z"}]}`, `target.id lt "c" and target.id gt "y"`, true},
		{`{"uuid":12345678901234567890}`, `uuid gt 1e19`, true},
		{`{"uuid":1e400}`, `uuid gt 1e300`, true},
		{`{"published":"not a time"}`, `published lt "2030-01-01T00:00:00Z"`, false},
		{`{"published":"not a time"}`, `published ne "2030-01-01T00:00:00Z"`, true},
		{`{"published":"2026-03-02T00:00:00.0009Z"}`, `published eq "2026-03-02T00:00:00Z"`, true},
		{`{"published":"2026-03-02T00:00:00.001Z"}`, `published eq "2026-03-02T00:00:00Z"`, false},
		{`{"published":"1969-12-31T23:59:59.9995Z"}`, `published eq "1969-12-31T23:59:59.999Z"`, true},
		{`{"published":["2026-01-01T00:00:00Z"]}`, `published pr`, true},
		{`{"debugContext":{"debugData":{"a.b":"x"}}}`, `debugContext.debugData.a.b pr`, false},
		{`{"displayMessage":"tab\there"}`, `displayMessage eq "tab\there"`, true},
		{`{"displayMessage":"😀"}`, `displayMessage eq "\ud83d\ude00"`, true},
		{`{"displayMessage":"x"}`, `displayMessage co "\u0000"`, false},
		// Extensions: in lists and array indexes.
		{`{"eventType":"b"}`, `eventType in ["a", "b"]`, true},
		{`{"eventType":"c"}`, `eventType in ["a", "b"]`, false},
		{`{"eventType":"c"}`, `not (eventType in ["a", "b"])`, true},
		{`{"target":[{"id":"a"},{"id":"b"}]}`, `target.0.id eq "a"`, true},
		{`{"target":[{"id":"a"},{"id":"b"}]}`, `target.0.id eq "b"`, false},
		{`{"target":[{"id":"a"},{"id":"b"}]}`, `target.1.id eq "b"`, true},
		{`{"target":[{"id":"a"},{"id":"b"}]}`, `target.2.id pr`, false},
		{`{"target":[{"id":"a"},{"id":"b"}]}`, `target.0.id ne "b"`, true},
		{`{"target":[{"id":"a"}]}`, `target.0 pr`, true},
		{`{"actor":{"id":"a"}}`, `actor.0.id pr`, false},
		{`{"debugContext":{"debugData":{"0":"key"}}}`, `debugContext.debugData.0 eq "key"`, true},
		{`{"target":[[{"id":"x"},{"id":"y"}]]}`, `target.0.id eq "y"`, true},
		{`{"target":[{"id":["x","y"]}]}`, `target.0.id.1 eq "y"`, true},
		{`{"target":[{"id":["x","y"]}]}`, `target.0.id.1 eq "x"`, false},
	}
	for _, tc := range cases {
		doc, err := DecodeJSON([]byte(tc.doc))
		if err != nil {
			t.Fatalf("%s: %v", tc.doc, err)
		}
		if got := Match(mustParse(t, tc.filter), doc); got != tc.want {
			t.Errorf("Match(%s) on %s = %v, want %v", tc.filter, tc.doc, got, tc.want)
		}
	}
}

func TestResolve(t *testing.T) {
	doc, err := DecodeJSON([]byte(`{"target":[{"id":"a","n":1},{"id":null},null,[{"id":["b",null,["c"]]}],{"x":2}],"actor":{"id":"u"}}`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path Path
		want []any
	}{
		{Path{"target", "id"}, []any{"a", "b", "c"}},
		{Path{"target", "n"}, []any{json.Number("1")}},
		{Path{"actor", "id"}, []any{"u"}},
		{Path{"actor", "id", "x"}, nil},
		{Path{"nope"}, nil},
		{Path{"actor"}, []any{map[string]any{"id": "u"}}},
	}
	for _, tc := range cases {
		if got := Resolve(doc, tc.path); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Resolve(%s) = %#v, want %#v", tc.path, got, tc.want)
		}
	}
}

func TestDecodeJSON(t *testing.T) {
	v, err := DecodeJSON([]byte(` {"a":1.50} `))
	if err != nil {
		t.Fatal(err)
	}
	if got := v.(map[string]any)["a"]; got != json.Number("1.50") {
		t.Errorf("number decoded as %#v, want json.Number 1.50", got)
	}
	for _, bad := range []string{``, `{`, `{} {}`, `{}x`, `nul`} {
		if _, err := DecodeJSON([]byte(bad)); err == nil {
			t.Errorf("DecodeJSON(%q) succeeded", bad)
		}
	}
}

func TestWalkPaths(t *testing.T) {
	e := mustParse(t, `(actor.id eq "u" or target.id eq "u") and not (eventType pr)`)
	var kinds []string
	Walk(e, func(x Expr) bool {
		kinds = append(kinds, reflect.TypeOf(x).Elem().Name())
		return true
	})
	want := []string{"Logical", "Paren", "Logical", "Compare", "Compare", "Not", "Paren", "Compare"}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("Walk order %v, want %v", kinds, want)
	}
	var n int
	Walk(e, func(x Expr) bool { n++; _, isNot := x.(*Not); return !isNot })
	if n != 6 {
		t.Errorf("Walk visited %d nodes when pruning below not, want 6", n)
	}
	got := Paths(e)
	wantPaths := []Path{{"actor", "id"}, {"target", "id"}, {"eventType"}}
	if !reflect.DeepEqual(got, wantPaths) {
		t.Errorf("Paths = %v, want %v", got, wantPaths)
	}
}
