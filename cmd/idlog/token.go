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
  idlog token create --name NAME [--role ROLE] [--ingest]   print a new token (once)
  idlog token list                                          list tokens (never the tokens themselves)
  idlog token revoke NAME|ID                                stop a token working

Roles (each allows everything the one before it does):
  viewer   read events, flows, funnels and alerts (the default)
  analyst  + saved searches, alert status, exports
  admin    + tokens, retention, prune, rules, the audit trail
--ingest lets the token POST events (collectors, hooks); alone it reads nothing.
The old --scope logs.read|logs.write|admin still works (viewer, ingest, admin),
and tokens.json files that name scopes keep working.

Tokens live hashed in DATA-DIR/tokens.json; a running 'idlog serve' picks up
changes within a second, so this works while the server runs. Creating and
revoking tokens is recorded in the audit trail ('idlog audit').

Every subcommand takes --data-dir (default ./idlog-data, or IDLOG_DATA_DIR).

Examples:
  idlog token create --name splunk                      # a viewer token
  idlog token create --name collector --ingest --role ""  # may only POST events
  idlog token create --name oncall --role admin
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
	var name, scopes, role string
	var ingestOK bool
	if sub == "create" {
		fs.StringVar(&name, "name", "", "a unique `name` for the token (who or what uses it)")
		fs.StringVar(&role, "role", string(auth.RoleViewer), "the token's `role`: viewer, analyst or admin (\"\" for none, with --ingest)")
		fs.BoolVar(&ingestOK, "ingest", false, "the token may also POST events")
		fs.StringVar(&scopes, "scope", "", "old form: comma-separated `scopes` logs.read, logs.write, admin (instead of --role/--ingest)")
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
		var list []auth.Role
		if scopes != "" {
			for _, s := range strings.Split(scopes, ",") {
				sc, err := auth.ParseScope(strings.TrimSpace(s))
				if err != nil {
					return &exitError{code: 2, msg: err.Error()}
				}
				list = append(list, sc)
			}
		} else if strings.TrimSpace(role) != "" {
			r, err := auth.ParseRole(role)
			if err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			list = append(list, r)
		}
		if ingestOK {
			list = append(list, auth.RoleIngest)
		}
		secret, tok, err := tokens.Create(name, list)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, secret)
		r, ing := tok.Access()
		fmt.Fprintf(e.stderr, "idlog: created token %q (id %s, %s) in %s\nThis is the only time the token is shown; keep it somewhere safe.\n",
			tok.Name, tok.ID, auth.Grants(r, ing), tokens.Path())
		auditCLI(e, dir, "idlog.token.create", tok.Name, tok.ID)
		return nil
	case "list":
		list, err := tokens.List()
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tSTARTS\tCREATED")
		for _, t := range list {
			r, ing := t.Access()
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s…\t%s\n", t.ID, t.Name, auth.Grants(r, ing), t.Hint, t.Created.Format(time.RFC3339))
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
		auditCLI(e, dir, "idlog.token.revoke", tok.Name, tok.ID)
		return nil
	}
	fmt.Fprintf(e.stderr, "idlog token: unknown subcommand %q\n", sub)
	tokenUsage(e)
	return errUsage
}

// auditCLI records a CLI action in the audit trail; set in audit.go.
var auditCLI = func(e *env, dataDir, eventType, targetName, targetID string) {}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
