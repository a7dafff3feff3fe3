package clickhouse

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	ev "github.com/idlog/idlog/internal/event"
	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
)

// sortedRow is a row with its array columns in a canonical order: the walk
// keeps document order, the tree path sorts each object's keys, and
// queries only test membership.
func sortedRow(r row) row {
	r.kv, r.present, r.tokens = slices.Sorted(slices.Values(r.kv)), slices.Sorted(slices.Values(r.present)), slices.Sorted(slices.Values(r.tokens))
	type num struct {
		p string
		v float64
	}
	var ns []num
	for i := range r.numPath {
		ns = append(ns, num{r.numPath[i], r.numVal[i]})
	}
	slices.SortFunc(ns, func(a, b num) int {
		if a.p != b.p {
			return map[bool]int{true: -1, false: 1}[a.p < b.p]
		}
		return map[bool]int{true: -1, false: 1}[a.v < b.v]
	})
	r.numPath, r.numVal = []string{}, []float64{}
	for _, n := range ns {
		r.numPath, r.numVal = append(r.numPath, n.p), append(r.numVal, n.v)
	}
	r.pubMs = slices.Sorted(slices.Values(r.pubMs))
	return r
}

func rawEvent(raw string) store.Event {
	return store.Event{UUID: "u1", Published: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Raw: json.RawMessage(raw)}
}

// TestDeriveMatchesTree checks the derivation from walked nodes against the
// generic tree on the simulator's events, the conformance data and edge
// cases chosen for each rule of the walk: unreachable keys, arrays at every
// level, hot paths holding arrays and objects, escapes, invalid UTF-8, the
// user key and outcome rules.
func TestDeriveMatchesTree(t *testing.T) {
	evs, err := storetest.Simulated(simulate.Config{Users: 40, Days: 3, Seed: 9, Attacks: true}, 3000)
	if err != nil {
		t.Fatal(err)
	}
	evs = append(evs, storetest.Dataset()...)
	evs = append(evs, storetest.EdgeCases()...)
	for _, raw := range []string{
		`{}`,
		` { "a" : [ 1 , [ 2.5e3 , -0 ] , { "b" : true } , null , "" ] } `,
		`{"eventType":["x","y"],"outcome":{"result":["SUCCESS"]}}`,
		`{"outcome":{"result":"SUCCESS"},"eventType":"user.session.start"}`,
		`{"outcome":[{"result":"A"},{"result":"B"}]}`,
		`{"outcome":{"result":{"x":1}}}`,
		`{"outcome":{"result":null}}`,
		`{"outcome":{"result":7}}`,
		`{"actor":{"id":"a1","type":"SystemPrincipal"},"target":[{"type":"AppInstance","id":"t0"},{"type":"User","id":""},{"id":"t2","type":"User"},{"type":"User","id":"t3"}]}`,
		`{"actor":[{"id":5},{"id":"a2","type":"User"}]}`,
		`{"actor":{"id":"a1"},"target":{"type":["","User"],"id":"t1"}}`,
		`{"actor":{"id":"a1"},"target":[[{"type":"User","id":["t1","t2"]}]]}`,
		`{"client":{"ipAddress":[{"x":1},"10.0.0.1"],"zone":"z"}}`,
		`{"bad-key":{"inner":"v","n":3},"ok_key":{"a b":"c","d":"e\"f\\g\u00e9\n"}}`,
		`{"k\u0061y":"escaped key","published":"2026-01-02T03:04:05.123Z","published2":"x"}`,
		"{\"s\":\"bad \xff utf8\",\"t\":\"\xc3\"}",
		`{"n":1e400,"m":-1.5E-3,"o":0.0,"p":123456789012345678901234567890}`,
		`{"debugContext":{"debugData":{"requestUri":"/api/v1/authn","threatSuspected":"false","risk":"{level=LOW}"}}}`,
		`{"a":{"b":{"c":{"d":[[[{"e":"deep"}]]]}}}}`,
		`{"target":{"target":{"type":"User","id":"nested"}},"actor":{"id":"x","type":"User"}}`,
	} {
		evs = append(evs, rawEvent(raw))
	}
	for i, e := range evs {
		want, err := deriveTree(i, e)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		// Walked here, and walked (compacted) the way ingest hands it down.
		walked := e
		var c ev.Compactor
		if out, nodes, dup, plain, err := c.Compact(nil, e.Raw, 512); err == nil && string(out) == string(e.Raw) {
			walked.Doc = ev.Keep(e.Raw, nodes, dup, plain)
		}
		for _, e := range []store.Event{e, walked} {
			got, err := deriveRow(i, e)
			if err != nil {
				t.Fatalf("event %d %s: %v", i, e.Raw, err)
			}
			if g, w := fmt.Sprintf("%#v", sortedRow(got)), fmt.Sprintf("%#v", sortedRow(want)); g != w {
				t.Errorf("event %d %s:\nwalked %s\ntree   %s", i, e.Raw, g, w)
			}
		}
	}
}

// TestDeriveRepeatsAndErrors: repeated keys keep the last value, as the
// tree does, and what is not JSON is an error.
func TestDeriveRepeatsAndErrors(t *testing.T) {
	for _, raw := range []string{`{"a":1,"a":2}`, `{"o":{"k":"x","k":"y"}}`, `{"a":"1","\u0061":"2","b":[{"c":1,"c":true}]}`} {
		want, err := deriveTree(0, rawEvent(raw))
		if err != nil {
			t.Fatal(err)
		}
		got, err := deriveRow(0, rawEvent(raw))
		if g, w := fmt.Sprintf("%#v", sortedRow(got)), fmt.Sprintf("%#v", sortedRow(want)); err != nil || g != w {
			t.Errorf("%s:\nwalked %s %v\ntree   %s", raw, g, err, w)
		}
	}
	r, err := deriveRow(0, rawEvent(`{"a":"1","a":"2"}`))
	if err != nil || !slices.Equal(r.kv, []string{"a=2"}) {
		t.Errorf("repeated key: kv %v %v, want the last value", r.kv, err)
	}
	for _, raw := range []string{`[1]`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":tru}`, `{"a":"x}`, "{\"a\":\"tab\there\"}",
		`{"a":1}x`, `{"a":1,}`, `{"a" 1}`, `{"a":[1,]}`, `{"a":"\x"}`} {
		if _, err := deriveRow(0, rawEvent(raw)); err == nil {
			t.Errorf("%s: accepted", raw)
		}
	}
}
