package flows

import (
	"slices"
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

// answeredBy lists steps that send something the user must answer: the next
// event of the instance is another send or the answer. Without this rule an
// unanswered push followed minutes later by an app access without MFA would
// be read as one access, since the definitions let MFA be skipped.
var answeredBy = map[string]string{"mfa_challenge": "mfa_verify"}

// cand is one flow an open group may still be.
type cand struct {
	c     flowdef.Cursor
	steps []int // step of each event
}

// group is an open instance: its events and the flows that fit them.
type group struct {
	key   string
	evs   []Event
	cands []cand
	last  int64
}

// Reconstructor groups a stream of events into flow instances. Feed it
// events in published order (ties in any order) with Add, then call Flush;
// each instance is passed to emit once it can grow no more. It is not safe
// for concurrent use.
type Reconstructor struct {
	emit      func(*Instance)
	open      map[string]*group
	flows     []*flowdef.Flow
	rank      map[string]int
	maxGap    int64
	now       int64
	lastSweep int64
}

// NewReconstructor returns a Reconstructor that passes instances to emit.
func NewReconstructor(emit func(*Instance)) *Reconstructor {
	r := &Reconstructor{emit: emit, open: map[string]*group{}, rank: map[string]int{}}
	all := flowdef.All()
	for i := range all {
		r.flows = append(r.flows, &all[i])
		r.maxGap = max(r.maxGap, all[i].MaxGap.Milliseconds())
	}
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
	return out
}

// SortInstances orders instances by their first event, then kind.
func SortInstances(ins []*Instance) {
	slices.SortStableFunc(ins, func(a, b *Instance) int {
		if c := cmpInt(a.Events[0].Published, b.Events[0].Published); c != 0 {
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

func key(e *Event) string {
	if e.Session != "" {
		return e.Session + "\x00" + e.User
	}
	return "\x00" + e.User
}

// Add takes the next event.
func (r *Reconstructor) Add(e Event) {
	if e.Published > r.now {
		r.now = e.Published
	}
	// Close what has been quiet for longer than any flow waits, now and
	// then: groups that keep going are few compared with sessions.
	if r.now-r.lastSweep > 60000 {
		r.sweep(r.now)
		r.lastSweep = r.now
	}
	k := key(&e)
	if g := r.open[k]; g != nil {
		if r.extend(g, &e) {
			if allFinal(g.cands) {
				r.close(g)
			}
			return
		}
		r.close(g)
	}
	g := &group{key: k}
	de := e.def()
	for _, f := range r.flows {
		c := f.Cursor()
		if j := c.Fits(de); j >= 0 {
			c.Next(de)
			g.cands = append(g.cands, cand{c: c, steps: []int{j}})
		}
	}
	g.evs = append(g.evs, e)
	g.last = e.Published
	if len(g.cands) == 0 || allFinal(g.cands) {
		r.emit(r.finish(g))
		return
	}
	r.open[k] = g
}

// extend adds e to g if any flow g may be takes it; flows that do not are
// dropped.
func (r *Reconstructor) extend(g *group, e *Event) bool {
	gap := e.Published - g.last
	de := e.def()
	keep := g.cands[:0:0]
	for _, cd := range g.cands {
		f := cd.c.Flow()
		if gap > f.MaxGap.Milliseconds() {
			continue
		}
		j := cd.c.Fits(de)
		if j < 0 {
			continue
		}
		if cur := cd.c.Step(); cur >= 0 {
			if want, ok := answeredBy[f.Steps[cur].Name]; ok && j != cur && f.Steps[j].Name != want {
				continue
			}
		}
		cd.c.Next(de)
		cd.steps = append(slices.Clip(cd.steps), j)
		keep = append(keep, cd)
	}
	if len(keep) == 0 {
		return false
	}
	g.cands = keep
	g.evs = append(g.evs, *e)
	g.last = e.Published
	return true
}

func allFinal(cs []cand) bool {
	for i := range cs {
		if !cs[i].c.Final() {
			return false
		}
	}
	return true
}

// sweep closes the groups nothing can extend any more at time now.
func (r *Reconstructor) sweep(now int64) {
	for _, g := range r.open {
		if now-g.last > r.gapOf(g) {
			r.close(g)
		}
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
	delete(r.open, g.key)
	r.emit(r.finish(g))
}

// Flush closes every open instance.
func (r *Reconstructor) Flush() {
	keys := make([]string, 0, len(r.open))
	for k := range r.open {
		keys = append(keys, k)
	}
	// Map order would make the emit order vary from run to run.
	slices.Sort(keys)
	for _, k := range keys {
		r.close(r.open[k])
	}
}

// finish picks the flow the group most likely is and builds its instance.
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
	return newInstance(cd.c.Flow(), g.evs, cd.steps, &cd.c)
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
