package event

import (
	"sort"
	"sync"
)

// EventType is one entry of idlog's catalog of System Log event types: what
// an analyst needs to read an event and to know which flows it belongs to.
type EventType struct {
	Name     string `json:"name"`     // the eventType value, e.g. "user.session.start"
	Category string `json:"category"` // one of Categories()
	// Description is ours, written for an analyst reading the event list.
	Description string `json:"description"`
	// LegacyEventType is the Events API name Okta also records, where known.
	LegacyEventType string `json:"legacyEventType,omitempty"`
	// Flows names the flows the type takes part in (see the Flow constants).
	Flows []string `json:"flows"`
}

// Flow kinds. Each is a sequence of events the seed document describes; the
// simulator generates them and the flow analysis recognises them.
const (
	FlowSignin       = "signin"        // sign in to Okta
	FlowAppSignin    = "app_signin"    // sign in to an app (SSO) or be denied
	FlowMFA          = "mfa"           // factor challenge, verification, enrolment
	FlowSSPR         = "sspr"          // self-service password reset
	FlowUnlock       = "unlock"        // self-service account unlock
	FlowLogout       = "logout"        // session end and single logout
	FlowFactorChange = "factor_change" // authenticator enrolment changes
)

// Flows lists every flow kind.
var Flows = []string{FlowSignin, FlowAppSignin, FlowMFA, FlowSSPR, FlowUnlock, FlowLogout, FlowFactorChange}

// Categories, in the order the catalog is best read.
var categories = []string{"sign-in", "session", "mfa", "password", "unlock", "app-access", "policy", "lifecycle", "admin", "security"}

// Categories returns the category names, in reading order.
func Categories() []string { return append([]string(nil), categories...) }

// The MFA sends and the factor verification take part in every flow that can
// ask for a second factor, as the seed's sample queries for those flows show.
var (
	mfaStep    = []string{FlowSignin, FlowAppSignin, FlowMFA, FlowSSPR, FlowUnlock}
	mfaEnrol   = []string{FlowSignin, FlowAppSignin, FlowMFA}
	factorEdit = []string{FlowFactorChange}
	// Proving an email address or phone also starts a user's own
	// authenticator change.
	mfaProve = []string{FlowSignin, FlowAppSignin, FlowMFA, FlowSSPR, FlowUnlock, FlowFactorChange}
)

func fl(f ...string) []string { return f }

var catalog = []EventType{
	// Sign-in to Okta.
	{"user.session.start", "sign-in", "A user's first authenticator checked out and Okta opened a sign-in session; a FAILURE outcome here is a rejected password or unknown user, with the reason in outcome.reason.", "core.user_auth.login_success", fl(FlowSignin)},
	{"user.authentication.verify", "sign-in", "The last step of signing in to Okta succeeded: every required authenticator passed and the session is ready to use.", "", fl(FlowSignin)},
	{"user.authentication.auth", "sign-in", "A user authenticated to Okta through an API or a legacy sign-in path rather than the hosted sign-in widget.", "", nil},
	{"user.authentication.auth_via_IDP", "sign-in", "A user signed in through an external identity provider (inbound SAML or OIDC federation) instead of an Okta password.", "", nil},
	{"user.authentication.auth_via_social", "sign-in", "A user signed in with a social identity provider account such as Google or Facebook.", "", nil},
	{"user.authentication.auth_via_radius", "sign-in", "A user authenticated through the Okta RADIUS agent, typically from a VPN concentrator.", "", nil},
	{"user.authentication.auth_via_AD_agent", "sign-in", "A user's password was checked against Active Directory by a delegated-authentication AD agent.", "", nil},
	{"user.authentication.auth_via_richclient", "sign-in", "A desktop or mobile mail client (a rich client) authenticated with basic credentials, as legacy Office 365 clients do.", "", nil},

	// Sessions and logout.
	{"user.session.end", "session", "A user signed out of Okta and the session was closed.", "core.user_auth.logout_success", fl(FlowLogout)},
	{"user.authentication.slo", "session", "Single logout: signing out of Okta also signed the user out of a connected app, or an app's logout ended the Okta session.", "", fl(FlowLogout)},
	{"user.session.expire", "session", "A session was ended for the user by expiry being enforced, for example after an admin revoked it.", "core.user_auth.session_expired", nil},
	{"user.session.clear", "session", "All of a user's sessions were cleared, usually by an admin or after a password or factor reset.", "", nil},
	{"user.session.context.change", "session", "Something about an existing session changed mid-flight, such as its network or device context.", "", nil},
	{"user.session.access_admin_app", "session", "A user opened the Okta Admin Console from their session.", "", nil},
	{"user.session.impersonation.initiate", "session", "An Okta support engineer started impersonating a user of the org.", "", nil},
	{"user.session.impersonation.grant", "session", "An admin allowed Okta support to impersonate users for a limited time.", "", nil},
	{"user.session.impersonation.end", "session", "An impersonation session by Okta support finished.", "", nil},
	{"user.authentication.universal_logout", "session", "Universal Logout ended the user's sessions in Okta and in apps that support it, typically as a security response.", "", nil},

	// MFA.
	{"user.authentication.auth_via_mfa", "mfa", "A user answered a multifactor challenge; outcome tells whether the factor (push, code, call, key) was accepted.", "core.user.factor.attempt_success", mfaStep},
	{"user.mfa.factor.activate", "mfa", "A factor or authenticator finished enrolment for a user and is now usable; seen in sign-in when enrolment is forced, and when a user or admin adds one.", "core.user.factor.activate", append(append([]string(nil), mfaEnrol...), FlowFactorChange)},
	{"system.push.send_factor_verify_push", "mfa", "An Okta Verify push challenge went out to the user's phone. Many of these in a short time without an answer suggest push bombing.", "", mfaStep},
	{"system.email.send_factor_verify_message", "mfa", "A one-time code for the email authenticator was mailed to the user.", "", mfaProve},
	{"system.sms.send_factor_verify_message", "mfa", "A one-time code for signing in was texted to the user's enrolled phone. A DENY outcome means Okta blocked the send.", "", mfaStep},
	{"system.sms.send_phone_verification_message", "mfa", "A one-time code was texted to confirm a phone number while the phone authenticator was being set up in SMS mode.", "", mfaProve},
	{"system.voice.send_mfa_challenge_call", "mfa", "Okta placed a phone call reading out a sign-in code to the user's enrolled number. A DENY outcome means Okta blocked the call.", "", mfaStep},
	{"system.voice.send_phone_verification_call", "mfa", "Okta called a phone number to read out a code while the phone authenticator was being set up in voice mode.", "", mfaProve},
	{"user.mfa.okta_verify.deny_push", "mfa", "The user tapped No on an Okta Verify push, rejecting the sign-in request on their phone (Classic Engine).", "core.user.factor.push_rejected", mfaStep},
	{"user.mfa.okta_verify", "mfa", "An Okta Verify related step for the user, such as a push response or a code check.", "", nil},
	{"user.mfa.attempt_bypass", "mfa", "A sign-in tried to skip a required second factor; worth a look as a possible policy gap or abuse.", "", nil},

	// Authenticator changes for one user.
	{"user.mfa.factor.deactivate", "mfa", "One of the user's enrolled factors or authenticators was removed, by the user or by an admin.", "core.user.factor.deactivate", factorEdit},
	{"user.mfa.factor.reset_all", "mfa", "Every factor the user had enrolled was removed at once, so the next sign-in makes them enrol again.", "core.user.factor.reset_all", factorEdit},
	{"user.mfa.factor.suspend", "mfa", "One of the user's factors was put on hold and cannot be used until it is unsuspended.", "", factorEdit},
	{"user.mfa.factor.unsuspend", "mfa", "A suspended factor of the user was made usable again.", "", factorEdit},
	{"user.mfa.factor.update", "mfa", "Settings of one of the user's enrolled factors changed, such as a new phone number or a re-registered device.", "", factorEdit},

	// Password.
	{"system.email.password_reset.sent_message", "password", "A password-recovery email with a reset link or code went to the user, starting self-service password reset.", "", fl(FlowSSPR)},
	{"system.sms.send_password_reset_message", "password", "A password-recovery code was texted to the user, starting self-service password reset.", "", fl(FlowSSPR)},
	{"system.voice.send_password_reset_call", "password", "Okta called the user to read out a password-recovery code, starting self-service password reset.", "", fl(FlowSSPR)},
	{"user.account.reset_password", "password", "After the recovery code or link checked out, Okta put the password into a reset state so the user can choose a new one.", "", fl(FlowSSPR)},
	{"user.account.update_password", "password", "A new password was set for the account, whether at the end of a reset, on expiry, or by choice; a FAILURE usually means the password policy refused it.", "core.user.config.password_update.success", fl(FlowSSPR)},
	{"user.account.expire_password", "password", "The account's password was marked expired, so the user must change it at the next sign-in.", "", nil},

	// Lock and unlock.
	{"user.account.lock", "unlock", "Too many failed sign-ins locked the account; it stays locked until it unlocks on its own timer or someone unlocks it.", "core.user_auth.account_locked", fl(FlowSignin, FlowUnlock)},
	{"user.account.lock.limit", "unlock", "The account reached the lock-out limit and is locked with no automatic unlock; only the user or an admin can clear it.", "", nil},
	{"system.email.account_unlock.sent_message", "unlock", "An email to unlock a locked account went to the user, starting self-service unlock.", "", fl(FlowUnlock)},
	{"system.sms.send_account_unlock_message", "unlock", "A text with an unlock code went to the user of a locked account, starting self-service unlock.", "", fl(FlowUnlock)},
	{"system.voice.send_account_unlock_call", "unlock", "Okta called the user of a locked account to read out an unlock code, starting self-service unlock.", "", fl(FlowUnlock)},
	{"user.account.unlock_token", "unlock", "Okta handed the user a one-time recovery token in the unlock flow; the next request presents it together with the recovery answer.", "", fl(FlowUnlock)},
	{"user.account.unlock", "unlock", "A locked account became usable again, through self-service unlock or the automatic unlock timer.", "core.user_auth.account_auto_unlocked", fl(FlowUnlock)},
	{"user.account.unlock_by_admin", "unlock", "An admin unlocked a locked account on the user's behalf.", "core.user_auth.account_unlocked_by_admin", nil},
	{"user.account.unlock_failure", "unlock", "An attempt to unlock the account did not succeed, for example a wrong recovery answer or an expired token.", "", nil},

	// App access.
	{"user.authentication.sso", "app-access", "Okta sent the user on to an app with a sign-on assertion or token. It records the hand-off only: whether the app then let the user in is not known to Okta.", "app.auth.sso", fl(FlowAppSignin)},
	{"application.policy.sign_on.deny_access", "app-access", "An app's sign-on policy refused the user, for example because of network zone, device or missing factor.", "", fl(FlowAppSignin)},
	{"app.generic.unauth_app_access_attempt", "app-access", "A user tried to open an app they are not assigned to.", "", nil},
	{"app.oauth2.as.authorize", "app-access", "An OAuth 2.0 / OIDC authorization server handled an authorize request for a client app.", "", nil},
	{"app.oauth2.as.token.grant", "app-access", "An authorization server issued tokens to a client app; the grant type is in debugData.", "", nil},
	{"app.oauth2.as.token.revoke", "app-access", "An authorization server revoked an access or refresh token.", "", nil},

	// Policy.
	{"policy.evaluate_sign_on", "policy", "A sign-on policy was checked: the global session policy for a sign-in, or (Identity Engine) an app's authentication policy; the outcome is ALLOW, CHALLENGE (ask for more factors) or DENY, and the targets name the policy and rule that decided.", "", fl(FlowSignin, FlowAppSignin)},
	{"policy.lifecycle.create", "policy", "An admin created a policy.", "", nil},
	{"policy.lifecycle.activate", "policy", "A policy was switched on.", "", nil},
	{"policy.lifecycle.deactivate", "policy", "A policy was switched off.", "", nil},
	{"policy.lifecycle.update", "policy", "A policy's settings were changed.", "", nil},
	{"policy.lifecycle.delete", "policy", "A policy was deleted.", "", nil},
	{"policy.rule.add", "policy", "A rule was added to a policy.", "", nil},
	{"policy.rule.activate", "policy", "A policy rule was switched on.", "", nil},
	{"policy.rule.deactivate", "policy", "A policy rule was switched off.", "", nil},
	{"policy.rule.update", "policy", "A policy rule's conditions or actions were changed; a weakened rule is a common persistence trick.", "", nil},
	{"policy.rule.delete", "policy", "A rule was removed from a policy.", "", nil},

	// Lifecycle.
	{"user.lifecycle.create", "lifecycle", "A user account was created, by an admin, an import or a provisioning integration.", "", nil},
	{"user.lifecycle.activate", "lifecycle", "A user account was activated and can now sign in.", "", nil},
	{"user.lifecycle.deactivate", "lifecycle", "A user account was deactivated; the user can no longer sign in and loses app assignments.", "", nil},
	{"user.lifecycle.suspend", "lifecycle", "A user account was suspended: sign-in is blocked but assignments are kept.", "", nil},
	{"user.lifecycle.unsuspend", "lifecycle", "A suspended user account was restored.", "", nil},
	{"user.lifecycle.reactivate", "lifecycle", "A deactivated user account was brought back.", "", nil},
	{"user.lifecycle.delete.initiated", "lifecycle", "Deletion of a user account started.", "", nil},
	{"user.lifecycle.delete.completed", "lifecycle", "A user account is gone for good.", "", nil},
	{"user.account.update_profile", "lifecycle", "Profile attributes of a user (name, email, phone, custom fields) were changed.", "", nil},
	{"group.user_membership.add", "lifecycle", "A user joined a group, which can grant apps or admin roles.", "", nil},
	{"group.user_membership.remove", "lifecycle", "A user left a group.", "", nil},
	{"application.user_membership.add", "lifecycle", "A user was assigned to an app.", "", nil},
	{"application.user_membership.remove", "lifecycle", "A user's assignment to an app was removed.", "", nil},
	{"application.user_membership.change_username", "lifecycle", "The username a user has in an app was changed.", "", nil},
	{"application.lifecycle.create", "lifecycle", "An app integration was added to the org.", "", nil},
	{"application.lifecycle.activate", "lifecycle", "An app integration was switched on.", "", nil},
	{"application.lifecycle.deactivate", "lifecycle", "An app integration was switched off.", "", nil},
	{"application.lifecycle.update", "lifecycle", "An app integration's settings were changed.", "", nil},
	{"application.lifecycle.delete", "lifecycle", "An app integration was removed from the org.", "", nil},

	// Admin.
	{"user.account.privilege.grant", "admin", "An admin role was given to a user; debugData names the role. Grants of super admin deserve a second look.", "", nil},
	{"user.account.privilege.revoke", "admin", "An admin role was taken away from a user.", "", nil},
	{"group.privilege.grant", "admin", "An admin role was given to a group, and so to everyone in it.", "", nil},
	{"group.privilege.revoke", "admin", "An admin role was taken away from a group.", "", nil},
	{"system.api_token.create", "admin", "An API token was created; it acts with the rights of the admin who made it.", "", nil},
	{"system.api_token.revoke", "admin", "An API token was revoked.", "", nil},
	{"system.idp.lifecycle.create", "admin", "An identity provider was added: users may then sign in through it, so a rogue one lets its owner sign in as anyone it maps.", "", nil},
	{"system.idp.lifecycle.update", "admin", "An identity provider's settings (certificate, mapping, routing) were changed.", "", nil},
	{"system.mfa.factor.activate", "admin", "An admin made a factor type available to the whole org.", "", nil},
	{"system.mfa.factor.deactivate", "admin", "An admin withdrew a factor type from the whole org.", "", nil},
	{"security.authenticator.lifecycle.create", "admin", "An authenticator was added to the org's configuration.", "", nil},
	{"security.authenticator.lifecycle.activate", "admin", "An authenticator was switched on for the org.", "", nil},
	{"security.authenticator.lifecycle.deactivate", "admin", "An authenticator was switched off for the org.", "", nil},
	{"security.authenticator.lifecycle.update", "admin", "An authenticator's org-wide settings were changed.", "", nil},
	{"system.org.rate_limit.warning", "admin", "The org is approaching an API rate limit.", "", nil},
	{"system.org.rate_limit.violation", "admin", "The org went over an API rate limit and requests were refused.", "", nil},
	{"core.concurrency.org.limit.violation", "admin", "Too many API requests were in flight at once for the org, and some were refused.", "", nil},
	{"system.log_stream.lifecycle.deactivate", "admin", "A log stream to a SIEM was switched off, by an admin or after repeated delivery failures.", "", nil},
	{"event_hook.delivery", "admin", "Okta failed to deliver events to an event hook endpoint.", "", nil},

	// Security.
	{"security.threat.detected", "security", "ThreatInsight judged a request to come from a suspicious source (password spray, brute force, known bad IP); outcome says whether it was let through, denied or rate limited.", "", nil},
	{"security.request.blocked", "security", "A request was blocked before authentication, for example from a blocked network zone or anonymiser.", "", nil},
	{"user.risk.detect", "security", "Risk scoring found a risk signal for the user, such as an unusual location or device.", "", nil},
	{"user.risk.change", "security", "The risk level Okta assigns to the user went up or down.", "", nil},
	{"user.account.report_suspicious_activity_by_enduser", "security", "A user reported that an activity notice (new sign-in, factor change) was not them.", "", nil},
}

var (
	sortOnce sync.Once
	sorted   []EventType
	byName   map[string]int
)

func index() {
	sortOnce.Do(func() {
		sorted = append([]EventType(nil), catalog...)
		for i := range sorted {
			if sorted[i].Flows == nil {
				sorted[i].Flows = []string{} // JSON [] rather than null
			}
		}
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
		byName = make(map[string]int, len(sorted))
		for i, t := range sorted {
			byName[t.Name] = i
		}
	})
}

// Types returns the catalog sorted by name. The slice is a copy; the Flows
// slices are shared and must not be modified.
func Types() []EventType {
	index()
	return append([]EventType(nil), sorted...)
}

// LookupType finds an event type by its exact name.
func LookupType(name string) (EventType, bool) {
	index()
	i, ok := byName[name]
	if !ok {
		return EventType{}, false
	}
	return sorted[i], true
}

// HasFlow reports whether t takes part in flow.
func (t EventType) HasFlow(flow string) bool {
	for _, f := range t.Flows {
		if f == flow {
			return true
		}
	}
	return false
}
