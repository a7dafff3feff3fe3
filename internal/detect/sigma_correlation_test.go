package detect

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func loadCorrelations(t *testing.T) map[string]*Rule {
	t.Helper()
	rules, bad, err := LoadDir("testdata/sigma-correlation/good")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Errorf("refused: %v", b)
	}
	byID := map[string]*Rule{}
	for _, r := range rules {
		byID[r.ID] = r
	}
	return byID
}

// TestSigmaCorrelationLoad: each correlation becomes a threshold or a
// sequence; the rules it names run only as its parts unless it says
// generate: true.
func TestSigmaCorrelationLoad(t *testing.T) {
	byID := loadCorrelations(t)
	var ids []string
	for id, r := range byID {
		ids = append(ids, id+" "+r.Kind())
	}
	slices.Sort(ids)
	want := []string{
		"sigma-0c3f7a52-3b8e-4d5f-8d0a-6a0f1e2b3c41 threshold", // event_count
		"sigma-3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f sequence",  // temporal_ordered
		"sigma-4d5e6f7a-8b9c-4d0e-9f2a-3b4c5d6e7f80 filter",    // kept: generate: true
		"sigma-5e6f7a8b-9c0d-4e1f-8a3b-4c5d6e7f8091 filter",    // kept: generate: true
		"sigma-6f7a8b9c-0d1e-4f2a-9b4c-5d6e7f8091a2 sequence",  // temporal
		"sigma-9d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6 threshold", // value_count
	}
	if !slices.Equal(ids, want) {
		t.Errorf("rules:\n%s\nwant:\n%s", strings.Join(ids, "\n"), strings.Join(want, "\n"))
	}
	spray := byID["sigma-9d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"]
	if th := spray.Threshold; th == nil || th.Count != 4 || th.Distinct != "actor.alternateId" || th.DistinctCount != 4 || spray.Severity != "high" {
		t.Errorf("value_count gt 3: %+v, severity %s", th, spray.Severity)
	}
	count := byID["sigma-0c3f7a52-3b8e-4d5f-8d0a-6a0f1e2b3c41"]
	if !slices.Equal(count.Technique, []string{"T1110"}) || count.GroupBy[0] != "client.ipAddress" {
		t.Errorf("event_count: techniques %v, group %v", count.Technique, count.GroupBy)
	}
}

// TestSigmaCorrelationFires: each correlation raises on events made to
// meet it and stays silent on a near miss (too few, too slow, wrong
// order).
func TestSigmaCorrelationFires(t *testing.T) {
	byID := loadCorrelations(t)
	failedAt := func(uuid string, min float64, user string) Event {
		return failed(t, uuid, min, "203.0.113.9", user)
	}
	push := func(uuid string, min float64, result string) Event {
		return ev(t, uuid, min, fmt.Sprintf(`{"eventType":"user.authentication.auth_via_mfa","outcome":{"result":%q},"debugContext":{"debugData":{"factor":"OKTA_VERIFY_PUSH"}},"actor":{"alternateId":"ann@example.com"}}`, result))
	}
	mfa := func(uuid string, min float64, eventType string) Event {
		return ev(t, uuid, min, fmt.Sprintf(`{"eventType":%q,"actor":{"alternateId":"bob@example.com"}}`, eventType))
	}
	var five, fiveSlow, fourUsers, threeUsers []Event
	for i := range 5 {
		five = append(five, failedAt(fmt.Sprint("f", i), float64(i), "ann@example.com"))
		fiveSlow = append(fiveSlow, failedAt(fmt.Sprint("s", i), float64(i*3), "ann@example.com"))
	}
	for i := range 4 {
		fourUsers = append(fourUsers, failedAt(fmt.Sprint("u", i), float64(i*10), fmt.Sprintf("user%d@example.com", i)))
		threeUsers = append(threeUsers, failedAt(fmt.Sprint("v", i), float64(i*10), fmt.Sprintf("user%d@example.com", i%3)))
	}
	cases := []struct {
		rule      string
		hit, miss []Event
	}{
		{"sigma-0c3f7a52-3b8e-4d5f-8d0a-6a0f1e2b3c41", five, fiveSlow},
		{"sigma-9d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6", fourUsers, threeUsers},
		{"sigma-3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f",
			[]Event{push("p1", 0, "FAILURE"), push("p2", 2, "SUCCESS")},
			[]Event{push("q1", 0, "SUCCESS"), push("q2", 2, "FAILURE")}},
		{"sigma-6f7a8b9c-0d1e-4f2a-9b4c-5d6e7f8091a2",
			[]Event{mfa("m1", 0, "user.mfa.factor.activate"), mfa("m2", 600, "user.mfa.factor.reset_all")},
			[]Event{mfa("n1", 0, "user.mfa.factor.activate"), mfa("n2", 2000, "user.mfa.factor.reset_all")}},
	}
	for _, c := range cases {
		r := byID[c.rule]
		if r == nil {
			t.Fatalf("%s not loaded", c.rule)
		}
		got := run(NewEngine([]*Rule{r}), c.hit)
		if len(got) != 1 {
			t.Errorf("%s (%s): %d alerts on events made to meet it, want 1", r.ID, r.Title, len(got))
		}
		for _, a := range got {
			if a.Count != len(c.hit) {
				t.Errorf("%s: alert of %d events, want %d", r.ID, a.Count, len(c.hit))
			}
		}
		if got := run(NewEngine([]*Rule{r}), c.miss); len(got) != 0 {
			t.Errorf("%s (%s): %d alerts on a near miss", r.ID, r.Title, len(got))
		}
	}
}

// TestSigmaCorrelationRefused: a correlation idlog cannot run is refused
// at load with the reason.
func TestSigmaCorrelationRefused(t *testing.T) {
	_, bad, err := LoadDir("testdata/sigma-correlation/bad")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"below.yml":             "lt: idlog raises when a count reaches a bound",
		"unknown_rule.yml":      `no Sigma rule named "nosuchrule"`,
		"no_group.yml":          "group-by is required",
		"value_sum.yml":         `type "value_sum" is not supported`,
		"timespan.yml":          `timespan "10 minutes"`,
		"value_count_field.yml": "value_count needs a field",
	}
	got := map[string]string{}
	for _, b := range bad {
		name, _, _ := strings.Cut(filepath.Base(b.File), "#")
		got[name] = b.Err.Error()
	}
	for f, msg := range want {
		if !strings.Contains(got[f], msg) {
			t.Errorf("%s: refused with %q, want %q", f, got[f], msg)
		}
	}
	if len(got) != len(want) {
		t.Errorf("refused %v", got)
	}
	// Alone, a correlation cannot find its rules: it says where to load it.
	if _, err := ParseRule([]byte("title: x\nid: y\ncorrelation:\n  type: event_count\n"), "x.yml"); err == nil || !strings.Contains(err.Error(), "rules directory") {
		t.Errorf("a lone correlation: %v", err)
	}
}
