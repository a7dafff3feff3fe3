package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/scenario"
)

func init() {
	register(&command{name: "scenarios", summary: "list the analyst scenarios and print their filters", run: runScenarios})
}

func scenariosUsage(e *env) {
	fmt.Fprint(e.stderr, `Usage:
  idlog scenarios [--output table|json]                    list the scenarios
  idlog scenarios show NAME --user ID | --ip IP | --session ID [--normal]

A scenario is one of the seed document's investigation queries (sign-in events
of a user, of an IP, of a session; logout; authenticator changes; sign-in to
Okta or to an app; MFA; password reset; unlock) with its one parameter. 'show'
prints the filter with the value filled in, in the seed's layout, ready for
Okta's search box, 'idlog query --filter', or ?filter= of /api/v1/logs. The
value is written as a JSON string literal, so quotes in it cannot change the
query. --normal prints the one-line normal form instead.

Examples:
  idlog scenarios
  idlog scenarios show signin-events-user --user 00u1abcd2EFGH3ijk4l5
  idlog scenarios show signin-events-ip --ip 203.0.113.7
  idlog scenarios show session-events --session 102AbCdEfGhIjKl --normal
`)
}

func runScenarios(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "show" {
		return runScenarioShow(e, args[1:])
	}
	fs := flag.NewFlagSet("scenarios", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	output := fs.String("output", "table", "`format`: table or json")
	fs.Usage = func() { scenariosUsage(e); fmt.Fprintln(e.stderr, "\nFlags:"); fs.PrintDefaults() }
	if err := parseQuiet(fs, e, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "idlog scenarios: unknown subcommand %q (want show)\n", fs.Arg(0))
		return errUsage
	}
	all := scenario.All()
	switch *output {
	case "json":
		type row struct {
			Name        string `json:"name"`
			Title       string `json:"title"`
			Description string `json:"description"`
			Param       string `json:"param"`
			Flow        string `json:"flow,omitempty"`
			Template    string `json:"template"`
		}
		rows := make([]row, len(all))
		for i, s := range all {
			rows[i] = row{s.Name, s.Title, s.Description, s.Param, s.Flow, s.Template}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(rows)
	case "table":
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tPARAM\tTITLE")
		for _, s := range all {
			fmt.Fprintf(tw, "%s\t--%s\t%s\n", s.Name, s.Param, s.Title)
		}
		return tw.Flush()
	}
	fmt.Fprintf(e.stderr, "idlog scenarios: unknown --output %q (table or json)\n", *output)
	return errUsage
}

func runScenarioShow(e *env, args []string) error {
	fs := flag.NewFlagSet("scenarios show", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { scenariosUsage(e); fmt.Fprintln(e.stderr, "\nFlags:"); fs.PrintDefaults() }
	values := map[string]*string{
		scenario.ParamUser:    fs.String(scenario.ParamUser, "", "the user `ID` (00u…), matched as actor or target"),
		scenario.ParamIP:      fs.String(scenario.ParamIP, "", "the client `IP` address"),
		scenario.ParamSession: fs.String(scenario.ParamSession, "", "the external session `ID` (authenticationContext.externalSessionId)"),
	}
	normal := fs.Bool("normal", false, "print the one-line normal form instead of the seed's layout")
	// NAME may come before or after the flags.
	var names []string
	for {
		if err := parseQuiet(fs, e, args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		names = append(names, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(names) != 1 {
		fmt.Fprintln(e.stderr, "idlog scenarios show: want exactly one scenario NAME ('idlog scenarios' lists them)")
		return errUsage
	}
	s, ok := scenario.Lookup(names[0])
	if !ok {
		var known []string
		for _, s := range scenario.All() {
			known = append(known, s.Name)
		}
		fmt.Fprintf(e.stderr, "idlog scenarios show: unknown scenario %q (one of: %s)\n", names[0], strings.Join(known, ", "))
		return errUsage
	}
	var given []string
	fs.Visit(func(f *flag.Flag) {
		if _, isParam := values[f.Name]; isParam {
			given = append(given, f.Name)
		}
	})
	if len(given) != 1 || given[0] != s.Param {
		msg := fmt.Sprintf("idlog scenarios show: %s takes --%s", s.Name, s.Param)
		switch len(given) {
		case 0:
			msg += " (missing)"
		case 1:
			msg += ", not --" + given[0]
		default:
			msg += " only (got --" + strings.Join(given, " --") + ")"
		}
		fmt.Fprintln(e.stderr, msg)
		return errUsage
	}
	text, err := s.Expand(*values[s.Param])
	if err != nil {
		fmt.Fprintln(e.stderr, "idlog scenarios show: "+err.Error())
		return errUsage
	}
	if *normal {
		expr, err := filter.Parse(text)
		if err != nil {
			return fmt.Errorf("scenario %s does not parse (a bug): %w", s.Name, err)
		}
		text = expr.String()
	}
	fmt.Fprintln(e.stdout, text)
	return nil
}
