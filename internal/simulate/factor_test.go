package simulate

import (
	"slices"
	"testing"

	"github.com/idlog/idlog/internal/flowdef"
)

// TestEachFactor signs a user in with every authenticator and every way an
// MFA prompt can go, and checks the events against the seed's MFA table and
// the flow definition.
func TestEachFactor(t *testing.T) {
	send := map[int]string{
		fPush: "system.push.send_factor_verify_push", fSMS: "system.sms.send_factor_verify_message",
		fVoice: "system.voice.send_mfa_challenge_call", fEmail: "system.email.send_factor_verify_message",
	}
	enrolSend := map[int]string{
		fSMS: "system.sms.send_phone_verification_message", fVoice: "system.voice.send_phone_verification_call",
		fEmail: "system.email.send_factor_verify_message",
	}
	def, _ := flowdef.Lookup(flowdef.SignIn)
	for f := 0; f < numFactors; f++ {
		for _, c := range []struct {
			mode   mfaMode
			status flowdef.Status
		}{{mfaOK, flowdef.Completed}, {mfaEnroll, flowdef.Completed}, {mfaWrongCode, flowdef.Completed}, {mfaUnanswered, flowdef.Abandoned}, {mfaDenied, flowdef.Failed}} {
			if c.mode == mfaDenied && f != fPush {
				continue
			}
			g := New(Config{Users: 3, Days: 2, End: testEnd, Seed: int64(10*f + int(c.mode))})
			u := g.users[0]
			u.factor, u.enrolled = f, c.mode != mfaEnroll
			mode := c.mode
			if mode == mfaEnroll {
				mode = mfaOK
			}
			g.truth = func([]byte) error { return nil }
			_, sess := g.signIn(u, g.start+3600000, u.homeNet, signOpts{mfa: mode})
			var types []string
			var evs []flowdef.Event
			for _, e := range g.pending {
				types = append(types, etypes[e.typ].name)
				evs = append(evs, flowdef.Event{Type: etypes[e.typ].name, Result: results[e.result]})
			}
			got, err := def.Check(evs)
			if err != nil {
				t.Fatalf("factor %d mode %d: %v: %v", f, c.mode, err, types)
			}
			status := got.Status
			if c.mode == mfaUnanswered && f == fTOTP {
				// No code is ever sent: the flow stops at the policy.
				if status != flowdef.Abandoned || got.StoppedAt != "policy" {
					t.Errorf("TOTP unanswered: %s at %s", status, got.StoppedAt)
				}
				continue
			}
			if status != c.status || (sess != "") != (c.status == flowdef.Completed) {
				t.Errorf("factor %d mode %d: %s (session %q), want %s: %v", f, c.mode, status, sess, c.status, types)
			}
			want := send[f]
			if c.mode == mfaEnroll {
				want = enrolSend[f]
				if !slices.Contains(types, "user.mfa.factor.activate") || !u.enrolled {
					t.Errorf("factor %d enrolment without activation: %v", f, types)
				}
			}
			if want != "" && !slices.Contains(types, want) {
				t.Errorf("factor %d mode %d: no %s in %v", f, c.mode, want, types)
			}
			if want == "" && slices.ContainsFunc(types, func(s string) bool { return len(s) > 7 && s[:7] == "system." }) {
				t.Errorf("factor %d mode %d sends something: %v", f, c.mode, types)
			}
		}
	}
}

// TestRecoveryChannels runs password resets and unlocks for people of each
// factor, completed and abandoned, against their definitions.
func TestRecoveryChannels(t *testing.T) {
	sspr, _ := flowdef.Lookup(flowdef.SSPR)
	unlock, _ := flowdef.Lookup(flowdef.Unlock)
	starts := map[string]bool{}
	for f := 0; f < numFactors; f++ {
		for stop := 0; stop < 3; stop++ {
			g := New(Config{Users: 2, Days: 2, End: testEnd, Seed: int64(f*3 + stop)})
			u := g.users[0]
			u.factor, u.enrolled = f, true
			g.truth = func([]byte) error { return nil }
			t0 := g.start + 3600000
			t1 := g.sspr(u, t0, u.homeNet, stop)
			n := len(g.pending)
			u.locked = true
			g.unlock(u, t1+60000, u.homeNet, stop == 1)
			for _, c := range []struct {
				def    flowdef.Flow
				evs    []event
				status flowdef.Status
			}{
				{sspr, g.pending[:n], map[int]flowdef.Status{0: flowdef.Completed, 1: flowdef.Abandoned, 2: flowdef.Abandoned}[stop]},
				{unlock, g.pending[n:], map[bool]flowdef.Status{false: flowdef.Completed, true: flowdef.Abandoned}[stop == 1]},
			} {
				var evs []flowdef.Event
				for _, e := range c.evs {
					evs = append(evs, flowdef.Event{Type: etypes[e.typ].name, Result: results[e.result]})
				}
				got, err := c.def.Check(evs)
				if err != nil || got.Status != c.status {
					t.Errorf("%s, factor %d, stop %d: %s %v: %v", c.def.Kind, f, stop, got.Status, err, evs)
					continue
				}
				starts[evs[0].Type] = true
				if f == fVoice && !slices.Contains([]string{"system.voice.send_password_reset_call", "system.voice.send_account_unlock_call"}, evs[0].Type) {
					t.Errorf("%s for a voice user starts with %s", c.def.Kind, evs[0].Type)
				}
			}
			// A completed unlock clears the lock, an abandoned one does not.
			if u.locked != (stop == 1) {
				t.Errorf("factor %d stop %d: locked=%v after unlock", f, stop, u.locked)
			}
		}
	}
	for _, want := range []string{"system.email.password_reset.sent_message", "system.sms.send_password_reset_message", "system.voice.send_password_reset_call",
		"system.email.account_unlock.sent_message", "system.sms.send_account_unlock_message", "system.voice.send_account_unlock_call"} {
		if !starts[want] {
			t.Errorf("no flow started with %s", want)
		}
	}
}

// TestSignInPlans covers the sign-in outcomes too rare to count on in a
// random log: a policy deny, the attempt that locks the account, one while
// locked.
func TestSignInPlans(t *testing.T) {
	def, _ := flowdef.Lookup(flowdef.SignIn)
	for _, c := range []struct {
		plan      signPlan
		status    flowdef.Status
		stoppedAt string
		last      string
	}{
		{planPolicyDeny, flowdef.Denied, "policy", "policy.evaluate_sign_on=DENY"},
		{planLockNow, flowdef.Failed, "lock", "user.account.lock=FAILURE"},
		{planLocked, flowdef.Failed, "session_start", "user.session.start=FAILURE"},
		{planBadPassword, flowdef.Failed, "session_start", "user.session.start=FAILURE"},
	} {
		g := New(Config{Users: 2, Days: 2, End: testEnd, Seed: int64(c.plan)})
		u := g.users[0]
		_, sess := g.signIn(u, g.start+3600000, u.homeNet, signOpts{plan: c.plan})
		var evs []flowdef.Event
		for _, e := range g.pending {
			evs = append(evs, flowdef.Event{Type: etypes[e.typ].name, Result: results[e.result]})
		}
		got, err := def.Check(evs)
		last := evs[len(evs)-1]
		if err != nil || got.Status != c.status || got.StoppedAt != c.stoppedAt || last.Type+"="+last.Result != c.last || sess != "" {
			t.Errorf("plan %d: %s at %s (%v), session %q: %v", c.plan, got.Status, got.StoppedAt, err, sess, evs)
		}
		if u.locked != (c.plan == planLockNow) {
			t.Errorf("plan %d: locked=%v", c.plan, u.locked)
		}
	}
}
