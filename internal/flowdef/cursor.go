package flowdef

import "fmt"

// Cursor follows one flow instance through the flow's steps an event at a
// time; Check is a cursor run over a whole sequence. Flow reconstruction
// keeps one cursor per candidate kind while it cannot yet tell which flow a
// group of events is, and drops the cursors that refuse an event.
//
// The zero Cursor is not usable; get one from Flow.Cursor.
type Cursor struct {
	flow *Flow
	cur  int  // step of the previous event, -1 before the first
	end  *End // the end reached by the previous event, if any
	n    int  // events accepted
}

// Cursor returns a cursor before the flow's first event. The flow must
// outlive the cursor (the definitions from All do).
func (f *Flow) Cursor() Cursor { return Cursor{flow: f, cur: -1} }

// Flow is the definition the cursor follows.
func (c *Cursor) Flow() *Flow { return c.flow }

// Why find refused an event; the message is only built by Try.
const (
	okFits = iota
	whyNoStep
	whyNotStart
	whyAfterEnd
	whyNotAnswer
	whyMissing
)

// find returns the step e would satisfy next, or -1 and why not (one of the
// why constants, with the step concerned). The rules: steps are taken in
// order, a required step may not be skipped, only a repeatable step may
// take a second event in a row, a step's Again may lead back, an end allows
// only its Then, a challenge is followed by itself or its answer, and the
// first event must be at one of the flow's Starts.
func (c *Cursor) find(e Event) (int, int, int) {
	f := c.flow
	start := c.cur + 1
	if c.cur >= 0 && f.Steps[c.cur].Repeatable {
		start = c.cur
	}
	why, at := whyNoStep, -1
	for k := start; k < len(f.Steps); k++ {
		s := &f.Steps[k]
		if contains(s.EventTypes, e.Type) {
			w := okFits
			switch {
			case c.cur < 0 && len(f.Starts) > 0 && !contains(f.Starts, s.Name):
				w = whyNotStart
			case c.end != nil && !contains(c.end.Then, s.Name):
				w = whyAfterEnd
			case c.cur >= 0 && k != c.cur && len(f.Steps[c.cur].AnsweredBy) > 0 && !contains(f.Steps[c.cur].AnsweredBy, s.Name):
				w = whyNotAnswer
			}
			if w == okFits {
				return k, okFits, k
			}
			if at < 0 {
				why, at = w, k
			}
		}
		if k > c.cur && !s.Optional {
			if at < 0 {
				why, at = whyMissing, k
			}
			break
		}
	}
	if c.cur >= 0 {
		for _, name := range f.Steps[c.cur].Again {
			k := f.index(name)
			if k >= 0 && contains(f.Steps[k].EventTypes, e.Type) && (c.end == nil || contains(c.end.Then, name)) {
				return k, okFits, k
			}
		}
	}
	return -1, why, at
}

// explain renders why find refused an event.
func (c *Cursor) explain(why, at int) string {
	f := c.flow
	switch why {
	case whyNotStart:
		return fmt.Sprintf("%s does not begin at step %q", f.Kind, f.Steps[at].Name)
	case whyAfterEnd:
		return fmt.Sprintf("follows the end of %s at step %q", f.Kind, f.Steps[c.cur].Name)
	case whyNotAnswer:
		return fmt.Sprintf("step %q of %s is not answered by step %q", f.Steps[c.cur].Name, f.Kind, f.Steps[at].Name)
	case whyMissing:
		return fmt.Sprintf("required step %q of %s is missing", f.Steps[at].Name, f.Kind)
	}
	return fmt.Sprintf("fits no later step of %s", f.Kind)
}

// index is the position of the named step, -1 if there is none.
func (f *Flow) index(name string) int {
	for i := range f.Steps {
		if f.Steps[i].Name == name {
			return i
		}
	}
	return -1
}

// Fits returns the step e would satisfy next, or -1 when e cannot be the
// instance's next event. It is Try without the error, for callers that
// test many cursors and only need a yes or no.
func (c *Cursor) Fits(e Event) int {
	j, _, _ := c.find(e)
	return j
}

// Try returns the step e would satisfy next, without moving, or an error
// saying why e cannot be the instance's next event.
func (c *Cursor) Try(e Event) (int, error) {
	j, why, at := c.find(e)
	if j < 0 {
		return -1, &CheckError{Index: c.n, Event: e, Msg: c.explain(why, at)}
	}
	return j, nil
}

// Next moves the cursor over e and returns the step it satisfied. On error
// the cursor is unchanged.
func (c *Cursor) Next(e Event) (int, error) {
	j := c.Fits(e)
	if j < 0 {
		return c.Try(e)
	}
	c.move(e, j)
	return j, nil
}

// Take is Next without the error, for callers that try many cursors: it
// moves the cursor over e and returns the step e satisfied, or returns -1
// and leaves the cursor unchanged when e cannot be the instance's next
// event. Fits then Next would look for the step twice.
func (c *Cursor) Take(e Event) int {
	j := c.Fits(e)
	if j >= 0 {
		c.move(e, j)
	}
	return j
}

// move moves the cursor over e, which satisfies step j.
func (c *Cursor) move(e Event, j int) {
	c.cur, c.end, c.n = j, nil, c.n+1
	for k := range c.flow.Steps[j].Ends {
		en := &c.flow.Steps[j].Ends[k]
		if (en.EventType == "" || en.EventType == e.Type) && (en.Result == "" || en.Result == e.Result) {
			c.end = en
			break
		}
	}
}

// Step is the step of the last event accepted, -1 before any.
func (c *Cursor) Step() int { return c.cur }

// Len is how many events the cursor accepted.
func (c *Cursor) Len() int { return c.n }

// Final reports whether no event can follow: the last event reached an end
// that allows nothing after it.
func (c *Cursor) Final() bool { return c.end != nil && c.end.Status != "" && len(c.end.Then) == 0 }

// Outcome is how the instance ends if it stops after the events accepted so
// far: the status of the end reached, or Abandoned; and the step of the last
// event unless Completed.
func (c *Cursor) Outcome() (Status, string) {
	if c.cur < 0 {
		return Abandoned, ""
	}
	st := Abandoned
	if c.end != nil && c.end.Status != "" {
		st = c.end.Status
	}
	if st == Completed {
		return st, ""
	}
	return st, c.flow.Steps[c.cur].Name
}
