package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/idlog/idlog/internal/detect"
)

func init() {
	register(&command{name: "rules", summary: "list detection rules, or check a directory of rules", run: runRules})
}

func runRules(ctx context.Context, e *env, args []string) error {
	usage := func() {
		fmt.Fprint(e.stderr, `Usage:
  idlog rules list [--rules DIR] [--builtin=true|false] [--output table|json]
  idlog rules check DIR

list prints every rule that would run (the built-in library and the rules in
DIR): id, kind, severity, MITRE ATT&CK techniques, title and source.
check loads every .yml/.yaml file under DIR (idlog rules, Sigma rules and
Sigma correlation rules, which name other Sigma rules of DIR; every YAML
document of a file) and prints, for each file or document that cannot run,
the reason; it exits with status 2 when there is one.
`)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		usage()
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	switch args[0] {
	case "list":
		return rulesList(e, args[1:])
	case "check":
		return rulesCheck(e, args[1:])
	}
	usage()
	return &exitError{code: 2, msg: fmt.Sprintf("rules: unknown subcommand %q", args[0])}
}

func rulesList(e *env, args []string) error {
	fs := flag.NewFlagSet("rules list", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	rf := addRuleFlags(fs)
	var output string
	fs.StringVar(&output, "output", "table", "`format`: table or json (one array)")
	if _, help, err := parseFlags(fs, e, args, false); help || err != nil {
		return err
	}
	if output != "table" && output != "json" {
		return &exitError{code: 2, msg: fmt.Sprintf("rules list: --output %q: use table or json", output)}
	}
	rules, _, err := rf.load(e.stderr, true)
	if err != nil {
		return err
	}
	if output == "json" {
		type row struct {
			*detect.Rule
			Kind string `json:"kind"`
		}
		rows := make([]row, len(rules))
		for i, r := range rules {
			rows[i] = row{r, r.Kind()}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSEVERITY\tMITRE\tTITLE\tSOURCE")
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Kind(), r.Severity, strings.Join(r.Technique, ","), r.Title, r.Source)
	}
	return tw.Flush()
}

func rulesCheck(e *env, args []string) error {
	fs := flag.NewFlagSet("rules check", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	rest, help, err := parseFlags(fs, e, args, true)
	if help || err != nil {
		return err
	}
	if len(rest) != 1 {
		return &exitError{code: 2, msg: "rules check: give one directory"}
	}
	rules, bad, err := detect.LoadDir(rest[0])
	if err != nil {
		return &exitError{code: 2, msg: "rules check: " + err.Error()}
	}
	for _, b := range bad {
		fmt.Fprintf(e.stdout, "%s: cannot run: %s\n", b.File, strings.ReplaceAll(b.Err.Error(), "\n", "\n    "))
	}
	fmt.Fprintf(e.stdout, "%d rules can run, %d cannot\n", len(rules), len(bad))
	if len(bad) > 0 {
		return &exitError{code: 2}
	}
	return nil
}
