// Package flows reconstructs identity flows from System Log events: it groups
// the events of one sign-in, app access, MFA prompt, password reset, unlock,
// sign-out or authenticator change into a flow instance, follows the instance
// through its definition in package flowdef, and says where and why it
// stopped: completed, failed at a step (with Okta's outcome), denied by a
// policy, or abandoned. Funnels count, over many instances of one flow, how
// many reached each step and why the others dropped off.
//
// # Grouping
//
// Events are grouped by a key: the external session id when the event has
// one, else the user, together with the user the flow is about (the target
// when an admin, or Okta itself, acts on someone's account; the actor
// otherwise). Within a key, an event joins the open instance when the
// instance's flow can take it as its next event and the pause since the
// previous event is at most the flow's MaxGap; otherwise the open instance
// is closed and the event starts a new one. Two devices of one user have two
// sessions, so their flows never mix; without a session id the client's
// address and browser tell the devices apart. An admin resetting a user's
// authenticators from the admin's own session forms an instance about the
// user, apart from the admin's own sign-ins.
//
// # Order
//
// Okta may log two events of one flow less than flowdef.OrderTolerance apart
// in either order. An event no open instance takes waits for the key's next
// event and the two are placed in the order that breaks fewer instances; an
// event that fits once moved before the instance's last events within the
// tolerance is put there; a finished instance stays open for the tolerance.
//
// # Abandonment
//
// An instance whose last event reached no end of its flow is abandoned once
// nothing has continued it for the flow's MaxGap: 10 minutes for sign-in, app
// access, MFA and authenticator changes (a push or code that is not answered
// in 10 minutes has expired), 30 minutes for password reset and unlock (time
// to open the email), 1 minute for sign-out.
//
// # Ambiguity
//
// Some event runs fit more than one flow: an MFA challenge inside a session
// begins an app access with step-up, a step-up of its own, or an enrolment.
// Reconstruction follows every flow that fits and decides when the instance
// closes: a flow that reached an end beats one left half-way, then the order
// of Preference. When only Preference decided, or when a restartable first
// step repeated without a session id to tie the repeats, the instance is
// Ambiguous and lists every Reading.
//
// # Continuations
//
// Reconstruct links the instances of one user that carry on from one
// another (flowdef.Flow.Continues): the sign-in that locked the account, the
// unlock, the sign-in after it.
package flows

import (
	"fmt"
	"sync"
	"time"

	"github.com/idlog/idlog/internal/event"
	"github.com/idlog/idlog/internal/flowdef"
)

// Event is what flow analysis keeps of a LogEvent.
type Event struct {
	UUID      string `json:"uuid"`
	Published int64  `json:"-"` // unix milliseconds
	Type      string `json:"eventType"`
	Result    string `json:"result,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// The user the event is about: the target user when someone else acted
	// on their account, the actor otherwise.
	User      string `json:"user,omitempty"`
	UserLogin string `json:"userLogin,omitempty"`
	Actor     string `json:"actor,omitempty"`
	ActorName string `json:"actorName,omitempty"`
	Session   string `json:"session,omitempty"`
	Tx        string `json:"transaction,omitempty"`
	IP        string `json:"ip,omitempty"`
	Country   string `json:"country,omitempty"`
	Client    string `json:"client,omitempty"` // browser on OS
	Factor    string `json:"factor,omitempty"` // debugData.factor
	App       string `json:"app,omitempty"`    // the AppInstance target's name
}

// Time is the published time.
func (e *Event) Time() time.Time { return time.UnixMilli(e.Published).UTC() }

func (e *Event) def() flowdef.Event { return flowdef.Event{Type: e.Type, Result: e.Result} }

// FromRaw decodes one LogEvent's JSON.
func FromRaw(raw []byte) (Event, error) {
	le, err := event.Decode(raw)
	if err != nil {
		return Event{}, err
	}
	return FromLogEvent(le)
}

// canonicalStrings maps each event type and outcome result the flow
// definitions name to the definitions' own string.
var canonicalStrings = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, f := range flowdef.All() {
		for _, s := range f.Steps {
			for _, t := range s.EventTypes {
				m[t] = t
			}
			for _, en := range s.Ends {
				m[en.EventType], m[en.Result] = en.EventType, en.Result
			}
		}
	}
	delete(m, "")
	return m
})

// canonical returns the flow definitions' copy of s if they name it, else
// s. Reconstruction compares each event's type and result with the
// definitions' many times; equal strings that share their bytes compare
// without reading them, and the events of a store share one copy of each.
func canonical(s string) string {
	if c, ok := canonicalStrings()[s]; ok {
		return c
	}
	return s
}

// FromLogEvent keeps what flow analysis needs of le. It fails only when the
// published time is missing or malformed.
func FromLogEvent(le *event.LogEvent) (Event, error) {
	t, err := le.Time()
	if err != nil {
		return Event{}, fmt.Errorf("flows: event %s: %w", event.Str(le.UUID), err)
	}
	e := Event{
		UUID:      event.Str(le.UUID),
		Published: t.UnixMilli(),
		Type:      canonical(event.Str(le.EventType)),
	}
	if o := le.Outcome; o != nil {
		e.Result, e.Reason = canonical(event.Str(o.Result)), event.Str(o.Reason)
	}
	actorType := ""
	if a := le.Actor; a != nil {
		e.Actor, e.ActorName, actorType = event.Str(a.ID), event.Str(a.AlternateID), event.Str(a.Type)
		// Unknown users all have the id "unknown": tell them apart by login.
		if e.Actor == "unknown" || e.Actor == "" {
			e.Actor = "unknown:" + e.ActorName
		}
	}
	e.User, e.UserLogin = e.Actor, e.ActorName
	for i := range le.Target {
		tg := &le.Target[i]
		switch event.Str(tg.Type) {
		case "User":
			// A user acting on someone else's account (an admin), or Okta
			// itself acting for the user: Okta logs a self-service reset's
			// user.account.reset_password with the SystemPrincipal as actor
			// and the user as target. Either way the flow is the target's.
			if id := event.Str(tg.ID); id != "" && id != e.Actor && (actorType == "User" || actorType == "SystemPrincipal") {
				e.User, e.UserLogin = id, event.Str(tg.AlternateID)
			}
		case "AppInstance":
			if e.App == "" {
				e.App = event.Str(tg.DisplayName)
			}
		}
	}
	if tx := le.Transaction; tx != nil {
		e.Tx = event.Str(tx.ID)
	}
	if ac := le.AuthenticationContext; ac != nil {
		e.Session = event.Str(ac.ExternalSessionID)
		if e.Session == "null" {
			e.Session = ""
		}
	}
	if c := le.Client; c != nil {
		e.IP = event.Str(c.IPAddress)
		if g := c.GeographicalContext; g != nil {
			e.Country = event.Str(g.Country)
		}
		if ua := c.UserAgent; ua != nil {
			b, os := event.Str(ua.Browser), event.Str(ua.OS)
			switch {
			case b != "" && os != "":
				e.Client = b + " on " + os
			default:
				e.Client = b + os
			}
		}
	}
	if dc := le.DebugContext; dc != nil {
		if f, ok := dc.DebugData["factor"].(string); ok {
			e.Factor = f
		}
	}
	return e, nil
}
