package flows

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/flowdef"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC).UnixMilli()

// b builds hand-written events. Each line of spec is
//
//	SECONDS SESSION USER TYPE[=RESULT] [reason=R] [actor=A] [factor=F] [app=A] [ip=IP]
//
// where SESSION "-" means none and "~" in a value is a space. uuids are e1, e2, … in line order.
func b(spec string) []Event {
	var out []Event
	for _, line := range strings.Split(strings.TrimSpace(spec), "\n") {
		f := strings.Fields(line)
		var sec float64
		fmt.Sscan(f[0], &sec)
		typ, res, _ := strings.Cut(f[3], "=")
		if res == "" {
			res = "SUCCESS"
		}
		e := Event{UUID: fmt.Sprintf("e%d", len(out)+1), Published: t0 + int64(sec*1000), Type: typ, Result: res,
			User: f[2], Actor: f[2], ActorName: f[2] + "@example.com", UserLogin: f[2] + "@example.com"}
		if f[1] != "-" {
			e.Session = f[1]
		}
		for _, kv := range f[4:] {
			k, v, _ := strings.Cut(kv, "=")
			v = strings.ReplaceAll(v, "~", " ")
			switch k {
			case "reason":
				e.Reason = v
			case "actor":
				e.Actor, e.ActorName = v, v+"@example.com"
			case "factor":
				e.Factor = v
			case "app":
				e.App = v
			case "ip":
				e.IP = v
			}
		}
		out = append(out, e)
	}
	return out
}

// summary renders instances as "kind status stoppedAt [uuids]" lines.
func summary(ins []*Instance) string {
	var lines []string
	for _, in := range ins {
		line := fmt.Sprintf("%s %s %s %v", in.Kind, in.Status, in.StoppedAt, in.UUIDs)
		if in.Ambiguous {
			line += " ambiguous"
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

const (
	start   = "user.session.start"
	policy  = "policy.evaluate_sign_on"
	verify  = "user.authentication.verify"
	push    = "system.push.send_factor_verify_push"
	sms     = "system.sms.send_factor_verify_message"
	viaMFA  = "user.authentication.auth_via_mfa"
	denyPsh = "user.mfa.okta_verify.deny_push"
	enroll  = "user.mfa.factor.activate"
	sso     = "user.authentication.sso"
	appDeny = "application.policy.sign_on.deny_access"
)

func TestReconstructCases(t *testing.T) {
	cases := []struct {
		name, events, want string
	}{
		{"sign in with push", `
0 s1 u1 ` + start + `
0.1 s1 u1 ` + policy + `=CHALLENGE
0.2 s1 u1 ` + push + ` factor=OKTA_VERIFY_PUSH
9 s1 u1 ` + viaMFA + `
10 s1 u1 ` + verify,
			"signin completed  [e1 e2 e3 e4 e5]"},
		{"wrong password, then the lock, then a good sign-in", `
0 - u1 ` + start + `=FAILURE reason=INVALID_CREDENTIALS
20 - u1 ` + start + `=FAILURE reason=INVALID_CREDENTIALS
20.1 - u1 user.account.lock=FAILURE reason=LOCKED_OUT
60 - u1 ` + start + `=FAILURE reason=LOCKED_OUT`,
			"signin failed session_start [e1]\nsignin failed lock [e2 e3]\nsignin failed session_start [e4]"},
		{"denied by the sign-on policy", `
0 s1 u1 ` + start + `
0.1 s1 u1 ` + policy + `=DENY reason=Sign-on~policy~evaluation~resulted~in~DENY`,
			"signin denied policy [e1 e2]"},
		{"push never answered, then a new sign-in", `
0 s1 u1 ` + start + `
0.1 s1 u1 ` + policy + `=CHALLENGE
0.2 s1 u1 ` + push + `
60 s1 u1 ` + push + `
300 s2 u1 ` + start + `
300.1 s2 u1 ` + policy + `=ALLOW
301 s2 u1 ` + verify,
			"signin abandoned mfa_challenge [e1 e2 e3 e4]\nsignin completed  [e5 e6 e7]"},
		{"push refused (Classic Engine)", `
0 s1 u1 ` + start + `
0.1 s1 u1 ` + policy + `=CHALLENGE
0.2 s1 u1 ` + push + `
5 s1 u1 ` + denyPsh + `=FAILURE`,
			"signin failed mfa_verify [e1 e2 e3 e4]"},
		{"first enrolment during sign-in", `
0 s1 u1 ` + start + `
0.1 s1 u1 ` + policy + `=CHALLENGE
40 s1 u1 ` + enroll + `
41 s1 u1 ` + verify,
			"signin completed  [e1 e2 e3 e4]"},
		{"app access, app with step-up by SMS, app denied", `
0 s1 u1 ` + sso + ` app=Slack
600 s1 u1 ` + sms + `
620 s1 u1 ` + viaMFA + `
621 s1 u1 ` + sso + ` app=Workday
1200 s1 u1 ` + appDeny + `=DENY app=Admin`,
			"app_signin completed  [e1]\napp_signin completed  [e2 e3 e4]\napp_signin denied access [e5]"},
		// A prompt that fails or is left with nothing after it fits an app
		// access and a step-up equally: Preference picks the app, and the
		// instance says it is ambiguous.
		{"step-up answered; a wrong code and an unanswered push read as app accesses", `
0 s1 u1 ` + sms + `
10 s1 u1 ` + viaMFA + `
1000 s1 u1 ` + sms + `
1010 s1 u1 ` + viaMFA + `=FAILURE reason=INVALID_CREDENTIALS
2000 s1 u1 ` + push,
			"mfa completed  [e1 e2]\napp_signin failed mfa_verify [e3 e4] ambiguous\napp_signin abandoned mfa_challenge [e5] ambiguous"},
		{"an unanswered push is not continued by a later access", `
0 s1 u1 ` + push + `
120 s1 u1 ` + sso,
			"app_signin abandoned mfa_challenge [e1] ambiguous\napp_signin completed  [e2]"},
		{"reset abandoned after the email, then retried", `
0 r1 u1 system.email.password_reset.sent_message
900 r2 u1 system.email.password_reset.sent_message
1000 r2 u1 user.account.reset_password
1060 r2 u1 user.account.update_password=FAILURE reason=Password~requirements~were~not~met
1100 r2 u1 user.account.update_password`,
			"sspr abandoned reset_message [e1]\nsspr completed  [e2 e3 e4 e5]"},
		{"reset abandoned and retried without session ids", `
0 - u1 system.sms.send_password_reset_message
100 - u1 system.sms.send_password_reset_message
160 - u1 user.account.reset_password
1900 - u1 system.sms.send_password_reset_message`,
			"sspr abandoned reset_password [e1 e2 e3] ambiguous\nsspr abandoned reset_message [e4]"},
		{"unlock", `
0 x1 u1 system.email.account_unlock.sent_message
200 x1 u1 user.account.unlock_token
203 x1 u1 user.account.unlock`,
			"unlock completed  [e1 e2 e3]"},
		{"logout with single logout", `
0 s1 u1 user.session.end
0.2 s1 u1 user.authentication.slo app=Box
0.4 s1 u1 user.authentication.slo app=Slack`,
			"logout completed  [e1 e2 e3]"},
		{"a phone added by the user", `
0 s1 u1 system.sms.send_phone_verification_message
30 s1 u1 ` + enroll,
			"factor_change completed  [e1 e2] ambiguous"},
		{"an admin resets a user's factors from the admin's own session, between the admin's app sign-ins", `
0 a1 adm ` + push + `
0.5 a1 u9 user.mfa.factor.reset_all actor=adm
8 a1 adm ` + viaMFA + `
9 a1 adm ` + sso + `
60 a1 u9 user.mfa.factor.suspend actor=adm`,
			"app_signin completed  [e1 e3 e4]\nfactor_change completed  [e2]\nfactor_change completed  [e5]"},
		{"one user on two devices, interleaved", `
0 lap u1 ` + start + `
0.1 lap u1 ` + policy + `=CHALLENGE
0.2 lap u1 ` + push + `
1 phone u1 ` + start + `
1.1 phone u1 ` + policy + `=ALLOW
2 phone u1 ` + verify + `
3 phone u1 ` + sso + `
6 lap u1 ` + viaMFA + `
7 lap u1 ` + verify + `
8 lap u1 ` + sso,
			"signin completed  [e1 e2 e3 e8 e9]\nsignin completed  [e4 e5 e6]\napp_signin completed  [e7]\napp_signin completed  [e10]"},
		{"admin noise is its own instance", `
0 - adm group.user_membership.add
1 - adm user.authentication.verify`,
			"other completed  [e1]\nother completed  [e2]"},
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

// TestInstanceDetail checks the timeline of one abandoned and one admin
// instance: step states, the missing step, reason, time between steps and
// the attributes.
func TestInstanceDetail(t *testing.T) {
	ins := Reconstruct(b(`
0 s1 u1 ` + start + `
0.5 s1 u1 ` + policy + `=CHALLENGE
2.5 s1 u1 ` + push + ` factor=OKTA_VERIFY_PUSH
5 a1 u9 user.mfa.factor.reset_all actor=adm`))
	if len(ins) != 2 {
		t.Fatalf("got %d instances:\n%s", len(ins), summary(ins))
	}
	in := ins[0]
	var states []string
	for _, s := range in.Steps {
		states = append(states, s.Name+":"+string(s.State))
	}
	want := "session_start:done lock:skipped policy:done mfa_challenge:done mfa_verify:missing enroll_challenge:not_reached enroll_verify:not_reached mfa_enroll:not_reached reevaluate:not_reached verify:not_reached"
	if got := strings.Join(states, " "); got != want {
		t.Errorf("steps\n got %s\nwant %s", got, want)
	}
	if in.Missing != "mfa_verify" || in.Reason != "no mfa_verify within 10m" || in.Factor != "OKTA_VERIFY_PUSH" {
		t.Errorf("missing %q reason %q factor %q", in.Missing, in.Reason, in.Factor)
	}
	if in.Steps[2].AfterMS != 500 || in.Steps[3].AfterMS != 2000 || in.DurationMS != 2500 {
		t.Errorf("times: policy after %d ms, challenge after %d ms, duration %d ms", in.Steps[2].AfterMS, in.Steps[3].AfterMS, in.DurationMS)
	}
	if ev := in.Events[2]; ev.Step != "mfa_challenge" || !ev.Time.Equal(time.UnixMilli(t0+2500)) {
		t.Errorf("event 3: step %q at %v", ev.Step, ev.Time)
	}
	adm := ins[1]
	if adm.Kind != flowdef.FactorChange || adm.User != "u9" || adm.Actor != "adm@example.com" {
		t.Errorf("admin instance: kind %s user %s actor %s", adm.Kind, adm.User, adm.Actor)
	}
}

// TestAbandonedAfterMaxGap: a challenge answered after the flow's MaxGap
// is two instances, the first abandoned.
func TestAbandonedAfterMaxGap(t *testing.T) {
	late := 11 * 60
	ins := Reconstruct(b(fmt.Sprintf(`
0 s1 u1 %s
%d s1 u1 %s`, sms, late, viaMFA)))
	if got, want := summary(ins), "app_signin abandoned mfa_challenge [e1] ambiguous\nmfa completed  [e2]"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestFunnel(t *testing.T) {
	ins := Reconstruct(b(`
0 r1 u1 system.email.password_reset.sent_message
900 r2 u1 system.email.password_reset.sent_message
1000 r2 u1 user.account.reset_password
1060 r2 u1 user.account.update_password=FAILURE reason=Password~requirements~were~not~met
1100 r2 u1 user.account.update_password
0 r3 u2 system.sms.send_password_reset_message factor=SMS_FACTOR
50 r3 u2 user.account.reset_password factor=SMS_FACTOR
0 r4 u3 system.sms.send_password_reset_message factor=SMS_FACTOR
30 r4 u3 ` + sms + ` factor=SMS_FACTOR
40 r4 u3 ` + viaMFA + `=FAILURE reason=INVALID_CREDENTIALS factor=SMS_FACTOR
0 s9 u4 ` + sso))
	fn, err := BuildFunnel(flowdef.SSPR, ins, "factor")
	if err != nil {
		t.Fatal(err)
	}
	if fn.Instances != 4 || fn.Completed != 1 || fn.Abandoned != 2 || fn.Failed != 1 {
		t.Fatalf("funnel totals %+v", fn)
	}
	got := ""
	for _, s := range fn.Steps {
		got += fmt.Sprintf("%s:%d/%d ", s.Name, s.Reached, s.Stopped)
	}
	if want := "reset_message:4/1 mfa_challenge:1/0 mfa_verify:1/1 reset_password:2/1 update_password:1/0 "; got != want {
		t.Errorf("steps\n got %s\nwant %s", got, want)
	}
	if r := fn.Steps[2].Reasons; len(r) != 1 || r[0] != (ReasonCount{"INVALID_CREDENTIALS", 1}) {
		t.Errorf("mfa_verify reasons %v", r)
	}
	// Two each: equal sizes go in order of value.
	if len(fn.Parts) != 2 || fn.Parts[0].Value != "(none)" || fn.Parts[1].Value != "SMS_FACTOR" ||
		fn.Parts[1].Instances != 2 || fn.Parts[1].Failed != 1 || fn.Parts[0].Completed != 1 {
		for _, p := range fn.Parts {
			t.Errorf("split by factor: %s: %d instances, %d completed, %d failed", p.Value, p.Instances, p.Completed, p.Failed)
		}
	}
	if _, err := BuildFunnel("nope", ins, ""); err == nil {
		t.Error("unknown flow accepted")
	}
	if _, err := BuildFunnel(flowdef.SSPR, ins, "shoe size"); err == nil {
		t.Error("unknown split accepted")
	}
}

// TestIndexWindow: an index streamed event by event gives the funnel of the
// instances that started in the window asked for.
func TestIndexWindow(t *testing.T) {
	x := NewIndex()
	for _, e := range b(`
0 r1 u1 system.email.password_reset.sent_message
900 r2 u1 system.email.password_reset.sent_message
1000 r2 u1 user.account.reset_password
1100 r2 u1 user.account.update_password
2000 s1 u2 ` + sso) {
		x.Add(e)
	}
	x.Flush()
	if x.Len() != 3 {
		t.Fatalf("%d instances kept, want 3", x.Len())
	}
	for _, c := range []struct {
		since, until int64 // seconds after t0; -1 open
		n, completed int
	}{
		{-1, -1, 2, 1},
		{1, -1, 1, 1},
		{-1, 900, 1, 0},
		{901, 5000, 0, 0},
	} {
		var since, until time.Time
		if c.since >= 0 {
			since = time.UnixMilli(t0 + c.since*1000)
		}
		if c.until >= 0 {
			until = time.UnixMilli(t0 + c.until*1000)
		}
		fn, err := x.Funnel(flowdef.SSPR, since, until, "")
		if err != nil {
			t.Fatal(err)
		}
		if fn.Instances != c.n || fn.Completed != c.completed {
			t.Errorf("[%d, %d): %d instances, %d completed; want %d, %d", c.since, c.until, fn.Instances, fn.Completed, c.n, c.completed)
		}
	}
}

// TestEachFactor: a sign-in challenged with each factor's message, and
// abandoned or refused with each, ends where it should and names the factor.
func TestEachFactor(t *testing.T) {
	for _, c := range []struct{ factor, send string }{
		{"OKTA_VERIFY_PUSH", push},
		{"SMS_FACTOR", sms},
		{"CALL_FACTOR", "system.voice.send_mfa_challenge_call"},
		{"EMAIL_FACTOR", "system.email.send_factor_verify_message"},
		{"GOOGLE_OTP", ""}, // nothing is sent: the code comes from the app
	} {
		head := `
0 s1 u1 ` + start + `
0.1 s1 u1 ` + policy + `=CHALLENGE`
		if c.send != "" {
			head += `
0.2 s1 u1 ` + c.send + ` factor=` + c.factor
		}
		ok := head + `
20 s1 u1 ` + viaMFA + ` factor=` + c.factor + `
21 s1 u1 ` + verify
		bad := head + `
20 s1 u1 ` + viaMFA + `=FAILURE reason=INVALID_CREDENTIALS factor=` + c.factor
		for _, run := range []struct{ events, status, stopped string }{
			{ok, "completed", ""},
			{bad, "failed", "mfa_verify"},
		} {
			ins := Reconstruct(b(run.events))
			if len(ins) != 1 {
				t.Fatalf("%s: %d instances:\n%s", c.factor, len(ins), summary(ins))
			}
			in := ins[0]
			if in.Kind != flowdef.SignIn || string(in.Status) != run.status || in.StoppedAt != run.stopped || in.Factor != c.factor {
				t.Errorf("%s: %s %s at %q with factor %q; want signin %s at %q", c.factor, in.Kind, in.Status, in.StoppedAt, in.Factor, run.status, run.stopped)
			}
		}
		if c.send != "" {
			ins := Reconstruct(b(head))
			if len(ins) != 1 || ins[0].Status != flowdef.Abandoned || ins[0].Missing != "mfa_verify" {
				t.Errorf("%s unanswered: %s", c.factor, summary(ins))
			}
		}
	}
}
