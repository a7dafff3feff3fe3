package detect

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/simulate"
)

func TestBuiltinLoads(t *testing.T) {
	rules, bad := Builtin()
	if len(rules) < 17+24 {
		t.Errorf("%d built-in rules", len(rules))
	}
	if len(bad) != 1 || !strings.Contains(bad[0].Error(), "field is not valid: result") {
		t.Errorf("refused Okta detections: %v, want only the bare result one", bad)
	}
	if err := checkUnique(rules); err != nil {
		t.Error(err)
	}
	for _, r := range rules {
		if r.Description == "" || r.Severity == "" {
			t.Errorf("%s: no description or severity", r.ID)
		}
	}
}

// TestRuleIndex: the event-type index never leaves out a rule that matches
// (checked on a simulated month and on every Okta detection query).
func TestRuleIndex(t *testing.T) {
	rules, _ := Builtin()
	ix := newRuleIndex(rules)
	if len(ix.always) > len(rules)/2 {
		t.Errorf("%d of %d rules see every event", len(ix.always), len(rules))
	}
	raw, err := simulate.NDJSON(simulate.Config{Users: 60, Days: 10, Seed: 2, Attacks: true, End: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		ev, err := DecodeEvent(line)
		if err != nil {
			t.Fatal(err)
		}
		et := ev.Doc.(map[string]any)["eventType"].(string)
		cand := ix.forType(et)
		for _, r := range rules {
			if r.Match(ev.Doc) {
				checked++
				if !slices.Contains(cand, r) {
					t.Fatalf("rule %s matches a %s event but the index leaves it out", r.ID, et)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no rule matched anything")
	}
}

func TestEventTypes(t *testing.T) {
	cases := []struct {
		src           string
		exact, prefix string
		ok            bool
	}{
		{`eventType eq "a"`, "a", "", true},
		{`eventType sw "a."`, "", "a.", true},
		{`eventType in ["a", "b"] and uuid pr`, "a,b", "", true},
		{`uuid pr and (eventType eq "a" or eventType sw "b")`, "a", "b", true},
		{`eventType eq "a" or uuid pr`, "", "", false},
		{`not (eventType eq "a")`, "", "", false},
		{`eventType co "a"`, "", "", false},
	}
	for _, tc := range cases {
		x, err := filter.Parse(tc.src)
		if err != nil {
			t.Fatal(err)
		}
		e, p, ok := eventTypes(x)
		if ok != tc.ok || strings.Join(e, ",") != tc.exact || strings.Join(p, ",") != tc.prefix {
			t.Errorf("%s: %v %v %v", tc.src, e, p, ok)
		}
	}
}
