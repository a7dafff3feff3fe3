package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/storeurl"
)

func init() {
	register(&command{name: "token", summary: "create, list and revoke API tokens", run: runToken})
}

func tokenUsage(e *env) {
	fmt.Fprint(e.stderr, `Usage:
  idlog token create --name NAME --scope SCOPE[,SCOPE]   print a new token (once)
  idlog token list                                       list tokens (never the tokens themselves)
  idlog token revoke NAME|ID                             stop a token working

Scopes: logs.read (read events), logs.write (POST events), admin (all, and prune).
Tokens live hashed in DATA-DIR/tokens.json; a running 'idlog serve' picks up
changes within a second, so this works while the server runs.

Every subcommand takes --data-dir (default ./idlog-data, or IDLOG_DATA_DIR).

Examples:
  idlog token create --name splunk --scope logs.read
  curl -H "Authorization: SSWS $TOKEN" http://127.0.0.1:8080/api/v1/logs
`)
}

func runToken(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		tokenUsage(e)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("token "+sub, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { tokenUsage(e); fmt.Fprintln(e.stderr, "\nFlags:"); fs.PrintDefaults() }
	dataDir := fs.String("data-dir", "", "the server's data `directory` (default: IDLOG_DATA_DIR, else ./idlog-data)")
	var name, scopes string
	if sub == "create" {
		fs.StringVar(&name, "name", "", "a unique `name` for the token (who or what uses it)")
		fs.StringVar(&scopes, "scope", string(auth.ScopeRead), "comma-separated `scopes`: logs.read, logs.write, admin")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	dir := *dataDir
	if dir == "" {
		dir = e.getenv("IDLOG_DATA_DIR")
	}
	if dir == "" {
		dir = defaultDataDir(firstNonEmpty(e.getenv("IDLOG_STORE"), storeurl.Default))
	}
	tokens := auth.OpenTokens(dir)

	switch sub {
	case "create":
		if fs.NArg() > 0 {
			fmt.Fprintf(e.stderr, "idlog token create: unexpected argument %q (use --name)\n", fs.Arg(0))
			return errUsage
		}
		if name == "" {
			fmt.Fprintln(e.stderr, "idlog token create: --name is required")
			return errUsage
		}
		var list []auth.Scope
		for _, s := range strings.Split(scopes, ",") {
			sc, err := auth.ParseScope(strings.TrimSpace(s))
			if err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			list = append(list, sc)
		}
		secret, tok, err := tokens.Create(name, list)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, secret)
		fmt.Fprintf(e.stderr, "idlog: created token %q (id %s, scopes %s) in %s\nThis is the only time the token is shown; keep it somewhere safe.\n",
			tok.Name, tok.ID, joinScopes(tok.Scopes), tokens.Path())
		return nil
	case "list":
		list, err := tokens.List()
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tSTARTS\tCREATED")
		for _, t := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s…\t%s\n", t.ID, t.Name, joinScopes(t.Scopes), t.Hint, t.Created.Format(time.RFC3339))
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			fmt.Fprintln(e.stderr, "idlog token revoke: name the token (its name or id)")
			return errUsage
		}
		tok, err := tokens.Revoke(fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "idlog: revoked token %q (id %s)\n", tok.Name, tok.ID)
		return nil
	}
	fmt.Fprintf(e.stderr, "idlog token: unknown subcommand %q\n", sub)
	tokenUsage(e)
	return errUsage
}

func joinScopes(s []auth.Scope) string {
	out := make([]string, len(s))
	for i, sc := range s {
		out[i] = string(sc)
	}
	return strings.Join(out, ",")
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
