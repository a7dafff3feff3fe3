package event

import (
	"slices"
	"strings"
	"testing"
)

func TestFlowDefsAgreeWithCatalog(t *testing.T) {
	if len(FlowDefs()) != len(Flows) {
		t.Fatalf("%d flow definitions for %d flow kinds", len(FlowDefs()), len(Flows))
	}
	for i, f := range FlowDefs() {
		if f.Kind != Flows[i] {
			t.Errorf("definition %d is %q, want %q", i, f.Kind, Flows[i])
		}
		inDef := map[string]bool{}
		for _, s := range f.Steps {
			for _, name := range s.OneOf {
				inDef[name] = true
				et, ok := LookupType(name)
				if !ok {
					t.Errorf("%s: %s is not in the catalog", f.Kind, name)
				} else if !et.HasFlow(f.Kind) {
					t.Errorf("%s: step type %s does not list the flow in the catalog", f.Kind, name)
				}
			}
		}
		// And the other way: a type that claims the flow appears in its steps.
		for _, et := range Types() {
			if et.HasFlow(f.Kind) && !inDef[et.Name] {
				t.Errorf("%s claims flow %s but no step of it names the type", et.Name, f.Kind)
			}
		}
	}
}

func TestFlowMatch(t *testing.T) {
	seq := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Fields(s)
	}
	const (
		start  = "user.session.start"
		policy = "policy.evaluate_sign_on"
		verify = "user.authentication.verify"
		push   = "system.push.send_factor_verify_push"
		viaMFA = "user.authentication.auth_via_mfa"
		sso    = "user.authentication.sso"
		deny   = "application.policy.sign_on.deny_access"
		email  = "system.email.password_reset.sent_message"
		reset  = "user.account.reset_password"
		update = "user.account.update_password"
	)
	j := func(s ...string) string { return strings.Join(s, " ") }
	cases := []struct {
		flow          string
		events        string
		full, partial bool
	}{
		{FlowSignin, j(start, policy, verify), true, true},
		{FlowSignin, j(start, policy, push, viaMFA, verify), true, true},
		{FlowSignin, j(start, policy, push, push, push, viaMFA, verify), true, true},
		{FlowSignin, j(start), false, true}, // wrong password: stops at the start
		{FlowSignin, j(start, policy, push, push), false, true},
		{FlowSignin, j(policy, start, verify), false, false},
		{FlowSignin, j(start, policy, verify, verify), false, false},
		{FlowSignin, "", false, false},
		{FlowAppSignin, j(sso), true, true},
		{FlowAppSignin, j(push, viaMFA, deny), true, true},
		{FlowAppSignin, j(sso, deny), false, false},
		{FlowMFA, j(push, viaMFA), true, true},
		{FlowMFA, j("system.sms.send_phone_verification_message", "user.mfa.factor.activate"), true, true},
		{FlowMFA, j(push, push), false, true},
		{FlowSSPR, j(email, reset, update), true, true},
		{FlowSSPR, j(email, "system.sms.send_factor_verify_message", viaMFA, reset, update), true, true},
		{FlowSSPR, j(email), false, true}, // abandoned after the email
		{FlowSSPR, j(reset, update), false, false},
		{FlowUnlock, j("system.voice.send_account_unlock_call", "user.account.unlock_token", "user.account.unlock"), true, true},
		{FlowLogout, j("user.session.end", "user.authentication.slo", "user.authentication.slo"), true, true},
		{FlowLogout, j("user.session.end"), true, true},
		{FlowFactorChange, j("user.mfa.factor.reset_all"), true, true},
		{FlowFactorChange, j("user.mfa.factor.reset_all", "user.mfa.factor.update"), false, false},
	}
	for _, c := range cases {
		f, ok := LookupFlow(c.flow)
		if !ok {
			t.Fatalf("no flow %s", c.flow)
		}
		if got := f.Match(seq(c.events)); got != c.full {
			t.Errorf("%s.Match(%s) = %v, want %v", c.flow, c.events, got, c.full)
		}
		if got := f.MatchPrefix(seq(c.events)); got != c.partial {
			t.Errorf("%s.MatchPrefix(%s) = %v, want %v", c.flow, c.events, got, c.partial)
		}
	}
	if _, ok := LookupFlow("nope"); ok {
		t.Error("LookupFlow(nope) succeeded")
	}
	if !slices.Equal(FlowDefs()[0].Steps[0].OneOf, []string{"user.session.start"}) {
		t.Error("signin must start with user.session.start")
	}
}
