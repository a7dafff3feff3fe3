package flows

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/flowdef"
)

// Splits are the attributes a funnel can be split by.
var Splits = []string{"factor", "app", "country", "client"}

func checkSplit(s string) error {
	if s == "" || slices.Contains(Splits, s) {
		return nil
	}
	return fmt.Errorf("flows: cannot split by %q (one of %s)", s, strings.Join(Splits, ", "))
}

// ReasonCount is one reason instances stopped, with how many did.
type ReasonCount struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// FunnelStep is one step of a funnel.
type FunnelStep struct {
	Name string `json:"name"`
	// Label says what the step is in words, and EventTypes which events
	// count for it (flowdef.Step).
	Label      string   `json:"label"`
	EventTypes []string `json:"eventTypes"`
	Optional   bool     `json:"optional,omitempty"`
	// Reached counts the instances with an event at this step.
	Reached int `json:"reached"`
	// Stopped counts the instances that ended here without completing
	// (failed, denied or abandoned), by status, with their top reasons.
	Stopped   int           `json:"stopped"`
	Failed    int           `json:"failed"`
	Denied    int           `json:"denied"`
	Abandoned int           `json:"abandoned"`
	Reasons   []ReasonCount `json:"reasons"`
}

// Funnel counts the instances of one flow by how far they got.
type Funnel struct {
	Flow      string `json:"flow"`
	Title     string `json:"title"`
	Split     string `json:"split,omitempty"`
	Value     string `json:"value,omitempty"` // this part's split value
	Instances int    `json:"instances"`
	Completed int    `json:"completed"`
	Failed    int    `json:"failed"`
	Denied    int    `json:"denied"`
	Abandoned int    `json:"abandoned"`
	// Ambiguous counts the instances another reading also fits (they are
	// counted above as the reading shown; see Instance.Ambiguous).
	Ambiguous int          `json:"ambiguous"`
	Steps     []FunnelStep `json:"steps"`
	// Parts are the funnels of each split value, largest first.
	Parts []*Funnel `json:"parts,omitempty"`
}

// topReasons is how many reasons a step lists.
const topReasons = 5

// BuildFunnel counts the instances of kind among ins; split (see Splits)
// adds one funnel per value of that attribute.
func BuildFunnel(kind string, ins []*Instance, split string) (*Funnel, error) {
	x := NewIndex()
	for _, in := range ins {
		x.AddInstance(in)
	}
	return x.Funnel(kind, time.Time{}, time.Time{}, split)
}

// Index keeps what funnels need of every instance of an event stream, a few
// dozen bytes each, so funnels over long ranges need neither the events nor
// the instances' timelines. Feed it events in published order with Add (or
// finished instances with AddInstance), then Flush. Not safe for concurrent
// use.
type Index struct {
	r    *Reconstructor
	strs []string
	ids  map[string]uint32
	recs []rec
}

// rec is one instance in an Index.
type rec struct {
	start   int64 // unix ms of the first event
	kind    uint8 // index into flowdef.All(); other kinds are not kept
	status  uint8 // index into statuses
	stopped int8  // step the instance stopped at; -1 when completed
	ambig   bool
	reached uint64
	// Interned strings.
	reason, factor, app, country, client uint32
}

var statuses = []flowdef.Status{flowdef.Completed, flowdef.Failed, flowdef.Denied, flowdef.Abandoned}

// NewIndex returns an empty index.
func NewIndex() *Index {
	x := &Index{ids: map[string]uint32{}}
	x.r = NewReconstructor(x.AddInstance)
	return x
}

// Add takes the next event of the stream.
func (x *Index) Add(e Event) { x.r.Add(e) }

// Flush closes the instances still open.
func (x *Index) Flush() { x.r.Flush() }

// Len is the number of instances kept.
func (x *Index) Len() int { return len(x.recs) }

func (x *Index) intern(s string) uint32 {
	if id, ok := x.ids[s]; ok {
		return id
	}
	id := uint32(len(x.strs))
	x.strs = append(x.strs, s)
	x.ids[s] = id
	return id
}

// AddInstance keeps one finished instance (of a user flow; others are
// dropped).
func (x *Index) AddInstance(in *Instance) {
	k := -1
	for i, f := range flowdef.All() {
		if f.Kind == in.Kind {
			k = i
			break
		}
	}
	if k < 0 {
		return
	}
	r := rec{start: in.Start.UnixMilli(), kind: uint8(k), stopped: -1, ambig: in.Ambiguous,
		reason: x.intern(in.Reason), factor: x.intern(in.Factor), app: x.intern(in.App),
		country: x.intern(in.Country), client: x.intern(in.Client)}
	for i, st := range statuses {
		if st == in.Status {
			r.status = uint8(i)
		}
	}
	for i := range in.Steps {
		if len(in.Steps[i].Events) > 0 {
			r.reached |= 1 << i
		}
		if in.Status != flowdef.Completed && in.Steps[i].Name == in.StoppedAt {
			r.stopped = int8(i)
		}
	}
	x.recs = append(x.recs, r)
}

// Funnel counts the instances of kind that started in [since, until) (zero
// times leave that side open); split (see Splits) adds one funnel per value
// of that attribute.
func (x *Index) Funnel(kind string, since, until time.Time, split string) (*Funnel, error) {
	k := -1
	for i, f := range flowdef.All() {
		if f.Kind == kind {
			k = i
		}
	}
	if k < 0 {
		return nil, fmt.Errorf("flows: unknown flow %q (one of %s)", kind, kindList())
	}
	if err := checkSplit(split); err != nil {
		return nil, err
	}
	f := &flowdef.All()[k]
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !since.IsZero() {
		lo = since.UnixMilli()
	}
	if !until.IsZero() {
		hi = until.UnixMilli()
	}
	total := newCounter(f)
	parts := map[uint32]*counter{}
	for i := range x.recs {
		r := &x.recs[i]
		if int(r.kind) != k || r.start < lo || r.start >= hi {
			continue
		}
		total.add(r)
		if split == "" {
			continue
		}
		v := x.splitOf(r, split)
		c := parts[v]
		if c == nil {
			c = newCounter(f)
			parts[v] = c
		}
		c.add(r)
	}
	out := total.funnel(x)
	if split == "" {
		return out, nil
	}
	out.Split = split
	for v, c := range parts {
		p := c.funnel(x)
		p.Value = x.strs[v]
		if p.Value == "" {
			p.Value = "(none)"
		}
		out.Parts = append(out.Parts, p)
	}
	slices.SortFunc(out.Parts, func(a, b *Funnel) int {
		if a.Instances != b.Instances {
			return b.Instances - a.Instances
		}
		return strings.Compare(a.Value, b.Value)
	})
	return out, nil
}

func (x *Index) splitOf(r *rec, split string) uint32 {
	switch split {
	case "factor":
		return r.factor
	case "app":
		return r.app
	case "country":
		return r.country
	}
	return r.client
}

// counter accumulates one funnel.
type counter struct {
	f        *flowdef.Flow
	n        int
	ambig    int
	byStatus [4]int
	reached  []int
	stopped  [][4]int
	reasons  []map[uint32]int
}

func newCounter(f *flowdef.Flow) *counter {
	return &counter{f: f, reached: make([]int, len(f.Steps)), stopped: make([][4]int, len(f.Steps)),
		reasons: make([]map[uint32]int, len(f.Steps))}
}

func (c *counter) add(r *rec) {
	c.n++
	if r.ambig {
		c.ambig++
	}
	c.byStatus[r.status]++
	for m, i := r.reached, 0; m != 0 && i < len(c.reached); m, i = m>>1, i+1 {
		if m&1 != 0 {
			c.reached[i]++
		}
	}
	if r.stopped < 0 || int(r.stopped) >= len(c.reached) {
		return
	}
	c.stopped[r.stopped][r.status]++
	if c.reasons[r.stopped] == nil {
		c.reasons[r.stopped] = map[uint32]int{}
	}
	c.reasons[r.stopped][r.reason]++
}

func (c *counter) funnel(x *Index) *Funnel {
	out := &Funnel{Flow: c.f.Kind, Title: c.f.Title, Instances: c.n,
		Completed: c.byStatus[0], Failed: c.byStatus[1], Denied: c.byStatus[2], Abandoned: c.byStatus[3],
		Ambiguous: c.ambig, Steps: make([]FunnelStep, len(c.f.Steps))}
	for i, s := range c.f.Steps {
		st := &out.Steps[i]
		*st = FunnelStep{Name: s.Name, Label: s.Label, EventTypes: s.EventTypes, Optional: s.Optional, Reached: c.reached[i], Reasons: []ReasonCount{},
			Failed: c.stopped[i][1], Denied: c.stopped[i][2], Abandoned: c.stopped[i][3]}
		st.Stopped = st.Failed + st.Denied + st.Abandoned
		for id, n := range c.reasons[i] {
			st.Reasons = append(st.Reasons, ReasonCount{x.strs[id], n})
		}
		slices.SortFunc(st.Reasons, func(a, b ReasonCount) int {
			if a.Count != b.Count {
				return b.Count - a.Count
			}
			return strings.Compare(a.Reason, b.Reason)
		})
		if len(st.Reasons) > topReasons {
			st.Reasons = st.Reasons[:topReasons]
		}
	}
	return out
}
