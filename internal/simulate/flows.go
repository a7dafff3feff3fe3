package simulate

import (
	"github.com/idlog/idlog/internal/flowdef"
)

// flowBuf collects the events of the flow instance being generated. Flows
// are generated one at a time, so one buffer is reused.
type flowBuf struct {
	kind    string
	user    *user // whose flow it is (the target when an admin acts)
	actor   *party
	evs     []event
	t       int64
	net     *netCtx
	sess    string
	tx      uint64
	uri     string
	classic bool // Classic Engine /api/v1/authn sign-in (102… sessions)
}

func (g *Generator) begin(kind string, u *user, t int64, net *netCtx, sess string) *flowBuf {
	f := &g.fl
	*f = flowBuf{kind: kind, user: u, evs: f.evs[:0], t: t, net: net, sess: sess}
	if u != nil {
		f.actor = u.p
	}
	return f
}

// request starts a new HTTP request within the flow: a new transaction id.
func (g *Generator) request(uri string) {
	g.fl.tx = g.r.Uint64()
	g.fl.uri = uri
}

// add appends an event at the flow's clock and moves the clock on a little,
// so the events of one flow are strictly ordered.
func (g *Generator) add(typ, result uint8) *event {
	f := &g.fl
	f.evs = append(f.evs, event{t: f.t, rnd: g.r.Uint64(), typ: typ, result: result,
		actor: f.actor, net: f.net, sess: f.sess, tx: f.tx, uri: f.uri})
	f.t += g.between(8, 120)
	return &f.evs[len(f.evs)-1]
}

func (e *event) targets(ps ...*party) *event {
	e.nt = uint8(copy(e.tg[:], ps))
	return e
}

func (g *Generator) wait(lo, hi int64) { g.fl.t += g.between(lo, hi) }

// stepOf maps a flow kind and event type to the flowdef step it satisfies,
// for the stoppedAt of ground truth.
var stepOf = func() map[[2]string]string {
	m := map[[2]string]string{}
	for _, f := range flowdef.All() {
		for _, s := range f.Steps {
			for _, t := range s.EventTypes {
				if _, ok := m[[2]string{f.Kind, t}]; !ok {
					m[[2]string{f.Kind, t}] = s.Name
				}
			}
		}
	}
	return m
}()

// commit files the flow: its events join the pending output and, when
// truth is wanted, its record is written. Flows not wholly inside the window
// are dropped, so every emitted event is described exactly once.
func (g *Generator) commit(status flowdef.Status, reason string) {
	f := &g.fl
	if len(f.evs) == 0 || f.evs[0].t < g.start || f.evs[len(f.evs)-1].t >= g.end {
		return
	}
	g.pending = append(g.pending, f.evs...)
	if g.attack != nil {
		for i := range f.evs {
			g.attack.evs = append(g.attack.evs, [2]uint64{uint64(f.evs[i].t), f.evs[i].rnd})
		}
	}
	if g.truth == nil || g.err != nil {
		return
	}
	stopped := ""
	if status != flowdef.Completed {
		stopped = stepOf[[2]string{f.kind, etypes[f.evs[len(f.evs)-1].typ].name}]
	}
	b := append(g.tbuf[:0], `{"kind":"`...)
	b = append(b, f.kind...)
	b = append(b, `","status":"`...)
	b = append(b, status...)
	b = append(b, `","stoppedAt":"`...)
	b = append(b, stopped...)
	b = append(b, `","reason":"`...)
	b = append(b, reason...)
	b = append(b, `","user":"`...)
	if f.user != nil {
		b = append(b, f.user.p.id...)
	}
	b = append(b, `","uuids":[`...)
	for i := range f.evs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = appendUUID(b, f.evs[i].t, f.evs[i].rnd)
		b = append(b, '"')
	}
	b = append(b, "]}"...)
	g.tbuf = b
	g.err = g.truth(b)
}

// Reasons in ground truth. Outcome reasons in the events are Okta's.
const (
	whyBadPassword = "INVALID_CREDENTIALS"
	whyLockedOut   = "LOCKED_OUT"
	whyUnknownUser = "UNKNOWN_USER"
	whyPolicyDeny  = "POLICY_DENY"
	whyAppDeny     = "APP_POLICY_DENY"
	whyUnanswered  = "MFA_NOT_ANSWERED"
	whyPushDenied  = "PUSH_DENIED"
	whyWrongCode   = "MFA_INVALID_CODE"
	whyAbandoned   = "USER_ABANDONED"
	whyPwdPolicy   = "PASSWORD_POLICY"
)

// What happens at the MFA prompt.
type mfaMode int

const (
	mfaOK mfaMode = iota
	mfaUnanswered
	mfaDenied
	mfaWrongCode // a wrong code first, then the right one
	mfaEnroll
)

// mfa adds the MFA events of the current flow and says whether the user got
// through.
func (g *Generator) mfa(u *user, mode mfaMode) bool {
	f := &g.fl
	fac := u.factor
	fp := u.factors[fac]
	fi := &factorInfo[fac]
	challenge, answer := "/idp/idx/challenge", "/idp/idx/challenge/answer"
	if f.classic {
		challenge, answer = "/api/v1/authn/factors/"+fp.id+"/verify", "/api/v1/authn/factors/"+fp.id+"/verify"
	}
	if mode == mfaEnroll {
		g.request("/idp/idx/credential/enroll")
		switch fac {
		case fSMS:
			g.add(tSendSMSPhoneVerify, rSuccess).targets(u.p, fp).factor = fi.debug
			g.wait(15000, 60000)
		case fVoice:
			g.add(tSendVoicePhoneVerify, rSuccess).targets(u.p, fp).factor = fi.debug
			g.wait(25000, 70000)
		case fEmail:
			g.add(tSendEmailVerify, rSuccess).targets(u.p, fp).factor = fi.debug
			g.wait(30000, 180000)
		default:
			g.wait(20000, 90000) // scanning the QR code
		}
		if fac != fPush {
			g.request(answer)
			e := g.add(tAuthViaMFA, rSuccess).targets(fp)
			e.factor, e.cred = fi.debug, fi.cred
		}
		g.add(tFactorActivate, rSuccess).targets(u.p, fp).factor = fi.debug
		u.enrolled = true
		return true
	}
	g.request(challenge)
	switch fac {
	case fPush:
		g.add(tSendPush, rSuccess).targets(u.p, fp).factor = fi.debug
		if mode == mfaUnanswered {
			if g.chance(0.5) { // "resend push"
				g.wait(30000, 90000)
				g.request(challenge)
				g.add(tSendPush, rSuccess).targets(u.p, fp).factor = fi.debug
			}
			return false
		}
		g.wait(3000, 25000)
	case fSMS:
		g.add(tSendSMSVerify, rSuccess).targets(u.p, fp).factor = fi.debug
		g.wait(15000, 60000)
	case fVoice:
		g.add(tSendVoiceChallenge, rSuccess).targets(u.p, fp).factor = fi.debug
		g.wait(25000, 70000)
	case fEmail:
		g.add(tSendEmailVerify, rSuccess).targets(u.p, fp).factor = fi.debug
		g.wait(30000, 180000)
	case fTOTP:
		g.wait(5000, 25000)
	}
	if mode == mfaUnanswered {
		return false
	}
	g.request(answer)
	if mode == mfaDenied && f.classic {
		// Classic Engine records the refusal as its own event.
		g.add(tDenyPush, rFailure).targets(u.p, fp).factor = fi.debug
		return false
	}
	if mode == mfaDenied || (mode == mfaWrongCode && fac != fPush) {
		e := g.add(tAuthViaMFA, rFailure).targets(fp)
		e.factor, e.cred, e.reason = fi.debug, fi.cred, "INVALID_CREDENTIALS"
		if mode == mfaDenied {
			return false
		}
		g.wait(8000, 40000)
		g.request(answer)
	}
	e := g.add(tAuthViaMFA, rSuccess).targets(fp)
	e.factor, e.cred = fi.debug, fi.cred
	return true
}

// How a sign-in to Okta goes.
type signPlan int

const (
	planOK signPlan = iota
	planBadPassword
	planLockNow // the failed attempt that locks the account
	planLocked  // an attempt while locked
	planPolicyDeny
)

// signOpts adjust a sign-in: who signs in from where and what Okta thinks
// of it.
type signOpts struct {
	plan      signPlan
	mfa       mfaMode
	behaviors string // "" computes them from the user's known places
	risk      string
	threat    bool
	noMFA     bool // policy allows without a second factor
}

// signIn generates one sign-in to Okta and returns its end and the session
// it established ("" if none).
func (g *Generator) signIn(u *user, t int64, net *netCtx, o signOpts) (int64, string) {
	f := g.begin(flowdef.SignIn, u, t, net, "")
	f.classic = g.chance(0.2)
	identify := "/idp/idx/identify"
	if f.classic {
		identify = "/api/v1/authn"
	}
	beh, risk := o.behaviors, o.risk
	if beh == "" {
		beh, risk = g.behaviors(u, net)
	}
	g.request(identify)
	switch o.plan {
	case planBadPassword, planLockNow, planLocked:
		why := whyBadPassword
		e := g.add(tSessionStart, rFailure).targets(u.password, g.dash)
		e.reason, e.cred, e.behaviors, e.risk, e.threat = "INVALID_CREDENTIALS", credPassword, beh, risk, o.threat
		if o.plan == planLocked {
			e.reason, why = "LOCKED_OUT", whyLockedOut
		}
		if o.plan == planLockNow {
			l := g.add(tLock, rFailure).targets(u.p)
			l.reason = "LOCKED_OUT"
			u.locked = true
			why = whyLockedOut
		}
		g.commit(flowdef.Failed, why)
		return f.t, ""
	}
	if f.classic {
		f.sess = g.token("102", 22)
	} else {
		f.sess = g.token("idx", 22)
	}
	e := g.add(tSessionStart, rSuccess).targets(u.password, g.dash)
	e.cred, e.behaviors, e.risk, e.threat = credPassword, beh, risk, o.threat
	pol := g.add(tPolicyEval, rChallenge)
	pol.behaviors, pol.risk, pol.threat = beh, risk, o.threat
	switch {
	case o.plan == planPolicyDeny:
		pol.result, pol.reason = rDeny, "Sign-on policy evaluation resulted in DENY"
		pol.targets(g.policy, g.rules[2])
		g.commit(flowdef.Denied, whyPolicyDeny)
		return f.t, ""
	case (o.noMFA || (net.zone == "Offices" && g.chance(0.5))) && u.enrolled && o.mfa == mfaOK:
		pol.result, pol.reason = rAllow, "Sign-on policy evaluation resulted in ALLOW"
		pol.targets(g.policy, g.rules[1])
	default:
		pol.reason = "Sign-on policy evaluation resulted in CHALLENGE"
		pol.targets(g.policy, g.rules[0])
		mode := o.mfa
		if !u.enrolled {
			mode = mfaEnroll
		}
		if !g.mfa(u, mode) {
			if mode == mfaUnanswered {
				g.commit(flowdef.Abandoned, whyUnanswered)
			} else {
				g.commit(flowdef.Failed, whyPushDenied)
			}
			return f.t, ""
		}
		g.wait(200, 1500)
	}
	g.request(identify)
	g.add(tAuthVerify, rSuccess).targets(u.p)
	why := ""
	if o.mfa == mfaWrongCode && u.factor != fPush {
		why = whyWrongCode // recovered from a wrong code
	}
	g.commit(flowdef.Completed, why)
	return f.t, f.sess
}

// behaviors renders Okta's behavior detection for a sign-in from net.
func (g *Generator) behaviors(u *user, net *netCtx) (string, string) {
	known := net == u.homeNet || net == u.office || net == u.mobile || net == u.lastNet
	if known {
		return behaviorsNormal, "{level=LOW}"
	}
	sameCity := net.city == u.home
	sameCountry := net.city.cc == u.home.cc
	return behaviorString(!sameCity, true, true, !sameCity, !sameCountry, false, !sameCity), "{reasons=Anomalous Location, level=MEDIUM}"
}

var behaviorsNormal = behaviorString(false, false, false, false, false, false, false)

func behaviorString(geo, device, ip, state, country, velocity, city bool) string {
	v := func(b bool) string {
		if b {
			return "POSITIVE"
		}
		return "NEGATIVE"
	}
	return "{New Geo-Location=" + v(geo) + ", New Device=" + v(device) + ", New IP=" + v(ip) +
		", New State=" + v(state) + ", New Country=" + v(country) + ", Velocity=" + v(velocity) + ", New City=" + v(city) + "}"
}

// appUser is the AppUser target of a user's assignment to an app.
func (g *Generator) appUser(u *user, a *app) *party {
	k := [2]int{u.idx, a.idx}
	p := g.appUsr[k]
	if p == nil {
		p = newParty(g.oktaID("0ua"), "AppUser", u.p.alt, u.p.name, "")
		g.appUsr[k] = p
	}
	return p
}

// appSignIn generates a sign-in to an app within a session.
func (g *Generator) appSignIn(u *user, t int64, a *app, sess string, net *netCtx, deny bool, mode mfaMode, stepUp bool) int64 {
	g.begin(flowdef.AppSignIn, u, t, net, sess)
	sso := a.ssoURI
	if deny {
		g.request(sso)
		e := g.add(tAppDeny, rDeny).targets(a.inst, u.p)
		e.reason, e.app = "Access denied by the app's sign-on policy", a
		g.commit(flowdef.Denied, whyAppDeny)
		return g.fl.t
	}
	if stepUp {
		if !u.enrolled {
			mode = mfaEnroll // authenticators were reset since the sign-in
		}
		if !g.mfa(u, mode) {
			if mode == mfaUnanswered {
				g.commit(flowdef.Abandoned, whyUnanswered)
			} else {
				g.commit(flowdef.Failed, whyPushDenied)
			}
			return g.fl.t
		}
		g.wait(300, 2000)
	}
	g.request(sso)
	g.add(tSSO, rSuccess).targets(a.inst, g.appUser(u, a)).app = a
	g.commit(flowdef.Completed, "")
	u.used = append(u.used, a)
	return g.fl.t
}

// logout ends the user's session, with single logout from some SAML apps.
func (g *Generator) logout(u *user, t int64) int64 {
	g.begin(flowdef.Logout, u, t, u.sessNet, u.sess)
	g.request("/login/signout")
	g.add(tSessionEnd, rSuccess)
	n := 0
	for _, a := range u.used {
		if n < 2 && a.def.mode == "SAML_2_0" && g.chance(0.08) {
			g.request(a.sloURI)
			g.add(tSLO, rSuccess).targets(a.inst).app = a
			n++
		}
	}
	g.commit(flowdef.Completed, "")
	u.sess, u.sessTo, u.used = "", 0, u.used[:0]
	return g.fl.t
}

// recovery channel: 0 email, 1 SMS, 2 voice.
func (g *Generator) channel(u *user) int {
	switch {
	case u.factor == fSMS || (u.factor == fPush && g.chance(0.25)):
		return 1
	case u.factor == fVoice:
		return 2
	default:
		return 0
	}
}

// sspr generates a self-service password reset. stopAt 0 completes it, 1
// abandons it after the message, 2 after the reset.
func (g *Generator) sspr(u *user, t int64, net *netCtx, stopAt int) int64 {
	g.begin(flowdef.SSPR, u, t, net, g.token("idx", 22))
	g.request("/idp/idx/recover")
	ch := g.channel(u)
	g.add([3]uint8{tEmailReset, tSMSReset, tVoiceReset}[ch], rSuccess).targets(u.p)
	if stopAt == 1 {
		g.commit(flowdef.Abandoned, whyAbandoned)
		return g.fl.t
	}
	if ch == 0 {
		g.wait(40000, 600000)
	} else {
		g.wait(20000, 90000)
	}
	if u.enrolled && g.chance(0.4) && u.factor != fSMS && u.factor != fVoice {
		g.mfa(u, mfaOK)
		g.wait(500, 3000)
	}
	g.request("/idp/idx/challenge/answer")
	g.add(tResetPassword, rSuccess).targets(u.p)
	if stopAt == 2 {
		g.commit(flowdef.Abandoned, whyAbandoned)
		return g.fl.t
	}
	g.wait(20000, 120000)
	why := ""
	if g.chance(0.12) {
		g.request("/idp/idx/challenge/answer")
		g.add(tUpdatePassword, rFailure).targets(u.p).reason = "Password requirements were not met"
		g.wait(15000, 60000)
		why = whyPwdPolicy
	}
	g.request("/idp/idx/challenge/answer")
	g.add(tUpdatePassword, rSuccess).targets(u.p)
	g.commit(flowdef.Completed, why)
	return g.fl.t
}

// unlock generates a self-service unlock; abandon stops after the message.
func (g *Generator) unlock(u *user, t int64, net *netCtx, abandon bool) int64 {
	g.begin(flowdef.Unlock, u, t, net, g.token("idx", 22))
	g.request("/idp/idx/unlock-account")
	ch := g.channel(u)
	g.add([3]uint8{tEmailUnlock, tSMSUnlock, tVoiceUnlock}[ch], rSuccess).targets(u.p)
	if abandon {
		g.commit(flowdef.Abandoned, whyAbandoned)
		return g.fl.t
	}
	if ch == 0 {
		g.wait(30000, 400000)
	} else {
		g.wait(20000, 80000)
	}
	g.request("/idp/idx/challenge/answer")
	g.add(tUnlockToken, rSuccess).targets(u.p)
	g.wait(1000, 8000)
	g.add(tUnlock, rSuccess).targets(u.p)
	u.locked = false
	g.commit(flowdef.Completed, "")
	return g.fl.t
}

// stepUp is an MFA prompt inside a session (opening a sensitive settings
// page), its own "mfa" flow.
func (g *Generator) stepUp(u *user, t int64, mode mfaMode) int64 {
	g.begin(flowdef.MFA, u, t, u.sessNet, u.sess)
	if !u.enrolled {
		mode = mfaEnroll
	}
	ok := g.mfa(u, mode)
	switch {
	case ok:
		g.commit(flowdef.Completed, "")
	case mode == mfaUnanswered:
		g.commit(flowdef.Abandoned, whyUnanswered)
	default:
		g.commit(flowdef.Failed, whyPushDenied)
	}
	return g.fl.t
}

// selfFactorChange: the user manages their own authenticators from the
// end-user settings page.
func (g *Generator) selfFactorChange(u *user, t int64) int64 {
	g.begin(flowdef.FactorChange, u, t, u.sessNet, u.sess)
	g.request("/idp/myaccount/authenticators")
	switch x := g.r.IntN(10); {
	case x < 4: // a new phone for SMS codes
		fp := u.factors[fSMS]
		g.add(tSendSMSPhoneVerify, rSuccess).targets(u.p, fp).factor = "SMS_FACTOR"
		g.wait(15000, 60000)
		g.request("/idp/myaccount/authenticators/phone")
		g.add(tFactorActivate, rSuccess).targets(u.p, fp).factor = "SMS_FACTOR"
	case x < 8: // Okta Verify moved to a new device
		g.add(tFactorUpdate, rSuccess).targets(u.p, u.factors[fPush]).factor = "OKTA_VERIFY_PUSH"
	default:
		g.add(tFactorDeactivate, rSuccess).targets(u.p, u.factors[fEmail]).factor = "EMAIL_FACTOR"
	}
	g.commit(flowdef.Completed, "")
	return g.fl.t
}

// adminFactorChange: an admin acts on a user's authenticators; the user is
// the target.
func (g *Generator) adminFactorChange(admin, u *user, t int64, typ uint8) int64 {
	// From the admin's own session if they have one open.
	net, sess := admin.sessNet, admin.sess
	if sess == "" || t > admin.sessTo {
		net, sess = admin.office, g.token("102", 22)
		if net == nil {
			net = admin.homeNet
		}
	}
	g.begin(flowdef.FactorChange, u, t, net, sess)
	g.fl.actor = admin.p
	g.request("/api/v1/users/" + u.p.id + "/lifecycle/reset_factors")
	fp := u.factors[u.factor]
	switch typ {
	case tFactorResetAll:
		g.add(typ, rSuccess).targets(u.p)
		u.enrolled = false // enrols again at the next sign-in
	default:
		g.fl.uri = "/api/v1/users/" + u.p.id + "/factors/" + fp.id
		g.add(typ, rSuccess).targets(u.p, fp).factor = factorInfo[u.factor].debug
	}
	g.commit(flowdef.Completed, "")
	return g.fl.t
}

// other generates one background admin event, its own "other" instance.
func (g *Generator) other(admin *user, t int64, typ uint8) {
	u := g.users[g.r.IntN(len(g.users))]
	net := admin.homeNet
	if admin.office != nil {
		net = admin.office
	}
	viaAPI := g.chance(0.4)
	g.begin(flowdef.Other, u, t, net, "")
	g.fl.actor = admin.p
	if !viaAPI {
		g.fl.sess = g.token("102", 22)
	}
	switch typ {
	case tGroupAdd:
		g.request("/api/v1/groups/" + g.group(u).id + "/users/" + u.p.id)
		g.add(typ, rSuccess).targets(u.p, g.group(u))
	case tAppAssign:
		a := g.apps[g.r.IntN(len(g.apps))]
		g.request("/api/v1/apps/" + a.inst.id + "/users")
		g.add(typ, rSuccess).targets(g.appUser(u, a), a.inst, u.p)
	case tPrivilegeGrant:
		g.request("/api/v1/users/" + u.p.id + "/roles")
		g.add(typ, rSuccess).targets(u.p)
	case tPolicyRuleUpdate:
		g.fl.user = nil
		g.request("/api/v1/policies/" + g.policy.id + "/rules/" + g.rules[0].id)
		g.add(typ, rSuccess).targets(g.rules[0], g.policy)
	}
	if viaAPI {
		g.fl.evs[0].apiToken = uint8(1 + g.r.IntN(len(g.tokens)))
		g.fl.actor = admin.p
	}
	g.commit(flowdef.Completed, "")
}

func (g *Generator) group(u *user) *party {
	p := g.groups[u.dept.name]
	if p == nil {
		p = newParty(g.oktaID("00g"), "UserGroup", "unknown", u.dept.name, "")
		g.groups[u.dept.name] = p
	}
	return p
}

// officeHours is a random moment of day d between 09:00 and 18:00 in the
// person's local time.
func (g *Generator) officeHours(u *user, d int64) int64 {
	return d*86400000 - int64(u.home.offset)*60000 + g.between(9*3600000, 18*3600000)
}

// weekday of a unix day: 0 Sunday … 6 Saturday.
func weekday(day int64) int { return int(((day+4)%7 + 7) % 7) }

// userDay generates one local day of a user's activity.
func (g *Generator) userDay(u *user, d int64) {
	mid := d*86400000 - int64(u.home.offset)*60000
	wd := weekday(d)
	weekend := wd == 0 || wd == 6
	if u.travel != nil && mid >= u.travelTo {
		u.travel = nil
	}
	if u.travel == nil && !weekend && g.chance(1.0/40) {
		c := &cities[g.r.IntN(firstAttackCity)]
		if c != u.home {
			isps := ispsByCountry[c.cc]
			u.travel = g.newNet(c, &isps[g.r.IntN(len(isps))], u.homeNet.ua, "null")
			u.travel.dtHash, u.travel.fingerprint = u.homeNet.dtHash, u.homeNet.fingerprint
			u.travelTo = mid + int64(2+g.r.IntN(4))*86400000
		}
	}
	active := g.chance(0.93)
	if weekend {
		active = g.chance(0.12)
	}
	if !active {
		return
	}
	net := u.homeNet
	switch {
	case u.travel != nil:
		net = u.travel
	case weekend && g.chance(0.5):
		net = u.mobile
	case !weekend && u.office != nil && g.chance(0.55):
		net = u.office
	}
	var start, stop int64
	if weekend {
		start = mid + g.between(9*3600000, 21*3600000)
		stop = start + g.between(15*60000, 90*60000)
	} else {
		start = mid + int64(u.dept.start)*60000 + g.between(-50*60000, 50*60000)
		stop = start + g.between(7*3600000, 10*3600000)
	}
	t := g.morning(u, start, net)
	if u.sess == "" {
		return
	}
	n := 1 + g.r.IntN(2)
	if !weekend {
		n = 3 + g.r.IntN(7)
	}
	step := max((stop-t)/int64(n+1), 60000)
	for i := 0; i < n; i++ {
		t += g.between(step/3, step*5/3)
		if t > stop {
			break
		}
		if t > u.sessTo || u.sess == "" {
			var s string
			t, s = g.signIn(u, t, net, signOpts{})
			g.setSession(u, t, net, s)
			if s == "" {
				return
			}
		}
		a := g.pickApp(u)
		if a == nil {
			break
		}
		deny := g.chance(0.015) || (a.def.sensitive && net == u.travel && g.chance(0.3))
		mode := mfaOK
		if g.chance(0.03) {
			mode = mfaUnanswered
		}
		t = g.appSignIn(u, t, a, u.sess, net, deny, mode, a.def.sensitive && g.chance(0.35))
	}
	if g.chance(0.03) {
		t += g.between(60000, 3600000)
		mode := mfaOK
		if g.chance(0.05) {
			mode = mfaUnanswered
		}
		t = g.stepUp(u, t, mode)
	}
	if g.chance(0.004) {
		t += g.between(60000, 3600000)
		t = g.selfFactorChange(u, t)
	}
	if g.chance(0.4) {
		g.logout(u, t+g.between(60000, 1800000))
	}
	u.lastNet = net
}

func (g *Generator) setSession(u *user, t int64, net *netCtx, s string) {
	u.sess, u.sessNet, u.sessTo, u.used = s, net, t+12*3600000, u.used[:0]
}

func (g *Generator) pickApp(u *user) *app {
	if len(u.apps) == 0 {
		return nil
	}
	w := g.r.IntN(u.appW[len(u.appW)-1])
	for i, c := range u.appW {
		if w < c {
			return u.apps[i]
		}
	}
	return u.apps[len(u.apps)-1]
}

// morning is the first sign-in of the day with whatever goes wrong on the
// way: a mistyped password, a forgotten one, a lock-out, an unanswered or
// refused push. It leaves u.sess set if the user got in.
func (g *Generator) morning(u *user, t int64, net *netCtx) int64 {
	u.sess = ""
	if u.locked {
		t = g.unlock(u, t, net, false) + g.between(20000, 120000)
	}
	switch x := g.r.Float64(); {
	case x < 0.003: // locked out by their own mistakes
		for i := 0; i < 4; i++ {
			t, _ = g.signIn(u, t, net, signOpts{plan: planBadPassword})
			t += g.between(8000, 40000)
		}
		t, _ = g.signIn(u, t, net, signOpts{plan: planLockNow})
		t += g.between(5000, 30000)
		if g.chance(0.4) {
			t, _ = g.signIn(u, t, net, signOpts{plan: planLocked})
			t += g.between(30000, 300000)
		}
		if g.chance(0.15) {
			t = g.unlock(u, t, net, true) + g.between(300000, 900000)
		}
		t = g.unlock(u, t, net, false) + g.between(20000, 120000)
	case x < 0.009: // forgot the password
		switch y := g.r.Float64(); {
		case y < 0.12:
			t = g.sspr(u, t, net, 1) + g.between(300000, 1800000)
		case y < 0.2:
			t = g.sspr(u, t, net, 2) + g.between(600000, 3600000)
		}
		t = g.sspr(u, t, net, 0) + g.between(10000, 60000)
	case x < 0.06: // a typo
		t, _ = g.signIn(u, t, net, signOpts{plan: planBadPassword})
		t += g.between(5000, 30000)
	case x < 0.0615:
		t, _ = g.signIn(u, t, net, signOpts{plan: planPolicyDeny})
		return t
	}
	mode := mfaOK
	switch y := g.r.Float64(); {
	case y < 0.025:
		mode = mfaUnanswered
	case y < 0.03 && u.factor == fPush:
		mode = mfaDenied
	case y < 0.045:
		mode = mfaWrongCode
	}
	var s string
	t, s = g.signIn(u, t, net, signOpts{mfa: mode})
	if s == "" && (mode == mfaUnanswered || mode == mfaDenied) {
		t, s = g.signIn(u, t+g.between(20000, 240000), net, signOpts{})
	}
	g.setSession(u, t, net, s)
	return t
}

// noiseDay generates the admin background of a UTC day.
func (g *Generator) noiseDay(d int64) {
	if wd := weekday(d); wd == 0 || wd == 6 {
		return
	}
	n := g.cfg.Users/40 + g.r.IntN(3)
	for i := 0; i < n; i++ {
		// Admins work their own office hours.
		admin := g.admins[g.r.IntN(len(g.admins))]
		t := g.officeHours(admin, d)
		switch x := g.r.IntN(100); {
		case x < 55:
			g.other(admin, t, tGroupAdd)
		case x < 95:
			g.other(admin, t, tAppAssign)
		case x < 98:
			g.other(admin, t, tPolicyRuleUpdate)
		default:
			g.other(admin, t, tPrivilegeGrant)
		}
	}
	// Help-desk authenticator work: lost phones and suspensions.
	for _, u := range g.users {
		if !g.chance(0.0015) {
			continue
		}
		admin := g.admins[g.r.IntN(len(g.admins))]
		if admin == u {
			continue
		}
		t := g.officeHours(admin, d)
		switch g.r.IntN(4) {
		case 0, 1:
			g.adminFactorChange(admin, u, t, tFactorResetAll)
		case 2:
			t = g.adminFactorChange(admin, u, t, tFactorSuspend)
			g.adminFactorChange(admin, u, t+g.between(3600000, 6*3600000), tFactorUnsuspend)
		default:
			g.adminFactorChange(admin, u, t, tFactorDeactivate)
		}
	}
}
