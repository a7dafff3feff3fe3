package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/flows"
	"github.com/idlog/idlog/internal/timeparse"
)

func init() {
	register(&command{name: "flows", summary: "show the sign-ins, resets, unlocks… of a user, session or IP as timelines: where each stopped and why", run: runFlows})
}

// timeRange reads --since and --until the way idlog query does: until
// defaults to now, since to until minus 7 days.
func timeRange(since, until string) (time.Time, time.Time, error) {
	now := time.Now()
	u := now
	if until != "" {
		t, err := timeparse.Parse(until, now)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("--until: %v", err)
		}
		u = t
	}
	s := u.Add(-defaultWindow)
	if since != "" {
		t, err := timeparse.Parse(since, now)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("--since: %v", err)
		}
		s = t
	}
	if !s.Before(u) {
		return time.Time{}, time.Time{}, fmt.Errorf("--since (%s) is not before --until (%s)", s.Format(time.RFC3339), u.Format(time.RFC3339))
	}
	return s, u, nil
}

// loadFlowEvents reads the events matching x from the store or server, for
// flow reconstruction.
func (b *backend) loadFlowEvents(ctx context.Context, x filter.Expr, since, until time.Time) ([]flows.Event, error) {
	var out []flows.Event
	err := b.query(ctx, eventQuery{filterText: x.String(), expr: x, since: since, until: until}, func(raw json.RawMessage) error {
		e, err := flows.FromRaw(raw)
		if err != nil {
			return err
		}
		out = append(out, e)
		if len(out) > flows.MaxEvents {
			return fmt.Errorf("more than %d events match; narrow the time range", flows.MaxEvents)
		}
		return nil
	})
	return out, err
}

func runFlows(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("flows", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	sf := addStoreFlags(fs, true)
	sf.mustExist = true // reading a store that is not there is a typo, not an empty answer
	var sel flows.Selector
	var since, until, output string
	fs.StringVar(&sel.User, "user", "", "the user's Okta `id` or login (also finds what admins did to the account)")
	fs.StringVar(&sel.Session, "session", "", "an external session `id` (authenticationContext.externalSessionId)")
	fs.StringVar(&sel.IP, "ip", "", "a client IP `address`")
	fs.StringVar(&since, "since", "", "flows with events at or after `T` (default: until minus 7 days); "+timeparse.Help)
	fs.StringVar(&until, "until", "", "flows with events before `T` (default: now)")
	fs.StringVar(&output, "output", "text", "`format`: text (a timeline per flow) or json (one object per line)")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: idlog flows --user ID | --session ID | --ip IP [--since T] [--until T] [--output text|json]

Groups the events of a user, a session or a client IP into flows (sign in to
Okta, sign in to an app, MFA, password reset, unlock, sign-out, authenticator
change) and prints each as a timeline of the steps its flow expects: done,
skipped, failed, or missing. Each flow ends completed, failed (the step and
Okta's reason), denied by a policy, or abandoned (nothing continued it within
the flow's window: 10 minutes for sign-in and MFA, 30 for reset and unlock).
Events that belong to no flow (admin changes) are listed as "other".
When the events fit more than one reading (an unanswered push is an app
access or a step-up; a reset message sent twice without a session id is one
reset or two), the flow is marked AMBIGUOUS and every reading is listed. A
flow that carries on from another (the unlock after a lock-out, the sign-in
after the unlock) names it. Retries, enrolment during sign-in and events
logged a moment out of order are read as docs/flows.md ("Variants") says.
Given together, --user, --session and --ip must all match (a user's flows
from one IP, say).

With --output json each line is one flow: kind, status, stoppedAt, missing,
reason, user, session, factor, app, country, client, steps (each with its
state, events and time since the previous step), the uuids of its events
in order, and when they apply ambiguous with readings, continues and
continuedBy.

`+storeFlagsHelp+`
Examples:
  idlog flows --user alice@example.com --since -24h
  idlog flows --session idxAbCdEf123 --output json
  idlog flows --ip 203.0.113.9 --since -30d --server http://127.0.0.1:8080 --token $IDLOG_TOKEN

Flags:
`)
		fs.PrintDefaults()
	}
	if _, help, err := parseFlags(fs, e, args, false); help || err != nil {
		return err
	}
	if err := sf.resolve(e); err != nil {
		return err
	}
	usageErr := func(format string, a ...any) error {
		return &exitError{code: 2, msg: "flows: " + fmt.Sprintf(format, a...)}
	}
	x, err := sel.Filter()
	if err != nil {
		return usageErr("name whose flows to show: --user, --session or --ip")
	}
	if output != "text" && output != "json" {
		return usageErr("--output %q: use text or json", output)
	}
	sel.Since, sel.Until, err = timeRange(since, until)
	if err != nil {
		return usageErr("%v", err)
	}
	b, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	evs, err := b.loadFlowEvents(ctx, x, sel.Since, sel.Until)
	if err != nil {
		return fmt.Errorf("flows: %w", err)
	}
	ins := flows.Reconstruct(evs)
	if output == "json" {
		enc := json.NewEncoder(e.stdout)
		for _, in := range ins {
			if err := enc.Encode(in); err != nil {
				return err
			}
		}
		return nil
	}
	if len(ins) == 0 {
		fmt.Fprintln(e.stderr, noFlowsMessage(ctx, b, sel))
		return nil
	}
	for i, in := range ins {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		writeTimeline(e.stdout, in)
	}
	return nil
}

// stateMark is how a timeline shows a step's state.
var stateMark = map[flows.StepState]string{
	flows.StepDone: "done", flows.StepFailed: "FAILED", flows.StepDenied: "DENIED",
	flows.StepMissing: "MISSING", flows.StepSkipped: "skipped", flows.StepNotReached: "-",
}

func linkStatus(l *flows.Link) string {
	if l.StoppedAt != "" {
		return string(l.Status) + " at " + l.StoppedAt
	}
	return string(l.Status)
}

func writeTimeline(w io.Writer, in *flows.Instance) {
	head := in.Start.UTC().Format("2006-01-02 15:04:05Z") + "  " + in.Kind + "  " + string(in.Status)
	if in.StoppedAt != "" {
		head += " at " + in.StoppedAt
	}
	if in.Reason != "" {
		head += " (" + in.Reason + ")"
	}
	fmt.Fprintln(w, head)
	var about []string
	add := func(k, v string) {
		if v != "" {
			about = append(about, k+" "+v)
		}
	}
	add("user", firstNonEmpty(in.UserLogin, in.User))
	add("by", in.Actor)
	add("session", in.Session)
	add("factor", in.Factor)
	add("app", in.App)
	add("from", strings.TrimSpace(in.IP+" "+in.Country))
	add("took", time.Duration(in.DurationMS*int64(time.Millisecond)).String())
	fmt.Fprintln(w, "  "+strings.Join(about, ", "))
	if l := in.Continues; l != nil {
		fmt.Fprintf(w, "  continues the %s %s (event %s)\n", l.Kind, linkStatus(l), l.UUID)
	}
	if l := in.ContinuedBy; l != nil {
		fmt.Fprintf(w, "  continued by the %s %s (event %s)\n", l.Kind, linkStatus(l), l.UUID)
	}
	if in.Ambiguous {
		fmt.Fprintln(w, "  AMBIGUOUS: these events fit more than one reading:")
		for i, rd := range in.Readings {
			var parts []string
			for _, p := range rd {
				t := p.Kind + " " + string(p.Status)
				if p.StoppedAt != "" {
					t += " at " + p.StoppedAt
				}
				parts = append(parts, fmt.Sprintf("%s (%d events)", t, len(p.UUIDs)))
			}
			mark := "   "
			if i == 0 {
				mark = "(shown)"
			}
			fmt.Fprintf(w, "    %-7s %s\n", mark, strings.Join(parts, ", then "))
		}
	}
	if len(in.Steps) == 0 {
		for _, ev := range in.Events {
			fmt.Fprintf(w, "  %-12s %s %s %s\n", ev.Time.Format("15:04:05.000"), ev.Type, ev.Result, ev.Reason)
		}
		return
	}
	for _, st := range in.Steps {
		line := fmt.Sprintf("  %-8s %-16s", stateMark[st.State], st.Name)
		if st.At != nil {
			line += " " + st.At.UTC().Format("15:04:05.000")
			if st.AfterMS > 0 {
				line += fmt.Sprintf(" +%s", time.Duration(st.AfterMS)*time.Millisecond)
			}
			var types []string
			for _, i := range st.Events {
				ev := in.Events[i]
				types = append(types, ev.Type+" "+ev.Result)
			}
			line += "  " + strings.Join(types, ", ")
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

// noFlowsMessage says why there is nothing to show: the range holds no
// events at all (and which range the store does hold), or it holds events
// but none of the user, session or IP asked for.
func noFlowsMessage(ctx context.Context, b *backend, sel flows.Selector) string {
	const day = "2006-01-02 15:04Z"
	span := fmt.Sprintf("between %s and %s", sel.Since.UTC().Format(day), sel.Until.UTC().Format(day))
	found := false
	err := b.query(ctx, eventQuery{since: sel.Since, until: sel.Until, limit: 1}, func(json.RawMessage) error {
		found = true
		return nil
	})
	if err == nil && found {
		var who []string
		for _, w := range []struct{ flag, v string }{{"--user", sel.User}, {"--session", sel.Session}, {"--ip", sel.IP}} {
			if w.v != "" {
				who = append(who, fmt.Sprintf("%s %q", w.flag, w.v))
			}
		}
		return fmt.Sprintf("no events for %s %s, though that range holds other events: check the id, login or address, or widen --since", strings.Join(who, " and "), span)
	}
	msg := "no events " + span
	if st, err := b.stats(ctx); err == nil {
		if st.Events == 0 {
			msg += "; the store holds no events yet"
		} else {
			msg += fmt.Sprintf("; the store holds events from %s to %s (try --since %s --until %s)",
				st.Oldest.UTC().Format(day), st.Newest.UTC().Format(day),
				st.Oldest.UTC().Format("2006-01-02"), st.Newest.UTC().Add(24*time.Hour).Format("2006-01-02"))
		}
	}
	return msg
}
