package simulate

import (
	"slices"
	"strconv"

	"github.com/idlog/idlog/internal/flowdef"
)

// Attack kinds, as named in ground truth.
const (
	AttackPasswordSpray = "password_spray"
	AttackPushBombing   = "mfa_push_bombing"
	AttackImpossible    = "impossible_travel"
	AttackSessionReplay = "session_cookie_replay"
	AttackBruteForce    = "brute_force_lockout"
	AttackAdminMFAReset = "admin_mfa_reset_new_place"
	AttackAdminGrant    = "admin_role_grant"
	AttackAPIToken      = "api_token_persistence"
	AttackIdPChange     = "idp_change"
	AttackProxySignIn   = "proxy_signin"
)

var attackKinds = []string{AttackPasswordSpray, AttackPushBombing, AttackImpossible, AttackSessionReplay, AttackBruteForce, AttackAdminMFAReset,
	AttackAdminGrant, AttackAPIToken, AttackIdPChange, AttackProxySignIn}

// AttackKinds lists the incidents Attacks mixes in.
func AttackKinds() []string { return slices.Clone(attackKinds) }

type attackPlan struct {
	day  int64
	t    int64
	kind string
}

// attackRec collects the events of the incident being generated: every
// event committed while it is set belongs to it.
type attackRec struct {
	evs [][2]uint64 // published ms, uuid randomness
}

// planAttacks spreads incidents over the window: each kind about once every
// ten days, at least once.
func (g *Generator) planAttacks(firstDay, lastDay int64) []attackPlan {
	if !g.cfg.Attacks {
		return nil
	}
	var out []attackPlan
	n := max(1, g.cfg.Days/10)
	for _, k := range attackKinds {
		for i := 0; i < n; i++ {
			// Keep clear of the window's edges so the incident is whole.
			t := g.start + g.between(3600000, max(g.end-g.start-6*3600000, 3600001))
			out = append(out, attackPlan{day: floorDiv(t, 86400000), t: t, kind: k})
		}
	}
	slices.SortStableFunc(out, func(a, b attackPlan) int { return int(a.t - b.t) })
	return out
}

// attackerNet is a fresh place an attacker connects from.
func (g *Generator) attackerNet(hosting bool, ua *userAgent) *netCtx {
	c := &cities[firstAttackCity+g.r.IntN(len(cities)-firstAttackCity)]
	if hosting {
		return g.newNet(c, &hostingISPs[g.r.IntN(len(hostingISPs))], ua, "null")
	}
	isps := ispsByCountry[c.cc]
	return g.newNet(c, &isps[g.r.IntN(len(isps))], ua, "null")
}

var (
	behaviorsAttack = behaviorString(true, true, true, true, true, false, true)
	behaviorsTravel = behaviorString(true, false, true, true, true, true, true)
)

const (
	riskHigh   = "{reasons=Anomalous Device, Anomalous Location, level=HIGH}"
	riskTravel = "{reasons=Anomalous Location, Velocity, level=HIGH}"
)

func (g *Generator) victim() *user { return g.users[g.r.IntN(len(g.users))] }

func (g *Generator) runAttack(p attackPlan) {
	rec := &attackRec{}
	g.attack = rec
	t := p.t
	switch p.kind {
	case AttackPasswordSpray:
		net := g.attackerNet(true, &attackAgents[0])
		n := min(len(g.users), 15+g.r.IntN(40))
		hit := -1
		if g.chance(0.3) {
			hit = g.r.IntN(n)
		}
		for _, i := range g.r.Perm(len(g.users))[:n] {
			if g.chance(0.25) {
				// A guessed login that does not exist.
				t = g.unknownUser(t, net) + g.between(2000, 30000)
			}
			u := g.users[i]
			o := signOpts{plan: planBadPassword, behaviors: behaviorsAttack, risk: riskHigh, threat: true}
			if u.locked {
				o.plan = planLocked
			}
			if hit == 0 && !u.locked && u.enrolled {
				// One password was right; the push is never approved.
				o.plan, o.mfa = planOK, mfaUnanswered
			}
			hit--
			saved := u.factor
			u.factor = fPush
			t, _ = g.signIn(u, t, net, o)
			u.factor = saved
			t += g.between(2000, 30000)
		}
		g.begin(flowdef.Other, nil, t, net, "")
		g.fl.actor = g.system
		g.request("/idp/idx/identify")
		e := g.add(tThreat, rAllow)
		e.reason, e.threat, e.warn = "Password Spray, Login Failures", true, true
		g.commit(flowdef.Completed, "")
	case AttackPushBombing:
		u := g.victim()
		net := g.attackerNet(g.chance(0.5), &attackAgents[3])
		saved, savedEnr := u.factor, u.enrolled
		u.factor, u.enrolled = fPush, true
		n := 6 + g.r.IntN(10)
		var sess string
		for i := 0; i < n && sess == ""; i++ {
			mode := mfaUnanswered
			switch {
			case i == n-1 && g.chance(0.5):
				mode = mfaOK // worn down, the victim approves
			case g.chance(0.3):
				mode = mfaDenied
			}
			t, sess = g.signIn(u, t, net, signOpts{mfa: mode, behaviors: behaviorsAttack, risk: riskHigh})
			t += g.between(20000, 90000)
		}
		if sess != "" && len(u.apps) > 0 {
			g.appSignIn(u, t, g.pickApp(u), sess, net, false, mfaOK, false)
		}
		u.factor, u.enrolled = saved, savedEnr
	case AttackImpossible:
		u := g.victim()
		g.attack = nil // the real user's sign-in is not part of the incident
		t, _ = g.signIn(u, t, u.homeNet, signOpts{})
		g.attack = rec
		net := g.attackerNet(false, &userAgents[g.r.IntN(len(userAgents))])
		t += g.between(20*60000, 90*60000)
		t, sess := g.signIn(u, t, net, signOpts{behaviors: behaviorsTravel, risk: riskTravel})
		if sess != "" && len(u.apps) > 0 {
			g.appSignIn(u, t+g.between(10000, 120000), g.pickApp(u), sess, net, false, mfaOK, false)
		}
	case AttackSessionReplay:
		u := g.victim()
		g.attack = nil
		t, sess := g.signIn(u, t, u.homeNet, signOpts{mfa: mfaOK})
		if sess != "" && len(u.apps) > 0 {
			t = g.appSignIn(u, t+g.between(5000, 60000), g.pickApp(u), sess, u.homeNet, false, mfaOK, false)
		}
		g.attack = rec
		if sess == "" {
			break
		}
		// The stolen cookie used from elsewhere: same session, other
		// address, network and browser, no sign-in of its own.
		net := g.attackerNet(true, &attackAgents[1])
		t += g.between(10*60000, 120*60000)
		for i := 0; i < 2+g.r.IntN(4) && len(u.apps) > 0; i++ {
			t = g.appSignIn(u, t, g.pickApp(u), sess, net, false, mfaOK, false) + g.between(15000, 300000)
		}
	case AttackBruteForce:
		u := g.victim()
		net := g.attackerNet(true, &attackAgents[2])
		o := signOpts{plan: planBadPassword, behaviors: behaviorsAttack, risk: riskHigh, threat: true}
		if u.locked {
			o.plan = planLocked
		}
		for i := 0; i < 4 && !u.locked; i++ {
			t, _ = g.signIn(u, t, net, o)
			t += g.between(1000, 6000)
		}
		if !u.locked {
			o.plan = planLockNow
			t, _ = g.signIn(u, t, net, o)
			t += g.between(1000, 6000)
		}
		o.plan = planLocked
		for i := 0; i < 2+g.r.IntN(5); i++ {
			t, _ = g.signIn(u, t, net, o)
			t += g.between(1000, 6000)
		}
	case AttackAdminMFAReset:
		u := g.victim()
		admin := g.admins[g.r.IntN(len(g.admins))]
		if admin == u {
			u = g.users[(u.idx+1)%len(g.users)]
		}
		t = g.adminFactorChange(admin, u, t, tFactorResetAll)
		net := g.attackerNet(g.chance(0.5), &userAgents[g.r.IntN(len(userAgents))])
		saved := u.factor
		u.factor = fSMS // the attacker enrols a phone they hold
		t, sess := g.signIn(u, t+g.between(10*60000, 90*60000), net, signOpts{behaviors: behaviorsAttack, risk: riskHigh})
		for i := 0; i < 1+g.r.IntN(3) && sess != "" && len(u.apps) > 0; i++ {
			t = g.appSignIn(u, t+g.between(20000, 600000), g.pickApp(u), sess, net, false, mfaOK, false)
		}
		u.factor = saved
	case AttackAdminGrant, AttackAPIToken, AttackIdPChange:
		// An admin's stolen credentials used from a hosting provider: the
		// sign-in, then a change that keeps the attacker in.
		admin := g.admins[g.r.IntN(len(g.admins))]
		net := g.attackerNet(true, &userAgents[g.r.IntN(len(userAgents))])
		t, sess := g.signIn(admin, t, net, signOpts{mfa: mfaOK, behaviors: behaviorsAttack, risk: riskHigh})
		if sess == "" {
			break
		}
		t += g.between(60000, 15*60000)
		g.begin(flowdef.Other, nil, t, net, sess)
		g.fl.actor = admin.p
		switch p.kind {
		case AttackAdminGrant:
			u := g.victim()
			g.fl.user = u
			g.request("/api/v1/users/" + u.p.id + "/roles")
			g.add(tPrivilegeGrant, rSuccess).targets(u.p)
		case AttackAPIToken:
			g.request("/api/v1/tokens")
			g.add(tAPITokenCreate, rSuccess).targets(newParty(g.oktaID("00T"), "Token", "unknown", "automation-"+strconv.Itoa(g.r.IntN(900)+100), ""))
		case AttackIdPChange:
			idp := newParty(g.oktaID("0oa"), "IdentityProvider", "unknown", "SAML IdP "+strconv.Itoa(g.r.IntN(90)+10), "")
			g.request("/api/v1/idps")
			g.add(tIdPCreate, rSuccess).targets(idp)
			g.commit(flowdef.Completed, "")
			// Then its certificate or mapping is changed: another event.
			g.begin(flowdef.Other, nil, g.fl.t+g.between(30000, 300000), net, sess)
			g.fl.actor = admin.p
			g.request("/api/v1/idps/" + idp.id)
			g.add(tIdPUpdate, rSuccess).targets(idp)
		}
		g.commit(flowdef.Completed, "")
	case AttackProxySignIn:
		// A user's credentials tried through an anonymising proxy.
		u := g.victim()
		var proxies []int
		for i := range hostingISPs {
			if hostingISPs[i].proxy {
				proxies = append(proxies, i)
			}
		}
		c := &cities[firstAttackCity+g.r.IntN(len(cities)-firstAttackCity)]
		net := g.newNet(c, &hostingISPs[proxies[g.r.IntN(len(proxies))]], &attackAgents[g.r.IntN(len(attackAgents))], "null")
		g.signIn(u, t, net, signOpts{mfa: mfaUnanswered, behaviors: behaviorsAttack, risk: riskHigh})
	}
	g.attack = nil
	if g.truth == nil || g.err != nil || len(rec.evs) == 0 {
		return
	}
	slices.SortFunc(rec.evs, func(a, b [2]uint64) int { return int(int64(a[0]) - int64(b[0])) })
	b := append(g.tbuf[:0], `{"attack":"`...)
	b = append(b, p.kind...)
	b = append(b, `","uuids":[`...)
	for i, e := range rec.evs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = appendUUID(b, int64(e[0]), e[1])
		b = append(b, '"')
	}
	b = append(b, "]}"...)
	g.tbuf = b
	g.err = g.truth(b)
}

// unknownUser is a sign-in attempt for a login the org does not have: Okta
// logs the typed name with the id "unknown".
func (g *Generator) unknownUser(t int64, net *netCtx) int64 {
	login := lower(firstNames[g.r.IntN(len(firstNames))]) + "." + lower(lastNames[g.r.IntN(len(lastNames))]) + strconv.Itoa(g.r.IntN(90)+10) + "@northwind-labs.com"
	g.begin(flowdef.SignIn, nil, t, net, "")
	g.fl.actor = newParty("unknown", "User", login, "unknown", "")
	g.request("/idp/idx/identify")
	e := g.add(tSessionStart, rFailure)
	e.reason, e.cred, e.behaviors, e.risk, e.threat = "UNKNOWN_USER", credPassword, behaviorsAttack, riskHigh, true
	g.commit(flowdef.Failed, whyUnknownUser)
	return g.fl.t
}
