package detect

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/idlog/idlog/internal/filter"
)

// sigmaCases: for each SigmaHQ Okta rule (the copy in testdata/sigma, with
// its LICENSE and SOURCE), an event made to match it and one that differs in
// what the rule looks at. Events are LogEvent fragments.
var sigmaCases = map[string]struct{ hit, miss string }{
	"okta_password_health_report_query.yml": {
		`{"debugContext":{"debugData":{"requestUri":"/api/v1/reports/password-health/run"}}}`,
		`{"debugContext":{"debugData":{"requestUri":"/api/v1/reports/other"}}}`},
	"okta_apt_suspicious_user_creation.yml": {
		`{"eventType":"user.lifecycle.activate","target":[{"displayName":"Svc_Network_Backup"}]}`,
		`{"eventType":"user.lifecycle.suspend","target":[{"displayName":"svc_network_backup"}]}`},
	"okta_admin_role_assignment_created.yml": {
		`{"eventType":"iam.resourceset.bindings.add"}`, `{"eventType":"iam.resourceset.bindings.delete"}`},
	"okta_user_created.yml": {`{"eventType":"user.lifecycle.create"}`, `{"eventType":"user.lifecycle.delete"}`},
	"okta_policy_rule_modified_or_deleted.yml": {
		`{"eventType":"policy.rule.delete"}`, `{"eventType":"policy.rule.add"}`},
	"okta_fastpass_phishing_detection.yml": {
		`{"eventType":"user.authentication.auth_via_mfa","outcome":{"result":"FAILURE","reason":"FastPass declined phishing attempt"}}`,
		`{"eventType":"user.authentication.auth_via_mfa","outcome":{"result":"SUCCESS","reason":"FastPass declined phishing attempt"}}`},
	"okta_unauthorized_access_to_app.yml": {
		`{"displayMessage":"User attempted unauthorized access to app"}`, `{"displayMessage":"User accessed app"}`},
	"okta_user_account_locked_out.yml": {
		`{"displayMessage":"Max sign in attempts exceeded"}`, `{"displayMessage":"Max sign in attempts"}`},
	"okta_api_token_revoked.yml": {`{"eventType":"system.api_token.revoke"}`, `{"eventType":"system.api_token.create"}`},
	"okta_new_behaviours_admin_console.yml": {
		`{"eventType":"policy.evaluate_sign_on","target":[{"displayName":"Okta Admin Console"}],"debugContext":{"debugData":{"behaviors":"{New Device=POSITIVE}"}}}`,
		`{"eventType":"policy.evaluate_sign_on","target":[{"displayName":"Okta Admin Console"}],"debugContext":{"debugData":{"behaviors":"{New Device=NEGATIVE}"}}}`},
	"okta_application_modified_or_deleted.yml": {
		`{"eventType":"application.lifecycle.update"}`, `{"eventType":"application.lifecycle.create"}`},
	"okta_user_session_start_via_anonymised_proxy.yml": {
		`{"eventType":"user.session.start","securityContext":{"isProxy":true}}`,
		`{"eventType":"user.session.start","securityContext":{"isProxy":false}}`},
	"okta_mfa_reset_or_deactivated.yml": {
		`{"eventType":"user.mfa.factor.reset_all"}`, `{"eventType":"user.mfa.factor.activate"}`},
	"okta_admin_role_assigned_to_user_or_group.yml": {
		`{"eventType":"group.privilege.grant"}`, `{"eventType":"group.privilege.revoke"}`},
	"okta_api_token_created.yml":        {`{"eventType":"system.api_token.create"}`, `{"eventType":"system.api_token.update"}`},
	"okta_security_threat_detected.yml": {`{"eventType":"security.threat.detected"}`, `{"eventType":"security.threat.other"}`},
	"okta_suspicious_activity_enduser_report.yml": {
		`{"eventType":"user.account.report_suspicious_activity_by_enduser"}`, `{"eventType":"user.account.lock"}`},
	"okta_password_in_alternateid_field.yml": {
		`{"legacyEventType":"core.user_auth.login_failed","actor":{"alternateId":"Winter2026!"}}`,
		`{"legacyEventType":"core.user_auth.login_failed","actor":{"alternateId":"ann.lee@example.com"}}`},
	"okta_policy_modified_or_deleted.yml": {
		`{"eventType":"policy.lifecycle.delete"}`, `{"eventType":"policy.lifecycle.create"}`},
	"okta_admin_activity_from_proxy_query.yml": {
		`{"debugContext":{"debugData":{"requestUri":"/admin/users"}},"securityContext":{"isProxy":true}}`,
		`{"debugContext":{"debugData":{"requestUri":"/admin/users"}},"securityContext":{"isProxy":false}}`},
	"okta_network_zone_deactivated_or_deleted.yml": {`{"eventType":"zone.delete"}`, `{"eventType":"zone.update"}`},
	"okta_identity_provider_created.yml": {
		`{"eventType":"system.idp.lifecycle.create"}`, `{"eventType":"system.idp.lifecycle.update"}`},
	"okta_application_sign_on_policy_modified_or_deleted.yml": {
		`{"eventType":"application.policy.sign_on.rule.delete"}`, `{"eventType":"application.policy.sign_on.rule.create"}`},
}

// sigmaRefused: the rules idlog refuses at load, with the reason.
var sigmaRefused = map[string]string{
	"okta_session_impersonation_granted.yml": "placeholder",
}

func decode(t *testing.T, s string) any {
	t.Helper()
	doc, err := filter.DecodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return doc
}

func TestSigmaHQOktaRules(t *testing.T) {
	rules, bad, err := LoadDir("testdata/sigma")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules)+len(bad) != 24 {
		t.Fatalf("%d rules and %d refused, want the 24 files of the copy", len(rules), len(bad))
	}
	for _, b := range bad {
		want, ok := sigmaRefused[filepath.Base(b.File)]
		if !ok || !strings.Contains(b.Err.Error(), want) {
			t.Errorf("refused %s: %v", b.File, b.Err)
		}
	}
	if len(bad) != len(sigmaRefused) {
		t.Errorf("%d refused, want %d", len(bad), len(sigmaRefused))
	}
	tested := 0
	for _, r := range rules {
		name := filepath.Base(strings.TrimPrefix(r.Source, "sigma:"))
		c, ok := sigmaCases[name]
		if !ok {
			t.Errorf("%s: no test events", name)
			continue
		}
		tested++
		if !r.Match(decode(t, c.hit)) {
			t.Errorf("%s (%s) does not fire on %s", name, r.Title, c.hit)
		}
		if r.Match(decode(t, c.miss)) {
			t.Errorf("%s (%s) fires on %s", name, r.Title, c.miss)
		}
		if !strings.HasPrefix(r.ID, "sigma-") || r.Severity == "" {
			t.Errorf("%s: id %q severity %q", name, r.ID, r.Severity)
		}
	}
	if tested != len(sigmaCases) {
		t.Errorf("tested %d rules, have cases for %d", tested, len(sigmaCases))
	}
}

// TestSigmaForms covers the Sigma forms the Okta rules do not all use.
func TestSigmaForms(t *testing.T) {
	head := "title: t\nid: x\nlogsource:\n  product: okta\ndetection:\n"
	cases := []struct {
		det, doc string
		want     bool
	}{
		{"  sel:\n    eventType|startswith: 'User.'\n  condition: sel", `{"eventType":"user.session.start"}`, true},
		{"  sel:\n    eventType|endswith: '.START'\n  condition: sel", `{"eventType":"user.session.start"}`, true},
		{"  sel:\n    eventType|cased: 'User.session.start'\n  condition: sel", `{"eventType":"user.session.start"}`, false},
		{"  sel:\n    eventType: 'user.*.start'\n  condition: sel", `{"eventType":"user.session.start"}`, true},
		{"  sel:\n    eventType: 'user.?.start'\n  condition: sel", `{"eventType":"user.session.start"}`, false},
		{"  sel:\n    displayMessage|contains|all: [a, b]\n  condition: sel", `{"displayMessage":"xaxb"}`, true},
		{"  sel:\n    displayMessage|contains|all: [a, c]\n  condition: sel", `{"displayMessage":"xaxb"}`, false},
		{"  sel:\n    displayMessage|re: '^x.x'\n  condition: sel", `{"displayMessage":"xaxb"}`, true},
		{"  sel:\n    target.id: b\n  condition: sel", `{"target":[{"id":"a"},{"id":"b"}]}`, true},
		{"  sel:\n    outcome.reason: null\n  condition: sel", `{"outcome":{}}`, true},
		{"  sel:\n    outcome.reason|exists: true\n  condition: sel", `{"outcome":{}}`, false},
		{"  a:\n    eventType: x\n  b:\n    - severity: WARN\n    - severity: ERROR\n  condition: a and b", `{"eventType":"x","severity":"ERROR"}`, true},
		{"  a:\n    eventType: x\n  f1:\n    severity: WARN\n  condition: a and not 1 of f*", `{"eventType":"x","severity":"WARN"}`, false},
		{"  a1:\n    eventType: x\n  a2:\n    severity: WARN\n  condition: all of a*", `{"eventType":"x","severity":"INFO"}`, false},
		{"  a1:\n    eventType: x\n  a2:\n    severity: WARN\n  condition: 1 of them", `{"eventType":"x","severity":"INFO"}`, true},
		{"  a1:\n    eventType: x\n  a2:\n    severity: WARN\n  condition: not (a1 or a2)", `{"eventType":"y"}`, true},
		{"  sel:\n    securityContext.asNumber: 812\n  condition: sel", `{"securityContext":{"asNumber":812}}`, true},
	}
	for _, tc := range cases {
		r, err := ParseRule([]byte(head+tc.det), "t")
		if err != nil {
			t.Errorf("%s: %v", tc.det, err)
			continue
		}
		if got := r.Match(decode(t, tc.doc)); got != tc.want {
			t.Errorf("%s on %s = %v, want %v", tc.det, tc.doc, got, tc.want)
		}
	}
	refused := []struct{ src, why string }{
		{"title: t\nid: x\nlogsource:\n  product: windows\ndetection:\n  s:\n    a: b\n  condition: s", "only okta"},
		{head + "  s:\n    - keyword\n  condition: s", "keyword"},
		{head + "  s:\n    eventType|base64: x\n  condition: s", "modifier \"base64\""},
		{head + "  s:\n    eventType: x\n  condition: s | count() > 5", "aggregations"},
		{head + "  s:\n    eventType: x\n  condition: t", "unknown selection"},
		{head + "  s:\n    eventType|re: '('\n  condition: s", "missing closing"},
		{"title: t\nid: x\ncorrelation:\n  type: event_count\n", "correlation"},
	}
	for _, tc := range refused {
		_, err := ParseRule([]byte(tc.src), "t")
		if err == nil || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%q: error %v, want %q", tc.src, err, tc.why)
		}
	}
}
