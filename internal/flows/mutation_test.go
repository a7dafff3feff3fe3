package flows

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/flowdef"
	"github.com/idlog/idlog/internal/simulate"
)

// The mutation tests take flows the simulator wrote, change them the way
// real orgs differ from the simulator, and check that reconstruction
// changes exactly as the mutation says it should. The oracle is the flow's
// definition: flowdef.Check on the mutated events says what the instance
// must be; a mutation the definition refuses is not applied.
//
// Mutations:
//   - dup: an event of a repeatable step happens again right after itself
//     (a message resent, a code re-entered, a push re-sent).
//   - drop: every event of an optional step is removed (no MFA asked, no
//     enrolment).
//   - swap: two neighbouring events less than flowdef.OrderTolerance apart
//     are logged in the opposite order; the instance must be unchanged.
//   - interleave: a second flow, moved onto the same user and into the
//     middle of the first, runs at the same time (another device or
//     session); both instances must be unchanged.
//   - devices: the same without session ids, each flow from its own client
//     address: both instances must be unchanged.
//   - delay: the pause before one event grows. Within the flow's MaxGap the
//     instance is unchanged; past it the flow splits, and the part before
//     the pause is an instance of its own ending as Check says of it.
//   - late: the events reach reconstruction in a shuffled order; the
//     instance is unchanged.
//
// The flows come from a simulated org of IDLOG_FLOWS_MUTATION_USERS users
// over 14 days (default 400: about 30,000 flows, of which at most
// IDLOG_FLOWS_MUTATION_PER_KIND (default 400) of each kind are mutated, so
// that the rare kinds, resets and unlocks, are not drowned by app
// accesses). Raise both for a longer run.

// truthFlow is one simulated flow: its events in order and its truth.
type truthFlow struct {
	rec truthRec
	evs []Event
}

func mutationFlows(t *testing.T) []truthFlow {
	t.Helper()
	users, perKind := envInt("IDLOG_FLOWS_MUTATION_USERS", 400), envInt("IDLOG_FLOWS_MUTATION_PER_KIND", 400)
	cfg := simulate.Config{Users: users, Apps: 12, Days: 14, Seed: 21,
		End: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}
	evs, truth := simulated(t, cfg)
	byUUID := make(map[string]Event, len(evs))
	for _, e := range evs {
		byUUID[e.UUID] = e
	}
	var out []truthFlow
	n := map[string]int{}
	for _, tr := range truth {
		if tr.Kind == Other || n[tr.Kind] >= perKind {
			continue
		}
		tf := truthFlow{rec: tr}
		for _, u := range tr.UUIDs {
			tf.evs = append(tf.evs, byUUID[u])
		}
		// Only flows reconstructed right on their own: the few the
		// simulator's Preference gets wrong say nothing about mutations.
		if agrees(Reconstruct(tf.evs), tr.Kind, flowdef.Status(tr.Status), tr.StoppedAt, tr.UUIDs) == "" {
			out = append(out, tf)
			n[tr.Kind]++
		}
	}
	t.Logf("%d simulated flows to mutate: %v", len(out), n)
	for _, k := range []string{flowdef.SignIn, flowdef.AppSignIn, flowdef.SSPR, flowdef.Unlock, flowdef.Logout, flowdef.MFA} {
		if n[k] < 10 {
			t.Errorf("only %d %s flows to mutate", n[k], k)
		}
	}
	return out
}

// agrees says how the instance holding uuids[0] differs from the expected
// one ("" when it does not): it must hold exactly uuids, in that order, and
// have kind, status and stoppedAt, or be ambiguous with that among its
// readings.
func agrees(ins []*Instance, kind string, status flowdef.Status, stoppedAt string, uuids []string) string {
	var in *Instance
	for _, x := range ins {
		if slices.Contains(x.UUIDs, uuids[0]) {
			in = x
		}
	}
	if in == nil {
		return "no instance holds " + uuids[0]
	}
	if !slices.Equal(in.UUIDs, uuids) {
		return fmt.Sprintf("events %v, want %v", in.UUIDs, uuids)
	}
	if in.Kind == kind && in.Status == status && in.StoppedAt == stoppedAt {
		return ""
	}
	for _, rd := range in.Readings {
		if len(rd) == 1 && rd[0].Kind == kind && rd[0].Status == status && rd[0].StoppedAt == stoppedAt {
			return ""
		}
	}
	return fmt.Sprintf("%s %s at %q, want %s %s at %q", in.Kind, in.Status, in.StoppedAt, kind, status, stoppedAt)
}

func defEvents(evs []Event) []flowdef.Event {
	out := make([]flowdef.Event, len(evs))
	for i := range evs {
		out[i] = evs[i].def()
	}
	return out
}

func eventUUIDs(evs []Event) []string {
	out := make([]string, len(evs))
	for i := range evs {
		out[i] = evs[i].UUID
	}
	return out
}

// mutation changes a flow and says what reconstruction must give; ok false
// when it does not apply to the flow.
type mutation struct {
	name  string
	apply func(r *rand.Rand, tf truthFlow, all []truthFlow) (mutated []Event, check func([]*Instance) string, ok bool)
}

// expectCheck is the check of a mutated single flow: the definitions'
// verdict on its events. Every flow whose definition takes the events is a
// reading; as documented, one that reached an end beats one left half-way,
// then flows.Preference decides. The kind may change: an app access whose
// SSO is cut off by a long pause leaves a step-up that was answered.
func expectCheck(_ string, evs []Event) (func([]*Instance) string, bool) {
	best, ok := "", false
	var bo flowdef.Outcome
	rank := func(k string) int { return slices.Index(Preference, k) }
	for _, f := range flowdef.All() {
		o, err := f.Check(defEvents(evs))
		if err != nil {
			continue
		}
		if !ok || ((o.Status == flowdef.Abandoned) != (bo.Status == flowdef.Abandoned) && bo.Status == flowdef.Abandoned) ||
			((o.Status == flowdef.Abandoned) == (bo.Status == flowdef.Abandoned) && rank(f.Kind) < rank(best)) {
			best, bo, ok = f.Kind, o, true
		}
	}
	if !ok {
		return nil, false
	}
	uuids := eventUUIDs(evs)
	return func(ins []*Instance) string { return agrees(ins, best, bo.Status, bo.StoppedAt, uuids) }, true
}

var mutations = []mutation{
	{"dup", func(r *rand.Rand, tf truthFlow, _ []truthFlow) ([]Event, func([]*Instance) string, bool) {
		def, _ := flowdef.Lookup(tf.rec.Kind)
		o, err := def.Check(defEvents(tf.evs))
		if err != nil {
			return nil, nil, false
		}
		var idx []int
		for i, j := range o.Steps {
			if def.Steps[j].Repeatable {
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			return nil, nil, false
		}
		i := idx[r.IntN(len(idx))]
		cp := tf.evs[i]
		cp.UUID += "-dup"
		next := cp.Published + 20000
		if i+1 < len(tf.evs) {
			next = tf.evs[i+1].Published
		}
		cp.Published += max(1, (next-cp.Published)/2)
		if cp.Published >= next {
			return nil, nil, false
		}
		m := slices.Insert(slices.Clone(tf.evs), i+1, cp)
		check, ok := expectCheck(tf.rec.Kind, m)
		return m, check, ok
	}},
	{"drop", func(r *rand.Rand, tf truthFlow, _ []truthFlow) ([]Event, func([]*Instance) string, bool) {
		def, _ := flowdef.Lookup(tf.rec.Kind)
		o, err := def.Check(defEvents(tf.evs))
		if err != nil {
			return nil, nil, false
		}
		var opt []int
		for _, j := range o.Steps {
			if def.Steps[j].Optional && !slices.Contains(opt, j) {
				opt = append(opt, j)
			}
		}
		if len(opt) == 0 {
			return nil, nil, false
		}
		drop := opt[r.IntN(len(opt))]
		var m []Event
		for i, j := range o.Steps {
			if j != drop {
				m = append(m, tf.evs[i])
			}
		}
		if len(m) == 0 {
			return nil, nil, false
		}
		check, ok := expectCheck(tf.rec.Kind, m)
		return m, check, ok
	}},
	{"swap", func(r *rand.Rand, tf truthFlow, _ []truthFlow) ([]Event, func([]*Instance) string, bool) {
		var idx []int
		for i := 1; i < len(tf.evs); i++ {
			if tf.evs[i].Published-tf.evs[i-1].Published <= flowdef.OrderTolerance.Milliseconds() {
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			return nil, nil, false
		}
		i := idx[r.IntN(len(idx))]
		m := slices.Clone(tf.evs)
		m[i-1].Published, m[i].Published = m[i].Published, m[i-1].Published
		if m[i-1].Published == m[i].Published {
			m[i-1].Published++
		}
		// If the definition takes the swapped order too, the events alone
		// cannot say which happened first: only apply swaps it refuses or
		// that end the same way.
		swapped := slices.Clone(m)
		swapped[i-1], swapped[i] = swapped[i], swapped[i-1]
		def, _ := flowdef.Lookup(tf.rec.Kind)
		uuids := eventUUIDs(tf.evs)
		if o, err := def.Check(defEvents(swapped)); err == nil {
			if o.Status != flowdef.Status(tf.rec.Status) || o.StoppedAt != tf.rec.StoppedAt {
				return nil, nil, false
			}
			// Either order fits and ends the same: the instance keeps
			// the order the events were published in.
			uuids = eventUUIDs(swapped)
		}
		return m, func(ins []*Instance) string {
			return agrees(ins, tf.rec.Kind, flowdef.Status(tf.rec.Status), tf.rec.StoppedAt, uuids)
		}, true
	}},
	{"interleave", func(r *rand.Rand, tf truthFlow, all []truthFlow) ([]Event, func([]*Instance) string, bool) {
		other := all[r.IntN(len(all))]
		a, b := tf.evs, slices.Clone(other.evs)
		if other.rec.UUIDs[0] == tf.rec.UUIDs[0] || len(a) < 2 {
			return nil, nil, false
		}
		// Another session, or without one another device: what tells two
		// flows of one user apart.
		if a[0].Session == b[0].Session || (b[0].Session == "" && a[0].Session == "" && a[0].IP == b[0].IP) {
			return nil, nil, false
		}
		shift := a[0].Published + r.Int64N(a[len(a)-1].Published-a[0].Published+1) - b[0].Published
		for i := range b {
			b[i].Published += shift
			b[i].User, b[i].UserLogin = a[0].User, a[0].UserLogin
			if b[i].Actor == other.evs[i].User {
				b[i].Actor, b[i].ActorName = a[0].User, a[0].UserLogin
			}
		}
		m := append(slices.Clone(a), b...)
		ua, ub := eventUUIDs(a), eventUUIDs(b)
		return m, func(ins []*Instance) string {
			if d := agrees(ins, tf.rec.Kind, flowdef.Status(tf.rec.Status), tf.rec.StoppedAt, ua); d != "" {
				return "first flow: " + d
			}
			if d := agrees(ins, other.rec.Kind, flowdef.Status(other.rec.Status), other.rec.StoppedAt, ub); d != "" {
				return "second flow: " + d
			}
			return ""
		}, true
	}},
	{"devices", func(r *rand.Rand, tf truthFlow, all []truthFlow) ([]Event, func([]*Instance) string, bool) {
		// As interleave, without session ids: only the two devices'
		// addresses tell the flows apart.
		other := all[r.IntN(len(all))]
		if other.rec.UUIDs[0] == tf.rec.UUIDs[0] || len(tf.evs) < 2 {
			return nil, nil, false
		}
		a, b := slices.Clone(tf.evs), slices.Clone(other.evs)
		shift := a[0].Published + r.Int64N(a[len(a)-1].Published-a[0].Published+1) - b[0].Published
		for i := range a {
			a[i].Session, a[i].IP = "", "198.51.100.1"
		}
		for i := range b {
			b[i].Published += shift
			b[i].Session, b[i].IP = "", "203.0.113.2"
			b[i].User, b[i].UserLogin = a[0].User, a[0].UserLogin
			if b[i].Actor == other.evs[i].User {
				b[i].Actor, b[i].ActorName = a[0].User, a[0].UserLogin
			}
		}
		// Each flow alone, without its session id, must still read as
		// the simulator wrote it; else the mutation says nothing.
		for _, f := range []struct {
			evs []Event
			tf  truthFlow
		}{{a, tf}, {b, other}} {
			if agrees(Reconstruct(f.evs), f.tf.rec.Kind, flowdef.Status(f.tf.rec.Status), f.tf.rec.StoppedAt, eventUUIDs(f.evs)) != "" {
				return nil, nil, false
			}
		}
		m := append(a, b...)
		ua, ub := eventUUIDs(a), eventUUIDs(b)
		return m, func(ins []*Instance) string {
			if d := agrees(ins, tf.rec.Kind, flowdef.Status(tf.rec.Status), tf.rec.StoppedAt, ua); d != "" {
				return "first device: " + d
			}
			if d := agrees(ins, other.rec.Kind, flowdef.Status(other.rec.Status), other.rec.StoppedAt, ub); d != "" {
				return "second device: " + d
			}
			return ""
		}, true
	}},
	{"delay", func(r *rand.Rand, tf truthFlow, _ []truthFlow) ([]Event, func([]*Instance) string, bool) {
		if len(tf.evs) < 2 {
			return nil, nil, false
		}
		def, _ := flowdef.Lookup(tf.rec.Kind)
		i := 1 + r.IntN(len(tf.evs)-1)
		gap := tf.evs[i].Published - tf.evs[i-1].Published
		maxGap := def.MaxGap.Milliseconds()
		past := r.IntN(2) == 0
		var by int64
		if past {
			by = maxGap - gap + 1 + r.Int64N(maxGap)
		} else if maxGap > gap {
			by = r.Int64N(maxGap - gap + 1)
		}
		m := slices.Clone(tf.evs)
		for k := i; k < len(m); k++ {
			m[k].Published += by
		}
		if !past {
			uuids := eventUUIDs(tf.evs)
			return m, func(ins []*Instance) string {
				return agrees(ins, tf.rec.Kind, flowdef.Status(tf.rec.Status), tf.rec.StoppedAt, uuids)
			}, true
		}
		check, ok := expectCheck(tf.rec.Kind, m[:i])
		return m, check, ok
	}},
	{"late", func(r *rand.Rand, tf truthFlow, _ []truthFlow) ([]Event, func([]*Instance) string, bool) {
		m := slices.Clone(tf.evs)
		r.Shuffle(len(m), func(i, j int) { m[i], m[j] = m[j], m[i] })
		uuids := eventUUIDs(tf.evs)
		return m, func(ins []*Instance) string {
			return agrees(ins, tf.rec.Kind, flowdef.Status(tf.rec.Status), tf.rec.StoppedAt, uuids)
		}, true
	}},
}

func TestMutations(t *testing.T) {
	all := mutationFlows(t)
	r := rand.New(rand.NewPCG(24, 1))
	for _, mu := range mutations {
		t.Run(mu.name, func(t *testing.T) {
			applied, failed := 0, 0
			kinds := map[string]int{}
			for _, tf := range all {
				m, check, ok := mu.apply(r, tf, all)
				if !ok {
					continue
				}
				applied++
				kinds[tf.rec.Kind]++
				if d := check(Reconstruct(m)); d != "" {
					failed++
					if failed <= 8 {
						t.Errorf("%s of %s %s at %q %v: %s\n%s", mu.name, tf.rec.Kind, tf.rec.Status, tf.rec.StoppedAt, tf.rec.UUIDs, d, describe(m))
					}
				}
			}
			t.Logf("%s: applied to %d of %d flows (%v), %d wrong", mu.name, applied, len(all), kinds, failed)
			if applied < 100 {
				t.Errorf("%s applied to only %d flows", mu.name, applied)
			}
		})
	}
}

func describe(evs []Event) string {
	var b strings.Builder
	s := slices.Clone(evs)
	slices.SortStableFunc(s, func(a, b Event) int { return cmpInt(a.Published, b.Published) })
	for _, e := range s {
		fmt.Fprintf(&b, "  %d %s %s %s %s %s\n", e.Published, e.UUID, e.Session, e.User, e.Type, e.Result)
	}
	return b.String()
}
