package flows

import (
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/idlog/idlog/internal/flowdef"
)

// Preference orders flow kinds for instances that fit several equally well
// (both ended, or both left half-way). Most such runs in a session are MFA
// prompts: an unanswered challenge is far more often an app asking for a
// second factor than a step-up on its own, and a challenge that was answered
// with nothing after it is a step-up (an app access would have followed
// within seconds, and would then be the only flow that fits). A verified
// phone followed by an activation is a user adding a phone; an activation
// alone is Okta Verify being enrolled when asked for.
var Preference = []string{
	flowdef.SignIn, flowdef.AppSignIn, flowdef.SSPR, flowdef.Unlock, flowdef.Logout,
	flowdef.FactorChange, flowdef.MFA,
}

// cand is one flow an open group may still be.
type cand struct {
	c     flowdef.Cursor
	steps []stepIndex // step of each event
}

// stepIndex is a step's index in its flow: small, to keep groups small
// (sharedTables checks that every flow's steps fit).
type stepIndex int8

// group is an open instance: its events and the flows that fit them.
type group struct {
	ks    *keyState // its key's
	dev   deviceKey // device(first event)
	evs   []Event
	cands []cand
	last  int64
	// restart is the index of the first event that repeated a
	// Restartable step without a session id to say it was the same
	// attempt, 0 for none.
	restart int
	done    bool // emitted
	// finals counts g's entries in Reconstructor.finals: a group is
	// reused (free) only once emitted and out of finals.
	finals int32

	// Room for what most groups hold, so that beginning one is a single
	// allocation: most instances are one event (an app's SSO) followed
	// by one to three flows, each for a few steps. evs, cands and the
	// cands' steps start in these arrays and move out when they outgrow
	// them. A group is only used through its pointer; copies (breaks)
	// clone the slices first.
	evBuf   [1]Event
	candBuf [groupCands]cand
	stepBuf [groupCands * groupSteps]stepIndex
}

const (
	groupCands = 2 // flows a group's first event starts, in the arrays
	groupSteps = 6 // events each flow follows in the arrays
)

// groupKey is what groups events (see key): the session id, "" for none,
// and the user. A struct rather than a joined string: building the string
// was an allocation per event.
type groupKey struct{ session, user string }

// deviceKey tells devices apart (see device); the zero value is "any".
type deviceKey struct{ ip, client string }

// keyState is what the Reconstructor keeps for one key: its open groups,
// and the events no open group took, waiting (see Add), at most one per
// device. Looking a key up once per event and keeping a pointer to it
// spares hashing the key's strings for each step of the way.
type keyState struct {
	key    groupKey
	groups []*group // more than one for flows of one user on several devices
	held   []heldEvent
	queued int // entries of Reconstructor.queue that refer to it
	// Room for the usual one group and one held event.
	groupBuf [1]*group
	heldBuf  [1]heldEvent
}

// heldEvent is an event held back for its device's next.
type heldEvent struct {
	dev deviceKey
	ev  Event
}

// Reconstructor groups a stream of events into flow instances. Feed it
// events in published order (ties in any order) with Add, then call Flush;
// each instance is passed to emit once it can grow no more. It is not safe
// for concurrent use.
type Reconstructor struct {
	emit func(*Instance)
	// open holds the keys of open groups and held events; a key left
	// with neither stays until the next sweep.
	open      map[groupKey]*keyState
	queue     []heldRef   // held events in published order
	freeKeys  []*keyState // keys swept and referred to by nothing, for reuse
	closedBuf []*group    // begin's closed groups, reused (start emits them at once)
	free      []*group    // groups emitted and referred to by nothing, for reuse
	finals    []*group    // groups that reached a final end, in the order they did
	*tables
	rank map[string]int
	// The last type looked up: one event's type is looked up two or
	// three times in a row (hold, join, begin), each time the same string.
	lastType  string
	lastInfo  typeInfo
	lastOK    bool
	now       int64
	lastSweep int64
}

// tables are what reconstruction looks up in the flow definitions, built
// once: the definitions do not change.
type tables struct {
	flows  []*flowdef.Flow
	types  map[string]typeInfo // by event type, for the types some flow names
	maxGap int64
}

// typeInfo is what the definitions say of one event type.
type typeInfo struct {
	starters  []*flowdef.Flow // the flows whose steps name it
	startable bool            // some flow may begin with it
}

var sharedTables = sync.OnceValue(func() *tables {
	t := &tables{types: map[string]typeInfo{}}
	all := flowdef.All()
	for i := range all {
		if len(all[i].Steps) > math.MaxInt8 {
			panic("flows: flow " + all[i].Kind + " has more steps than a stepIndex holds")
		}
		t.flows = append(t.flows, &all[i])
		for _, typ := range all[i].EventTypes() {
			ti := t.types[typ]
			ti.starters = append(ti.starters, &all[i])
			c := all[i].Cursor()
			if c.Fits(flowdef.Event{Type: typ}) >= 0 {
				ti.startable = true
			}
			t.types[typ] = ti
		}
		t.maxGap = max(t.maxGap, all[i].MaxGap.Milliseconds())
	}
	return t
})

// typeOf is what the definitions say of event type t, and whether some
// flow names it.
func (r *Reconstructor) typeOf(t string) (typeInfo, bool) {
	if t != r.lastType {
		r.lastInfo, r.lastOK = r.types[t]
		r.lastType = t
	}
	return r.lastInfo, r.lastOK
}

// NewReconstructor returns a Reconstructor that passes instances to emit.
func NewReconstructor(emit func(*Instance)) *Reconstructor {
	r := &Reconstructor{emit: emit, open: map[groupKey]*keyState{}, rank: map[string]int{},
		tables: sharedTables()}
	for i, k := range Preference {
		r.rank[k] = i
	}
	return r
}

// Reconstruct groups events (in any order) into instances, ordered by their
// first event.
func Reconstruct(events []Event) []*Instance {
	evs := slices.Clone(events)
	slices.SortStableFunc(evs, func(a, b Event) int { return cmpInt(a.Published, b.Published) })
	var out []*Instance
	r := NewReconstructor(func(in *Instance) { out = append(out, in) })
	for i := range evs {
		r.Add(evs[i])
	}
	r.Flush()
	SortInstances(out)
	link(out)
	return out
}

// lookBack is how many earlier instances of a user link considers: a
// lock-out is often followed by an attempt or two while locked before the
// unlock.
const lookBack = 3

// link sets Continues and ContinuedBy between instances of one user that
// carry on from one another (flowdef.Flow.Continues). ins must be sorted.
func link(ins []*Instance) {
	recent := map[string][]*Instance{}
	for _, in := range ins {
		if in.Kind == Other || in.User == "" {
			continue
		}
		f, _ := flowdef.Lookup(in.Kind)
		prevs := recent[in.User]
	search:
		for i := len(prevs) - 1; i >= 0; i-- {
			p := prevs[i]
			if p.ContinuedBy != nil || p.End.After(in.Start) {
				continue
			}
			for _, c := range f.Continues {
				if c.Kind == p.Kind && c.Status == p.Status && (c.StoppedAt == "" || c.StoppedAt == p.StoppedAt) &&
					in.Start.Sub(p.End) <= c.Within {
					in.Continues = &Link{Kind: p.Kind, Status: p.Status, StoppedAt: p.StoppedAt, UUID: p.UUIDs[0]}
					p.ContinuedBy = &Link{Kind: in.Kind, Status: in.Status, StoppedAt: in.StoppedAt, UUID: in.UUIDs[0]}
					break search
				}
			}
		}
		if len(prevs) == lookBack {
			prevs = prevs[1:]
		}
		recent[in.User] = append(prevs, in)
	}
}

// SortInstances orders instances by their first event, then kind.
func SortInstances(ins []*Instance) {
	slices.SortStableFunc(ins, func(a, b *Instance) int {
		if c := cmpInt(a.Start.UnixMilli(), b.Start.UnixMilli()); c != 0 {
			return c
		}
		return cmpInt(int64(len(a.Events)), int64(len(b.Events)))
	})
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func key(e *Event) groupKey { return groupKey{e.Session, e.User} }

func cmpKey(a, b groupKey) int {
	if c := strings.Compare(a.session, b.session); c != 0 {
		return c
	}
	return strings.Compare(a.user, b.user)
}

// Add takes the next event.
//
// An event that no open instance of its key takes is held back for
// flowdef.OrderTolerance: if the key's next event comes within that time
// and the two fit better the other way round (fewer instances broken), they
// are placed in that order. This is how an answer logged a moment before
// its challenge, or a single logout before its sign-out, finds its place.
func (r *Reconstructor) Add(e Event) {
	if e.Published > r.now {
		r.now = e.Published
	}
	r.release(r.now - flowdef.OrderTolerance.Milliseconds())
	r.closeFinals(r.now - flowdef.OrderTolerance.Milliseconds())
	// Close what has been quiet for longer than any flow waits, now and
	// then: groups that keep going are few compared with sessions.
	if r.now-r.lastSweep > sweepEvery {
		r.sweep(r.now)
		r.lastSweep = r.now
	}
	ks := r.state(key(&e))
	dev := device(&e) // a held event waits for its own device's next
	if i := ks.heldAt(dev); i >= 0 {
		h := ks.unhold(i)
		if e.Published-h.Published <= flowdef.OrderTolerance.Milliseconds() && r.swapBetter(ks, &h, &e) {
			r.commit(ks, &e)
			r.commit(ks, &h)
			return
		}
		r.commit(ks, &h)
	}
	if g := r.join(ks.groups, &e); g != nil {
		r.noteFinal(g)
		return
	}
	if _, ok := r.typeOf(e.Type); ok {
		r.hold(ks, dev, &e)
		return
	}
	r.start(ks, &e)
}

// state is key k's state, new if it has none.
func (r *Reconstructor) state(k groupKey) *keyState {
	ks := r.open[k]
	if ks == nil {
		if n := len(r.freeKeys); n > 0 {
			ks = r.freeKeys[n-1]
			r.freeKeys[n-1] = nil
			r.freeKeys = r.freeKeys[:n-1]
		} else {
			ks = &keyState{}
		}
		ks.key, ks.groups, ks.held = k, ks.groupBuf[:0], ks.heldBuf[:0]
		r.open[k] = ks
	}
	return ks
}

// heldRef is a held event in the order it was held: its key and device.
type heldRef struct {
	ks        *keyState
	dev       deviceKey
	uuid      string
	published int64
}

// hold keeps e for its device's next event or the order tolerance.
func (r *Reconstructor) hold(ks *keyState, dev deviceKey, e *Event) {
	if i := ks.heldAt(dev); i >= 0 {
		ks.held[i].ev = *e
	} else {
		ks.held = append(ks.held, heldEvent{dev, *e})
	}
	r.queue = append(r.queue, heldRef{ks, dev, e.UUID, e.Published})
	ks.queued++
}

// heldAt is the index in held of the event held for device dev, -1 for
// none.
func (ks *keyState) heldAt(dev deviceKey) int {
	for i := range ks.held {
		if ks.held[i].dev == dev {
			return i
		}
	}
	return -1
}

// heldFor returns the event q refers to if it is still held.
func (q *heldRef) heldFor() (*Event, int, bool) {
	i := q.ks.heldAt(q.dev)
	if i < 0 {
		return nil, -1, false
	}
	h := &q.ks.held[i].ev
	return h, i, h.UUID == q.uuid && h.Published == q.published
}

// unhold takes the i'th held event out of held.
func (ks *keyState) unhold(i int) Event {
	h := ks.held[i].ev
	last := len(ks.held) - 1
	ks.held[i] = ks.held[last]
	ks.held[last] = heldEvent{} // let its strings go
	ks.held = ks.held[:last]
	return h
}

// release commits the held events published before until.
func (r *Reconstructor) release(until int64) {
	n := 0
	for ; n < len(r.queue) && r.queue[n].published < until; n++ {
		q := &r.queue[n]
		q.ks.queued--
		if _, i, ok := q.heldFor(); ok {
			h := q.ks.unhold(i)
			r.commit(q.ks, &h)
		}
	}
	if n > 0 {
		r.queue = slices.Delete(r.queue, 0, n)
	}
}

// joins reports whether some open group of gs would take e, leaving aside
// events that would only fit by reordering.
func (r *Reconstructor) joins(gs []*group, e *Event) bool {
	de := e.def()
	for _, g := range gs {
		gap := e.Published - g.last
		for i := range g.cands {
			if gap <= g.cands[i].c.Flow().MaxGap.Milliseconds() && g.cands[i].c.Fits(de) >= 0 {
				return true
			}
		}
	}
	return false
}

// swapBetter reports whether e then h breaks fewer open groups than h then
// e, h being held because no open group of key k takes it. When no open
// group takes e either, each order starts a fresh instance with its first
// event, and only whether that instance takes the second event decides;
// otherwise both orders are tried on copies of the groups.
func (r *Reconstructor) swapBetter(ks *keyState, h, e *Event) bool {
	if !r.joins(ks.groups, e) {
		return r.startTakes(e, h) && !r.startTakes(h, e)
	}
	return r.breaks(ks, e, h) < r.breaks(ks, h, e)
}

// startTakes reports whether some flow that begins with a takes b next.
func (r *Reconstructor) startTakes(a, b *Event) bool {
	da, db := a.def(), b.def()
	gap := b.Published - a.Published
	for _, f := range r.flows {
		c := f.Cursor()
		if gap > f.MaxGap.Milliseconds() || c.Take(da) < 0 {
			continue
		}
		if c.Fits(db) >= 0 {
			return true
		}
	}
	return false
}

// breaks counts the events of a, b (placed in that order on copies of the
// key's open groups) that would not continue an open group.
func (r *Reconstructor) breaks(ks *keyState, a, b *Event) int {
	gs := make([]*group, len(ks.groups))
	for i, g := range ks.groups {
		c := *g
		c.evs = slices.Clone(g.evs)
		c.cands = slices.Clone(g.cands)
		for j := range c.cands {
			c.cands[j].steps = slices.Clone(c.cands[j].steps)
		}
		gs[i] = &c
	}
	n := 0
	for _, e := range []*Event{a, b} {
		var joined bool
		gs, _, joined = r.place(gs, ks, e)
		if !joined {
			n++
		}
	}
	return n
}

// commit places e among its key's open groups and emits what closes.
func (r *Reconstructor) commit(ks *keyState, e *Event) {
	if g := r.join(ks.groups, e); g != nil {
		r.noteFinal(g)
		return
	}
	r.start(ks, e)
}

// noteFinal queues g to be closed once flowdef.OrderTolerance has passed if
// it reached a final end: until then an event of it logged late may still
// be put back in its place.
func (r *Reconstructor) noteFinal(g *group) {
	if allFinal(g.cands) {
		r.finals = append(r.finals, g)
		g.finals++
	}
}

// closeFinals closes the groups that reached a final end before until.
func (r *Reconstructor) closeFinals(until int64) {
	n := 0
	for ; n < len(r.finals) && r.finals[n].last < until; n++ {
		g := r.finals[n]
		g.finals--
		if !g.done && allFinal(g.cands) {
			r.close(g)
		} else {
			r.reuse(g)
		}
	}
	if n > 0 {
		r.finals = slices.Delete(r.finals, 0, n)
	}
}

// start begins a group with e, closing the groups of its key on its
// device (what e cannot continue is over).
func (r *Reconstructor) start(ks *keyState, e *Event) {
	open, closed := r.begin(ks.groups, ks, e)
	ks.groups = open
	for _, g := range closed {
		g.done = true
		r.emit(r.finish(g))
		r.reuse(g)
	}
	clear(closed)
	if len(open) > 0 {
		r.noteFinal(open[len(open)-1])
	}
}

// place puts e among gs, the open groups of key k. It returns the groups
// still open, those e closed, and whether e continued an open group. It
// changes the groups of gs and may reuse gs's array for open: callers
// replace gs with open. closed is valid until the next call.
func (r *Reconstructor) place(gs []*group, ks *keyState, e *Event) (open, closed []*group, joined bool) {
	if r.join(gs, e) != nil {
		return gs, nil, true
	}
	open, closed = r.begin(gs, ks, e)
	return open, closed, false
}

// join adds e to the open group of gs that takes it, if any: the group on
// e's own device first, newest first. An event that may begin a flow joins
// no group on another device (a push from the phone while the laptop's
// sign-in waits is the phone's own); one that may not (a reset done from
// the email opened on the phone) may. A group that reached a final end
// stays open for flowdef.OrderTolerance (see sweep) so that an event of it
// logged a moment late can still be put back in its place.
func (r *Reconstructor) join(gs []*group, e *Event) *group {
	dev := device(e)
	passes := 2
	if ti, _ := r.typeOf(e.Type); ti.startable {
		passes = 1
	}
	for pass := 0; pass < passes; pass++ {
		for i := len(gs) - 1; i >= 0; i-- {
			g := gs[i]
			if (pass == 0) != sameDevice(g.dev, dev) {
				continue
			}
			if r.extend(g, e, dev) {
				return g
			}
		}
	}
	return nil
}

// begin starts a group with e among gs, the open groups of key k. It
// returns the groups still open and those closed: the groups on e's device,
// and e's own if it fits no flow. open reuses gs's array (callers replace
// gs with it); closed is valid until the next call.
func (r *Reconstructor) begin(gs []*group, ks *keyState, e *Event) (open, closed []*group) {
	dev := device(e)
	open, closed = gs[:0], r.closedBuf[:0]
	for _, g := range gs {
		if sameDevice(g.dev, dev) {
			closed = append(closed, g)
		} else {
			open = append(open, g)
		}
	}
	clear(gs[len(open):]) // what moved to closed
	g := r.newGroup(ks, dev)
	de := e.def()
	ti, _ := r.typeOf(e.Type)
	for _, f := range ti.starters {
		c := f.Cursor()
		if j := c.Take(de); j >= 0 {
			var steps []stepIndex
			if n := len(g.cands); n < groupCands {
				steps = g.stepBuf[n*groupSteps : n*groupSteps+1 : (n+1)*groupSteps]
				steps[0] = stepIndex(j)
			} else {
				steps = []stepIndex{stepIndex(j)}
			}
			g.cands = append(g.cands, cand{c: c, steps: steps})
		}
	}
	g.evs = append(g.evs, *e)
	g.last = e.Published
	if len(g.cands) == 0 {
		closed = append(closed, g)
	} else {
		open = append(open, g)
	}
	r.closedBuf = closed
	return open, closed
}

// device tells apart the devices of one user's events without a session id
// (failed sign-ins, and recovery in orgs that log none): the client's
// address and browser. Events with a session id need no more than it: the
// zero deviceKey (one device as far as grouping goes).
func device(e *Event) deviceKey {
	if e.Session != "" || (e.IP == "" && e.Client == "") {
		return deviceKey{}
	}
	return deviceKey{e.IP, e.Client}
}

func sameDevice(a, b deviceKey) bool { return a == deviceKey{} || b == deviceKey{} || a == b }

// extend adds e to g if any flow g may be takes it; flows that do not are
// dropped. When none takes it, e may still be an event logged a moment out
// of order: see reorder.
func (r *Reconstructor) extend(g *group, e *Event, dev deviceKey) bool {
	gap := e.Published - g.last
	if gap > flowdef.OrderTolerance.Milliseconds() && allFinal(g.cands) {
		return false // finished, and too long ago for e to be one of its events logged late
	}
	de := e.def()
	// The step each flow would take e at, -1 for none, and its cursor
	// moved over e: decided for all before any changes, since g must stay
	// as it is if none takes e.
	var buf [8]int
	var moved [8]flowdef.Cursor
	fits, next := buf[:0], moved[:0]
	if len(g.cands) > len(buf) {
		fits, next = make([]int, 0, len(g.cands)), make([]flowdef.Cursor, 0, len(g.cands))
	}
	restart, n := false, 0
	for i := range g.cands {
		cd := &g.cands[i]
		f := cd.c.Flow()
		j, c := -1, cd.c
		if gap <= f.MaxGap.Milliseconds() {
			j = c.Take(de)
		}
		if j >= 0 && j == cd.c.Step() && f.Steps[j].Restartable && e.Session == "" {
			// Asked again from another device is another attempt:
			// "send again" is on the screen that sent the first.
			if !sameDevice(g.dev, dev) {
				j = -1
			} else {
				restart = true
			}
		}
		fits, next = append(fits, j), append(next, c)
		if j >= 0 {
			n++
		}
	}
	if n == 0 {
		return r.reorder(g, e)
	}
	if restart && g.restart == 0 {
		g.restart = len(g.evs)
	}
	// The flows that take e, in place: no other slice shares g's cands
	// or their steps (breaks clones both).
	keep := g.cands[:0]
	for i, j := range fits {
		if j < 0 {
			continue
		}
		cd := g.cands[i]
		cd.c = next[i]
		cd.steps = append(cd.steps, stepIndex(j))
		keep = append(keep, cd)
	}
	clear(g.cands[len(keep):])
	g.cands = keep
	if len(g.evs) == cap(g.evs) {
		// Out of evBuf: room for a whole sign-in at once rather than
		// growing 2, 4, 8.
		g.evs = append(make([]Event, 0, max(groupSteps, 2*cap(g.evs))), g.evs...)
	}
	g.evs = append(g.evs, *e)
	g.last = e.Published
	return true
}

// reorder tries e before the group's last events published less than
// flowdef.OrderTolerance before it, nearest first, and keeps the first
// order some flow takes whole. Okta may write two events of one flow a
// moment apart in either order; without this a sign-in whose MFA send was
// stamped a millisecond before its policy evaluation would be cut in two.
func (r *Reconstructor) reorder(g *group, e *Event) bool {
	tol := flowdef.OrderTolerance.Milliseconds()
	for p := len(g.evs) - 1; p >= 0 && e.Published-g.evs[p].Published <= tol; p-- {
		seq := make([]Event, 0, len(g.evs)+1)
		seq = append(append(append(seq, g.evs[:p]...), *e), g.evs[p:]...)
		if cands := r.follow(seq); len(cands) > 0 {
			g.evs, g.cands, g.restart = seq, cands, 0
			g.last = max(g.last, e.Published)
			return true
		}
	}
	return false
}

// follow runs every flow over evs from the start and returns those that
// take every event within their MaxGap.
func (r *Reconstructor) follow(evs []Event) []cand {
	var out []cand
next:
	for _, f := range r.flows {
		cd := cand{c: f.Cursor(), steps: make([]stepIndex, 0, len(evs))}
		for i := range evs {
			if i > 0 && evs[i].Published-evs[i-1].Published > f.MaxGap.Milliseconds() {
				continue next
			}
			// Take, not Next: Next's refusal builds a message.
			j := cd.c.Take(evs[i].def())
			if j < 0 {
				continue next
			}
			cd.steps = append(cd.steps, stepIndex(j))
		}
		out = append(out, cd)
	}
	return out
}

func allFinal(cs []cand) bool {
	for i := range cs {
		if !cs[i].c.Final() {
			return false
		}
	}
	return true
}

// sweepEvery is how often (in published time, ms) Add closes the groups
// nothing can extend any more.
const sweepEvery = 60000

// sweep closes the groups nothing can extend any more at time now: those
// quiet for longer than their flows' MaxGap, and those that reached a final
// end more than flowdef.OrderTolerance ago.
func (r *Reconstructor) sweep(now int64) {
	var done []*group
	for k, ks := range r.open {
		if len(ks.groups) == 0 && len(ks.held) == 0 {
			delete(r.open, k)
			if ks.queued == 0 { // else an entry of queue still looks at it
				clear(ks.groups[:cap(ks.groups)])
				r.freeKeys = append(r.freeKeys, ks)
			}
			continue
		}
		for _, g := range ks.groups {
			limit := r.gapOf(g)
			if allFinal(g.cands) {
				limit = flowdef.OrderTolerance.Milliseconds()
			}
			if now-g.last > limit {
				done = append(done, g)
			}
		}
	}
	for _, g := range done {
		r.close(g)
	}
}

func (r *Reconstructor) gapOf(g *group) int64 {
	var m int64
	for i := range g.cands {
		m = max(m, g.cands[i].c.Flow().MaxGap.Milliseconds())
	}
	return m
}

func (r *Reconstructor) close(g *group) {
	g.done = true
	ks := g.ks
	if i := slices.Index(ks.groups, g); i >= 0 {
		ks.groups = slices.Delete(ks.groups, i, i+1)
	}
	r.emit(r.finish(g))
	r.reuse(g)
}

// reuse keeps g for begin if it was emitted and nothing refers to it any
// more: its instance holds copies of everything in it.
func (r *Reconstructor) reuse(g *group) {
	if !g.done || g.finals > 0 {
		return
	}
	clear(g.evs) // let the events' strings go
	g.evBuf = [1]Event{}
	r.free = append(r.free, g)
}

// newGroup is a group for begin, reused if one is free.
func (r *Reconstructor) newGroup(ks *keyState, dev deviceKey) *group {
	n := len(r.free)
	if n == 0 {
		g := &group{ks: ks, dev: dev}
		g.evs, g.cands = g.evBuf[:0], g.candBuf[:0]
		return g
	}
	g := r.free[n-1]
	r.free[n-1] = nil
	r.free = r.free[:n-1]
	evs := g.evs[:0]
	if cap(evs) <= len(g.evBuf) {
		evs = g.evBuf[:0]
	}
	g.ks, g.dev, g.evs, g.cands = ks, dev, evs, g.candBuf[:0]
	g.last, g.restart, g.done = 0, 0, false
	return g
}

// Flush closes every open instance.
func (r *Reconstructor) Flush() {
	r.release(math.MaxInt64)
	for _, g := range r.openGroups() {
		r.close(g)
	}
}

// openGroups lists the open groups by key, then age: map order would make
// the emit order vary from run to run.
func (r *Reconstructor) openGroups() []*group {
	keys := make([]groupKey, 0, len(r.open))
	for k, ks := range r.open {
		if len(ks.groups) > 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, cmpKey)
	var out []*group
	for _, k := range keys {
		out = append(out, r.open[k].groups...)
	}
	return out
}

// finish picks the flow the group most likely is and builds its instance.
// Flows that fit as well as the one picked, and a restart reading of a
// repeated first step, make the instance ambiguous: it says so and lists
// every reading.
func (r *Reconstructor) finish(g *group) *Instance {
	if len(g.cands) == 0 {
		return newInstance(nil, g.evs, nil, nil)
	}
	best := 0
	for i := 1; i < len(g.cands); i++ {
		if r.better(&g.cands[i], &g.cands[best]) {
			best = i
		}
	}
	cd := &g.cands[best]
	in := newInstance(cd.c.Flow(), g.evs, cd.steps, &cd.c)
	var alts []Reading
	for i := range g.cands {
		if i != best && r.tie(&g.cands[best], &g.cands[i]) {
			c := &g.cands[i].c
			st, at := c.Outcome()
			alts = append(alts, Reading{{Kind: c.Flow().Kind, Status: st, StoppedAt: at, UUIDs: in.UUIDs}})
		}
	}
	if g.restart > 0 {
		var rd Reading
		for _, part := range [][]Event{g.evs[:g.restart], g.evs[g.restart:]} {
			for _, x := range Reconstruct(part) {
				rd = append(rd, ReadingPart{Kind: x.Kind, Status: x.Status, StoppedAt: x.StoppedAt, UUIDs: x.UUIDs})
			}
		}
		alts = append(alts, rd)
	}
	if len(alts) > 0 {
		in.Ambiguous = true
		in.Readings = append([]Reading{{{Kind: in.Kind, Status: in.Status, StoppedAt: in.StoppedAt, UUIDs: in.UUIDs}}}, alts...)
	}
	return in
}

// tie reports whether a and b fit equally well, so that only Preference
// would choose between them.
func (r *Reconstructor) tie(a, b *cand) bool {
	sa, _ := a.c.Outcome()
	sb, _ := b.c.Outcome()
	return (sa == flowdef.Abandoned) == (sb == flowdef.Abandoned)
}

func (r *Reconstructor) better(a, b *cand) bool {
	sa, _ := a.c.Outcome()
	sb, _ := b.c.Outcome()
	if (sa == flowdef.Abandoned) != (sb == flowdef.Abandoned) {
		return sb == flowdef.Abandoned
	}
	return r.rank[a.c.Flow().Kind] < r.rank[b.c.Flow().Kind]
}

// gapText renders a MaxGap for reasons.
func gapText(d time.Duration) string {
	if d%time.Minute == 0 {
		return d.String()[:len(d.String())-2]
	}
	return d.String()
}
