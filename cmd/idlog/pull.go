package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/collect"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
	"github.com/idlog/idlog/internal/timeparse"
)

func init() {
	register(&command{name: "pull", summary: "mirror an Okta org's System Log into the store, continuously", run: runPull})
}

// pullFlags are the collector's settings. 'idlog pull' defines them as they
// are; 'idlog serve' with the prefix "pull-" (--pull-org, --pull-budget, …)
// for its background collector.
type pullFlags struct {
	prefix                  string
	org, tokenEnv           string
	clientID, keyFile, kid  string
	since                   string
	budget, pageSize        int
	pollInterval            time.Duration
	requestTimeout, backoff time.Duration
	restart                 bool
}

func addPullFlags(fs *flag.FlagSet, prefix string) *pullFlags {
	pf := &pullFlags{prefix: prefix}
	orgHelp := "the Okta org to mirror, https://ORG.okta.com"
	if prefix != "" {
		orgHelp += " (turns the background collector on)"
	}
	fs.StringVar(&pf.org, prefix+"org", "", orgHelp)
	fs.StringVar(&pf.tokenEnv, prefix+"token-env", "OKTA_API_TOKEN", "environment `variable` holding an Okta API token (sent as SSWS)")
	fs.StringVar(&pf.clientID, prefix+"oauth-client-id", "", "client `ID` of an Okta API service app granted okta.logs.read (instead of an API token)")
	fs.StringVar(&pf.keyFile, prefix+"oauth-key", "", "the service app's private key `file` (PEM or JWK) for private_key_jwt")
	fs.StringVar(&pf.kid, prefix+"oauth-key-id", "", "the key's `kid` as registered with the app (optional; a JWK's own kid is used)")
	fs.StringVar(&pf.since, prefix+"since", "-90d", "where to start when the store has no position for this org yet ("+timeparse.Help+")")
	fs.IntVar(&pf.budget, prefix+"budget", 50, "spend at most this `percent` of the org's System Log rate limit per window")
	fs.IntVar(&pf.pageSize, prefix+"page-size", 1000, "events per request (Okta allows at most 1000; fewer only makes more requests)")
	fs.DurationVar(&pf.pollInterval, prefix+"poll-interval", 10*time.Second, "pause once caught up, before asking for new events")
	fs.DurationVar(&pf.requestTimeout, prefix+"request-timeout", 60*time.Second, "give up on one request after this long, and retry")
	fs.DurationVar(&pf.backoff, prefix+"max-backoff", 5*time.Minute, "longest pause between retries after errors")
	fs.BoolVar(&pf.restart, prefix+"restart", false, "ignore the stored position and start again from --"+prefix+"since (stored events are not duplicated)")
	return pf
}

// enabled reports whether an org was given.
func (pf *pullFlags) enabled() bool { return pf != nil && pf.org != "" }

// startPull starts the collector of 'idlog serve --pull-org' in the
// background, when pf names an org. wait blocks until it has stopped (ctx
// ended, or it gave up and logged why); call it before closing st.
func startPull(ctx context.Context, e *env, pf *pullFlags, st store.Store, log *slog.Logger) (wait func(), err error) {
	if !pf.enabled() {
		return func() {}, nil
	}
	cfg, err := pf.config(e, st, log.With("job", "pull"))
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := collect.Run(ctx, cfg); err != nil {
			log.Error("the collector stopped; the server goes on without it", "org", cfg.Org, "err", err)
		}
	}()
	return func() { <-done }, nil
}

// config builds the collector's configuration over st.
func (pf *pullFlags) config(e *env, st store.Store, log *slog.Logger) (collect.Config, error) {
	p := "--" + pf.prefix
	org, err := collect.NormalizeOrg(pf.org)
	if err != nil {
		return collect.Config{}, &exitError{code: 2, msg: p + "org: " + err.Error()}
	}
	since, err := timeparse.Parse(pf.since, time.Now())
	if err != nil {
		return collect.Config{}, &exitError{code: 2, msg: p + "since: " + err.Error()}
	}
	if pf.pageSize < 1 || pf.pageSize > 1000 {
		return collect.Config{}, &exitError{code: 2, msg: p + "page-size: from 1 to 1000"}
	}
	if pf.budget < 1 || pf.budget > 100 {
		return collect.Config{}, &exitError{code: 2, msg: p + "budget: a percent from 1 to 100"}
	}
	var authz collect.Authorizer
	switch {
	case pf.clientID != "" || pf.keyFile != "":
		if pf.clientID == "" || pf.keyFile == "" {
			return collect.Config{}, &exitError{code: 2, msg: p + "oauth-client-id and " + p + "oauth-key go together"}
		}
		b, err := os.ReadFile(pf.keyFile)
		if err != nil {
			return collect.Config{}, &exitError{code: 2, msg: p + "oauth-key: " + err.Error()}
		}
		key, kid, err := collect.ParsePrivateKey(b)
		if err != nil {
			return collect.Config{}, &exitError{code: 2, msg: p + "oauth-key " + pf.keyFile + ": " + err.Error()}
		}
		if pf.kid != "" {
			kid = pf.kid
		}
		authz = &collect.OAuth{TokenURL: org + "/oauth2/v1/token", ClientID: pf.clientID, Key: key, KeyID: kid,
			Client: &http.Client{Timeout: pf.requestTimeout}}
	default:
		tok := strings.TrimSpace(e.getenv(pf.tokenEnv))
		if tok == "" {
			return collect.Config{}, &exitError{code: 2, msg: fmt.Sprintf("no credentials for %s: export the API token as %s (or name another variable with %stoken-env), or use %soauth-client-id with %soauth-key",
				org, pf.tokenEnv, p, p, p)}
		}
		authz = collect.APIToken(strings.TrimPrefix(tok, "SSWS "))
	}
	return collect.Config{Org: org, Auth: authz, Store: st, Since: since, Restart: pf.restart,
		BudgetPercent: pf.budget, PageSize: pf.pageSize, PollInterval: pf.pollInterval, RequestTimeout: pf.requestTimeout,
		MaxBackoff: pf.backoff, Logger: log}, nil
}

func runPull(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "status":
			return runPullStatus(ctx, e, args[1:])
		case "hook-secret":
			return runHookSecret(e, args[1:])
		}
	}
	fs := flag.NewFlagSet("pull", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	sf := addStoreFlags(fs, false)
	pf := addPullFlags(fs, "")
	logJSON := fs.Bool("log-json", false, "log as JSON lines instead of text")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: idlog pull --org https://ORG.okta.com [flags]
       idlog pull status [--org URL] [--store URL] [--json]
       idlog pull hook-secret [--data-dir DIR]

Mirrors the org's System Log into the store and keeps it current, until
interrupted. It asks Okta's GET /api/v1/logs once from --since, then only
follows the rel="next" links, storing each link in the same transaction as
the events of its page: after a crash or a restart it goes on exactly where
it stopped (the stored link wins over --since), and no event is missed or
stored twice. It spends at most --budget percent of the org's rate limit,
waits for the reset after a 429, and retries errors with a growing pause;
what it waits for is logged.

Credentials: an API token of a read-only administrator in the variable
--token-env names (OKTA_API_TOKEN), or an API service app granted
okta.logs.read that signs in with its private key (--oauth-client-id,
--oauth-key). 'idlog serve --pull-org …' runs the same collector beside the
server. See docs/collector.md.

'idlog pull status' prints what the collector stored: lag, events, requests,
the last error. 'idlog pull hook-secret' makes the secret for Okta event
hooks (POST /api/idlog/v1/hooks/okta of 'idlog serve').

Examples:
  export OKTA_API_TOKEN=00a…
  idlog pull --org https://acme.okta.com --since -7d
  idlog pull --org https://acme.okta.com --oauth-client-id 0oa1… --oauth-key idlog-app.pem
  idlog pull status

Flags:
`)
		fs.PrintDefaults()
	}
	if _, help, err := parseFlags(fs, e, args, false); help || err != nil {
		return err
	}
	if !pf.enabled() {
		fmt.Fprintln(e.stderr, "idlog pull: --org is required (https://ORG.okta.com)")
		return errUsage
	}
	if err := sf.resolve(e); err != nil {
		return err
	}
	if sf.server != "" {
		return &exitError{code: 2, msg: "pull writes to a store it opens itself: give --store, or run the collector inside the server with 'idlog serve --pull-org'"}
	}
	var h slog.Handler = slog.NewTextHandler(e.stderr, nil)
	if *logJSON {
		h = slog.NewJSONHandler(e.stderr, nil)
	}
	log := slog.New(h)
	// Flags and credentials first: a mistake there should not wait for,
	// or create, a store.
	cfg, err := pf.config(e, nil, log)
	if err != nil {
		return err
	}
	st, err := sf.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	cfg.Store = st
	if err := collect.Run(ctx, cfg); err != nil {
		return err
	}
	log.Info("stopped", "org", cfg.Org)
	return nil
}

func runPullStatus(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("pull status", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	sf := addStoreFlags(fs, false)
	org := fs.String("org", "", "the org (default: the one last pulled into the store)")
	asJSON := fs.Bool("json", false, "print the stored state as JSON")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: idlog pull status [--org URL] [--store URL] [--json]

Prints the collector's state as stored with the events: lag (now minus the
newest published time pulled), events stored, requests made, the last
success and the last error. The counters are exact after a clean stop and
while the collector is caught up; after a crash they may miss the last page.
While 'idlog serve --pull-org' holds the store, read its /metrics instead
(idlog_pull_*).

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
	st, err := storeurl.Open(ctx, sf.store)
	if errors.Is(err, store.ErrLocked) {
		return &exitError{code: 1, msg: "the store " + sf.store + " is held by a running idlog (serve --pull-org?): read the collector's state from that server's /metrics (idlog_pull_*)"}
	}
	if err != nil {
		return err
	}
	defer st.Close()
	s, ok, err := collect.ReadState(ctx, st, *org)
	if err != nil {
		return err
	}
	if !ok {
		which := "any org"
		if *org != "" {
			which = s.Org
		}
		return &exitError{code: 1, msg: "nothing was pulled from " + which + " into " + sf.store + " yet"}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	now := time.Now()
	ago := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return fmt.Sprintf("%s (%s ago)", t.UTC().Format(time.RFC3339), now.Sub(t).Round(time.Second))
	}
	fmt.Fprintf(e.stdout, "org:           %s\n", s.Org)
	if s.Newest.IsZero() {
		fmt.Fprintf(e.stdout, "lag:           no event pulled yet\n")
	} else {
		fmt.Fprintf(e.stdout, "lag:           %s (newest published %s)\n", s.Lag(now).Round(time.Second), s.Newest.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(e.stdout, "events:        %d stored, %d duplicates, %d rejected\n", s.Events, s.Duplicates, s.Rejected)
	fmt.Fprintf(e.stdout, "requests:      %d\n", s.Requests)
	fmt.Fprintf(e.stdout, "last success:  %s\n", ago(s.LastSuccess))
	if s.LastError != "" {
		fmt.Fprintf(e.stdout, "last error:    %s: %s\n", ago(s.LastErrorAt), s.LastError)
	} else {
		fmt.Fprintf(e.stdout, "last error:    none since the last success\n")
	}
	fmt.Fprintf(e.stdout, "next request:  %s\n", s.Next)
	return nil
}

func runHookSecret(e *env, args []string) error {
	fs := flag.NewFlagSet("pull hook-secret", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	dataDir := fs.String("data-dir", "idlog-data", "the `directory` 'idlog serve' keeps its tokens in (its --data-dir)")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: idlog pull hook-secret [--data-dir DIR]

Makes a new secret for Okta event hooks, prints it once, and keeps only its
SHA-256 in DIR (replacing an older secret). In Okta (Workflow → Event Hooks),
set the hook's URL to https://YOUR-IDLOG/api/idlog/v1/hooks/okta, the
authentication field to Authorization and the secret to the printed value.
'idlog serve --data-dir DIR' then accepts the hook (restart it to pick up a
new secret).

Flags:
`)
		fs.PrintDefaults()
	}
	if _, help, err := parseFlags(fs, e, args, false); help || err != nil {
		return err
	}
	secret, err := api.CreateHookSecret(*dataDir)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, secret)
	fmt.Fprintf(e.stderr, "idlog: kept the secret's hash in %s; this is the only time the secret is shown\n", api.HookSecretPath(*dataDir))
	return nil
}
