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
