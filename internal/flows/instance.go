package flows

import (
	"time"

	"github.com/idlog/idlog/internal/flowdef"
)

// Other is the kind of an event that belongs to no user flow (administration,
// lifecycle, detections): an instance of its own, always completed.
const Other = flowdef.Other

// StepState is what happened to one expected step of an instance.
type StepState string

const (
	StepDone       StepState = "done"        // the step's events happened
	StepFailed     StepState = "failed"      // the instance failed here
	StepDenied     StepState = "denied"      // a policy refused here
	StepMissing    StepState = "missing"     // expected next, never happened
	StepSkipped    StepState = "skipped"     // optional and not needed
	StepNotReached StepState = "not_reached" // after the stop
)

// Step is one expected step of an instance, for a timeline.
type Step struct {
	Name     string    `json:"name"`
	Optional bool      `json:"optional,omitempty"`
	State    StepState `json:"state"`
	// Events are indexes into Instance.Events.
	Events []int `json:"events,omitempty"`
	// At is the step's first event; AfterMS the time from the previous
	// step's last event to it.
	At      *time.Time `json:"at,omitempty"`
	AfterMS int64      `json:"afterMs,omitempty"`
}

// InstanceEvent is one event of an instance with the step it satisfied.
type InstanceEvent struct {
	Event
	Time time.Time `json:"published"`
	Step string    `json:"step,omitempty"`
}

// Instance is one reconstructed flow instance.
type Instance struct {
	Kind   string         `json:"kind"`
	Title  string         `json:"title"`
	Status flowdef.Status `json:"status"`
	// StoppedAt is the step of the last event when the instance did not
	// complete: the step that failed or was denied, or the last one done
	// before it was abandoned. Missing names the step that was expected
	// next and never came.
	StoppedAt  string    `json:"stoppedAt"`
	Missing    string    `json:"missing,omitempty"`
	Reason     string    `json:"reason"`
	User       string    `json:"user,omitempty"`
	UserLogin  string    `json:"userLogin,omitempty"`
	Actor      string    `json:"actor,omitempty"` // who acted, when not the user
	Session    string    `json:"session,omitempty"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	DurationMS int64     `json:"durationMs"`
	Factor     string    `json:"factor,omitempty"`
	App        string    `json:"app,omitempty"`
	Country    string    `json:"country,omitempty"`
	Client     string    `json:"client,omitempty"`
	IP         string    `json:"ip,omitempty"`
	Steps      []Step    `json:"steps"`
	// Events and UUIDs are in the order the flow took them: published
	// order, except for events Okta logged a moment out of order
	// (flowdef.OrderTolerance), which are put back where the flow expects.
	Events []InstanceEvent `json:"events"`
	UUIDs  []string        `json:"uuids"`
	// Ambiguous says that more than one reading fits the events: two
	// flows fit equally well, or a repeated first step (a reset message
	// sent twice without a session id to tie the two) may be one attempt
	// or an abandoned attempt and a new one. Readings then lists every
	// reading, the one this instance shows first.
	Ambiguous bool      `json:"ambiguous,omitempty"`
	Readings  []Reading `json:"readings,omitempty"`
	// Continues names the instance of the same user this one carries on
	// from (an unlock after the lock-out, a sign-in after the unlock);
	// ContinuedBy the one that carries on from this. See
	// flowdef.Flow.Continues. Set by Reconstruct.
	Continues   *Link `json:"continues,omitempty"`
	ContinuedBy *Link `json:"continuedBy,omitempty"`
}

// Reading is one way to read an ambiguous instance's events: one instance,
// or several that split the events between them.
type Reading []ReadingPart

// ReadingPart is one instance of a Reading.
type ReadingPart struct {
	Kind      string         `json:"kind"`
	Status    flowdef.Status `json:"status"`
	StoppedAt string         `json:"stoppedAt"`
	UUIDs     []string       `json:"uuids"`
}

// Link points at another instance by its first event.
type Link struct {
	Kind      string         `json:"kind"`
	Status    flowdef.Status `json:"status"`
	StoppedAt string         `json:"stoppedAt,omitempty"`
	UUID      string         `json:"uuid"`
}

// oneEvent holds an instance of one event (most are: an app's SSO, a
// sign-out) with its event and uuid, in one allocation.
type oneEvent struct {
	in   Instance
	ev   [1]InstanceEvent
	uuid [1]string
}

// oneEventSteps is oneEvent with room for the steps of a flow of up to
// len(steps) steps: an app access has 7, and 7 make the whole 1,280
// bytes, one of the allocator's size classes.
type oneEventSteps struct {
	oneEvent
	steps [7]Step
}

// firstEvent is the Step.Events of the step of a one-event instance: the
// same array for all of them, never written.
var firstEvent = [1]int{0}

// newInstance builds the instance of events that followed flow f (nil for
// Other) through steps, ending in the cursor's state.
func newInstance(f *flowdef.Flow, evs []Event, steps []stepIndex, c *flowdef.Cursor) *Instance {
	first, last := &evs[0], &evs[len(evs)-1]
	lo, hi := first.Published, first.Published
	for i := range evs {
		lo, hi = min(lo, evs[i].Published), max(hi, evs[i].Published)
	}
	// The instance, its events, uuids and (for one event) steps in as
	// few allocations as their types allow. Fields are set one by one:
	// the memory is fresh and zero, and assigning whole structs makes
	// the runtime scan each for pointers while the collector runs.
	var in *Instance
	var stepsBuf []Step
	switch {
	case len(evs) == 1 && f != nil && len(f.Steps) <= len(oneEventSteps{}.steps):
		b := new(oneEventSteps)
		in = &b.in
		in.Events, in.UUIDs = b.ev[:], b.uuid[:]
		stepsBuf = b.steps[:len(f.Steps):len(f.Steps)]
	case len(evs) == 1:
		b := new(oneEvent)
		in = &b.in
		in.Events, in.UUIDs = b.ev[:], b.uuid[:]
	default:
		in = new(Instance)
		in.Events, in.UUIDs = make([]InstanceEvent, len(evs)), make([]string, len(evs))
	}
	in.Kind, in.Title, in.Status = Other, "Other", flowdef.Completed
	in.User, in.UserLogin, in.Session = first.User, first.UserLogin, first.Session
	in.Start, in.End, in.DurationMS = time.UnixMilli(lo).UTC(), time.UnixMilli(hi).UTC(), hi-lo
	in.Steps = []Step{}
	for i := range evs {
		e := &evs[i]
		in.Events[i] = InstanceEvent{Event: *e, Time: e.Time()}
		in.UUIDs[i] = e.UUID
		if e.Actor != e.User && in.Actor == "" {
			in.Actor = e.ActorName
		}
		if in.Factor == "" {
			in.Factor = e.Factor
		}
		if in.App == "" {
			in.App = e.App
		}
		if in.IP == "" && e.IP != "" {
			in.IP, in.Country, in.Client = e.IP, e.Country, e.Client
		}
	}
	if f == nil {
		if len(evs) == 1 {
			in.Reason = first.Reason
		}
		return in
	}
	in.Kind, in.Title = f.Kind, f.Title
	in.Status, in.StoppedAt = c.Outcome()
	cur := c.Step()
	in.Steps = stepsBuf
	if in.Steps == nil {
		in.Steps = make([]Step, len(f.Steps))
	}
	for i := range f.Steps {
		st, s := &in.Steps[i], &f.Steps[i]
		st.Name, st.Optional, st.State = s.Name, s.Optional, StepSkipped
		if i > cur {
			st.State = StepNotReached
		}
	}
	// One allocation for the steps' event indexes, most instances being
	// a few events: a step's events are one run of idx unless the flow
	// came back to the step later. A step's time is its first event's.
	var idx []int
	if len(evs) > 1 {
		idx = make([]int, 0, len(evs))
	}
	prevEnd, tail := int64(-1), -1 // tail: the step whose events end idx
	for i, sj := range steps {
		j := int(sj)
		in.Events[i].Step = f.Steps[j].Name
		st := &in.Steps[j]
		switch {
		case len(evs) == 1:
			st.At = &in.Events[i].Time
			st.Events = firstEvent[:1:1]
		case len(st.Events) == 0:
			st.At = &in.Events[i].Time
			if prevEnd >= 0 {
				st.AfterMS = max(0, evs[i].Published-prevEnd)
			}
			idx = append(idx, i)
			st.Events = idx[len(idx)-1 : len(idx) : len(idx)]
			tail = j
		case j == tail:
			idx = append(idx, i)
			st.Events = idx[len(idx)-len(st.Events)-1 : len(idx) : len(idx)]
		default:
			st.Events = append(st.Events, i)
			tail = -1
		}
		st.State = StepDone
		prevEnd = evs[i].Published
	}
	switch in.Status {
	case flowdef.Failed:
		in.Steps[cur].State = StepFailed
		in.Reason = reasonOf(last)
	case flowdef.Denied:
		in.Steps[cur].State = StepDenied
		in.Reason = reasonOf(last)
	case flowdef.Abandoned:
		m := missingAfter(f, cur)
		if m >= 0 {
			in.Missing = f.Steps[m].Name
			in.Steps[m].State = StepMissing
			in.Reason = "no " + in.Missing + " within " + gapText(f.MaxGap)
		} else {
			in.Reason = "stopped after " + in.StoppedAt
		}
	case flowdef.Completed:
		for i := cur + 1; i < len(in.Steps); i++ {
			in.Steps[i].State = StepSkipped
		}
	}
	return in
}

// missingAfter is the step expected after step cur: the answer to a
// challenge, else the next required step.
func missingAfter(f *flowdef.Flow, cur int) int {
	for _, want := range f.Steps[cur].AnsweredBy {
		for k := cur + 1; k < len(f.Steps); k++ {
			if f.Steps[k].Name == want {
				return k
			}
		}
	}
	for k := cur + 1; k < len(f.Steps); k++ {
		if !f.Steps[k].Optional {
			return k
		}
	}
	return -1
}

func reasonOf(e *Event) string {
	if e.Reason != "" {
		return e.Reason
	}
	return e.Type + " " + e.Result
}
