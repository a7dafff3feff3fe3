package flows

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRealSequences reconstructs System Log events idlog did not write:
// fixtures of other Okta integrations and Okta's documentation examples
// (testdata/real/SOURCES.md says where each comes from and what its
// license allows). Each expectation is the reading an analyst would give
// the events; the comments say why.
func TestRealSequences(t *testing.T) {
	cases := []struct {
		file string
		want string
	}{
		// A Classic Engine sign-in allowed without MFA logs no verify: it
		// completed at the policy. The sign-out is in another session and
		// is delivered twice (one instance, one event). The import done by
		// Okta itself belongs to the user it names.
		{"elastic-okta-system-events.jsonl", `
signin completed  [3aeede38-4f67-11ea-abd3-1f5d113f2546 3af594f9-4f67-11ea-abd3-1f5d113f2546]
logout completed  [faf7398a-4f77-11ea-97fb-5925e98228bd]
other completed  [23A8F6AA-0E52-45F7-A2FB-FEF6E0B38FC7]`},
		// An older org's sign-ins are a lone session start followed by the
		// app's SSO; the admin's work in the same sessions is no flow; the
		// row without a session is a failed sign-in.
		{"okta-docs-event-correlation.jsonl", `
other completed  [f24790d0-d324-47f8-aac5-c27a31ab928d]
other completed  [ed317758-8776-4240-a540-277c44dcb408]
other completed  [421c1551-71b2-4ebe-a70d-b5f7d3698429]
other completed  [06a50bbe-44fd-40de-83e6-2e4cc2a17d16]
other completed  [3e240ff4-6af7-47f2-b107-a2ef661ffc01]
other completed  [572b05e9-b6be-4dfe-8bc3-01bb3a5a1af5]
other completed  [30f29bbf-3218-429b-827a-0a93809591db]
other completed  [5f98d062-05a9-4ede-89a0-8a2ce27efdd4]
other completed  [45f71ac2-e8b2-4c19-b4cc-d2560108c889]
other completed  [46b85d65-01c6-44d2-86d2-25704804b1c5]
signin completed  [b9ab9263-a4ae-4780-9981-377ec8f2da86]
app_signin completed  [ff325685-0220-484c-82cf-5f8dc596acbe]
other completed  [5526a4c4-7f68-4b2a-bab7-2d10ebaeeb1c]
signin completed  [232774ba-8feb-4b00-a732-e0ec99a24434]
signin completed  [d31d819a-1427-45b0-a8b4-8a8fb40c72f1]
other completed  [0cc6f4c8-9b91-4a70-b5c4-09d6ad159d32]
app_signin completed  [92606da8-7eeb-4ad7-8ffb-502dd0ec64cc]
signin failed session_start [566671be-ec0b-400d-ad2e-6fc73ed12fb1]`},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			evs := readReal(t, c.file)
			ins := Reconstruct(evs)
			if got, want := summary(ins), strings.TrimSpace(c.want); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
			// Delivered in any order, the answer is the same.
			rev := make([]Event, len(evs))
			for i := range evs {
				rev[len(evs)-1-i] = evs[i]
			}
			if got, want := summary(Reconstruct(rev)), strings.TrimSpace(c.want); got != want {
				t.Errorf("reversed input: got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestSystemPrincipalActsForTheUser: Okta logs some events of a user's
// flow with itself as the actor (a self-service reset's
// user.account.reset_password, an app import) and the user as target; the
// flow is the target's.
func TestSystemPrincipalActsForTheUser(t *testing.T) {
	evs := readReal(t, "elastic-okta-system-events.jsonl")
	e := evs[len(evs)-1]
	if e.User != "9uuw5t9im68f03w5b9a3x72i18gugbqn" || e.Actor != "spr294puarJOdUsWD1t7" || e.UserLogin != "domain.user@test.com" {
		t.Errorf("user %q (%q), actor %q", e.User, e.UserLogin, e.Actor)
	}
	raw := `{"uuid":"r1","published":"2026-11-20T09:00:00.000Z","eventType":"user.account.reset_password",
	  "actor":{"id":"0oa1system","type":"SystemPrincipal","alternateId":"system@okta.com","displayName":"Okta System"},
	  "outcome":{"result":"SUCCESS"},"authenticationContext":{"externalSessionId":"idxR1"},
	  "target":[{"id":"00u1user","type":"User","alternateId":"user@example.com","displayName":"User"}]}`
	r, err := FromRaw([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	msg := b(`0 idxR1 00u1user system.email.password_reset.sent_message`)[0]
	msg.Published = r.Published - 60000
	ins := Reconstruct([]Event{msg, r})
	if got := summary(ins); got != "sspr abandoned reset_password [e1 r1]" {
		t.Errorf("got %s", got)
	}
}

// readReal decodes a testdata/real file, keeping the first of events
// delivered twice (as ingest does).
func readReal(t *testing.T, name string) []Event {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "real", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Event
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		e, err := FromRaw(sc.Bytes())
		if err != nil {
			t.Fatalf("%s:%d: %v", name, n, err)
		}
		if !seen[e.UUID] {
			seen[e.UUID] = true
			out = append(out, e)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
