package simulate

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	logevent "github.com/idlog/idlog/internal/event"
	"github.com/idlog/idlog/internal/flowdef"
)

var testEnd = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// run generates a log and returns its events and truth records, copied.
func run(t testing.TB, cfg Config) (events, truth [][]byte) {
	t.Helper()
	err := New(cfg).RunTruth(
		func(raw []byte) error { events = append(events, slices.Clone(raw)); return nil },
		func(rec []byte) error { truth = append(truth, slices.Clone(rec)); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return events, truth
}

func digest(t *testing.T, cfg Config) [32]byte {
	h := sha256.New()
	if err := New(cfg).Run(func(raw []byte) error { h.Write(raw); h.Write([]byte{'\n'}); return nil }); err != nil {
		t.Fatal(err)
	}
	var d [32]byte
	h.Sum(d[:0])
	return d
}

func TestDeterministic(t *testing.T) {
	cfg := Config{Users: 40, Apps: 10, Days: 4, End: testEnd, Seed: 7, Attacks: true}
	a, b := digest(t, cfg), digest(t, cfg)
	if a != b {
		t.Fatal("same seed gave different output")
	}
	cfg.Seed = 8
	if digest(t, cfg) == a {
		t.Fatal("different seeds gave the same output")
	}
	cfg.Seed = 7
	cfg.Attacks = false
	if digest(t, cfg) == a {
		t.Fatal("attacks made no difference")
	}
}

// parsed is what the tests read of an event.
type parsed struct {
	UUID      string `json:"uuid"`
	Published string `json:"published"`
	EventType string `json:"eventType"`
	Severity  string `json:"severity"`
	Actor     struct {
		ID, Type, AlternateID string
	} `json:"actor"`
	Client struct {
		IPAddress *string `json:"ipAddress"`
		Zone      *string `json:"zone"`
		UserAgent *struct {
			RawUserAgent, OS, Browser string
		} `json:"userAgent"`
	} `json:"client"`
	Outcome struct {
		Result string  `json:"result"`
		Reason *string `json:"reason"`
	} `json:"outcome"`
	Target      *[]struct{ ID, Type string } `json:"target"`
	Transaction struct{ Type, ID string }    `json:"transaction"`
	Debug       struct {
		DebugData map[string]any `json:"debugData"`
	} `json:"debugContext"`
	Authn struct {
		ExternalSessionID *string `json:"externalSessionId"`
		CredentialType    *string `json:"credentialType"`
	} `json:"authenticationContext"`
	Security struct {
		ASNumber *int  `json:"asNumber"`
		IsProxy  *bool `json:"isProxy"`
	} `json:"securityContext"`
	Request struct {
		IPChain []struct{ IP string } `json:"ipChain"`
	} `json:"request"`
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	var p parsed
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("%v in %s", err, raw)
	}
	return p
}

// TestEveryEventRoundTrips passes every event of a small org's log through
// the event model.
func TestEveryEventRoundTrips(t *testing.T) {
	events, _ := run(t, Config{Users: 25, Apps: 24, Days: 3, End: testEnd.Add(48 * time.Hour), Seed: 12, Attacks: true})
	if len(events) < 500 {
		t.Fatalf("only %d events", len(events))
	}
	for i, raw := range events {
		roundTrip(t, i, raw)
	}
}

// TestEventsRoundTrip checks a bigger log against the catalog and Okta's
// shapes and quirks, and a sample of each event type against the model.
func TestEventsRoundTrip(t *testing.T) {
	events, _ := run(t, Config{Users: 80, Apps: 24, Days: 6, End: testEnd, Seed: 3, Attacks: true})
	if len(events) < 3000 {
		t.Fatalf("only %d events", len(events))
	}
	seen := map[string]bool{}
	prev := ""
	types := map[string]int{}
	start, end := testEnd.Add(-6*24*time.Hour).Format(time.RFC3339), testEnd.Format(time.RFC3339)
	tripped := map[string]int{}
	quirks := map[string]int{}
	for i, raw := range events {
		p := parse(t, raw)
		// The model's codec is reflective and slow; 60 events of each
		// type cover every shape the simulator writes.
		if tripped[p.EventType]++; tripped[p.EventType] <= 60 {
			roundTrip(t, i, raw)
		}
		if _, ok := logevent.LookupType(p.EventType); !ok {
			t.Errorf("event type %q is not in the catalog", p.EventType)
		}
		types[p.EventType]++
		if seen[p.UUID] {
			t.Fatalf("uuid %s twice", p.UUID)
		}
		seen[p.UUID] = true
		if p.Published < prev {
			t.Fatalf("event %d: published %s before %s", i, p.Published, prev)
		}
		prev = p.Published
		if p.Published < start || p.Published >= end {
			t.Fatalf("event %d: published %s outside [%s, %s)", i, p.Published, start, end)
		}
		if _, err := time.Parse("2006-01-02T15:04:05.000Z", p.Published); err != nil {
			t.Fatalf("published %q: %v", p.Published, err)
		}
		if p.Actor.Type == "User" && p.Actor.ID != "unknown" && (len(p.Actor.ID) != 20 || !strings.HasPrefix(p.Actor.ID, "00u")) {
			t.Errorf("user id %q is not Okta-shaped", p.Actor.ID)
		}
		for k, v := range p.Debug.DebugData {
			if _, ok := v.(string); !ok {
				t.Errorf("%s: debugData.%s is %T, Okta writes strings", p.EventType, k, v)
			}
		}
		if p.Transaction.Type == "WEB" {
			if p.Client.IPAddress == nil || len(p.Request.IPChain) == 0 || p.Request.IPChain[0].IP != *p.Client.IPAddress {
				t.Errorf("%s: ipChain does not start with the client address", p.EventType)
			}
			if p.Client.Zone == nil || p.Security.ASNumber == nil || p.Client.UserAgent == nil {
				t.Errorf("%s: web event without zone, AS number or user agent", p.EventType)
			}
		}
		if p.Target != nil && len(*p.Target) == 0 {
			t.Errorf("%s: empty target array, Okta writes null", p.EventType)
		}
		if p.EventType == "user.session.end" {
			if p.Target != nil || !bytes.Contains(raw, []byte(`"target":null`)) {
				t.Errorf("sign-out with targets: %s", raw)
			}
		}
		if p.Client.Zone != nil && *p.Client.Zone == "null" {
			quirks["zone"]++
		}
		if p.EventType == "user.session.start" {
			failed := p.Outcome.Result == "FAILURE"
			if failed != (p.Authn.ExternalSessionID == nil) {
				t.Errorf("session start %s with externalSessionId %v", p.Outcome.Result, p.Authn.ExternalSessionID)
			}
			if failed && (p.Outcome.Reason == nil || p.Severity != "WARN") {
				t.Errorf("failed session start without reason or WARN severity: %s", raw)
			}
			if _, ok := p.Debug.DebugData["behaviors"]; !ok {
				t.Errorf("session start without behaviors")
			}
		}
	}
	if quirks["zone"] == 0 {
		t.Errorf(`no client.zone "null" (the string) anywhere`)
	}
	// Every flow's events are present in a window this size.
	for _, want := range []string{"user.session.start", "policy.evaluate_sign_on", "user.authentication.verify",
		"user.authentication.auth_via_mfa", "system.push.send_factor_verify_push", "user.authentication.sso",
		"application.policy.sign_on.deny_access", "user.session.end", "user.account.lock",
		"user.account.unlock", "security.threat.detected", "user.mfa.factor.reset_all", "user.mfa.factor.activate"} {
		if types[want] == 0 {
			t.Errorf("no %s in %d events", want, len(events))
		}
	}
}

// roundTrip decodes raw with the event model, marshals it back and requires
// the same JSON value, with no member the model does not type.
func roundTrip(t *testing.T, i int, raw []byte) {
	t.Helper()
	e, err := logevent.Decode(raw)
	if err != nil {
		t.Fatalf("event %d: %v", i, err)
	}
	back, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("event %d: marshal: %v", i, err)
	}
	var v1, v2 any
	if err := json.Unmarshal(raw, &v1); err != nil {
		t.Fatalf("event %d is not JSON: %v", i, err)
	}
	if err := json.Unmarshal(back, &v2); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v1, v2) {
		t.Fatalf("event %d does not survive the model:\n%s\n%s", i, raw, back)
	}
	// Extra also remembers nulls; anything else is a member the model
	// does not know or a value of the wrong type.
	if k := nonNull(e.Extra); len(k) != 0 {
		t.Errorf("event %d has members the model does not type: %v", i, k)
	}
}

func nonNull(m map[string]json.RawMessage) []string {
	var out []string
	for k, v := range m {
		if string(v) != "null" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

type truthRec struct {
	Kind      string   `json:"kind"`
	Attack    string   `json:"attack"`
	Status    string   `json:"status"`
	StoppedAt string   `json:"stoppedAt"`
	Reason    string   `json:"reason"`
	User      string   `json:"user"`
	UUIDs     []string `json:"uuids"`
}

// TestFlowsFollowDefinitions walks every generated flow instance through its
// flowdef definition and checks that the ground truth describes every event
// exactly once, with the status and stopping step the definition gives.
func TestFlowsFollowDefinitions(t *testing.T) {
	events, truth := run(t, Config{Users: 150, Apps: 16, Days: 8, End: testEnd, Seed: 11, Attacks: true})
	byUUID := map[string]parsed{}
	for _, raw := range events {
		p := parse(t, raw)
		byUUID[p.UUID] = p
	}
	owner := map[string]int{}
	kinds := map[string]map[string]int{}
	attacks := map[string]int{}
	flows := 0
	for i, line := range truth {
		var r truthRec
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("truth %d: %v: %s", i, err, line)
		}
		if len(r.UUIDs) == 0 {
			t.Fatalf("truth %d has no events: %s", i, line)
		}
		if r.Attack != "" {
			attacks[r.Attack]++
			for _, u := range r.UUIDs {
				if _, ok := byUUID[u]; !ok {
					t.Errorf("attack %s names uuid %s, which was not emitted", r.Attack, u)
				}
			}
			continue
		}
		flows++
		if kinds[r.Kind] == nil {
			kinds[r.Kind] = map[string]int{}
		}
		kinds[r.Kind][r.Status]++
		evs := make([]flowdef.Event, len(r.UUIDs))
		prev := ""
		for j, u := range r.UUIDs {
			if k, dup := owner[u]; dup {
				t.Fatalf("uuid %s is in truth records %d and %d", u, k, i)
			}
			owner[u] = i
			p, ok := byUUID[u]
			if !ok {
				t.Fatalf("truth %d names uuid %s, which was not emitted", i, u)
			}
			if p.Published < prev {
				t.Errorf("truth %d: uuids not in published order", i)
			}
			if def, ok := flowdef.Lookup(r.Kind); ok && prev != "" {
				a, _ := time.Parse(time.RFC3339, prev)
				b, _ := time.Parse(time.RFC3339, p.Published)
				if b.Sub(a) > def.MaxGap {
					t.Errorf("truth %d: %s pause between events, %s allows %s", i, b.Sub(a), r.Kind, def.MaxGap)
				}
			}
			prev = p.Published
			evs[j] = flowdef.Event{Type: p.EventType, Result: p.Outcome.Result}
			if r.User != "" && p.Actor.ID != r.User && !hasTarget(p, r.User) {
				t.Errorf("truth %d (%s): event %s names user %s neither as actor nor target", i, r.Kind, p.EventType, r.User)
			}
		}
		if r.Kind == flowdef.Other {
			if len(evs) != 1 || r.Status != string(flowdef.Completed) {
				t.Errorf("truth %d: an %q instance is one completed event: %s", i, r.Kind, line)
			}
			continue
		}
		def, ok := flowdef.Lookup(r.Kind)
		if !ok {
			t.Fatalf("truth %d: unknown kind %q", i, r.Kind)
		}
		got, err := def.Check(evs)
		if err != nil {
			t.Fatalf("truth %d breaks its definition: %v\n%s", i, err, line)
		}
		if string(got.Status) != r.Status || got.StoppedAt != r.StoppedAt {
			t.Errorf("truth %d says %s at %q, the definition gives %s at %q: %v", i, r.Status, r.StoppedAt, got.Status, got.StoppedAt, evs)
		}
		if (r.Status == "completed") == (r.Reason != "" && r.Reason != whyWrongCode && r.Reason != whyPwdPolicy) {
			t.Errorf("truth %d: status %s with reason %q", i, r.Status, r.Reason)
		}
		if err := sessionRule(r, byUUID); err != "" {
			t.Errorf("truth %d: %s", i, err)
		}
	}
	for u := range byUUID {
		if _, ok := owner[u]; !ok {
			t.Fatalf("event %s (%s) belongs to no flow", u, byUUID[u].EventType)
		}
	}
	if flows < 2000 {
		t.Errorf("only %d flows", flows)
	}
	// Every kind, and every way each ends, shows up.
	for kind, statuses := range map[string][]string{
		flowdef.SignIn:       {"completed", "failed", "abandoned"}, // denied is rarer: TestSignInPlans
		flowdef.AppSignIn:    {"completed", "denied"},
		flowdef.MFA:          {"completed"},
		flowdef.SSPR:         {"completed"},
		flowdef.Unlock:       {"completed"},
		flowdef.Logout:       {"completed"},
		flowdef.FactorChange: {"completed"},
		flowdef.Other:        {"completed"},
	} {
		for _, s := range statuses {
			if kinds[kind][s] == 0 {
				t.Errorf("no %s %s flow among %d: %v", s, kind, flows, kinds)
			}
		}
	}
	for _, k := range AttackKinds() {
		if attacks[k] == 0 {
			t.Errorf("no %s incident", k)
		}
	}
}

func hasTarget(p parsed, id string) bool {
	if p.Target == nil {
		return false
	}
	for _, tg := range *p.Target {
		if tg.ID == id {
			return true
		}
	}
	return false
}

// sessionRule: after a successful session start, every event of a sign-in
// carries that session; app sign-ins and sign-outs carry the session they
// use.
func sessionRule(r truthRec, byUUID map[string]parsed) string {
	var sess *string
	for _, u := range r.UUIDs {
		p := byUUID[u]
		switch {
		case p.EventType == "user.session.start" && p.Outcome.Result == "SUCCESS":
			sess = p.Authn.ExternalSessionID
		case sess != nil && (p.Authn.ExternalSessionID == nil || *p.Authn.ExternalSessionID != *sess):
			return "an event of the flow left its session: " + p.EventType
		}
		if (r.Kind == flowdef.AppSignIn || r.Kind == flowdef.Logout) && p.Authn.ExternalSessionID == nil {
			return r.Kind + " event without a session"
		}
	}
	return ""
}

// TestAttacksLookLikeTheirKind checks a signature of each incident in the
// events it names.
func TestAttacksLookLikeTheirKind(t *testing.T) {
	events, truth := run(t, Config{Users: 80, Apps: 12, Days: 3, End: testEnd, Seed: 5, Attacks: true})
	byUUID := map[string]parsed{}
	for _, raw := range events {
		p := parse(t, raw)
		byUUID[p.UUID] = p
	}
	for _, line := range truth {
		var r truthRec
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		if r.Attack == "" {
			continue
		}
		ips, users, sessions := map[string]bool{}, map[string]bool{}, map[string]bool{}
		count := map[string]int{}
		for _, u := range r.UUIDs {
			p := byUUID[u]
			if p.Client.IPAddress != nil {
				ips[*p.Client.IPAddress] = true
			}
			if p.Actor.Type == "User" {
				users[p.Actor.ID] = true
			}
			if p.Authn.ExternalSessionID != nil {
				sessions[*p.Authn.ExternalSessionID] = true
			}
			count[p.EventType+"="+p.Outcome.Result]++
		}
		switch r.Attack {
		case AttackPasswordSpray:
			if len(ips) != 1 || len(users) < 10 || count["user.session.start=FAILURE"] < 10 || count["security.threat.detected=ALLOW"] != 1 {
				t.Errorf("spray: %d ips, %d users, %v", len(ips), len(users), count)
			}
		case AttackPushBombing:
			if len(users) != 1 || count["system.push.send_factor_verify_push=SUCCESS"] < 5 {
				t.Errorf("push bombing: %d users, %v", len(users), count)
			}
		case AttackBruteForce:
			if len(users) != 1 || count["user.account.lock=FAILURE"] > 1 || count["user.session.start=FAILURE"] < 5 {
				t.Errorf("brute force: %d users, %v", len(users), count)
			}
		case AttackSessionReplay:
			// The replayed session was opened elsewhere: no sign-in of
			// its own, and another address than the session start.
			if count["user.session.start=SUCCESS"] != 0 || len(sessions) != 1 || count["user.authentication.sso=SUCCESS"] < 2 {
				t.Errorf("replay: %v, %d sessions", count, len(sessions))
			}
			var sess string
			for s := range sessions {
				sess = s
			}
			for _, p := range byUUID {
				if p.EventType == "user.session.start" && p.Authn.ExternalSessionID != nil && *p.Authn.ExternalSessionID == sess && ips[*p.Client.IPAddress] {
					t.Errorf("replay comes from the address that opened the session")
				}
			}
		case AttackImpossible:
			if count["user.session.start=SUCCESS"] != 1 {
				t.Errorf("impossible travel: %v", count)
			}
		case AttackAdminMFAReset:
			if count["user.mfa.factor.reset_all=SUCCESS"] != 1 || count["user.mfa.factor.activate=SUCCESS"] != 1 {
				t.Errorf("admin reset: %v", count)
			}
		}
	}
}

// TestCatalogFlows keeps flowdef and the event catalog's flow tags in step:
// every event type a flow's steps name is tagged with that flow. Known gaps
// (reported to the catalog's owner) are listed so new ones fail.
func TestCatalogFlows(t *testing.T) {
	known := map[string]bool{
		"signin user.account.lock":                                 true,
		"factor_change system.sms.send_phone_verification_message": true,
		"factor_change system.voice.send_phone_verification_call":  true,
		"factor_change system.email.send_factor_verify_message":    true,
		"sspr user.mfa.okta_verify.deny_push":                      true,
		"unlock user.mfa.okta_verify.deny_push":                    true,
	}
	for _, f := range flowdef.All() {
		for _, name := range f.EventTypes() {
			et, ok := logevent.LookupType(name)
			if !ok {
				t.Errorf("%s: %s is not in the catalog", f.Kind, name)
				continue
			}
			if !et.HasFlow(f.Kind) && !known[f.Kind+" "+name] {
				t.Errorf("%s names %s, which the catalog tags %v", f.Kind, name, et.Flows)
			}
		}
	}
	for _, name := range EventTypes() {
		if _, ok := logevent.LookupType(name); !ok {
			t.Errorf("simulator emits %s, which is not in the catalog", name)
		}
	}
}

// TestLocalWorkingHours: people sign in during their own working day, so in
// each city's local time nearly all sign-ins fall between 06:00 and 23:00,
// whatever the UTC hour.
func TestLocalWorkingHours(t *testing.T) {
	offset := map[string]int{}
	for _, c := range cities {
		offset[c.name] = c.offset
	}
	var inHours, total int
	utcHours := map[int]bool{}
	err := New(Config{Users: 120, Days: 5, End: testEnd, Seed: 9}).Run(func(raw []byte) error {
		var e struct {
			Published string
			EventType string
			Client    struct {
				GeographicalContext *struct{ City string }
			}
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			return err
		}
		if e.EventType != "user.session.start" || e.Client.GeographicalContext == nil {
			return nil
		}
		ts, err := time.Parse(time.RFC3339, e.Published)
		if err != nil {
			return err
		}
		off, ok := offset[e.Client.GeographicalContext.City]
		if !ok {
			t.Errorf("city %q is not in the table", e.Client.GeographicalContext.City)
		}
		local := ts.Add(time.Duration(off) * time.Minute).Hour()
		utcHours[ts.Hour()] = true
		total++
		if local >= 6 && local < 23 {
			inHours++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total < 300 || pct(inHours, total) < 95 {
		t.Errorf("%d of %d sign-ins in local working hours", inHours, total)
	}
	// Offices on several continents: sign-ins in most UTC hours.
	if len(utcHours) < 18 {
		t.Errorf("sign-ins in only %d UTC hours", len(utcHours))
	}
}

func TestNDJSONIsRunWithNewlines(t *testing.T) {
	cfg := Config{Users: 20, Days: 2, End: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Seed: 3}
	var want []byte
	if err := New(cfg).Run(func(raw []byte) error { want = append(append(want, raw...), '\n'); return nil }); err != nil {
		t.Fatal(err)
	}
	got, err := NDJSON(cfg)
	if err != nil || string(got) != string(want) || len(got) == 0 {
		t.Fatalf("NDJSON differs from Run (%d vs %d bytes): %v", len(got), len(want), err)
	}
}
