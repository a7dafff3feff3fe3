package simulate

// Event types the simulator emits, indexed by small constants so the hot path
// never looks a name up. Display messages are our own wording, neutral where
// the outcome may be a failure (one message serves both, as in Okta). Legacy types
// are given only where a public source shows the exact value (Okta's samples
// and event-type mappings); the rest are null rather than guessed.

type etype struct {
	name         string
	legacy       string // "" is null
	legacyFail   string // legacy type when the outcome is not a success ("" = same as legacy)
	display      string
	failSeverity bool // a non-success outcome is logged as WARN
}

const (
	tSessionStart = iota
	tPolicyEval
	tAuthVerify
	tAuthViaMFA
	tDenyPush
	tSSO
	tAppDeny
	tFactorActivate
	tFactorDeactivate
	tFactorResetAll
	tFactorSuspend
	tFactorUnsuspend
	tFactorUpdate
	tSendPush
	tSendEmailVerify
	tSendSMSVerify
	tSendSMSPhoneVerify
	tSendVoiceChallenge
	tSendVoicePhoneVerify
	tEmailReset
	tSMSReset
	tVoiceReset
	tResetPassword
	tUpdatePassword
	tEmailUnlock
	tSMSUnlock
	tVoiceUnlock
	tUnlockToken
	tUnlock
	tLock
	tSessionEnd
	tSLO
	tThreat
	tGroupAdd
	tAppAssign
	tUserCreate
	tUserActivate
	tPrivilegeGrant
	tPolicyRuleUpdate
	tAPITokenCreate
	tIdPCreate
	tIdPUpdate
	numTypes
)

var etypes = [numTypes]etype{
	tSessionStart:         {"user.session.start", "core.user_auth.login_success", "core.user_auth.login_failed", "Sign-in to Okta", true},
	tPolicyEval:           {"policy.evaluate_sign_on", "", "", "Sign-on policy evaluated", true},
	tAuthVerify:           {"user.authentication.verify", "", "", "User verified for sign-in", true},
	tAuthViaMFA:           {"user.authentication.auth_via_mfa", "core.user.factor.attempt_success", "core.user.factor.attempt_fail", "Second-factor check of user", true},
	tDenyPush:             {"user.mfa.okta_verify.deny_push", "core.user.factor.push_rejected", "", "User refused an Okta Verify push", true},
	tSSO:                  {"user.authentication.sso", "app.auth.sso", "", "Single sign-on to an app", true},
	tAppDeny:              {"application.policy.sign_on.deny_access", "", "", "App sign-on policy refused access", true},
	tFactorActivate:       {"user.mfa.factor.activate", "core.user.factor.activate", "", "Authenticator enrolled for user", false},
	tFactorDeactivate:     {"user.mfa.factor.deactivate", "core.user.factor.deactivate", "", "Authenticator removed from user", false},
	tFactorResetAll:       {"user.mfa.factor.reset_all", "core.user.factor.reset_all", "", "All authenticators of user reset", false},
	tFactorSuspend:        {"user.mfa.factor.suspend", "", "", "Authenticator of user suspended", false},
	tFactorUnsuspend:      {"user.mfa.factor.unsuspend", "", "", "Authenticator of user reinstated", false},
	tFactorUpdate:         {"user.mfa.factor.update", "", "", "Authenticator of user updated", false},
	tSendPush:             {"system.push.send_factor_verify_push", "", "", "Push sent to Okta Verify for verification", true},
	tSendEmailVerify:      {"system.email.send_factor_verify_message", "", "", "Verification code sent by email", true},
	tSendSMSVerify:        {"system.sms.send_factor_verify_message", "", "", "Verification code sent by SMS", true},
	tSendSMSPhoneVerify:   {"system.sms.send_phone_verification_message", "", "", "Phone enrolment code sent by SMS", true},
	tSendVoiceChallenge:   {"system.voice.send_mfa_challenge_call", "", "", "Verification code sent by voice call", true},
	tSendVoicePhoneVerify: {"system.voice.send_phone_verification_call", "", "", "Phone enrolment code sent by voice call", true},
	tEmailReset:           {"system.email.password_reset.sent_message", "", "", "Password reset email sent", true},
	tSMSReset:             {"system.sms.send_password_reset_message", "", "", "Password reset code sent by SMS", true},
	tVoiceReset:           {"system.voice.send_password_reset_call", "", "", "Password reset code sent by voice call", true},
	tResetPassword:        {"user.account.reset_password", "", "", "Password reset by user", true},
	tUpdatePassword:       {"user.account.update_password", "core.user.config.password_update.success", "core.user.config.password_update.failure", "User changed password", true},
	tEmailUnlock:          {"system.email.account_unlock.sent_message", "", "", "Account unlock email sent", true},
	tSMSUnlock:            {"system.sms.send_account_unlock_message", "", "", "Account unlock code sent by SMS", true},
	tVoiceUnlock:          {"system.voice.send_account_unlock_call", "", "", "Account unlock code sent by voice call", true},
	tUnlockToken:          {"user.account.unlock_token", "", "", "Recovery token issued to unlock account", true},
	tUnlock:               {"user.account.unlock", "", "", "User account unlocked", true},
	tLock:                 {"user.account.lock", "core.user_auth.account_locked", "", "User account locked after too many failed sign-ins", true},
	tSessionEnd:           {"user.session.end", "core.user_auth.logout_success", "", "User signed out of Okta", false},
	tSLO:                  {"user.authentication.slo", "", "", "User signed out of an app (single logout)", false},
	tThreat:               {"security.threat.detected", "", "", "Suspicious request detected", true},
	tGroupAdd:             {"group.user_membership.add", "core.user_group_member.user_add", "", "User added to group", false},
	tAppAssign:            {"application.user_membership.add", "", "", "User assigned to app", false},
	tUserCreate:           {"user.lifecycle.create", "", "", "User created", false},
	tUserActivate:         {"user.lifecycle.activate", "", "", "User activated", false},
	tPrivilegeGrant:       {"user.account.privilege.grant", "", "", "Admin role granted to user", false},
	tPolicyRuleUpdate:     {"policy.rule.update", "policy.rule.updated", "", "Policy rule updated", false},
	tAPITokenCreate:       {"system.api_token.create", "", "", "API token created", false},
	tIdPCreate:            {"system.idp.lifecycle.create", "", "", "Identity provider created", false},
	tIdPUpdate:            {"system.idp.lifecycle.update", "", "", "Identity provider updated", false},
}

// EventTypes lists every event type the simulator can emit, in a fixed order.
func EventTypes() []string {
	out := make([]string, numTypes)
	for i := range etypes {
		out[i] = etypes[i].name
	}
	return out
}

// Outcome results, indexed.
const (
	rSuccess = iota
	rFailure
	rAllow
	rChallenge
	rDeny
	numResults
)

var results = [numResults]string{"SUCCESS", "FAILURE", "ALLOW", "CHALLENGE", "DENY"}

// Credential contexts of authenticationContext.
const (
	credNone = iota
	credPassword
	credOTP
	credSMS
	credEmail
	credVoice
	credPush
)

var creds = [...]struct{ provider, credProvider, credType string }{
	credNone:     {},
	credPassword: {"OKTA_AUTHENTICATION_PROVIDER", "OKTA_CREDENTIAL_PROVIDER", "PASSWORD"},
	credOTP:      {"FACTOR_PROVIDER", "OKTA_CREDENTIAL_PROVIDER", "OTP"},
	credSMS:      {"FACTOR_PROVIDER", "OKTA_CREDENTIAL_PROVIDER", "SMS"},
	credEmail:    {"FACTOR_PROVIDER", "OKTA_CREDENTIAL_PROVIDER", "EMAIL"},
	credVoice:    {"FACTOR_PROVIDER", "OKTA_CREDENTIAL_PROVIDER", "OTP"},
	credPush:     {"FACTOR_PROVIDER", "OKTA_CREDENTIAL_PROVIDER", ""},
}
