package detect

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)

func mustRule(t *testing.T, src string) *Rule {
	t.Helper()
	r, err := ParseRule([]byte(src), "test")
	if err != nil {
		t.Fatalf("rule: %v\n%s", err, src)
	}
	return r
}

// ev builds an event at t0+min minutes.
func ev(t *testing.T, uuid string, minutes float64, doc string) Event {
	return Event{UUID: uuid, Published: t0.Add(time.Duration(minutes * float64(time.Minute))), Doc: decode(t, doc)}
}

func failed(t *testing.T, uuid string, min float64, ip, user string) Event {
	return ev(t, uuid, min, fmt.Sprintf(`{"eventType":"user.session.start","outcome":{"result":"FAILURE"},"client":{"ipAddress":%q},"actor":{"alternateId":%q}}`, ip, user))
}

const sprayRule = `
id: spray
title: Spray
severity: high
query: eventType eq "user.session.start" and outcome.result eq "FAILURE"
group: [client.ipAddress]
threshold: {count: 5, within: 10m, distinct: actor.alternateId, distinct_count: 4}
dedup: 1h
`

// run feeds events and returns the final state of every alert.
func run(e *Engine, evs []Event) map[string]Alert {
	out := map[string]Alert{}
	for _, x := range evs {
		for _, a := range e.Process(x) {
			out[a.ID] = a
		}
	}
	return out
}

func TestThreshold(t *testing.T) {
	r := mustRule(t, sprayRule)
	var evs []Event
	for i := range 5 {
		evs = append(evs, failed(t, fmt.Sprint("u", i), float64(i), "1.1.1.1", fmt.Sprint("user", i%4)))
	}
	// Spread over more than the window: no alert.
	var slow []Event
	for i := range 5 {
		slow = append(slow, failed(t, fmt.Sprint("s", i), float64(i*3), "2.2.2.2", fmt.Sprint("user", i)))
	}
	// Enough events but one user only: no alert.
	var one []Event
	for i := range 6 {
		one = append(one, failed(t, fmt.Sprint("o", i), float64(i), "3.3.3.3", "same"))
	}
	all := append(append(evs, slow...), one...)
	got := run(NewEngine([]*Rule{r}), all)
	if len(got) != 1 {
		t.Fatalf("%d alerts, want 1: %v", len(got), got)
	}
	for _, a := range got {
		if a.Group != "client.ipAddress=1.1.1.1" || a.Count != 5 || len(a.UUIDs) != 5 || !a.First.Equal(t0) || !a.Last.Equal(t0.Add(4*time.Minute)) {
			t.Errorf("alert %+v", a)
		}
	}
	// Any arrival order gives the same alert.
	for seed := range uint64(20) {
		sh := slices.Clone(all)
		rand.New(rand.NewPCG(seed, 1)).Shuffle(len(sh), func(i, j int) { sh[i], sh[j] = sh[j], sh[i] })
		g := run(NewEngine([]*Rule{r}), sh)
		if len(g) != 1 {
			t.Fatalf("seed %d: %d alerts", seed, len(g))
		}
		for _, a := range g {
			if a.Count != 5 || a.Group != "client.ipAddress=1.1.1.1" {
				t.Errorf("seed %d: %+v", seed, a)
			}
		}
	}
}

func TestDedup(t *testing.T) {
	r := mustRule(t, `
id: tok
title: Token
query: eventType eq "system.api_token.create"
dedup: 30m
`)
	doc := `{"eventType":"system.api_token.create","actor":{"alternateId":"admin"}}`
	got := run(NewEngine([]*Rule{r}), []Event{ev(t, "a", 0, doc), ev(t, "b", 20, doc), ev(t, "b", 20, doc), ev(t, "c", 100, doc)})
	if len(got) != 2 {
		t.Fatalf("%d alerts, want 2 (one extended, one after the dedup window): %v", len(got), got)
	}
	counts := []int{}
	for _, a := range got {
		counts = append(counts, a.Count)
	}
	slices.Sort(counts)
	if !slices.Equal(counts, []int{1, 2}) {
		t.Errorf("counts %v, want [1 2]", counts)
	}
}

const bombRule = `
id: bomb
title: Push bombing victim approves
query: eventType eq "user.authentication.auth_via_mfa"
sequence:
  within: 10m
  steps:
    - query: outcome.result eq "FAILURE"
      count: 3
    - query: outcome.result eq "SUCCESS"
`

func mfa(t *testing.T, uuid string, min float64, user, result string) Event {
	return ev(t, uuid, min, fmt.Sprintf(`{"eventType":"user.authentication.auth_via_mfa","outcome":{"result":%q},"actor":{"alternateId":%q}}`, result, user))
}

func TestSequence(t *testing.T) {
	r := mustRule(t, bombRule)
	cases := []struct {
		name string
		evs  []Event
		want int
	}{
		{"in order", []Event{mfa(t, "1", 0, "a", "FAILURE"), mfa(t, "2", 1, "a", "FAILURE"), mfa(t, "3", 2, "a", "FAILURE"), mfa(t, "4", 3, "a", "SUCCESS")}, 1},
		{"arriving late", []Event{mfa(t, "4", 3, "a", "SUCCESS"), mfa(t, "2", 1, "a", "FAILURE"), mfa(t, "1", 0, "a", "FAILURE"), mfa(t, "3", 2, "a", "FAILURE")}, 1},
		{"success first", []Event{mfa(t, "4", 0, "a", "SUCCESS"), mfa(t, "1", 1, "a", "FAILURE"), mfa(t, "2", 2, "a", "FAILURE"), mfa(t, "3", 3, "a", "FAILURE")}, 0},
		{"success in between", []Event{mfa(t, "1", 0, "a", "FAILURE"), mfa(t, "2", 1, "a", "FAILURE"), mfa(t, "4", 2, "a", "SUCCESS"), mfa(t, "3", 3, "a", "FAILURE")}, 0},
		{"too few", []Event{mfa(t, "1", 0, "a", "FAILURE"), mfa(t, "2", 1, "a", "FAILURE"), mfa(t, "4", 3, "a", "SUCCESS")}, 0},
		{"two users", []Event{mfa(t, "1", 0, "a", "FAILURE"), mfa(t, "2", 1, "b", "FAILURE"), mfa(t, "3", 2, "a", "FAILURE"), mfa(t, "4", 3, "a", "SUCCESS")}, 0},
		{"too slow", []Event{mfa(t, "1", 0, "a", "FAILURE"), mfa(t, "2", 1, "a", "FAILURE"), mfa(t, "3", 2, "a", "FAILURE"), mfa(t, "4", 11, "a", "SUCCESS")}, 0},
	}
	for _, tc := range cases {
		got := run(NewEngine([]*Rule{r}), tc.evs)
		if len(got) != tc.want {
			t.Errorf("%s: %d alerts, want %d", tc.name, len(got), tc.want)
		}
		for _, a := range got {
			if a.Count != 4 || a.Group != "actor.alternateId=a" {
				t.Errorf("%s: %+v", tc.name, a)
			}
		}
	}
}

func TestSnapshotRestore(t *testing.T) {
	r := mustRule(t, bombRule)
	e := NewEngine([]*Rule{r})
	run(e, []Event{mfa(t, "1", 0, "a", "FAILURE"), mfa(t, "2", 1, "a", "FAILURE")})
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	e2 := NewEngine([]*Rule{r})
	if err := e2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	got := run(e2, []Event{mfa(t, "3", 2, "a", "FAILURE"), mfa(t, "4", 3, "a", "SUCCESS")})
	if len(got) != 1 {
		t.Fatalf("after restart: %d alerts, want 1 (the window survives)", len(got))
	}
	// Without the state the restarted engine sees only two events.
	if got := run(NewEngine([]*Rule{r}), []Event{mfa(t, "3", 2, "a", "FAILURE"), mfa(t, "4", 3, "a", "SUCCESS")}); len(got) != 0 {
		t.Fatalf("fresh engine: %d alerts", len(got))
	}
}

func TestRuleErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"title: x\nquery: uuid pr", "missing id"},
		{"id: x\nquery: uuid pr", "missing title"},
		{"id: x\ntitle: x\nseverity: huge\nquery: uuid pr", "severity"},
		{"id: x\ntitle: x\nquery: result eq \"FAILURE\"", "field is not valid: result at offset 0"},
		{"id: x\ntitle: x\nquery: uuid pr\nthreshold: {count: 0, within: 1h}", "count must be"},
		{"id: x\ntitle: x\nquery: uuid pr\nthreshold: {count: 3}", "within must be set"},
		{"id: x\ntitle: x\nquery: uuid pr\nthreshold: {count: 3, within: soon}", "duration"},
		{"id: x\ntitle: x\nsequence: {within: 1h, steps: [{query: uuid pr}]}", "at least two steps"},
		{"id: x\ntitle: x\nquery: uuid pr\ngroup: [nope.x]", "field is not valid: nope"},
		{"id: x\ntitle: x\nquery: uuid pr\nbogus: 1", "field bogus not found"},
	}
	for _, tc := range cases {
		_, err := ParseRule([]byte(tc.src), "t")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.src, err, tc.want)
		}
	}
}
