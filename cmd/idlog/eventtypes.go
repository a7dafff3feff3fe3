package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/idlog/idlog/internal/event"
)

func init() {
	register(&command{name: "eventtypes", summary: "list the catalog of event types", run: runEventTypes})
}

func runEventTypes(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("eventtypes", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	category := fs.String("category", "", "only this `category`: "+strings.Join(event.Categories(), ", "))
	flow := fs.String("flow", "", "only types taking part in this `flow`: "+strings.Join(event.Flows, ", "))
	output := fs.String("output", "table", "`format`: table or json")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: idlog eventtypes [--category C] [--flow F] [--output table|json] [WORD]

Lists idlog's catalog of Okta System Log event types: name, category, the flows
it takes part in, and what it means. WORD keeps the types whose name contains
it. docs/event-types.md has the same catalog as one page.

Examples:
  idlog eventtypes --category mfa
  idlog eventtypes --flow sspr
  idlog eventtypes --output json unlock

Flags:
`)
		fs.PrintDefaults()
	}
	if err := parseQuiet(fs, e, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if *category != "" && !slices.Contains(event.Categories(), *category) {
		fmt.Fprintf(e.stderr, "idlog eventtypes: unknown category %q (one of: %s)\n", *category, strings.Join(event.Categories(), ", "))
		return errUsage
	}
	if *flow != "" && !slices.Contains(event.Flows, *flow) {
		fmt.Fprintf(e.stderr, "idlog eventtypes: unknown flow %q (one of: %s)\n", *flow, strings.Join(event.Flows, ", "))
		return errUsage
	}
	if *output != "table" && *output != "json" {
		fmt.Fprintf(e.stderr, "idlog eventtypes: unknown --output %q (table or json)\n", *output)
		return errUsage
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(e.stderr, "idlog eventtypes: at most one WORD")
		return errUsage
	}
	word := fs.Arg(0)
	types := slices.DeleteFunc(event.Types(), func(t event.EventType) bool {
		return *category != "" && t.Category != *category ||
			*flow != "" && !t.HasFlow(*flow) ||
			word != "" && !strings.Contains(t.Name, word)
	})
	if *output == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(types)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCATEGORY\tFLOWS\tDESCRIPTION")
	for _, t := range types {
		flows := strings.Join(t.Flows, ",")
		if flows == "" {
			flows = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Category, flows, t.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(types) == 0 {
		fmt.Fprintln(e.stderr, "idlog eventtypes: no event type matches")
		return &exitError{code: 1}
	}
	return nil
}
