package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/audit"
	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/storeurl"
	"github.com/idlog/idlog/internal/timeparse"
)

func init() {
	register(&command{name: "audit", summary: "read idlog's own audit trail (who signed in, searched, exported, pruned)", run: runAudit})
	auditCLI = recordCLI
}

// cliActor is the person running a CLI command on the server's machine:
// the operating-system user, since the CLI works on the data directory
// directly.
func cliActor() *auth.Principal {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return &auth.Principal{ID: "os:" + name, Name: name + " (idlog CLI)", Kind: "user", Role: auth.RoleAdmin}
}

// recordCLI adds a CLI action to the data directory's audit trail. A
// failure to record is reported but does not undo the action.
func recordCLI(e *env, dataDir, eventType, targetName, targetID string) {
	entry := audit.Entry{EventType: eventType, Actor: cliActor(), Addr: "local", UserAgent: "idlog CLI"}
	if targetID != "" {
		entry.Targets = []audit.Target{{ID: targetID, Type: "Token", Name: targetName}}
	}
	if err := audit.Open(dataDir).Record(entry); err != nil {
		fmt.Fprintf(e.stderr, "idlog: warning: could not add this to the audit trail: %v\n", err)
	}
}

func runAudit(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	dataDir := fs.String("data-dir", "", "the server's data `directory` (default: IDLOG_DATA_DIR, else beside the store)")
	server := fs.String("server", "", "read through a running server at this `URL` instead (needs an admin token); default IDLOG_SERVER")
	token := fs.String("token", "", "admin API `token` for --server; default IDLOG_TOKEN")
	filterText := fs.String("filter", "", "an Okta filter `expression` over the audit events (e.g. 'eventType eq \"idlog.log.export\"')")
	q := fs.String("q", "", "`keywords`, as Okta's q")
	since := fs.String("since", "", "events at or after `T`; "+timeparse.Help)
	until := fs.String("until", "", "events before `T`")
	limit := fs.Int("limit", 0, "at most `N` events (0: all)")
	desc := fs.Bool("desc", false, "newest first")
	table := fs.Bool("table", false, "print a table (time, event, actor, outcome, what) instead of LogEvent JSON lines")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: idlog audit [flags]

Prints idlog's audit trail: every sign-in and sign-out, search, export,
saved-search change, token change and prune, as Okta LogEvents
(eventType idlog.…), one JSON object per line, oldest first. The trail is
kept apart from the org's events (DATA-DIR/audit.jsonl), so retention and
prune never touch it. Reading it needs the admin role through a server, or
access to the data directory.

Examples:
  idlog audit --since -1d --table
  idlog audit --filter 'eventType eq "idlog.log.search" and actor.alternateId eq "alice@example.com"'
  idlog audit --server https://idlog.example.org --token $ADMIN_TOKEN --since -7d > audit.ndjson

Flags:
`)
		fs.PrintDefaults()
	}
	if _, help, err := parseFlags(fs, e, args, false); help || err != nil {
		return err
	}
	now := time.Now()
	var sinceT, untilT time.Time
	var err error
	if *since != "" {
		if sinceT, err = timeparse.Parse(*since, now); err != nil {
			return &exitError{code: 2, msg: "audit: --since: " + err.Error()}
		}
	}
	if *until != "" {
		if untilT, err = timeparse.Parse(*until, now); err != nil {
			return &exitError{code: 2, msg: "audit: --until: " + err.Error()}
		}
	}
	out := bufio.NewWriter(e.stdout)
	defer out.Flush()
	n := 0
	emit := func(raw json.RawMessage) error {
		n++
		if !*table {
			out.Write(raw)
			return out.WriteByte('\n')
		}
		var ev struct {
			Published string `json:"published"`
			EventType string `json:"eventType"`
			Actor     struct {
				AlternateID string `json:"alternateId"`
			} `json:"actor"`
			Client struct {
				IPAddress string `json:"ipAddress"`
			} `json:"client"`
			Outcome struct {
				Result string `json:"result"`
			} `json:"outcome"`
			Debug struct {
				Data map[string]any `json:"debugData"`
			} `json:"debugContext"`
		}
		if err := json.Unmarshal(raw, &ev); err != nil {
			return err
		}
		what := ""
		for _, k := range []string{"filter", "q", "since", "until", "before"} {
			if v, ok := ev.Debug.Data[k]; ok {
				what += fmt.Sprintf(" %s=%v", k, v)
			}
		}
		_, err := fmt.Fprintf(out, "%s  %-26s %-28s %-15s %-8s%s\n", ev.Published, ev.EventType, ev.Actor.AlternateID, ev.Client.IPAddress, ev.Outcome.Result, what)
		return err
	}

	srv := firstNonEmpty(*server, e.getenv("IDLOG_SERVER"))
	if srv != "" {
		tok := firstNonEmpty(*token, e.getenv("IDLOG_TOKEN"))
		if tok == "" {
			return &exitError{code: 2, msg: "audit: --server needs an admin token: --token or IDLOG_TOKEN"}
		}
		v := url.Values{}
		for k, s := range map[string]string{"filter": *filterText, "q": *q} {
			if s != "" {
				v.Set(k, s)
			}
		}
		if !sinceT.IsZero() {
			v.Set("since", sinceT.UTC().Format(time.RFC3339Nano))
		}
		if !untilT.IsZero() {
			v.Set("until", untilT.UTC().Format(time.RFC3339Nano))
		}
		if *desc {
			v.Set("sortOrder", "DESCENDING")
		}
		v.Set("limit", "1000")
		next := strings.TrimRight(srv, "/") + "/api/idlog/v1/audit?" + v.Encode()
		for next != "" {
			page, link, err := auditPage(ctx, next, tok)
			if err != nil {
				return err
			}
			for _, raw := range page {
				if *limit > 0 && n >= *limit {
					return nil
				}
				if err := emit(raw); err != nil {
					return err
				}
			}
			next = link
		}
		return nil
	}

	dir := firstNonEmpty(*dataDir, e.getenv("IDLOG_DATA_DIR"))
	if dir == "" {
		dir = defaultDataDir(firstNonEmpty(e.getenv("IDLOG_STORE"), storeurl.Default))
	}
	aq := audit.Query{Since: sinceT, Until: untilT, Descending: *desc, Limit: 1000}
	if strings.TrimSpace(*filterText) != "" {
		if aq.Filter, err = filter.Parse(*filterText); err != nil {
			return &exitError{code: 2, msg: "audit: --filter: " + err.Error()}
		}
	}
	if aq.Keywords, err = filter.ParseKeywords(*q); err != nil {
		return &exitError{code: 2, msg: "audit: --q: " + err.Error()}
	}
	trail := audit.Open(dir)
	for {
		res, err := trail.Find(aq)
		if err != nil {
			return err
		}
		for _, raw := range res.Events {
			if *limit > 0 && n >= *limit {
				return nil
			}
			if err := emit(raw); err != nil {
				return err
			}
		}
		if res.Next == 0 {
			break
		}
		aq.After = res.Next
	}
	if n == 0 && !*table {
		fmt.Fprintf(e.stderr, "idlog audit: no audit events matched in %s\n", trail.Path())
	}
	return nil
}

// auditPage fetches one page of GET /api/idlog/v1/audit and its next link.
func auditPage(ctx context.Context, u, token string) ([]json.RawMessage, string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Authorization", "SSWS "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 512<<20))
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != 200 {
		var oe struct {
			ErrorSummary string `json:"errorSummary"`
			ErrorCauses  []struct {
				ErrorSummary string `json:"errorSummary"`
			} `json:"errorCauses"`
		}
		json.Unmarshal(b, &oe)
		msg := oe.ErrorSummary
		for _, c := range oe.ErrorCauses {
			msg += " " + c.ErrorSummary
		}
		return nil, "", fmt.Errorf("audit: the server answered %s: %s", strconv.Itoa(resp.StatusCode), strings.TrimSpace(msg))
	}
	var page []json.RawMessage
	if err := json.Unmarshal(b, &page); err != nil {
		return nil, "", fmt.Errorf("audit: the server's answer is not a JSON array: %w", err)
	}
	next := ""
	for _, l := range resp.Header.Values("Link") {
		if strings.HasSuffix(l, `rel="next"`) {
			next = strings.TrimSuffix(strings.TrimPrefix(strings.Split(l, ">")[0], "<"), ">")
		}
	}
	return page, next, nil
}
