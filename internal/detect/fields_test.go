package detect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/event"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/simulate"
)

// differentialRules are the built-in library and every SigmaHQ Okta rule
// idlog loads.
func differentialRules(t *testing.T) []*Rule {
	t.Helper()
	rules, _ := Builtin()
	sigma, _, err := LoadDir("testdata/sigma")
	if err != nil {
		t.Fatal(err)
	}
	return append(rules, sigma...)
}

// differentialEvents: a simulated org with attacks, the real Okta events
// kept in the repository's testdata (see each directory's SOURCES), and
// the Sigma test fragments.
func differentialEvents(t *testing.T) [][]byte {
	t.Helper()
	raw, err := simulate.NDJSON(simulate.Config{Users: 30, Days: 10, Seed: 9, Attacks: true, End: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	for _, f := range []string{"../flows/testdata/real/elastic-okta-system-events.jsonl", "../flows/testdata/real/okta-docs-event-correlation.jsonl"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, bytes.Split(bytes.TrimSpace(b), []byte("\n"))...)
	}
	for _, f := range []string{"../event/testdata/okta-sample.json", "../event/testdata/full-event.json", "../filter/testdata/event.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, b)
	}
	for _, c := range sigmaCases {
		lines = append(lines, []byte(c.hit), []byte(c.miss))
	}
	// Odd shapes: a target that is an object with a member "0", arrays in
	// arrays, nulls where objects are expected.
	for _, s := range []string{
		`{"uuid":"o1","published":"2026-06-01T00:00:00Z","eventType":"security.protected_action.attempt","target":{"0":{"displayName":"Reset passwords for super admins"}}}`,
		`{"uuid":"o2","published":"2026-06-01T00:00:01Z","eventType":"security.protected_action.attempt","target":[[{"displayName":"Reset passwords for super admins"}],{"displayName":"x"}]}`,
		`{"uuid":"o3","published":"2026-06-01T00:00:02Z","eventType":"user.session.start","client":null,"actor":[{"alternateId":"a"},{"alternateId":"b"}],"authenticationContext":{"externalSessionId":["s1"]},"debugContext":{"debugData":null}}`,
	} {
		lines = append(lines, []byte(s))
	}
	return lines
}

// matchEvent returns a copy of doc changed so that every comparison of e
// holds where it can: each compared path set to a value that satisfies it.
// The copy exercises the paths a rule reads, which most events leave out.
func matchEvent(doc map[string]any, e filter.Expr) map[string]any {
	b, _ := json.Marshal(doc)
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	dec.Decode(&out)
	filter.Walk(e, func(x filter.Expr) bool {
		if _, ok := x.(*filter.Not); ok {
			return false
		}
		c, ok := x.(*filter.Compare)
		if !ok {
			return true
		}
		var v any = "x"
		switch c.Value.Kind {
		case filter.String:
			v = c.Value.Str
			if c.Op == filter.OpCo || c.Op == filter.OpEw {
				v = "a " + c.Value.Str
			}
		case filter.Number:
			v = json.Number(c.Value.String())
		case filter.Bool:
			v = c.Value.Bool
		}
		setPath(out, c.Path, v)
		return true
	})
	return out
}

// setPath sets p in doc, making objects on the way; an array on the way
// has the rest set in each of its objects (or the element an index
// names).
func setPath(doc any, p filter.Path, v any) {
	switch x := doc.(type) {
	case []any:
		if i, ok := filter.Index(p[0]); ok {
			if i < len(x) && len(p) > 1 {
				setPath(x[i], p[1:], v)
			}
			return
		}
		for _, el := range x {
			setPath(el, p, v)
		}
	case map[string]any:
		if len(p) == 1 {
			x[p[0]] = v
			return
		}
		next := x[p[0]]
		switch next.(type) {
		case map[string]any, []any:
		default:
			if i, isIdx := filter.Index(p[1]); isIdx {
				arr := make([]any, i+1)
				for k := range arr {
					arr[k] = map[string]any{}
				}
				next = arr
			} else {
				next = map[string]any{}
			}
			x[p[0]] = next
		}
		setPath(next, p[1:], v)
	}
}

func ruleExprs(r *Rule) []filter.Expr {
	var out []filter.Expr
	if x, err := filter.Parse(r.Query); err == nil {
		out = append(out, x)
	}
	if r.Sequence != nil {
		for i := range r.Sequence.Steps {
			out = append(out, r.Sequence.Steps[i].expr)
		}
	}
	return out
}

// ruleView is everything a rule decides from one event: whether it
// matches, each step's match and key, the group, the distinct value and
// the fields an alert would show.
func ruleView(r *Rule, doc any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "match=%v group=%q", r.match(doc), groupKey(r.groups, doc))
	if r.Threshold != nil && r.Threshold.distinct != nil {
		fmt.Fprintf(&b, " distinct=%q", firstString(doc, r.Threshold.distinct))
	}
	if r.Sequence != nil {
		for i := range r.Sequence.Steps {
			st := &r.Sequence.Steps[i]
			fmt.Fprintf(&b, " step%d=%v/%q", i, st.match(doc), labeledKey(r.groups, st.by, doc))
		}
	}
	for _, f := range r.Fields {
		p, _ := fieldPath(f)
		fmt.Fprintf(&b, " %s=%q", f, firstString(doc, p))
	}
	return b.String()
}

// TestSelectedDecodeAgrees: every rule decides the same on the partial
// tree Engine.Decode builds as on the whole event, on simulated, real and
// mutated events (each event also changed to meet each rule's
// comparisons), and an engine fed partial trees raises exactly the alerts
// of one fed whole events.
func TestSelectedDecodeAgrees(t *testing.T) {
	rules := differentialRules(t)
	eng := NewEngine(rules)
	if eng.selAll {
		t.Fatal("the built-in library and SigmaHQ's rules decode whole events")
	}
	sel := eng.sel
	lines := differentialEvents(t)
	matched, compared := map[string]int{}, 0
	check := func(what string, raw []byte) {
		t.Helper()
		whole, err := filter.DecodeJSON(raw)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		part, err := event.DecodeSelected(raw, sel)
		if err != nil {
			t.Fatalf("%s: selected: %v", what, err)
		}
		for _, r := range rules {
			w, p := ruleView(r, whole), ruleView(r, part)
			if w != p {
				t.Fatalf("%s: rule %s decides differently on the partial tree:\nwhole:   %s\npartial: %s\nevent: %s", what, r.ID, w, p, raw)
			}
			if r.match(whole) {
				matched[r.ID]++
			}
			compared++
		}
	}
	for i, raw := range lines {
		check(fmt.Sprintf("event %d", i), raw)
	}
	// Mutations: a sample of events, each changed to meet each rule.
	for i := 0; i < len(lines); i += len(lines)/40 + 1 {
		doc, err := filter.DecodeJSON(lines[i])
		if err != nil {
			t.Fatal(err)
		}
		m, ok := doc.(map[string]any)
		if !ok {
			continue
		}
		for _, r := range rules {
			for _, x := range ruleExprs(r) {
				raw, _ := json.Marshal(matchEvent(m, x))
				check(fmt.Sprintf("event %d made to meet %s", i, r.ID), raw)
			}
		}
	}
	hit := 0
	for _, r := range rules {
		if matched[r.ID] > 0 {
			hit++
		}
	}
	t.Logf("%d rule decisions compared; %d of %d rules matched some event", compared, hit, len(rules))
	if hit < len(rules)*3/4 {
		t.Errorf("only %d of %d rules matched an event: the comparison says little", hit, len(rules))
	}

	// The engine: the same alerts from partial trees as from whole events.
	var full, partial []Event
	for _, raw := range lines {
		w, err := DecodeEvent(raw)
		if err != nil {
			continue // the fragments have no published time
		}
		p, err := eng.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		full, partial = append(full, w), append(partial, p)
	}
	a, b := run(NewEngine(rules), full), run(NewEngine(rules), partial)
	if len(a) == 0 {
		t.Fatal("no alerts: the comparison says little")
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("alerts differ: %d from whole events, %d from partial trees", len(a), len(b))
	}
}

func TestSelection(t *testing.T) {
	mk := func(src string, groups ...string) *Rule {
		r := &Rule{ID: "r", Title: "r", Query: src, GroupBy: groups}
		if err := r.compile(); err != nil {
			t.Fatal(err)
		}
		return r
	}
	sel, all := selection([]*Rule{
		mk(`eventType eq "a" and client.geographicalContext.country eq "X"`, "client.ipAddress"),
		mk(`target.0.displayName eq "x" and target.id pr`),
		mk(`client.geographicalContext pr`),
	})
	if all {
		t.Fatal("whole event")
	}
	want := event.Selection{"uuid": nil, "published": nil, "eventType": nil,
		"target": {"0": {"displayName": nil}, "displayName": nil, "id": nil},
		"client": {"ipAddress": nil, "geographicalContext": nil}, "actor": {"alternateId": nil}}
	if !reflect.DeepEqual(sel, want) {
		t.Errorf("selection %v, want %v", sel, want)
	}
	sel = event.Selection{}
	if !addPath(sel, filter.Path{"a", "1", "b", "2"}) || !reflect.DeepEqual(sel, event.Selection{
		"a": {"1": {"b": nil}, "b": nil}}) {
		t.Errorf("a.1.b.2: %v", sel)
	}
	if addPath(event.Selection{}, filter.Path{"a", "1", "2", "3", "4", "5"}) {
		t.Error("a path of five digit names is spelled out")
	}
	sigma := &Rule{ID: "s", Title: "s", sigma: true, match: func(any) bool { return true }}
	if err := sigma.compile(); err != nil {
		t.Fatal(err)
	}
	if _, all := selection([]*Rule{sigma}); !all {
		t.Error("a matcher with unknown paths needs the whole event")
	}
}
