// Package flowdef describes, as data, the sequences of System Log events that
// make up one user-visible identity flow: signing in to Okta, signing in to an
// app, answering an MFA challenge, resetting a password, unlocking an account,
// signing out and changing an authenticator.
//
// A Flow is an ordered list of Steps. A step is satisfied by any one of its
// event types (alternatives), may be skipped (Optional) and may occur several
// times in a row (Repeatable). Ends say which event outcomes finish the flow
// and with which Status. The simulator generates flows from these definitions
// and its tests check every generated flow against them with Check; flow
// reconstruction uses the same definitions to label what it finds.
//
// The orders follow Okta's published event sequences for each scenario; where
// Okta documents no order (within MFA, for example) the definition encodes the
// order the events are emitted in practice: challenge sent, answer verified,
// authenticator enrolled.
package flowdef

import (
	"fmt"
	"time"
)

// Status is how a flow instance ended.
type Status string

const (
	Completed Status = "completed" // the flow reached its goal
	Failed    Status = "failed"    // a step failed (wrong password, push denied, …)
	Denied    Status = "denied"    // a policy refused access
	Abandoned Status = "abandoned" // the events stop before any end was reached
)

// Flow kinds. These names are shared with the simulator's ground truth and the
// flow analysis; "other" is used for events that belong to no user flow
// (administration, lifecycle) and has no definition here.
const (
	SignIn       = "signin"
	AppSignIn    = "app_signin"
	MFA          = "mfa"
	SSPR         = "sspr"
	Unlock       = "unlock"
	Logout       = "logout"
	FactorChange = "factor_change"
	Other        = "other"
)

// Flow is one flow kind.
type Flow struct {
	Kind  string
	Title string
	Steps []Step
	// MaxGap is the longest pause between two consecutive events of one
	// instance: waiting for an email to be opened, a code to be typed, a
	// push to be answered. Past it the instance is over (abandoned, if it
	// reached no end) and a later event starts a new one. The simulator
	// never exceeds it.
	MaxGap time.Duration
}

// Step is one position in a flow.
type Step struct {
	Name string
	// EventTypes are alternatives: any one of them satisfies the step.
	EventTypes []string
	Optional   bool
	Repeatable bool
	// Ends are checked in order against an event of this step; the first
	// that matches decides the status the flow has if this event is its last.
	Ends []End
}

// End says that an event of a step finishes the flow with Status.
type End struct {
	EventType string // "" matches any of the step's event types
	Result    string // outcome.result; "" matches any result
	Status    Status
	// Then names the steps that may still follow this end (a failed password
	// attempt may still be followed by the account being locked). Without it
	// the event must be the flow's last.
	Then []string
}

// Event is what Check needs of a LogEvent.
type Event struct {
	Type   string // eventType
	Result string // outcome.result
}

// MFA event types, shared by every flow that may ask for a second factor.
var (
	mfaChallengeTypes = []string{
		"system.push.send_factor_verify_push",
		"system.email.send_factor_verify_message",
		"system.sms.send_factor_verify_message",
		"system.voice.send_mfa_challenge_call",
		"system.sms.send_phone_verification_message",
		"system.voice.send_phone_verification_call",
	}
	// Classic Engine logs a refused Okta Verify push as its own event.
	mfaVerifyTypes = []string{"user.authentication.auth_via_mfa", "user.mfa.okta_verify.deny_push"}
	mfaEnrollTypes = []string{"user.mfa.factor.activate"}
)

// mfaSteps are the optional MFA steps embedded in flows that may require a
// second factor. A send blocked by Okta is logged with DENY; a wrong code or a
// denied push is a FAILURE of auth_via_mfa, after which the user may try
// another code but not go back to a new challenge in the same flow.
func mfaSteps() []Step {
	return []Step{
		{Name: "mfa_challenge", EventTypes: mfaChallengeTypes, Optional: true, Repeatable: true,
			Ends: []End{{Result: "DENY", Status: Failed}}},
		{Name: "mfa_verify", EventTypes: mfaVerifyTypes, Optional: true, Repeatable: true,
			Ends: []End{
				{EventType: "user.mfa.okta_verify.deny_push", Status: Failed},
				{Result: "FAILURE", Status: Failed, Then: []string{"mfa_verify"}},
			}},
		{Name: "mfa_enroll", EventTypes: mfaEnrollTypes, Optional: true},
	}
}

func steps(parts ...[]Step) []Step {
	var out []Step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

var all = []Flow{
	{Kind: SignIn, Title: "Sign in to Okta", MaxGap: 10 * time.Minute, Steps: steps(
		[]Step{
			{Name: "session_start", EventTypes: []string{"user.session.start"},
				Ends: []End{{Result: "FAILURE", Status: Failed, Then: []string{"lock"}}}},
			// Only after a failed session start: the attempt that exceeded
			// the lock-out threshold.
			{Name: "lock", EventTypes: []string{"user.account.lock"}, Optional: true,
				Ends: []End{{Status: Failed}}},
			{Name: "policy", EventTypes: []string{"policy.evaluate_sign_on"},
				Ends: []End{{Result: "DENY", Status: Denied}}},
		},
		mfaSteps(),
		[]Step{
			{Name: "verify", EventTypes: []string{"user.authentication.verify"},
				Ends: []End{{Result: "SUCCESS", Status: Completed}, {Result: "FAILURE", Status: Failed}}},
		},
	)},
	{Kind: AppSignIn, Title: "Sign in to an app", MaxGap: 10 * time.Minute, Steps: steps(
		mfaSteps(),
		[]Step{
			{Name: "access", EventTypes: []string{"user.authentication.sso", "application.policy.sign_on.deny_access"},
				Ends: []End{
					{EventType: "application.policy.sign_on.deny_access", Status: Denied},
					{Result: "SUCCESS", Status: Completed},
					{Result: "FAILURE", Status: Failed},
				}},
		},
	)},
	// A second factor asked for inside an existing session (step-up), with
	// no sign-in or app access around it.
	{Kind: MFA, Title: "Multifactor verification", MaxGap: 10 * time.Minute, Steps: []Step{
		{Name: "mfa_challenge", EventTypes: mfaChallengeTypes, Optional: true, Repeatable: true,
			Ends: []End{{Result: "DENY", Status: Failed}}},
		// Optional: enrolling Okta Verify logs only the activation.
		{Name: "mfa_verify", EventTypes: mfaVerifyTypes, Optional: true, Repeatable: true,
			Ends: []End{
				{EventType: "user.mfa.okta_verify.deny_push", Status: Failed},
				{Result: "SUCCESS", Status: Completed, Then: []string{"mfa_enroll"}},
				{Result: "FAILURE", Status: Failed, Then: []string{"mfa_verify"}},
			}},
		{Name: "mfa_enroll", EventTypes: mfaEnrollTypes, Optional: true,
			Ends: []End{{Result: "SUCCESS", Status: Completed}}},
	}},
	{Kind: SSPR, Title: "Self-service password reset", MaxGap: 30 * time.Minute, Steps: steps(
		[]Step{
			{Name: "reset_start", EventTypes: []string{
				"system.email.password_reset.sent_message",
				"system.sms.send_password_reset_message",
				"system.voice.send_password_reset_call",
			}, Ends: []End{{Result: "DENY", Status: Failed}}},
		},
		mfaSteps()[:2],
		[]Step{
			{Name: "reset_password", EventTypes: []string{"user.account.reset_password"},
				Ends: []End{{Result: "FAILURE", Status: Failed}}},
			{Name: "update_password", EventTypes: []string{"user.account.update_password"}, Repeatable: true,
				Ends: []End{
					{Result: "SUCCESS", Status: Completed},
					{Result: "FAILURE", Status: Failed, Then: []string{"update_password"}},
				}},
		},
	)},
	{Kind: Unlock, Title: "Self-service unlock", MaxGap: 30 * time.Minute, Steps: steps(
		[]Step{
			{Name: "unlock_start", EventTypes: []string{
				"system.email.account_unlock.sent_message",
				"system.sms.send_account_unlock_message",
				"system.voice.send_account_unlock_call",
			}, Ends: []End{{Result: "DENY", Status: Failed}}},
		},
		mfaSteps()[:2],
		[]Step{
			{Name: "unlock_token", EventTypes: []string{"user.account.unlock_token"},
				Ends: []End{{Result: "FAILURE", Status: Failed}}},
			{Name: "unlock", EventTypes: []string{"user.account.unlock"},
				Ends: []End{{Result: "SUCCESS", Status: Completed}, {Result: "FAILURE", Status: Failed}}},
		},
	)},
	{Kind: Logout, Title: "Sign out", MaxGap: time.Minute, Steps: []Step{
		{Name: "session_end", EventTypes: []string{"user.session.end"},
			Ends: []End{{Result: "SUCCESS", Status: Completed, Then: []string{"slo"}}}},
		{Name: "slo", EventTypes: []string{"user.authentication.slo"}, Optional: true, Repeatable: true,
			Ends: []End{{Status: Completed, Then: []string{"slo"}}}},
	}},
	// A change to a user's authenticators, by the user (enrolling a new phone
	// first proves it with a one-time code) or by an admin (the user is then
	// the target, not the actor).
	{Kind: FactorChange, Title: "Authenticator change", MaxGap: 10 * time.Minute, Steps: []Step{
		{Name: "factor_verify", EventTypes: []string{
			"system.sms.send_phone_verification_message",
			"system.voice.send_phone_verification_call",
			"system.email.send_factor_verify_message",
		}, Optional: true, Repeatable: true},
		{Name: "change", EventTypes: []string{
			"user.mfa.factor.activate",
			"user.mfa.factor.deactivate",
			"user.mfa.factor.reset_all",
			"user.mfa.factor.suspend",
			"user.mfa.factor.unsuspend",
			"user.mfa.factor.update",
		}, Ends: []End{{Result: "SUCCESS", Status: Completed}, {Status: Failed}}},
	}},
}

// All returns every flow definition. The slice and its contents are shared:
// callers must not modify them.
func All() []Flow { return all }

// Lookup returns the definition of a flow kind.
func Lookup(kind string) (Flow, bool) {
	for _, f := range all {
		if f.Kind == kind {
			return f, true
		}
	}
	return Flow{}, false
}

// EventTypes returns every event type the flow's steps name, in step order
// without duplicates.
func (f Flow) EventTypes() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range f.Steps {
		for _, t := range s.EventTypes {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// Outcome is the verdict of Check.
type Outcome struct {
	Status Status
	// StoppedAt is the step of the last event, empty when Completed.
	StoppedAt string
	// Steps holds, for each event, the index of the step it satisfied.
	Steps []int
}

// CheckError says which event broke the flow's order.
type CheckError struct {
	Index int // position of the event in the sequence
	Event Event
	Msg   string
}

func (e *CheckError) Error() string {
	return fmt.Sprintf("event %d (%s %s): %s", e.Index, e.Event.Type, e.Event.Result, e.Msg)
}

// Check walks events through the flow's steps and says how the flow ended.
// It fails when an event fits no step at its position: an unknown type, a
// required step skipped, a step repeated that may not be, or an event after
// the flow has ended.
func (f Flow) Check(events []Event) (Outcome, error) {
	if len(events) == 0 {
		return Outcome{}, &CheckError{Index: 0, Msg: "empty flow"}
	}
	out := Outcome{Steps: make([]int, 0, len(events))}
	cur := -1         // step of the previous event
	var end *End      // the end reached by the previous event, if any
	var status Status // status if the sequence stops here
	for i, e := range events {
		start := cur + 1
		if cur >= 0 && f.Steps[cur].Repeatable {
			start = cur
		}
		j := -1
		for k := start; k < len(f.Steps); k++ {
			if contains(f.Steps[k].EventTypes, e.Type) {
				j = k
				break
			}
			if k > cur && !f.Steps[k].Optional {
				return out, &CheckError{Index: i, Event: e, Msg: fmt.Sprintf("required step %q of %s is missing", f.Steps[k].Name, f.Kind)}
			}
		}
		if j < 0 {
			return out, &CheckError{Index: i, Event: e, Msg: fmt.Sprintf("fits no later step of %s", f.Kind)}
		}
		if end != nil && !contains(end.Then, f.Steps[j].Name) {
			return out, &CheckError{Index: i, Event: e, Msg: fmt.Sprintf("follows the end of %s at step %q", f.Kind, f.Steps[cur].Name)}
		}
		cur = j
		out.Steps = append(out.Steps, j)
		end, status = nil, ""
		for k := range f.Steps[j].Ends {
			en := &f.Steps[j].Ends[k]
			if (en.EventType == "" || en.EventType == e.Type) && (en.Result == "" || en.Result == e.Result) {
				end, status = en, en.Status
				break
			}
		}
	}
	if end == nil {
		status = Abandoned
	}
	out.Status = status
	if status != Completed {
		out.StoppedAt = f.Steps[cur].Name
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
