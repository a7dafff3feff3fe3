// Package simulate generates a believable Okta System Log for a made-up org:
// employees in several cities and departments signing in to Okta and to apps
// on a working-day rhythm, answering MFA challenges with their authenticators,
// forgetting passwords, locking themselves out, travelling, signing out, and
// admins changing authenticators and memberships. With Attacks set it mixes in
// labelled incidents (password spray, MFA push bombing, impossible travel,
// session cookie replay, brute force to lock-out, an admin MFA reset followed
// by a sign-in from a new place).
//
// Every event belongs to exactly one flow instance whose kind is one of the
// package flowdef kinds (or "other" for admin noise); RunTruth reports each
// instance and each incident as ground truth for flow analysis and detections.
//
// Output is deterministic: the same Config gives the same bytes.
package simulate

import (
	"bytes"
	logevent "github.com/idlog/idlog/internal/event"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// Config says what to simulate.
type Config struct {
	Users int // employees (default 100)
	Apps  int // apps in the org (default 12, at most the built-in catalog's size)
	Days  int // length of the window (default 7)
	// End is the end of the window (exclusive). Zero means the start of the
	// current UTC hour, which makes output depend on when it runs.
	End     time.Time
	Seed    int64
	Attacks bool // mix in labelled attack incidents
}

// Generator produces one simulated log. It is not safe for concurrent use.
type Generator struct {
	cfg        Config
	r          *rand.Rand
	start, end int64 // window in unix ms

	users  []*user
	admins []*user
	apps   []*app
	dash   *party // the Okta Dashboard app instance
	policy *party // global session policy
	rules  [3]*party
	system *party
	tokens []string // admin API token ids
	groups map[string]*party
	appUsr map[[2]int]*party

	pending []event
	spare   []event // the other half of pending's double buffer
	keys    []uint64
	fl      flowBuf
	truth   func([]byte) error
	tbuf    []byte
	attack  *attackRec
	tc      timeCache
	pos     int64 // published time of the last emitted event
	err     error
}

// event is one pending LogEvent, kept compact until it is written.
type event struct {
	t        int64
	rnd      uint64
	typ      uint8
	result   uint8
	cred     uint8
	nt       uint8
	threat   bool
	warn     bool  // severity WARN whatever the outcome
	apiToken uint8 // 1 + index into Generator.tokens; 0 for none
	reason   string
	actor    *party
	tg       [3]*party
	net      *netCtx
	sess     string
	tx       uint64 // transaction id, written by appendRequestID
	uri      string
	factor   string
	app      *app
	// behaviors and risk go to debugData on sign-in and policy events.
	behaviors, risk string
}

// party is an actor or target, with its JSON written once.
type party struct {
	id, alt, name string
	json          []byte
}

func newParty(id, typ, alt, name, detail string) *party {
	b := append([]byte(`{"id":`), logevent.AppendString(nil, id)...)
	b = append(b, `,"type":`...)
	b = logevent.AppendString(b, typ)
	b = append(b, `,"alternateId":`...)
	b = logevent.AppendString(b, alt)
	b = append(b, `,"displayName":`...)
	b = logevent.AppendString(b, name)
	b = append(b, `,"detailEntry":`...)
	if detail == "" {
		b = append(b, "null"...)
	} else {
		b = append(b, detail...)
	}
	b = append(b, '}')
	return &party{id: id, alt: alt, name: name, json: b}
}

// netCtx is where a request comes from: address, place, network and
// browser. Its client, securityContext and ipChain JSON are written once.
type netCtx struct {
	ip          string
	city        *city
	isp         *isp
	ua          *userAgent
	zone        string
	dtHash      string
	fingerprint string
	client      []byte
	security    []byte
	ipChain     []byte
}

func (g *Generator) newNet(c *city, in *isp, ua *userAgent, zone string) *netCtx {
	pre := in.prefixes[g.r.IntN(len(in.prefixes))]
	ip := pre + "." + strconv.Itoa(g.r.IntN(254)+1) + "." + strconv.Itoa(g.r.IntN(254)+1)
	n := &netCtx{ip: ip, city: c, isp: in, ua: ua, zone: zone, dtHash: g.hex(64), fingerprint: g.hex(32)}
	geo := []byte(`{"city":`)
	geo = logevent.AppendString(geo, c.name)
	geo = append(geo, `,"state":`...)
	geo = logevent.AppendString(geo, c.state)
	geo = append(geo, `,"country":`...)
	geo = logevent.AppendString(geo, c.country)
	geo = append(geo, `,"postalCode":`...)
	geo = logevent.AppendString(geo, c.postal)
	geo = append(geo, `,"geolocation":{"lat":`...)
	geo = appendFloat(geo, c.lat)
	geo = append(geo, `,"lon":`...)
	geo = appendFloat(geo, c.lon)
	geo = append(geo, "}}"...)

	b := []byte(`{"userAgent":{"rawUserAgent":`)
	b = logevent.AppendString(b, ua.raw)
	b = append(b, `,"os":`...)
	b = logevent.AppendString(b, ua.os)
	b = append(b, `,"browser":`...)
	b = logevent.AppendString(b, ua.browser)
	b = append(b, `},"zone":`...)
	b = logevent.AppendString(b, zone)
	b = append(b, `,"device":`...)
	b = logevent.AppendString(b, ua.device)
	b = append(b, `,"id":null,"ipAddress":"`...)
	b = append(b, ip...)
	b = append(b, `","geographicalContext":`...)
	b = append(b, geo...)
	b = append(b, '}')
	n.client = b

	s := []byte(`{"asNumber":`)
	s = strconv.AppendInt(s, int64(in.asn), 10)
	s = append(s, `,"asOrg":`...)
	s = logevent.AppendString(s, asOrg(in))
	s = append(s, `,"isp":`...)
	s = logevent.AppendString(s, in.name)
	s = append(s, `,"domain":`...)
	s = logevent.AppendString(s, in.domain)
	s = append(s, `,"isProxy":`...)
	s = strconv.AppendBool(s, in.proxy)
	s = append(s, '}')
	n.security = s

	ch := []byte(`[{"ip":"`)
	ch = append(ch, ip...)
	ch = append(ch, `","geographicalContext":`...)
	ch = append(ch, geo...)
	ch = append(ch, `,"version":"V4","source":null}]`...)
	n.ipChain = ch
	return n
}

func asOrg(in *isp) string {
	// Okta reports the AS organisation in lower case, often shortened.
	b := []byte(in.name)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// app is an app instance of the org.
type app struct {
	def      *appDef
	inst     *party
	mode     string // debugData signOnMode
	audience string
	ssoURI   string
	sloURI   string
	idx      int
}

// Factor kinds.
const (
	fPush = iota
	fSMS
	fVoice
	fEmail
	fTOTP
	numFactors
)

var factorInfo = [numFactors]struct {
	prefix, display, debug string
	cred                   uint8
}{
	fPush:  {"opf", "Okta Verify", "OKTA_VERIFY_PUSH", credPush},
	fSMS:   {"mbl", "Phone", "SMS_FACTOR", credSMS},
	fVoice: {"clf", "Phone", "CALL_FACTOR", credVoice},
	fEmail: {"emf", "Email", "EMAIL_FACTOR", credEmail},
	fTOTP:  {"ost", "Google Authenticator", "GOOGLE_OTP", credOTP},
}

// user is an employee.
type user struct {
	idx      int
	p        *party
	dept     *department
	home     *city
	homeNet  *netCtx
	office   *netCtx // nil for remote workers
	mobile   *netCtx
	travel   *netCtx
	travelTo int64 // the trip lasts until this time
	factor   int   // the authenticator the user answers with
	factors  [numFactors]*party
	password *party
	enrolled bool // false: the next sign-in enrols an authenticator
	apps     []*app
	appW     []int // cumulative weights of apps
	locked   bool
	admin    bool
	// The current Okta session.
	sess    string
	sessNet *netCtx
	sessTo  int64
	used    []*app // apps signed in to during the session
	lastNet *netCtx
}

// New prepares a generator; the org is built from the seed here.
func New(cfg Config) *Generator {
	if cfg.Users <= 0 {
		cfg.Users = 100
	}
	if cfg.Apps <= 0 {
		cfg.Apps = 12
	}
	if cfg.Apps > len(appCatalog) {
		cfg.Apps = len(appCatalog)
	}
	if cfg.Days <= 0 {
		cfg.Days = 7
	}
	if cfg.End.IsZero() {
		cfg.End = time.Now().UTC().Truncate(time.Hour)
	}
	g := &Generator{cfg: cfg, r: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x1d1095eed)), appUsr: map[[2]int]*party{}, groups: map[string]*party{}}
	g.end = cfg.End.UnixMilli()
	g.start = g.end - int64(cfg.Days)*86400000
	g.buildOrg()
	// About a day and a half of events is pending at a time; start the
	// buffers near that size rather than growing them event by event.
	g.pending = make([]event, 0, 24*cfg.Users)
	g.spare = make([]event, 0, 24*cfg.Users)
	return g
}

func (g *Generator) chance(p float64) bool { return g.r.Float64() < p }

// between returns a random duration in [lo, hi) milliseconds.
func (g *Generator) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + g.r.Int64N(hi-lo)
}

func (g *Generator) buildOrg() {
	g.dash = newParty(g.oktaID("0oa"), "AppInstance", "Okta Dashboard", "Okta Dashboard", "")
	g.policy = newParty(g.oktaID("00p"), "PolicyEntity", "unknown", "Default Policy", `{"policyType":"OktaSignOn"}`)
	g.rules = [3]*party{
		newParty(g.oktaID("0pr"), "PolicyRule", "unknown", "MFA off the office network", ""),
		newParty(g.oktaID("0pr"), "PolicyRule", "unknown", "Office network", ""),
		newParty(g.oktaID("0pr"), "PolicyRule", "unknown", "Block sign-in from unexpected places", ""),
	}
	g.system = newParty(g.oktaID("0oa"), "SystemPrincipal", "system@okta.com", "Okta System", "")
	for i := 0; i < 3; i++ {
		g.tokens = append(g.tokens, g.oktaID("00T"))
	}
	for i := 0; i < g.cfg.Apps; i++ {
		d := &appCatalog[i]
		id := g.oktaID("0oa")
		mode := "SAML 2.0"
		switch d.mode {
		case "WS_FEDERATION":
			mode = "WS-Federation"
		case "OPENID_CONNECT":
			mode = "OpenID Connect"
		}
		g.apps = append(g.apps, &app{
			def: d, idx: i, mode: mode,
			inst:     newParty(id, "AppInstance", d.label, d.label, `{"signOnModeType":"`+d.mode+`"}`),
			audience: "https://" + d.name + ".example-sp.com/sso/" + id,
			ssoURI:   "/app/" + d.name + "/" + id + "/sso/saml",
			sloURI:   "/app/" + d.name + "/" + id + "/slo/saml",
		})
		switch d.mode {
		case "OPENID_CONNECT":
			g.apps[i].ssoURI = "/oauth2/v1/authorize"
		case "WS_FEDERATION":
			g.apps[i].ssoURI = "/app/" + d.name + "/" + id + "/sso/wsfed/passive"
		}
	}

	var offices, homes []*city
	for i := 0; i < firstAttackCity; i++ {
		homes = append(homes, &cities[i])
		if cities[i].office {
			offices = append(offices, &cities[i])
		}
	}
	officeNets := map[*city]*netCtx{}
	deptTotal := 0
	for _, d := range departments {
		deptTotal += d.weight
	}
	used := map[string]int{}
	for i := 0; i < g.cfg.Users; i++ {
		u := &user{idx: i}
		first := firstNames[g.r.IntN(len(firstNames))]
		last := lastNames[g.r.IntN(len(lastNames))]
		login := lower(first) + "." + lower(last)
		if n := used[login]; n > 0 {
			login += strconv.Itoa(n + 1)
		}
		used[lower(first)+"."+lower(last)]++
		login += "@northwind-labs.com"
		u.p = newParty(g.oktaID("00u"), "User", login, first+" "+last, "")
		w := g.r.IntN(deptTotal)
		for k := range departments {
			if w < departments[k].weight {
				u.dept = &departments[k]
				break
			}
			w -= departments[k].weight
		}
		// Two in three people live near an office and go in on some days.
		if g.chance(0.67) {
			c := offices[g.r.IntN(len(offices))]
			u.home = c
			on := officeNets[c]
			if on == nil {
				oi := &officeISPs[g.r.IntN(len(officeISPs))]
				on = g.newNet(c, oi, &userAgents[0], "Offices")
				officeNets[c] = on
			}
			// Each person has their own laptop behind the shared office
			// address: same IP and place, own browser and device hash.
			ua := &userAgents[g.r.IntN(len(userAgents))]
			u.office = g.rebuildIP(g.newNet(c, on.isp, ua, "Offices"), on.ip)
		} else {
			u.home = homes[g.r.IntN(len(homes))]
		}
		isps := ispsByCountry[u.home.cc]
		ua := &userAgents[g.r.IntN(len(userAgents))]
		if u.office != nil {
			ua = u.office.ua
		}
		u.homeNet = g.newNet(u.home, &isps[g.r.IntN(len(isps))], ua, "null")
		if u.office != nil {
			u.homeNet.dtHash, u.homeNet.fingerprint = u.office.dtHash, u.office.fingerprint
		}
		u.mobile = g.newNet(u.home, &isps[g.r.IntN(len(isps))], &mobileAgents[g.r.IntN(len(mobileAgents))], "null")
		// Most people answer with Okta Verify push.
		switch x := g.r.IntN(100); {
		case x < 66:
			u.factor = fPush
		case x < 78:
			u.factor = fSMS
		case x < 81:
			u.factor = fVoice
		case x < 89:
			u.factor = fEmail
		default:
			u.factor = fTOTP
		}
		for f := range u.factors {
			u.factors[f] = newParty(g.oktaID(factorInfo[f].prefix), "AuthenticatorEnrollment", "unknown", factorInfo[f].display, "")
		}
		u.password = newParty(g.oktaID("lae"), "AuthenticatorEnrollment", "unknown", "Password", "")
		u.enrolled = !g.chance(0.03)
		total := 0
		for _, a := range g.apps {
			if a.def.depts != nil && !slices.Contains(a.def.depts, u.dept.name) {
				continue
			}
			if a.def.label == "Okta Admin Console" && !g.chance(0.3) {
				continue
			}
			total += a.def.weight
			u.apps = append(u.apps, a)
			u.appW = append(u.appW, total)
		}
		g.users = append(g.users, u)
	}
	// Admins are IT people with access to the Admin Console; at least one.
	for _, u := range g.users {
		if u.dept.name == "IT" && len(g.admins) < 4 {
			u.admin = true
			g.admins = append(g.admins, u)
		}
	}
	if len(g.admins) == 0 {
		g.users[0].admin = true
		g.admins = append(g.admins, g.users[0])
	}
}

// rebuildIP gives n another address, keeping the rest.
func (g *Generator) rebuildIP(n *netCtx, ip string) *netCtx {
	m := *n
	old := n.ip
	m.ip = ip
	m.client = bytes.ReplaceAll(n.client, []byte(old), []byte(ip))
	m.ipChain = bytes.ReplaceAll(n.ipChain, []byte(old), []byte(ip))
	return &m
}

func lower(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c+32)
		case c == '\'':
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// Run writes every event of the window to emit in ascending published
// order. The slice passed to emit is reused after emit returns: copy it to
// keep it. Run stops at the first error emit returns.
func (g *Generator) Run(emit func(raw []byte) error) error {
	return g.RunTruth(emit, nil)
}

// RunTruth is Run that also reports ground truth to truth (if not nil), one
// JSON record per call, NDJSON-ready without the newline:
//
//	{"kind":"signin","status":"failed","stoppedAt":"session_start","reason":"INVALID_CREDENTIALS","user":"00u…","uuids":["…"]}
//	{"attack":"password_spray","uuids":["…"]}
//
// Flow records come when the flow is generated, which is before its events
// are emitted; attack records follow their flows. The record slice is reused
// too.
func (g *Generator) RunTruth(emit func(raw []byte) error, truth func(rec []byte) error) error {
	g.truth = truth
	// Users keep local working hours, so a UTC day's activity starts up
	// to 14 hours before it and ends up to 12 after: generate by local day
	// and only write out what no later day can precede.
	const maxAhead = 15 * 3600000
	firstDay := floorDiv(g.start, 86400000) - 1
	lastDay := floorDiv(g.end-1, 86400000) + 1
	attacks := g.planAttacks(firstDay, lastDay)
	var buf []byte
	for d := firstDay; d <= lastDay; d++ {
		for _, u := range g.users {
			g.userDay(u, d)
			if g.err != nil {
				return g.err
			}
		}
		g.noiseDay(d)
		for len(attacks) > 0 && attacks[0].day == d {
			g.runAttack(attacks[0])
			attacks = attacks[1:]
		}
		if g.err != nil {
			return g.err
		}
		var err error
		if buf, err = g.flush((d+1)*86400000-maxAhead, buf, emit); err != nil {
			return err
		}
	}
	_, err := g.flush(1<<62, buf, emit)
	return err
}

// Position is the published time of the last event emitted; progress
// reporting can compare it with the window.
func (g *Generator) Position() time.Time { return time.UnixMilli(g.pos).UTC() }

// Window is the time range events are generated in: [start, end).
func (g *Generator) Window() (start, end time.Time) {
	return time.UnixMilli(g.start).UTC(), time.UnixMilli(g.end).UTC()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// flush writes the pending events published before upTo, in order, and keeps
// the rest. Sorting packs (time, index) into one integer: pending events span
// a few days, far below the 2^36 ms the time part can hold.
func (g *Generator) flush(upTo int64, buf []byte, emit func([]byte) error) ([]byte, error) {
	if len(g.pending) == 0 {
		return buf, nil
	}
	base := g.pending[0].t
	for i := range g.pending {
		base = min(base, g.pending[i].t)
	}
	g.keys = g.keys[:0]
	for i := range g.pending {
		g.keys = append(g.keys, uint64(g.pending[i].t-base)<<28|uint64(i))
	}
	slices.Sort(g.keys)
	n := 0
	for _, k := range g.keys {
		e := &g.pending[k&(1<<28-1)]
		if e.t >= upTo {
			break
		}
		buf = g.appendEvent(buf[:0], e)
		g.pos = e.t
		if err := emit(buf); err != nil {
			return buf, err
		}
		n++
	}
	rest := g.spare[:0]
	for _, k := range g.keys[n:] {
		rest = append(rest, g.pending[k&(1<<28-1)])
	}
	g.pending, g.spare = rest, g.pending[:0]
	return buf, nil
}

// NDJSON returns the whole log for cfg as newline-delimited JSON, the
// format `idlog simulate` writes and `idlog import` reads. For small logs
// (tests, examples): it holds everything in memory.
func NDJSON(cfg Config) ([]byte, error) {
	var b []byte
	err := New(cfg).Run(func(raw []byte) error {
		b = append(append(b, raw...), '\n')
		return nil
	})
	return b, err
}
