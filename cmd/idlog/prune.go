package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/idlog/idlog/internal/audit"
	"github.com/idlog/idlog/internal/timeparse"
)

func init() {
	register(&command{name: "prune", summary: "delete events published before a time", run: runPrune})
}

func runPrune(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("prune", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	sf := addStoreFlags(fs, true)
	sf.mustExist = true // reading a store that is not there is a typo, not an empty answer
	before := fs.String("before", "", "delete events published before `T` (required); "+timeparse.Help)
	force := fs.Bool("force", false, "allow a --before in the future (which deletes every event)")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: idlog prune --before T [flags]

Deletes every event published before T and prints how many were removed.
It asks nothing first: check with 'idlog query --until T --limit 5' if unsure.
Through a server it needs a token with the admin scope.

`+storeFlagsHelp+`
Examples:
  idlog prune --before -90d            # keep Okta's 90 days
  idlog prune --before 2026-01-01
  idlog prune --before +1d --force     # empty the store

Flags:
`)
		fs.PrintDefaults()
	}
	if _, help, err := parseFlags(fs, e, args, false); help || err != nil {
		return err
	}
	if *before == "" {
		fmt.Fprintln(e.stderr, "idlog prune: --before is required (e.g. --before -90d)")
		return errUsage
	}
	t, err := timeparse.Parse(*before, time.Now())
	if err != nil {
		return &exitError{code: 2, msg: "prune: --before: " + err.Error()}
	}
	if t.After(time.Now()) && !*force {
		// A future cutoff removes everything: most likely a typo (2099 for 2009,
		// or +90d for -90d). Okta's retention goes back, never forward.
		return &exitError{code: 2, msg: fmt.Sprintf("prune: --before %s is in the future and would delete every event; add --force if that is what you want", t.UTC().Format(time.RFC3339))}
	}
	if err := sf.resolve(e); err != nil {
		return err
	}
	b, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	n, err := b.prune(ctx, t)
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	fmt.Fprintf(e.stdout, "removed %s %s published before %s\n", thousands(n), plural(int(n), "event", "events"), t.UTC().Format(time.RFC3339))
	if sf.server == "" {
		// Through a server, the server records it; on the store directly,
		// the trail beside the store does.
		if err := audit.Open(defaultDataDir(sf.store)).Record(audit.Entry{EventType: audit.Prune, Actor: cliActor(), Addr: "local", UserAgent: "idlog CLI",
			Debug: map[string]any{"before": t.UTC().Format(time.RFC3339), "deleted": n, "store": sf.store}}); err != nil {
			fmt.Fprintf(e.stderr, "idlog: warning: could not add this to the audit trail: %v\n", err)
		}
	}
	return nil
}
