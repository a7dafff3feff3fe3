package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/flowdef"
	"github.com/idlog/idlog/internal/flows"
	"github.com/idlog/idlog/internal/timeparse"
)

func init() {
	register(&command{name: "funnel", summary: "count how far the instances of one flow got and why the others stopped", run: runFunnel})
}

func runFunnel(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("funnel", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	sf := addStoreFlags(fs, true)
	sf.mustExist = true // reading a store that is not there is a typo, not an empty answer
	var flow, since, until, expr, split, output string
	var kinds []string
	for _, f := range flowdef.All() {
		kinds = append(kinds, f.Kind)
	}
	fs.StringVar(&flow, "flow", "", "the flow `kind`: "+strings.Join(kinds, ", "))
	fs.StringVar(&since, "since", "", "flows with events at or after `T` (default: until minus 7 days); "+timeparse.Help)
	fs.StringVar(&until, "until", "", "flows with events before `T` (default: now)")
	fs.StringVar(&expr, "filter", "", "only events matching this Okta `filter` (for example client.geographicalContext.country eq \"France\")")
	fs.StringVar(&split, "split", "", "also count by `attribute`: "+strings.Join(flows.Splits, ", "))
	fs.StringVar(&output, "output", "text", "`format`: text or json")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: idlog funnel --flow KIND [--since T] [--until T] [--filter F] [--split ATTR] [--output text|json]

Reconstructs every flow in the time range and counts, for one flow kind, how
many instances reached each of its steps and how many stopped there (failed,
denied or abandoned), with the most common reasons. --split repeats the count
for each factor, app, country or client.

`+storeFlagsHelp+`
Examples:
  idlog funnel --flow sspr --since -7d
  idlog funnel --flow signin --since -24h --split factor
  idlog funnel --flow app_signin --filter 'client.geographicalContext.country eq "France"' --output json

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
		return &exitError{code: 2, msg: "funnel: " + fmt.Sprintf(format, a...)}
	}
	if _, ok := flowdef.Lookup(flow); !ok {
		return usageErr("--flow %q: use one of %s", flow, strings.Join(kinds, ", "))
	}
	if split != "" && !contains(flows.Splits, split) {
		return usageErr("--split %q: use one of %s", split, strings.Join(flows.Splits, ", "))
	}
	if output != "text" && output != "json" {
		return usageErr("--output %q: use text or json", output)
	}
	s, u, err := timeRange(since, until)
	if err != nil {
		return usageErr("%v", err)
	}
	var user filter.Expr
	if expr != "" {
		if user, err = filter.Parse(expr); err != nil {
			fmt.Fprint(e.stderr, filterErrorText("--filter", err))
			return &exitError{code: 2}
		}
	}
	b, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	// Events stream into an index: memory grows with instances, not events.
	x := flows.NewIndex()
	var q eventQuery
	if fx := flows.FunnelFilter(user); fx != nil {
		q.expr, q.filterText = fx, fx.String()
	}
	q.since, q.until = s, u
	err = b.query(ctx, q, func(raw json.RawMessage) error {
		ev, err := flows.FromRaw(raw)
		if err == nil {
			x.Add(ev)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("funnel: %w", err)
	}
	x.Flush()
	fn, err := x.Funnel(flow, time.Time{}, time.Time{}, split)
	if err != nil {
		return fmt.Errorf("funnel: %w", err)
	}
	if output == "json" {
		return json.NewEncoder(e.stdout).Encode(fn)
	}
	writeFunnel(e.stdout, fn)
	for _, p := range fn.Parts {
		fmt.Fprintf(e.stdout, "\n%s %s:\n", fn.Split, p.Value)
		writeFunnel(e.stdout, p)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func writeFunnel(w io.Writer, fn *flows.Funnel) {
	fmt.Fprintf(w, "%s (%s): %d instances, %d completed, %d failed, %d denied, %d abandoned\n",
		fn.Title, fn.Flow, fn.Instances, fn.Completed, fn.Failed, fn.Denied, fn.Abandoned)
	if fn.Ambiguous > 0 {
		fmt.Fprintf(w, "%d of them ambiguous: another reading fits their events too (idlog flows shows both)\n", fn.Ambiguous)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "step\twhat\treached\tstopped here\ttop reasons")
	for _, st := range fn.Steps {
		name := st.Name
		if st.Optional {
			name += " (optional)"
		}
		var rs []string
		for _, r := range st.Reasons {
			rs = append(rs, fmt.Sprintf("%s (%d)", r.Reason, r.Count))
		}
		stopped := "-"
		if st.Stopped > 0 {
			stopped = fmt.Sprintf("%d (%s)", st.Stopped, pct(st.Stopped, st.Reached))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", name, st.Label, st.Reached, stopped, strings.Join(rs, "; "))
	}
	tw.Flush()
}

func pct(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
}
