package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/flows"
)

// flowsOf reconstructs the simulated events in memory: what the commands
// must print.
func flowsOf(t *testing.T, evs []json.RawMessage) []*flows.Instance {
	t.Helper()
	var fe []flows.Event
	for _, raw := range evs {
		e, err := flows.FromRaw(raw)
		if err != nil {
			t.Fatal(err)
		}
		fe = append(fe, e)
	}
	return flows.Reconstruct(fe)
}

func instanceKeys(ins []*flows.Instance) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.Kind+" "+string(in.Status)+" "+in.StoppedAt+" "+strings.Join(in.UUIDs, ","))
	}
	slices.Sort(out)
	return out
}

func TestFlowsCommand(t *testing.T) {
	st, evs := simStore(t)
	all := flowsOf(t, evs)
	// A user with an abandoned flow, so the timeline has a missing step.
	var user string
	for _, in := range all {
		if in.Status == "abandoned" && in.Missing != "" && in.Actor == "" {
			user = in.User
			break
		}
	}
	if user == "" {
		t.Fatal("no abandoned flow in the simulated days")
	}
	var want []*flows.Instance
	for _, in := range all {
		for _, e := range in.Events {
			if e.User == user || e.Actor == user {
				want = append(want, in)
				break
			}
		}
	}
	window := []string{"--since", simEnd.AddDate(0, 0, -3).Format("2006-01-02T15:04:05Z"), "--until", simEnd.Format("2006-01-02T15:04:05Z")}
	url, token, sst := testServer(t)
	if r := idlog(t, nil, string(simulated(t, 2)), "import", "--store", sst, "-"); r.code != 0 {
		t.Fatalf("import: %s", r.stderr)
	}
	for _, where := range [][]string{{"--store", st}, {"--server", url, "--token", token}} {
		args := append(append([]string{"flows", "--user", user, "--output", "json"}, window...), where...)
		r := idlog(t, nil, "", args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", where, r.code, r.stderr)
		}
		var got []*flows.Instance
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		for dec.More() {
			var in flows.Instance
			if err := dec.Decode(&in); err != nil {
				t.Fatal(err)
			}
			got = append(got, &in)
		}
		if g, w := instanceKeys(got), instanceKeys(want); !slices.Equal(g, w) {
			t.Errorf("%v: flows --user %s\n got %v\nwant %v", where[0], user, g, w)
		}
		// The JSON has what the issue asks of each object.
		var first map[string]any
		json.Unmarshal([]byte(strings.SplitN(r.stdout, "\n", 2)[0]), &first)
		for _, k := range []string{"kind", "status", "stoppedAt", "reason", "uuids", "steps"} {
			if _, ok := first[k]; !ok {
				t.Errorf("json lacks %q: %v", k, first)
			}
		}
		args = append(append([]string{"flows", "--user", user}, window...), where...)
		r = idlog(t, nil, "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "MISSING") || !strings.Contains(r.stdout, "abandoned at ") {
			t.Errorf("%v: text timeline (exit %d) shows no missing step:\n%s%s", where[0], r.code, r.stdout, r.stderr)
		}
	}

	for _, bad := range [][]string{
		{"flows", "--store", st},
		{"flows", "--user", "x", "--output", "xml", "--store", st},
		{"flows", "--user", "x", "--since", "tomorrow-ish", "--store", st},
		{"funnel", "--flow", "nope", "--store", st},
		{"funnel", "--flow", "sspr", "--split", "shoe", "--store", st},
		{"funnel", "--flow", "sspr", "--filter", "eventType eq", "--store", st},
	} {
		if r := idlog(t, nil, "", bad...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", bad, r.code, r.stderr)
		}
	}
}

func TestFunnelCommand(t *testing.T) {
	st, evs := simStore(t)
	want, err := flows.BuildFunnel("signin", flowsOf(t, evs), "factor")
	if err != nil {
		t.Fatal(err)
	}
	window := []string{"--since", simEnd.AddDate(0, 0, -3).Format("2006-01-02T15:04:05Z"), "--until", simEnd.Format("2006-01-02T15:04:05Z")}
	r := idlog(t, nil, "", append([]string{"funnel", "--flow", "signin", "--split", "factor", "--output", "json", "--store", st}, window...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	wj, _ := json.Marshal(want)
	if got := bytes.TrimSpace([]byte(r.stdout)); !bytes.Equal(got, wj) || want.Instances == 0 {
		t.Errorf("funnel json\n got %s\nwant %s", got, wj)
	}
	// Through a server: the same numbers.
	url, token, sst := testServer(t)
	if r := idlog(t, nil, string(simulated(t, 2)), "import", "--store", sst, "-"); r.code != 0 {
		t.Fatalf("import: %s", r.stderr)
	}
	rs := idlog(t, nil, "", append([]string{"funnel", "--flow", "signin", "--split", "factor", "--output", "json", "--server", url, "--token", token}, window...)...)
	if rs.code != 0 || strings.TrimSpace(rs.stdout) != strings.TrimSpace(r.stdout) {
		t.Errorf("funnel through the server (exit %d) differs:\n%s%s", rs.code, rs.stdout, rs.stderr)
	}
	r = idlog(t, nil, "", append([]string{"funnel", "--flow", "signin", "--store", st}, window...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "session_start") || !strings.Contains(r.stdout, "instances,") {
		t.Errorf("text funnel (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Every step the seed names, the reset message first, in words.
	r = idlog(t, nil, "", append([]string{"funnel", "--flow", "sspr", "--store", st}, window...)...)
	for _, step := range []string{"reset_message", "reset message sent", "mfa_challenge", "mfa_verify", "reset_password", "update_password"} {
		if r.code != 0 || !strings.Contains(r.stdout, step) {
			t.Errorf("sspr funnel (exit %d) does not name %q:\n%s%s", r.code, step, r.stdout, r.stderr)
		}
	}
}

// TestTimelineAmbiguousAndLinked: the text timeline says when an instance
// is ambiguous, with every reading, and which instance it continues.
func TestTimelineAmbiguousAndLinked(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC).UnixMilli()
	ev := func(sec int64, sess, typ, res string) flows.Event {
		return flows.Event{UUID: fmt.Sprintf("e%d", sec), Published: t0 + sec*1000, Type: typ, Result: res,
			User: "u1", Actor: "u1", ActorName: "u1@example.com", UserLogin: "u1@example.com", Session: sess}
	}
	ins := flows.Reconstruct([]flows.Event{
		ev(0, "", "user.session.start", "FAILURE"),
		ev(1, "", "user.account.lock", "FAILURE"),
		ev(60, "", "system.email.account_unlock.sent_message", "SUCCESS"),
		ev(300, "", "system.email.account_unlock.sent_message", "SUCCESS"),
		ev(400, "", "user.account.unlock", "SUCCESS"),
	})
	if len(ins) != 2 {
		t.Fatalf("%d instances", len(ins))
	}
	var b strings.Builder
	writeTimeline(&b, ins[1])
	out := b.String()
	for _, want := range []string{
		"unlock  completed",
		"continues the signin failed at lock (event e0)",
		"AMBIGUOUS",
		"(shown) unlock completed (3 events)",
		"unlock abandoned at unlock_message (1 events), then unlock completed (2 events)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("timeline lacks %q:\n%s", want, out)
		}
	}
}
