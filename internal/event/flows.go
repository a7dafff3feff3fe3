package event

// FlowStep is one position in a flow: one event of any of the listed types.
type FlowStep struct {
	OneOf    []string `json:"oneOf"`
	Optional bool     `json:"optional,omitempty"` // the step may be absent
	Repeat   bool     `json:"repeat,omitempty"`   // the step may occur several times in a row
}

// FlowDef is the order of events of one flow kind, as the seed document
// describes it for the complete (successful) path. A flow that fails stops
// part way: MatchPrefix accepts those.
type FlowDef struct {
	Kind  string     `json:"kind"`
	Title string     `json:"title"`
	Steps []FlowStep `json:"steps"`
}

// The factor events that can appear wherever a policy asks for MFA.
var mfaEvents = []string{
	"system.push.send_factor_verify_push",
	"system.email.send_factor_verify_message",
	"system.sms.send_factor_verify_message",
	"system.sms.send_phone_verification_message",
	"system.voice.send_mfa_challenge_call",
	"system.voice.send_phone_verification_call",
	"user.authentication.auth_via_mfa",
	"user.mfa.factor.activate",
	"user.mfa.okta_verify.deny_push",
}

func step(types ...string) FlowStep { return FlowStep{OneOf: types} }

var optionalMFA = FlowStep{OneOf: mfaEvents, Optional: true, Repeat: true}

// Recovery verifies a factor but never enrols one (the seed's password reset
// and unlock queries list the sends and auth_via_mfa only).
var recoveryMFA = FlowStep{OneOf: mfaEvents[:7], Optional: true, Repeat: true}

var flowDefs = []FlowDef{
	{FlowSignin, "Sign in to Okta", []FlowStep{
		step("user.session.start"),
		step("policy.evaluate_sign_on"),
		optionalMFA,
		step("user.authentication.verify"),
	}},
	{FlowAppSignin, "Sign in to an app", []FlowStep{
		optionalMFA,
		step("user.authentication.sso", "application.policy.sign_on.deny_access"),
	}},
	{FlowMFA, "Multifactor challenge or enrolment", []FlowStep{
		{OneOf: mfaEvents[:6], Optional: true, Repeat: true},
		{OneOf: mfaEvents[6:], Repeat: true},
	}},
	{FlowSSPR, "Self-service password reset", []FlowStep{
		step("system.email.password_reset.sent_message", "system.sms.send_password_reset_message", "system.voice.send_password_reset_call"),
		recoveryMFA,
		step("user.account.reset_password"),
		step("user.account.update_password"),
	}},
	{FlowUnlock, "Self-service unlock", []FlowStep{
		step("system.email.account_unlock.sent_message", "system.sms.send_account_unlock_message", "system.voice.send_account_unlock_call"),
		recoveryMFA,
		step("user.account.unlock_token"),
		step("user.account.unlock"),
	}},
	{FlowLogout, "Sign out", []FlowStep{
		step("user.session.end"),
		{OneOf: []string{"user.authentication.slo"}, Optional: true, Repeat: true},
	}},
	{FlowFactorChange, "Authenticator change", []FlowStep{
		step("user.mfa.factor.activate", "user.mfa.factor.deactivate", "user.mfa.factor.reset_all",
			"user.mfa.factor.suspend", "user.mfa.factor.unsuspend", "user.mfa.factor.update"),
	}},
}

// FlowDefs returns the definition of every flow kind, in the order of Flows.
func FlowDefs() []FlowDef { return append([]FlowDef(nil), flowDefs...) }

// LookupFlow finds the definition of a flow kind.
func LookupFlow(kind string) (FlowDef, bool) {
	for _, f := range flowDefs {
		if f.Kind == kind {
			return f, true
		}
	}
	return FlowDef{}, false
}

// Match reports whether the event types, in order, are one complete run of
// the flow.
func (f FlowDef) Match(types []string) bool { return match(f.Steps, types, false) }

// MatchPrefix reports whether the event types could be the start of a run of
// the flow: a flow that failed or was abandoned part way. An empty sequence
// is not a prefix.
func (f FlowDef) MatchPrefix(types []string) bool {
	return len(types) > 0 && match(f.Steps, types, true)
}

func match(steps []FlowStep, seq []string, prefix bool) bool {
	if len(seq) == 0 {
		if prefix {
			return true
		}
		for _, s := range steps {
			if !s.Optional {
				return false
			}
		}
		return true
	}
	if len(steps) == 0 {
		return false
	}
	s := steps[0]
	if s.Optional && match(steps[1:], seq, prefix) {
		return true
	}
	if !contains(s.OneOf, seq[0]) {
		return false
	}
	if s.Repeat {
		// Stay on this step (now satisfied, so optional) or move on.
		again := s
		again.Optional = true
		if match(append([]FlowStep{again}, steps[1:]...), seq[1:], prefix) {
			return true
		}
	}
	return match(steps[1:], seq[1:], prefix)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
