package flows

import (
	"fmt"
	"strings"
	"testing"

	"github.com/idlog/idlog/internal/flowdef"
)

// TestVariants covers the orders real orgs add to the seed's sequences
// (docs/flows.md lists them with the same examples). Each case says which
// seed order it extends.
func TestVariants(t *testing.T) {
	const (
		resetMsg   = "system.email.password_reset.sent_message"
		resetSMS   = "system.sms.send_password_reset_message"
		unlockMsg  = "system.email.account_unlock.sent_message"
		phoneCheck = "system.sms.send_phone_verification_message"
	)
	cases := []struct {
		name, events, want string
	}{
		// SSPR: 1 message, 2 reset_password, 3 update_password.
		{"reset message sent twice in one recovery session", `
0 r1 u1 ` + resetMsg + `
45 r1 u1 ` + resetMsg + `
200 r1 u1 user.account.reset_password
260 r1 u1 user.account.update_password`,
			"sspr completed  [e1 e2 e3 e4]"},
		{"reset message sent twice, abandoned after the reset", `
0 r1 u1 ` + resetMsg + `
45 r1 u1 ` + resetMsg + `
200 r1 u1 user.account.reset_password`,
			"sspr abandoned reset_password [e1 e2 e3]"},
		{"reset SMS blocked by Okta, then sent", `
0 r1 u1 ` + resetSMS + `=DENY
40 r1 u1 ` + resetSMS + `
90 r1 u1 user.account.reset_password
120 r1 u1 user.account.update_password`,
			"sspr completed  [e1 e2 e3 e4]"},
		// Sign in: 1 session start, 2 policy, 3 MFA (verify, then enrol), 4 verify.
		{"factor enrolled inside the sign-in, the activation confirming the code", `
0 s1 u1 ` + start + `
0.1 s1 u1 ` + policy + `=CHALLENGE
1 s1 u1 ` + phoneCheck + `
40 s1 u1 ` + enroll + `
41 s1 u1 ` + verify,
			"signin completed  [e1 e2 e3 e4 e5]"},
		{"a factor verified, then two more enrolled, inside the sign-in", `
0 s1 u1 ` + start + `
0.1 s1 u1 ` + policy + `=CHALLENGE
0.2 s1 u1 ` + push + `
5 s1 u1 ` + viaMFA + `
7 s1 u1 ` + phoneCheck + `
40 s1 u1 ` + viaMFA + `
41 s1 u1 ` + enroll + `
60 s1 u1 ` + enroll + `
61 s1 u1 ` + verify,
			"signin completed  [e1 e2 e3 e4 e5 e6 e7 e8 e9]"},
		{"push re-sent and a code re-entered", `
0 s1 u1 ` + start + `
0.1 s1 u1 ` + policy + `=CHALLENGE
0.2 s1 u1 ` + push + `
40 s1 u1 ` + push + `
50 s1 u1 ` + viaMFA + `=FAILURE
60 s1 u1 ` + viaMFA + `
61 s1 u1 ` + verify,
			"signin completed  [e1 e2 e3 e4 e5 e6 e7]"},
		{"Identity Engine: two policy evaluations and one after MFA", `
0 s1 u1 ` + start + `
0.1 s1 u1 ` + policy + `=ALLOW
0.2 s1 u1 ` + policy + `=CHALLENGE
0.3 s1 u1 ` + push + `
6 s1 u1 ` + viaMFA + `
6.1 s1 u1 ` + policy + `=ALLOW
6.2 s1 u1 ` + verify,
			"signin completed  [e1 e2 e3 e4 e5 e6 e7]"},
		{"Classic Engine: allowed without MFA, no verify logged", `
0 102a u1 ` + start + `
0.05 102a u1 ` + policy + `=ALLOW
30 102a u1 ` + sso,
			"signin completed  [e1 e2]\napp_signin completed  [e3]"},
		// App sign-in: 1 MFA (optional), 2 sso.
		{"app behind an authentication policy with step-up", `
0 s1 u1 ` + policy + `=CHALLENGE
0.1 s1 u1 ` + push + `
5 s1 u1 ` + viaMFA + `
5.2 s1 u1 ` + sso,
			"app_signin completed  [e1 e2 e3 e4]"},
		// Unlock: 1 message, 2 unlock_token, 3 unlock.
		{"unlock without a message, and an unlock alone", `
0 x1 u1 user.account.unlock_token
3 x1 u1 user.account.unlock
7200 - u2 user.account.unlock`,
			"unlock completed  [e1 e2]\nunlock completed  [e3]"},
		{"lock logged apart from its failed sign-in (another session), then the unlock", `
0 - u1 ` + start + `=FAILURE reason=INVALID_CREDENTIALS
0.1 idx1 u1 user.account.lock=FAILURE reason=LOCKED_OUT
60 idx1 u1 ` + unlockMsg + `
120 idx1 u1 user.account.unlock_token
121 idx1 u1 user.account.unlock`,
			"signin failed session_start [e1]\nunlock completed  [e2 e3 e4 e5]"},
		{"a lock nobody undid", `
0 idx1 u1 user.account.lock=FAILURE reason=LOCKED_OUT`,
			"unlock abandoned locked [e1]"},
		// Late and out of order: the policy stamped before the session start,
		// the push after its answer.
		{"events logged a moment out of order", `
0 s1 u1 ` + policy + `=CHALLENGE
0.02 s1 u1 ` + start + `
6 s1 u1 ` + viaMFA + `
6.5 s1 u1 ` + push + `
7 s1 u1 ` + verify,
			"signin completed  [e2 e1 e4 e3 e5]"},
		// Two devices, no session ids: a reset asked for on the laptop and
		// on the phone, finished on the phone.
		{"two resets of one user on two devices, interleaved", `
0 - u1 ` + resetMsg + ` ip=10.0.0.1
20 - u1 ` + resetMsg + ` ip=172.16.0.9
60 - u1 user.account.reset_password ip=172.16.0.9
61 - u1 user.account.update_password ip=172.16.0.9`,
			"sspr abandoned reset_message [e1]\nsspr completed  [e2 e3 e4]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := summary(Reconstruct(b(c.events)))
			if got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

// TestAmbiguousRestart: a reset message sent twice with nothing to tie
// the two (no session id, one device) is one reset asked for again or an
// abandoned reset and a new one. The instance says so and gives both.
func TestAmbiguousRestart(t *testing.T) {
	ins := Reconstruct(b(`
0 - u1 system.email.password_reset.sent_message
300 - u1 system.email.password_reset.sent_message
400 - u1 user.account.reset_password
460 - u1 user.account.update_password`))
	if len(ins) != 1 {
		t.Fatalf("%d instances:\n%s", len(ins), summary(ins))
	}
	in := ins[0]
	if !in.Ambiguous || len(in.Readings) != 2 {
		t.Fatalf("ambiguous %v, %d readings", in.Ambiguous, len(in.Readings))
	}
	var got []string
	for _, rd := range in.Readings {
		var parts []string
		for _, p := range rd {
			parts = append(parts, p.Kind+" "+string(p.Status)+" "+p.StoppedAt+" "+strings.Join(p.UUIDs, ","))
		}
		got = append(got, strings.Join(parts, " | "))
	}
	want := []string{
		"sspr completed  e1,e2,e3,e4",
		"sspr abandoned reset_message e1 | sspr completed  e2,e3,e4",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("readings\n got %s\nwant %s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// With a session id the resend is certain.
	ins = Reconstruct(b(`
0 r1 u1 system.email.password_reset.sent_message
300 r1 u1 system.email.password_reset.sent_message`))
	if len(ins) != 1 || ins[0].Ambiguous {
		t.Errorf("with a session: %s", summary(ins))
	}
}

// TestAmbiguousKind: a challenge left unanswered fits an app access and a
// step-up equally; both readings are listed, the preferred one first.
func TestAmbiguousKind(t *testing.T) {
	ins := Reconstruct(b(`0 s1 u1 ` + push))
	if len(ins) != 1 || !ins[0].Ambiguous {
		t.Fatalf("%s", summary(ins))
	}
	var kinds []string
	for _, rd := range ins[0].Readings {
		kinds = append(kinds, rd[0].Kind+"/"+string(rd[0].Status))
	}
	if got, want := strings.Join(kinds, " "), "app_signin/abandoned mfa/abandoned"; got != want {
		t.Errorf("readings %s, want %s", got, want)
	}
	// A sign-in fits one flow only.
	ins = Reconstruct(b(`
0 s1 u1 ` + start + `
0.1 s1 u1 ` + policy + `=ALLOW
1 s1 u1 ` + verify))
	if len(ins) != 1 || ins[0].Ambiguous || ins[0].Readings != nil {
		t.Errorf("plain sign-in: %s", summary(ins))
	}
}

// TestLockoutUnlockSignIn: the sign-in that locked the account, the
// self-service unlock and the sign-in after it are three instances linked
// in order; an attempt while locked sits between them unlinked.
func TestLockoutUnlockSignIn(t *testing.T) {
	ins := Reconstruct(b(`
0 - u1 ` + start + `=FAILURE reason=INVALID_CREDENTIALS
0.1 - u1 user.account.lock=FAILURE reason=LOCKED_OUT
30 - u1 ` + start + `=FAILURE reason=LOCKED_OUT
90 x1 u1 system.sms.send_account_unlock_message
130 x1 u1 user.account.unlock_token
131 x1 u1 user.account.unlock
200 s1 u1 ` + start + `
200.1 s1 u1 ` + policy + `=ALLOW
201 s1 u1 ` + verify))
	if got, want := summary(ins), "signin failed lock [e1 e2]\nsignin failed session_start [e3]\nunlock completed  [e4 e5 e6]\nsignin completed  [e7 e8 e9]"; got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	lock, locked, unlock, after := ins[0], ins[1], ins[2], ins[3]
	if unlock.Continues == nil || unlock.Continues.UUID != "e1" || lock.ContinuedBy == nil || lock.ContinuedBy.UUID != "e4" {
		t.Errorf("unlock continues %+v; lock continued by %+v", unlock.Continues, lock.ContinuedBy)
	}
	if after.Continues == nil || after.Continues.UUID != "e4" || after.Continues.Kind != flowdef.Unlock || unlock.ContinuedBy == nil {
		t.Errorf("sign-in continues %+v; unlock continued by %+v", after.Continues, unlock.ContinuedBy)
	}
	if locked.Continues != nil || locked.ContinuedBy != nil {
		t.Errorf("the attempt while locked is linked: %+v %+v", locked.Continues, locked.ContinuedBy)
	}
}

// TestStepEventsWhenTheFlowComesBack: a step's events are listed right
// when the flow came back to it (a second enrolment) and when it repeats.
func TestStepEventsWhenTheFlowComesBack(t *testing.T) {
	ins := Reconstruct(b(`
0 s1 u1 ` + start + `
0.1 s1 u1 ` + policy + `=CHALLENGE
1 s1 u1 system.sms.send_phone_verification_message
2 s1 u1 system.sms.send_phone_verification_message
30 s1 u1 ` + enroll + `
40 s1 u1 system.email.send_factor_verify_message
60 s1 u1 ` + viaMFA + `
61 s1 u1 ` + enroll + `
62 s1 u1 ` + enroll + `
63 s1 u1 ` + verify))
	if len(ins) != 1 {
		t.Fatalf("%s", summary(ins))
	}
	got := ""
	for _, st := range ins[0].Steps {
		if len(st.Events) > 0 {
			got += fmt.Sprintf("%s%v ", st.Name, st.Events)
		}
	}
	if want := "session_start[0] policy[1] mfa_challenge[2 3] enroll_challenge[5] enroll_verify[6] mfa_enroll[4 7 8] verify[9] "; got != want {
		t.Errorf("steps\n got %s\nwant %s", got, want)
	}
}
