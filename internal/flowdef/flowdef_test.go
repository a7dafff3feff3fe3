package flowdef

import (
	"slices"
	"strings"
	"testing"
)

func ev(spec string) []Event {
	var out []Event
	for _, f := range strings.Fields(spec) {
		typ, res, _ := strings.Cut(f, "=")
		out = append(out, Event{Type: typ, Result: res})
	}
	return out
}

func TestCheck(t *testing.T) {
	cases := []struct {
		kind, events string
		status       Status
		stoppedAt    string
		err          string // substring of the error, "" for none
	}{
		{SignIn, "user.session.start=SUCCESS policy.evaluate_sign_on=CHALLENGE system.push.send_factor_verify_push=SUCCESS user.authentication.auth_via_mfa=SUCCESS user.authentication.verify=SUCCESS", Completed, "", ""},
		{SignIn, "user.session.start=SUCCESS policy.evaluate_sign_on=ALLOW user.authentication.verify=SUCCESS", Completed, "", ""},
		{SignIn, "user.session.start=SUCCESS policy.evaluate_sign_on=CHALLENGE system.sms.send_phone_verification_message=SUCCESS user.authentication.auth_via_mfa=SUCCESS user.mfa.factor.activate=SUCCESS user.authentication.verify=SUCCESS", Completed, "", ""},
		{SignIn, "user.session.start=FAILURE", Failed, "session_start", ""},
		{SignIn, "user.session.start=FAILURE user.account.lock=FAILURE", Failed, "lock", ""},
		{SignIn, "user.session.start=FAILURE policy.evaluate_sign_on=ALLOW", "", "", "follows the end"},
		{SignIn, "user.session.start=SUCCESS policy.evaluate_sign_on=DENY", Denied, "policy", ""},
		{SignIn, "user.session.start=SUCCESS policy.evaluate_sign_on=CHALLENGE system.push.send_factor_verify_push=SUCCESS system.push.send_factor_verify_push=SUCCESS", Abandoned, "mfa_challenge", ""},
		{SignIn, "user.session.start=SUCCESS policy.evaluate_sign_on=CHALLENGE system.push.send_factor_verify_push=SUCCESS user.authentication.auth_via_mfa=FAILURE", Failed, "mfa_verify", ""},
		{SignIn, "user.session.start=SUCCESS policy.evaluate_sign_on=CHALLENGE user.authentication.auth_via_mfa=FAILURE system.push.send_factor_verify_push=SUCCESS", "", "", "required step \"verify\""},
		{SignIn, "policy.evaluate_sign_on=ALLOW user.authentication.verify=SUCCESS", "", "", "required step \"session_start\""},
		{SignIn, "user.session.start=SUCCESS user.authentication.verify=SUCCESS", "", "", "required step \"policy\""},
		{SignIn, "user.session.start=SUCCESS user.session.start=SUCCESS", "", "", "required step \"policy\""},
		{SignIn, "user.session.start=SUCCESS policy.evaluate_sign_on=CHALLENGE system.push.send_factor_verify_push=SUCCESS user.mfa.okta_verify.deny_push=FAILURE", Failed, "mfa_verify", ""},
		{MFA, "system.push.send_factor_verify_push=SUCCESS user.mfa.okta_verify.deny_push=FAILURE user.authentication.auth_via_mfa=SUCCESS", "", "", "follows the end"},
		{AppSignIn, "user.authentication.sso=SUCCESS", Completed, "", ""},
		{AppSignIn, "application.policy.sign_on.deny_access=DENY", Denied, "access", ""},
		{AppSignIn, "system.sms.send_factor_verify_message=SUCCESS user.authentication.auth_via_mfa=SUCCESS user.authentication.sso=SUCCESS", Completed, "", ""},
		{AppSignIn, "user.authentication.sso=SUCCESS user.authentication.sso=SUCCESS", "", "", "fits no later step"},
		{MFA, "system.push.send_factor_verify_push=SUCCESS user.authentication.auth_via_mfa=SUCCESS", Completed, "", ""},
		{MFA, "user.authentication.auth_via_mfa=FAILURE user.authentication.auth_via_mfa=SUCCESS", Completed, "", ""},
		{MFA, "system.push.send_factor_verify_push=SUCCESS", Abandoned, "mfa_challenge", ""},
		{MFA, "user.mfa.factor.activate=SUCCESS", Completed, "", ""},
		{MFA, "user.authentication.verify=SUCCESS", "", "", "fits no later step"},
		{SSPR, "system.sms.send_password_reset_message=SUCCESS user.account.reset_password=SUCCESS user.account.update_password=SUCCESS", Completed, "", ""},
		{SSPR, "system.email.password_reset.sent_message=SUCCESS", Abandoned, "reset_message", ""},
		{SSPR, "system.voice.send_password_reset_call=SUCCESS user.account.reset_password=SUCCESS", Abandoned, "reset_password", ""},
		{SSPR, "system.email.password_reset.sent_message=SUCCESS user.account.update_password=SUCCESS", "", "", "required step \"reset_password\""},
		{Unlock, "system.email.account_unlock.sent_message=SUCCESS user.account.unlock_token=SUCCESS user.account.unlock=SUCCESS", Completed, "", ""},
		{Unlock, "user.account.unlock_token=SUCCESS user.account.unlock=SUCCESS", Completed, "", ""},
		{Logout, "user.session.end=SUCCESS user.authentication.slo=SUCCESS user.authentication.slo=SUCCESS", Completed, "", ""},
		{Logout, "user.authentication.slo=SUCCESS", "", "", "required step \"session_end\""},
		{FactorChange, "user.mfa.factor.reset_all=SUCCESS", Completed, "", ""},
		{FactorChange, "system.sms.send_phone_verification_message=SUCCESS user.mfa.factor.activate=SUCCESS", Completed, "", ""},
		{FactorChange, "user.mfa.factor.activate=SUCCESS user.mfa.factor.update=SUCCESS", "", "", "fits no later step"},
		{FactorChange, "user.session.start=SUCCESS", "", "", "required step \"change\""},
	}
	cases = append(cases, variantCases...)
	for _, c := range cases {
		f, ok := Lookup(c.kind)
		if !ok {
			t.Fatalf("no flow %q", c.kind)
		}
		got, err := f.Check(ev(c.events))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s %q: error %v, want one containing %q", c.kind, c.events, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: %v", c.kind, c.events, err)
			continue
		}
		if got.Status != c.status || got.StoppedAt != c.stoppedAt {
			t.Errorf("%s %q: got %s at %q, want %s at %q", c.kind, c.events, got.Status, got.StoppedAt, c.status, c.stoppedAt)
		}
		if len(got.Steps) != len(ev(c.events)) {
			t.Errorf("%s: %d step indexes for %d events", c.kind, len(got.Steps), len(ev(c.events)))
		}
	}
}

// TestDefinitions checks the data itself: every kind is defined once, step
// names are unique within a flow, Then names existing later (or the same,
// repeatable) steps, and every flow has at least one way to complete.
func TestDefinitions(t *testing.T) {
	want := []string{SignIn, AppSignIn, MFA, SSPR, Unlock, Logout, FactorChange}
	if len(All()) != len(want) {
		t.Fatalf("%d flows, want %d", len(All()), len(want))
	}
	for _, k := range want {
		f, ok := Lookup(k)
		if !ok {
			t.Fatalf("kind %q not defined", k)
		}
		idx := map[string]int{}
		completes := false
		for i, s := range f.Steps {
			if _, dup := idx[s.Name]; dup {
				t.Errorf("%s: step %q twice", k, s.Name)
			}
			idx[s.Name] = i
			if len(s.EventTypes) == 0 {
				t.Errorf("%s: step %q has no event types", k, s.Name)
			}
		}
		for i, s := range f.Steps {
			for _, e := range s.Ends {
				if e.Status == Completed {
					completes = true
				}
				for _, n := range e.Then {
					j, ok := idx[n]
					if !ok || (j < i && !slices.Contains(s.Again, n)) || (j == i && !s.Repeatable) {
						t.Errorf("%s: step %q end names %q, which cannot follow it", k, s.Name, n)
					}
				}
			}
		}
		if f.MaxGap <= 0 {
			t.Errorf("%s: no MaxGap", k)
		}
		if !completes {
			t.Errorf("%s: no end completes the flow", k)
		}
	}
	if _, ok := Lookup(Other); ok {
		t.Errorf("%q must not have a definition", Other)
	}
}

// variantCases are the orders real orgs produce beyond the seed's plain
// sequences: each names the seed order it extends.
var variantCases = []struct {
	kind, events string
	status       Status
	stoppedAt    string
	err          string
}{
	// SSPR, message resent before it was used.
	{SSPR, "system.email.password_reset.sent_message=SUCCESS system.email.password_reset.sent_message=SUCCESS user.account.reset_password=SUCCESS user.account.update_password=SUCCESS", Completed, "", ""},
	{SSPR, "system.sms.send_password_reset_message=SUCCESS system.sms.send_password_reset_message=SUCCESS user.account.reset_password=SUCCESS", Abandoned, "reset_password", ""},
	// A blocked SMS send, then one that went through.
	{SSPR, "system.sms.send_password_reset_message=DENY", Failed, "reset_message", ""},
	{SSPR, "system.sms.send_password_reset_message=DENY system.sms.send_password_reset_message=SUCCESS user.account.reset_password=SUCCESS user.account.update_password=SUCCESS", Completed, "", ""},
	// Sign-in: enrolment confirmed by the activation alone.
	{SignIn, "user.session.start=SUCCESS policy.evaluate_sign_on=CHALLENGE system.sms.send_phone_verification_message=SUCCESS user.mfa.factor.activate=SUCCESS user.authentication.verify=SUCCESS", Completed, "", ""},
	// Sign-in: a factor verified, then a new one enrolled, then another.
	{SignIn, "user.session.start=SUCCESS policy.evaluate_sign_on=CHALLENGE system.push.send_factor_verify_push=SUCCESS user.authentication.auth_via_mfa=SUCCESS system.sms.send_phone_verification_message=SUCCESS user.authentication.auth_via_mfa=SUCCESS user.mfa.factor.activate=SUCCESS system.email.send_factor_verify_message=SUCCESS user.mfa.factor.activate=SUCCESS user.authentication.verify=SUCCESS", Completed, "", ""},
	{SignIn, "user.session.start=SUCCESS policy.evaluate_sign_on=CHALLENGE system.push.send_factor_verify_push=SUCCESS user.authentication.auth_via_mfa=SUCCESS system.sms.send_phone_verification_message=SUCCESS", Abandoned, "enroll_challenge", ""},
	// An unanswered challenge is not answered by the end of the sign-in.
	{SignIn, "user.session.start=SUCCESS policy.evaluate_sign_on=CHALLENGE system.push.send_factor_verify_push=SUCCESS user.authentication.verify=SUCCESS", "", "", "not answered"},
	// Identity Engine: two policy evaluations, and one after MFA.
	{SignIn, "user.session.start=SUCCESS policy.evaluate_sign_on=ALLOW policy.evaluate_sign_on=CHALLENGE system.push.send_factor_verify_push=SUCCESS user.authentication.auth_via_mfa=SUCCESS policy.evaluate_sign_on=ALLOW user.authentication.verify=SUCCESS", Completed, "", ""},
	{SignIn, "user.session.start=SUCCESS policy.evaluate_sign_on=CHALLENGE user.authentication.auth_via_mfa=SUCCESS policy.evaluate_sign_on=DENY", Denied, "reevaluate", ""},
	// Classic Engine: an allowed sign-in without MFA logs no verify.
	{SignIn, "user.session.start=SUCCESS policy.evaluate_sign_on=ALLOW", Completed, "", ""},
	{SignIn, "user.session.start=SUCCESS policy.evaluate_sign_on=CHALLENGE", Abandoned, "policy", ""},
	// A challenge is followed by MFA, not straight by the verify.
	{SignIn, "user.session.start=SUCCESS policy.evaluate_sign_on=CHALLENGE user.authentication.verify=SUCCESS", "", "", "follows the end"},
	// App access behind an authentication policy.
	{AppSignIn, "policy.evaluate_sign_on=CHALLENGE system.push.send_factor_verify_push=SUCCESS user.authentication.auth_via_mfa=SUCCESS user.authentication.sso=SUCCESS", Completed, "", ""},
	{AppSignIn, "policy.evaluate_sign_on=DENY", Denied, "app_policy", ""},
	// Unlock without a message (after proving an authenticator), or the
	// unlock alone; but an MFA prompt alone does not begin an unlock.
	{Unlock, "user.account.unlock=SUCCESS", Completed, "", ""},
	{Unlock, "system.email.account_unlock.sent_message=SUCCESS system.email.account_unlock.sent_message=SUCCESS user.account.unlock_token=SUCCESS user.account.unlock=SUCCESS", Completed, "", ""},
	{Unlock, "system.push.send_factor_verify_push=SUCCESS user.authentication.auth_via_mfa=SUCCESS user.account.unlock=SUCCESS", "", "", "does not begin"},
	// The lock-out logged apart from its failed sign-in begins the unlock.
	{Unlock, "user.account.lock=FAILURE system.email.account_unlock.sent_message=SUCCESS user.account.unlock_token=SUCCESS user.account.unlock=SUCCESS", Completed, "", ""},
	{Unlock, "user.account.lock=FAILURE", Abandoned, "locked", ""},
	// Step-up followed by an enrolment.
	{MFA, "system.push.send_factor_verify_push=SUCCESS user.authentication.auth_via_mfa=SUCCESS user.mfa.factor.activate=SUCCESS", Completed, "", ""},
	{MFA, "system.sms.send_phone_verification_message=SUCCESS user.mfa.factor.activate=SUCCESS system.voice.send_phone_verification_call=SUCCESS user.authentication.auth_via_mfa=SUCCESS user.mfa.factor.activate=SUCCESS", Completed, "", ""},
}

// TestContinuations: each continuation names a defined kind and one of its
// steps.
func TestContinuations(t *testing.T) {
	for _, f := range All() {
		for _, c := range f.Continues {
			g, ok := Lookup(c.Kind)
			if !ok {
				t.Errorf("%s continues unknown kind %q", f.Kind, c.Kind)
				continue
			}
			if c.StoppedAt != "" && g.index(c.StoppedAt) < 0 {
				t.Errorf("%s continues %s at unknown step %q", f.Kind, c.Kind, c.StoppedAt)
			}
			if c.Within <= 0 {
				t.Errorf("%s continues %s with no window", f.Kind, c.Kind)
			}
		}
		for _, s := range f.Starts {
			if f.index(s) < 0 {
				t.Errorf("%s starts at unknown step %q", f.Kind, s)
			}
		}
		for _, s := range f.Steps {
			for _, n := range append(append([]string(nil), s.AnsweredBy...), s.Again...) {
				if f.index(n) < 0 && n != "mfa_enroll" {
					t.Errorf("%s: step %q names unknown step %q", f.Kind, s.Name, n)
				}
			}
			if s.Label == "" {
				t.Errorf("%s: step %q has no label", f.Kind, s.Name)
			}
			if s.Restartable && !s.Repeatable {
				t.Errorf("%s: step %q restartable but not repeatable", f.Kind, s.Name)
			}
		}
	}
}
