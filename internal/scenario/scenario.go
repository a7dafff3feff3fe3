// Package scenario holds the analyst queries of the seed document as named
// scenarios: a filter template with one parameter (a user id, an IP address
// or an external session id) that expands to filter text.
package scenario

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/idlog/idlog/internal/event"
)

// Parameter names.
const (
	ParamUser    = "user"    // an Okta user id (00u…), matched as actor or target
	ParamIP      = "ip"      // a client IP address
	ParamSession = "session" // authenticationContext.externalSessionId
)

// Placeholder marks where Expand puts the value, as a JSON string literal.
const Placeholder = "{value}"

// Scenario is one named query.
type Scenario struct {
	Name        string // e.g. "signin-events-user"
	Title       string // one line, for lists
	Description string // when to use it
	Param       string // ParamUser, ParamIP or ParamSession
	Flow        string // the event.Flow… kind it shows, "" when it spans several
	Template    string // filter text with Placeholder where the value goes
}

// The layout of the seed's queries: the selector, " and (", one
// `(eventType eq "…")` per line joined by " or", and ")" on its own line.
// Keeping it lets the seed's text come back byte for byte (spaces aside:
// the seed has no-break spaces where we write plain ones).
func byTypes(selector, tail string, types ...string) string {
	lines := make([]string, len(types))
	for i, t := range types {
		lines[i] = `(eventType eq "` + t + `")`
	}
	return selector + " and (\n" + strings.Join(lines, " or\n") + "\n" + tail + ")"
}

const (
	byUser    = "(actor.id eq " + Placeholder + " or target.id eq " + Placeholder + ")"
	byIP      = "(client.ipAddress eq " + Placeholder + ")"
	bySession = "(authenticationContext.externalSessionId eq " + Placeholder + ")"
)

// The verification sends every factor-capable flow shows, in the seed's order.
var mfaSends = []string{
	"system.push.send_factor_verify_push",
	"system.email.send_factor_verify_message",
	"system.sms.send_factor_verify_message",
	"system.sms.send_phone_verification_message",
	"system.voice.send_mfa_challenge_call",
	"system.voice.send_phone_verification_call",
}

// Every sign-in and recovery event, in the order of the seed's first query.
var signinAndRecovery = []string{
	"user.session.start",
	"policy.evaluate_sign_on",
	"user.authentication.verify",
	"application.policy.sign_on.deny_access",
	"user.authentication.sso",
	"user.authentication.auth_via_mfa",
	"user.mfa.factor.activate",
	mfaSends[0], mfaSends[1], mfaSends[2], mfaSends[3], mfaSends[4], mfaSends[5],
	"system.email.password_reset.sent_message",
	"system.sms.send_password_reset_message",
	"system.voice.send_password_reset_call",
	"user.account.reset_password",
	"user.account.update_password",
	"system.email.account_unlock.sent_message",
	"system.sms.send_account_unlock_message",
	"system.voice.send_account_unlock_call",
	"user.account.unlock_token",
	"user.account.unlock",
}

func cat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func list(s ...string) []string { return s }

var all = []Scenario{
	{
		Name: "signin-events-user", Param: ParamUser,
		Title:       "Sign-in and recovery events of a user",
		Description: "Everything around a user's sign-ins: sessions, policy checks, MFA, app SSO and denials, password resets and unlocks, with the user as actor or target.",
		Template:    byTypes(byUser, "", signinAndRecovery...),
	},
	{
		Name: "signin-events-ip", Param: ParamIP,
		Title:       "Sign-in and recovery events from an IP address",
		Description: "The same events as signin-events-user, for every user seen behind one client IP; useful for password spray or a suspicious network.",
		Template:    byTypes(byIP, "", signinAndRecovery...),
	},
	{
		Name: "signin-events-session", Param: ParamSession,
		Title:       "Sign-in and recovery events of an external session",
		Description: "The same events as signin-events-user, for one Okta session id (authenticationContext.externalSessionId); follows a session across IPs and devices.",
		Template:    byTypes(bySession, "", signinAndRecovery...),
	},
	{
		Name: "session-events", Param: ParamSession,
		Title:       "All events of an external session",
		Description: "Every event recorded under one external session id, of any type: what a session did after sign-in.",
		Template:    bySession,
	},
	{
		Name: "logout", Param: ParamUser, Flow: event.FlowLogout,
		Title:       "Sign-outs of a user",
		Description: "Session ends and single logouts for a user.",
		Template:    byTypes(byUser, "", "user.session.end", "user.authentication.slo"),
	},
	{
		Name: "authenticator-changes", Param: ParamUser, Flow: event.FlowFactorChange,
		Title:       "Authenticator changes of a user",
		Description: "Factors enrolled, removed, reset, suspended, unsuspended or updated for a user, by the user or by an admin (the user is then the target).",
		Template: byTypes(byUser, "", "user.mfa.factor.activate", "user.mfa.factor.deactivate", "user.mfa.factor.reset_all",
			"user.mfa.factor.suspend", "user.mfa.factor.unsuspend", "user.mfa.factor.update"),
	},
	{
		Name: "signin-okta", Param: ParamUser, Flow: event.FlowSignin,
		Title:       "Sign-ins to Okta of a user",
		Description: "The sign-in to Okta flow: session start, sign-on policy, any MFA challenge or enrolment, and the final verification.",
		Template: byTypes(byUser, "", cat(list("user.session.start", "policy.evaluate_sign_on"), mfaSends,
			list("user.authentication.auth_via_mfa", "user.mfa.factor.activate", "user.authentication.verify"))...),
	},
	{
		Name: "signin-app", Param: ParamUser, Flow: event.FlowAppSignin,
		Title:       "Sign-ins to apps of a user",
		Description: "App sign-in: any MFA the app's policy asked for, then either the SSO hand-off or the policy denial.",
		Template: byTypes(byUser, "", cat(list("application.policy.sign_on.deny_access"), mfaSends,
			list("user.authentication.auth_via_mfa", "user.mfa.factor.activate", "user.authentication.sso"))...),
	},
	{
		// The seed has no sample query for MFA; this one follows its MFA
		// event tables, in the style of its other queries.
		Name: "mfa", Param: ParamUser, Flow: event.FlowMFA,
		Title:       "MFA challenges and enrolments of a user",
		Description: "Factor verifications and forced enrolments, with the push, email, SMS and voice sends that precede them.",
		Template:    byTypes(byUser, "", cat(list("user.authentication.auth_via_mfa", "user.mfa.factor.activate"), mfaSends)...),
	},
	{
		Name: "sspr", Param: ParamUser, Flow: event.FlowSSPR,
		Title:       "Self-service password resets of a user",
		Description: "The recovery message by email, SMS or call, any factor check, the reset and the new password.",
		Template: byTypes(byUser, "", cat(list("system.email.password_reset.sent_message", "system.sms.send_password_reset_message",
			"system.voice.send_password_reset_call"), mfaSends,
			list("user.authentication.auth_via_mfa", "user.account.reset_password", "user.account.update_password"))...),
	},
	{
		Name: "unlock", Param: ParamUser, Flow: event.FlowUnlock,
		Title:       "Self-service unlocks of a user",
		Description: "The unlock message by email, SMS or call, any factor check, the recovery token and the unlock.",
		// The seed's query has an empty line before its closing parenthesis.
		Template: byTypes(byUser, "\n", cat(list("system.email.account_unlock.sent_message", "system.sms.send_account_unlock_message",
			"system.voice.send_account_unlock_call"), mfaSends,
			list("user.authentication.auth_via_mfa", "user.account.unlock_token", "user.account.unlock"))...),
	},
}

// All returns every scenario, in the order analysts meet them.
func All() []Scenario { return append([]Scenario(nil), all...) }

// Lookup finds a scenario by name.
func Lookup(name string) (Scenario, bool) {
	for _, s := range all {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// Expand returns the filter text with value in place of every placeholder,
// written as a JSON string literal: quotes, backslashes and control
// characters are escaped, so a value can never end the literal early and add
// filter syntax of its own.
func (s Scenario) Expand(value string) (string, error) {
	if value == "" {
		return "", fmt.Errorf("scenario %s: the %s value is empty", s.Name, s.Param)
	}
	if !utf8.ValidString(value) {
		return "", errors.New("scenario " + s.Name + ": the " + s.Param + " value is not valid UTF-8")
	}
	return strings.ReplaceAll(s.Template, Placeholder, Quote(value)), nil
}

// Quote writes v as a JSON string literal. Unlike encoding/json it leaves <,
// > and & alone, so a seed placeholder such as <enter user id> reads as typed.
func Quote(v string) string {
	var b strings.Builder
	b.Grow(len(v) + 2)
	b.WriteByte('"')
	for _, r := range v {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f || r == 0x2028 || r == 0x2029:
			b.WriteString(`\u`)
			h := strconv.FormatInt(int64(r), 16)
			b.WriteString(strings.Repeat("0", 4-len(h)) + h)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
