// Package flowdef describes, as data, the sequences of System Log events that
// make up one user-visible identity flow: signing in to Okta, signing in to an
// app, answering an MFA challenge, resetting a password, unlocking an account,
// signing out and changing an authenticator.
//
// A Flow is an ordered list of Steps. A step is satisfied by any one of its
// event types (alternatives), may be skipped (Optional) and may occur several
// times in a row (Repeatable: a message resent, a code typed again). Ends say
// which event outcomes finish the flow and with which Status, and which steps
// may still follow. A challenge names the steps that answer it (AnsweredBy);
// a step may lead back to an earlier one (Again: a second enrolment); a flow
// may only begin at some steps (Starts) and may carry on from an instance of
// another flow (Continues: the unlock after the lock-out). The variants real
// orgs add to the seed's orders are written this way, as data, on the flow
// they extend (docs/flows.md lists them). The simulator generates flows from these definitions
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
	// Starts, when set, names the only steps a new instance may begin at.
	Starts []string
	// Continues lists the instances this flow may carry on from: an unlock
	// after the sign-in that locked the account, a sign-in after the unlock
	// or reset that made it possible. Reconstruction links such instances
	// of one user (Instance.Continues); each stays an instance of its own.
	Continues []Continuation
}

// Continuation says that a flow may carry on from an instance of another
// kind that ended with Status at step StoppedAt ("" for any), when it starts
// within Within of that instance's last event.
type Continuation struct {
	Kind      string
	Status    Status
	StoppedAt string
	Within    time.Duration
}

// Step is one position in a flow.
type Step struct {
	Name string
	// Label says in words what the step is, for funnels and timelines.
	Label string
	// EventTypes are alternatives: any one of them satisfies the step.
	EventTypes []string
	Optional   bool
	// Repeatable steps may occur several times in a row: a message sent
	// again, a code typed again, a push re-sent.
	Repeatable bool
	// Restartable marks a repeatable step whose repetition may also be a
	// new attempt: a second reset message is the same reset asked for
	// again, or a reset abandoned and begun anew. Events that carry a
	// session id say which; without one both readings fit and
	// reconstruction reports the instance as ambiguous, with both.
	Restartable bool
	// AnsweredBy names the steps that answer this one: after a challenge
	// is sent, the next event of the instance is another send or its
	// answer (a code, a push approval, or the enrolment it confirms).
	// Without the rule an unanswered push followed minutes later by an app
	// access without MFA would be read as one access, since the
	// definitions let MFA be skipped.
	AnsweredBy []string
	// Again names earlier steps (or this one) that may follow this step: a
	// user enrolling a second authenticator during sign-in starts another
	// enrolment challenge after the first activation.
	Again []string
	// Ends are checked in order against an event of this step; the first
	// that matches decides the status the flow has if this event is its last.
	Ends []End
}

// End says that an event of a step finishes the flow with Status. An End
// without a Status finishes nothing but still limits what may follow to
// Then: a policy that answered CHALLENGE must be followed by MFA.
type End struct {
	EventType string // "" matches any of the step's event types
	Result    string // outcome.result; "" matches any result
	Status    Status
	// Then names the steps that may still follow this end (a failed password
	// attempt may still be followed by the account being locked). Without it
	// the event must be the flow's last.
	Then []string
}

// OrderTolerance is how far apart, in published time, two events of one
// flow may be and still be logged in the opposite order: Okta stamps each
// event when the request that caused it is handled, and two requests of one
// flow a moment apart (the policy evaluation and the first MFA send) may be
// written in either order. Reconstruction puts such an event back where its
// flow expects it.
const OrderTolerance = 2 * time.Second

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
	// The sends that prove a new phone or email during enrolment. Okta
	// Verify enrolment sends nothing: scanning the QR code logs only the
	// activation.
	enrollChallengeTypes = []string{
		"system.sms.send_phone_verification_message",
		"system.voice.send_phone_verification_call",
		"system.email.send_factor_verify_message",
	}
	// Classic Engine logs a refused Okta Verify push as its own event.
	mfaVerifyTypes = []string{"user.authentication.auth_via_mfa", "user.mfa.okta_verify.deny_push"}
	mfaEnrollTypes = []string{"user.mfa.factor.activate"}
	policyTypes    = []string{"policy.evaluate_sign_on"}
)

// mfaSteps are the optional MFA steps embedded in flows that may require a
// second factor, in the order the seed gives: challenge sent, answer
// verified, authenticator enrolled. A send blocked by Okta is logged with
// DENY; a wrong code or a denied push is a FAILURE of auth_via_mfa, after
// which the user may try another code but not go back to a new challenge.
//
// A user made to enrol during the flow may first verify a factor they have
// and then enrol another: the enrolment's own send and answer follow the
// verification (enroll_challenge, enroll_verify), and the activation may be
// followed by the next enrolment. The activation answers a send on its own
// when the enrolment logs no auth_via_mfa for the code.
func mfaSteps(enroll bool) []Step {
	out := []Step{
		{Name: "mfa_challenge", Label: "MFA challenge sent (push, SMS, call or email)", EventTypes: mfaChallengeTypes,
			Optional: true, Repeatable: true, AnsweredBy: []string{"mfa_verify", "mfa_enroll"},
			Ends: []End{{Result: "DENY", Status: Failed, Then: []string{"mfa_challenge"}}}},
		{Name: "mfa_verify", Label: "MFA answered", EventTypes: mfaVerifyTypes, Optional: true, Repeatable: true,
			Ends: []End{
				{EventType: "user.mfa.okta_verify.deny_push", Status: Failed},
				{Result: "FAILURE", Status: Failed, Then: []string{"mfa_verify"}},
			}},
	}
	if !enroll {
		return out
	}
	return append(out,
		Step{Name: "enroll_challenge", Label: "enrolment code sent to a new phone or email", EventTypes: enrollChallengeTypes,
			Optional: true, Repeatable: true, AnsweredBy: []string{"enroll_verify", "mfa_enroll"},
			Ends: []End{{Result: "DENY", Status: Failed, Then: []string{"enroll_challenge"}}}},
		Step{Name: "enroll_verify", Label: "enrolment code verified", EventTypes: []string{"user.authentication.auth_via_mfa"},
			Optional: true, Repeatable: true,
			Ends: []End{{Result: "FAILURE", Status: Failed, Then: []string{"enroll_verify"}}}},
		Step{Name: "mfa_enroll", Label: "authenticator enrolled", EventTypes: mfaEnrollTypes, Optional: true, Repeatable: true,
			Again: []string{"enroll_challenge"}},
	)
}

// mfaStepNames are the names of mfaSteps(true), for Then lists that let any
// MFA step follow.
var mfaStepNames = []string{"mfa_challenge", "mfa_verify", "enroll_challenge", "enroll_verify", "mfa_enroll"}

func steps(parts ...[]Step) []Step {
	var out []Step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func names(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// withEnds returns the steps with ends replaced for the named steps.
func withEnds(ss []Step, ends map[string][]End) []Step {
	for i := range ss {
		if e, ok := ends[ss[i].Name]; ok {
			ss[i].Ends = e
		}
	}
	return ss
}

var all = []Flow{
	{Kind: SignIn, Title: "Sign in to Okta", MaxGap: 10 * time.Minute, Steps: steps(
		[]Step{
			// Older Classic Engine orgs log a sign-in as the session start
			// alone (Okta's own event correlation example: a session
			// start, then the app's SSO): a session was issued, so the
			// sign-in completed unless more follows.
			{Name: "session_start", Label: "first factor checked (user.session.start)", EventTypes: []string{"user.session.start"},
				Ends: []End{
					{Result: "FAILURE", Status: Failed, Then: []string{"lock"}},
					{Result: "SUCCESS", Status: Completed, Then: names([]string{"policy"}, mfaStepNames, []string{"reevaluate", "verify"})},
				}},
			// Only after a failed session start: the attempt that exceeded
			// the lock-out threshold.
			{Name: "lock", Label: "account locked", EventTypes: []string{"user.account.lock"}, Optional: true,
				Ends: []End{{Status: Failed}}},
			// Identity Engine may log the global session policy and the
			// authentication policy as two evaluations. Classic Engine logs
			// no user.authentication.verify after a sign-on policy that
			// allowed the sign-in without MFA: ALLOW may be the last event.
			{Name: "policy", Label: "sign-on policy evaluated", EventTypes: policyTypes, Repeatable: true,
				Ends: []End{
					{Result: "DENY", Status: Denied},
					{Result: "ALLOW", Status: Completed, Then: names([]string{"policy"}, mfaStepNames, []string{"reevaluate", "verify"})},
					{Result: "CHALLENGE", Then: names([]string{"policy"}, mfaStepNames)},
				}},
		},
		mfaSteps(true),
		[]Step{
			// The policy evaluated again once the factors are in (Identity
			// Engine's authentication policy after MFA).
			{Name: "reevaluate", Label: "policy evaluated again after MFA", EventTypes: policyTypes, Optional: true, Repeatable: true,
				Ends: []End{{Result: "DENY", Status: Denied}}},
			{Name: "verify", Label: "sign-in verified (user.authentication.verify)", EventTypes: []string{"user.authentication.verify"},
				Ends: []End{{Result: "SUCCESS", Status: Completed}, {Result: "FAILURE", Status: Failed}}},
		},
	),
		Continues: []Continuation{
			{Kind: Unlock, Status: Completed, Within: time.Hour},
			{Kind: SSPR, Status: Completed, Within: time.Hour},
		}},
	{Kind: AppSignIn, Title: "Sign in to an app", MaxGap: 10 * time.Minute, Steps: steps(
		[]Step{
			// Identity Engine evaluates the app's authentication policy
			// before any step-up; Classic Engine logs nothing here.
			{Name: "app_policy", Label: "app's authentication policy evaluated", EventTypes: policyTypes, Optional: true, Repeatable: true,
				Ends: []End{
					{Result: "DENY", Status: Denied},
					{Result: "CHALLENGE", Then: names([]string{"app_policy"}, mfaStepNames)},
				}},
		},
		mfaSteps(true),
		[]Step{
			{Name: "access", Label: "app access granted (SSO) or denied", EventTypes: []string{"user.authentication.sso", "application.policy.sign_on.deny_access"},
				Ends: []End{
					{EventType: "application.policy.sign_on.deny_access", Status: Denied},
					{Result: "SUCCESS", Status: Completed},
					{Result: "FAILURE", Status: Failed},
				}},
		},
	)},
	// A second factor asked for inside an existing session (step-up), with
	// no sign-in or app access around it, or an enrolment asked for there.
	{Kind: MFA, Title: "Multifactor verification", MaxGap: 10 * time.Minute, Steps: withEnds(mfaSteps(true), map[string][]End{
		"mfa_verify": {
			{EventType: "user.mfa.okta_verify.deny_push", Status: Failed},
			{Result: "SUCCESS", Status: Completed, Then: []string{"enroll_challenge", "mfa_enroll"}},
			{Result: "FAILURE", Status: Failed, Then: []string{"mfa_verify"}},
		},
		"enroll_verify": {
			{Result: "SUCCESS", Status: Completed, Then: []string{"mfa_enroll"}},
			{Result: "FAILURE", Status: Failed, Then: []string{"enroll_verify"}},
		},
		// Optional before: enrolling Okta Verify logs only the activation.
		"mfa_enroll": {{Result: "SUCCESS", Status: Completed, Then: []string{"enroll_challenge", "mfa_enroll"}}},
	})},
	{Kind: SSPR, Title: "Self-service password reset", MaxGap: 30 * time.Minute, Steps: steps(
		[]Step{
			// Repeats: the user asked for the message again before using
			// it (Okta offers "send again" after 30 seconds).
			{Name: "reset_message", Label: "reset message sent (email, SMS or voice call)", EventTypes: []string{
				"system.email.password_reset.sent_message",
				"system.sms.send_password_reset_message",
				"system.voice.send_password_reset_call",
			}, Repeatable: true, Restartable: true,
				Ends: []End{{Result: "DENY", Status: Failed, Then: []string{"reset_message"}}}},
		},
		mfaSteps(false),
		[]Step{
			{Name: "reset_password", Label: "password reset (the message was verified)", EventTypes: []string{"user.account.reset_password"},
				Ends: []End{{Result: "FAILURE", Status: Failed}}},
			{Name: "update_password", Label: "new password set", EventTypes: []string{"user.account.update_password"}, Repeatable: true,
				Ends: []End{
					{Result: "SUCCESS", Status: Completed},
					{Result: "FAILURE", Status: Failed, Then: []string{"update_password"}},
				}},
		},
	)},
	{Kind: Unlock, Title: "Self-service unlock", MaxGap: 30 * time.Minute, Steps: steps(
		[]Step{
			// The lock-out itself, when it is logged apart from the failed
			// sign-in that caused it (Identity Engine stamps the lock with
			// the identify session, the failed attempt with none): an
			// unlock that follows it continues it in one instance, and a
			// lock nobody undid is an unlock abandoned at "locked".
			{Name: "locked", Label: "account locked out", EventTypes: []string{"user.account.lock"}, Optional: true},
			{Name: "unlock_message", Label: "unlock message sent (email, SMS or voice call)", EventTypes: []string{
				"system.email.account_unlock.sent_message",
				"system.sms.send_account_unlock_message",
				"system.voice.send_account_unlock_call",
			}, Optional: true, Repeatable: true, Restartable: true,
				Ends: []End{{Result: "DENY", Status: Failed, Then: []string{"unlock_message"}}}},
		},
		mfaSteps(false),
		[]Step{
			// Identity Engine unlocks after the user proves an
			// authenticator without a recovery token; an unlock when the
			// lock-out period has passed logs only user.account.unlock.
			{Name: "unlock_token", Label: "recovery token granted", EventTypes: []string{"user.account.unlock_token"}, Optional: true,
				Ends: []End{{Result: "FAILURE", Status: Failed}}},
			{Name: "unlock", Label: "account unlocked", EventTypes: []string{"user.account.unlock"},
				Ends: []End{{Result: "SUCCESS", Status: Completed}, {Result: "FAILURE", Status: Failed}}},
		},
	),
		// An unlock needs no message when it starts from a token or is
		// the unlock itself, but an MFA prompt alone does not begin one:
		// it is far more often a step-up.
		Starts: []string{"locked", "unlock_message", "unlock_token", "unlock"},
		Continues: []Continuation{
			{Kind: SignIn, Status: Failed, StoppedAt: "lock", Within: 24 * time.Hour},
			{Kind: Unlock, Status: Abandoned, StoppedAt: "locked", Within: 24 * time.Hour},
		}},
	{Kind: Logout, Title: "Sign out", MaxGap: time.Minute, Steps: []Step{
		{Name: "session_end", Label: "signed out of Okta", EventTypes: []string{"user.session.end"},
			Ends: []End{{Result: "SUCCESS", Status: Completed, Then: []string{"slo"}}}},
		{Name: "slo", Label: "single logout from an app", EventTypes: []string{"user.authentication.slo"}, Optional: true, Repeatable: true,
			Ends: []End{{Status: Completed, Then: []string{"slo"}}}},
	}},
	// A change to a user's authenticators, by the user (enrolling a new phone
	// first proves it with a one-time code) or by an admin (the user is then
	// the target, not the actor).
	{Kind: FactorChange, Title: "Authenticator change", MaxGap: 10 * time.Minute, Steps: []Step{
		{Name: "factor_verify", Label: "new phone or email proved with a code", EventTypes: []string{
			"system.sms.send_phone_verification_message",
			"system.voice.send_phone_verification_call",
			"system.email.send_factor_verify_message",
		}, Optional: true, Repeatable: true},
		{Name: "change", Label: "authenticator added, removed, reset, suspended or updated", EventTypes: []string{
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
// required step skipped, a step repeated that may not be, a challenge not
// followed by its answer, or an event after the flow has ended. The rules
// are Cursor's.
func (f Flow) Check(events []Event) (Outcome, error) {
	if len(events) == 0 {
		return Outcome{}, &CheckError{Index: 0, Msg: "empty flow"}
	}
	out := Outcome{Steps: make([]int, 0, len(events))}
	c := f.Cursor()
	for i, e := range events {
		j, err := c.Next(e)
		if err != nil {
			err.(*CheckError).Index = i
			return out, err
		}
		out.Steps = append(out.Steps, j)
	}
	out.Status, out.StoppedAt = c.Outcome()
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
