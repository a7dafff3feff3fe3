package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/idlog/idlog/internal/client"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/scenario"
	"github.com/idlog/idlog/internal/timeparse"
)

func init() {
	register(&command{name: "query", summary: "print the events a filter matches (Okta's filter language)", run: runQuery})
}

// Okta's defaults for GET /api/v1/logs: the last 7 days, 100 events, oldest first.
const (
	defaultWindow = 7 * 24 * time.Hour
	defaultLimit  = 100
)

func runQuery(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	sf := addStoreFlags(fs, true)
	sf.mustExist = true // reading a store that is not there is a typo, not an empty answer
	var (
		expr, scen, user, ip, session, q string
		since, until, sort, output       string
		limit                            int
		all                              bool
	)
	fs.StringVar(&expr, "filter", "", "Okta filter `EXPR`, as in Okta's search box or ?filter=")
	fs.StringVar(&scen, "scenario", "", "a named seed query instead of --filter (see 'idlog scenarios'); needs --user, --ip or --session")
	fs.StringVar(&user, "user", "", "the user `ID` (00u…) for a user scenario")
	fs.StringVar(&ip, "ip", "", "the client `IP` for an IP scenario")
	fs.StringVar(&session, "session", "", "the external session `ID` for a session scenario")
	fs.StringVar(&q, "q", "", "keywords that must all appear as whole words, like Okta's q (at most 10 of 40 characters)")
	fs.StringVar(&since, "since", "", "events published at or after `T` (default: until minus 7 days); "+timeparse.Help)
	fs.StringVar(&until, "until", "", "events published before `T` (default: now)")
	fs.StringVar(&sort, "sort", "ASCENDING", "`order` by published: ASCENDING (oldest first, Okta's default) or DESCENDING")
	fs.IntVar(&limit, "limit", defaultLimit, "print at most `N` events")
	fs.BoolVar(&all, "all", false, "print every matching event (no --limit)")
	fs.StringVar(&output, "output", "ndjson", "`format`: ndjson (the events as stored), json (one array), table, csv")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: idlog query [flags]

Prints the events that match a filter in Okta's System Log filter language,
with Okta's defaults: published in the last 7 days (--since is --until minus
7 days, --until is now), oldest first, at most 100 events. A filter that does
not parse prints where it is wrong and exits with status 2.

`+storeFlagsHelp+`
Examples:
  idlog query --filter 'eventType eq "user.session.start" and outcome.result eq "FAILURE"' --since -24h
  idlog query --scenario signin-events-user --user 00u1abcd2EFGH3ijk4l5 --since -30d --output table
  # the seed's sign-in query for one user, shortened to two event types:
  idlog query --filter '(actor.id eq "00u1abcd2EFGH3ijk4l5" or target.id eq "00u1abcd2EFGH3ijk4l5") and (
  (eventType eq "user.session.start") or
  (eventType eq "user.authentication.sso"))' --since 2026-03-01 --until 2026-03-08 --all
  idlog query --q 'LOCKED_OUT' --sort DESCENDING --limit 10 --output csv > lockouts.csv
  idlog query --all --since -90d > everything.ndjson

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
		return &exitError{code: 2, msg: "query: " + fmt.Sprintf(format, a...)}
	}

	var eq eventQuery
	switch {
	case scen != "" && expr != "":
		return usageErr("--filter and --scenario exclude each other")
	case scen != "":
		s, ok := scenario.Lookup(scen)
		if !ok {
			names := []string{}
			for _, s := range scenario.All() {
				names = append(names, s.Name)
			}
			return usageErr("no scenario %q; there are: %s", scen, strings.Join(names, ", "))
		}
		values := map[string]string{scenario.ParamUser: user, scenario.ParamIP: ip, scenario.ParamSession: session}
		for p, v := range values {
			if v != "" && p != s.Param {
				return usageErr("scenario %s takes --%s, not --%s", s.Name, s.Param, p)
			}
		}
		if values[s.Param] == "" {
			return usageErr("scenario %s needs --%s", s.Name, s.Param)
		}
		text, err := s.Expand(values[s.Param])
		if err != nil {
			return usageErr("%v", err)
		}
		expr = text
	case user != "" || ip != "" || session != "":
		return usageErr("--user, --ip and --session go with --scenario")
	}
	if strings.TrimSpace(expr) != "" {
		x, err := filter.Parse(expr)
		if err != nil {
			fmt.Fprint(e.stderr, filterErrorText("--filter", err))
			return &exitError{code: 2}
		}
		eq.expr, eq.filterText = x, expr
	}
	if q != "" {
		kw, err := filter.ParseKeywords(q)
		if err != nil {
			fmt.Fprint(e.stderr, filterErrorText("--q", err))
			return &exitError{code: 2}
		}
		eq.q, eq.keywords = q, kw
	}

	now := time.Now()
	eq.until = now
	if until != "" {
		t, err := timeparse.Parse(until, now)
		if err != nil {
			return usageErr("--until: %v", err)
		}
		eq.until = t
	}
	eq.since = eq.until.Add(-defaultWindow)
	if since != "" {
		t, err := timeparse.Parse(since, now)
		if err != nil {
			return usageErr("--since: %v", err)
		}
		eq.since = t
	}
	if !eq.since.Before(eq.until) {
		return usageErr("--since (%s) is not before --until (%s)", eq.since.Format(time.RFC3339), eq.until.Format(time.RFC3339))
	}
	switch strings.ToUpper(sort) {
	case "ASCENDING", "ASC":
	case "DESCENDING", "DESC":
		eq.descending = true
	default:
		return usageErr("--sort %q: use ASCENDING or DESCENDING", sort)
	}
	if limit <= 0 && !all {
		return usageErr("--limit must be at least 1 (or use --all)")
	}
	if !all {
		eq.limit = limit
	}
	w, err := newEventWriter(e.stdout, output)
	if err != nil {
		return usageErr("%v", err)
	}

	b, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	err = b.query(ctx, eq, w.write)
	if ferr := w.close(); err == nil {
		err = ferr
	}
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
		// The server refused the query itself (its idlog may be another
		// version): a usage error, as it would be here.
		return &exitError{code: 2, msg: "query: " + ae.Error()}
	}
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	if !all && w.n == limit {
		// Okta's default page is 100: say so, or a quiet cut looks like the whole answer.
		fmt.Fprintf(e.stderr, "idlog query: stopped at --limit %d; more events may match (use --all, or a larger --limit)\n", limit)
	}
	return nil
}

// filterErrorText writes a filter or q error for a terminal: line and
// column, the message, and the offending text underlined with carets.
func filterErrorText(flagName string, err error) string {
	var fe *filter.Error
	if !errors.As(err, &fe) {
		return "idlog query: " + flagName + ": " + err.Error() + "\n"
	}
	pos := min(max(int(fe.Pos), 0), len(fe.Src))
	line := strings.Count(fe.Src[:pos], "\n") + 1
	col := utf8.RuneCountInString(fe.Src[strings.LastIndexByte(fe.Src[:pos], '\n')+1:pos]) + 1
	var b strings.Builder
	fmt.Fprintf(&b, "idlog query: %s: line %d, column %d: %s", flagName, line, col, fe.Msg)
	if fe.Expected != "" {
		fmt.Fprintf(&b, ". Expected: %s", fe.Expected)
	}
	b.WriteString("\n")
	b.WriteString(fe.Caret())
	b.WriteString("\n")
	return b.String()
}

// eventWriter prints events in one of the output formats, as they come.
type eventWriter struct {
	format string
	bw     *bufio.Writer
	n      int
	tw     *tabwriter.Writer
	cw     *csv.Writer
}

func newEventWriter(w io.Writer, format string) (*eventWriter, error) {
	ew := &eventWriter{format: format, bw: bufio.NewWriterSize(w, 64<<10)}
	switch format {
	case "ndjson", "json":
	case "table":
		ew.tw = tabwriter.NewWriter(ew.bw, 0, 0, 2, ' ', 0)
		fmt.Fprintln(ew.tw, "PUBLISHED\tEVENT TYPE\tRESULT\tACTOR\tIP\tMESSAGE")
	case "csv":
		ew.cw = csv.NewWriter(ew.bw)
		ew.cw.Write(csvColumns)
	default:
		return nil, fmt.Errorf("--output %q: use ndjson, json, table or csv", format)
	}
	return ew, nil
}

// csvColumns are the attribute paths of the CSV export, in order.
var csvColumns = []string{
	"uuid", "published", "eventType", "severity", "displayMessage",
	"outcome.result", "outcome.reason",
	"actor.id", "actor.alternateId", "actor.displayName",
	"client.ipAddress", "client.userAgent.rawUserAgent", "client.geographicalContext.country",
	"authenticationContext.externalSessionId", "transaction.id",
	"target.id", "target.alternateId",
}

// tableWidth caps a table cell, so one long message does not push the
// other columns off the screen.
const tableWidth = 60

func (w *eventWriter) write(raw json.RawMessage) error {
	w.n++
	switch w.format {
	case "ndjson":
		w.bw.Write(raw)
		return w.bw.WriteByte('\n')
	case "json":
		if w.n == 1 {
			w.bw.WriteString("[\n")
		} else {
			w.bw.WriteString(",\n")
		}
		_, err := w.bw.Write(raw)
		return err
	}
	doc, err := filter.DecodeJSON(raw)
	if err != nil {
		return err
	}
	if w.format == "csv" {
		row := make([]string, len(csvColumns))
		for i, c := range csvColumns {
			row[i] = csvSafe(attr(doc, c))
		}
		return w.cw.Write(row)
	}
	cells := []string{"published", "eventType", "outcome.result", "actor.alternateId", "client.ipAddress", "displayMessage"}
	for i, c := range cells {
		v := terminalSafe(attr(doc, c))
		if utf8.RuneCountInString(v) > tableWidth {
			v = string([]rune(v)[:tableWidth-1]) + "…"
		}
		cells[i] = v
	}
	fmt.Fprintln(w.tw, strings.Join(cells, "\t"))
	if w.n%1000 == 0 {
		return w.tw.Flush() // keep memory flat; columns may shift a little per thousand rows
	}
	return nil
}

// csvSafe keeps a cell from being read as a formula by a spreadsheet: user
// agents and failed login names are attacker-chosen, and "=HYPERLINK(…)" in
// an export would run when an analyst opens it (OWASP's CSV injection
// advice: prefix a quote).
func csvSafe(v string) string {
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return v // -79.34 is a longitude, not a formula
	}
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// terminalSafe replaces control characters (tabs and newlines included,
// which would break the table) so that an event cannot send escape sequences
// to the analyst's terminal.
func terminalSafe(v string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, v)
}

// attr renders the values at an attribute path, joining array fan-out
// (target.id of several targets) with "; ".
func attr(doc any, path string) string {
	var parts []string
	for _, v := range filter.Resolve(doc, strings.Split(path, ".")) {
		switch v := v.(type) {
		case nil:
		case string:
			parts = append(parts, v)
		default:
			b, _ := json.Marshal(v)
			parts = append(parts, string(b))
		}
	}
	return strings.Join(parts, "; ")
}

func (w *eventWriter) close() error {
	switch w.format {
	case "json":
		if w.n == 0 {
			w.bw.WriteString("[")
		}
		w.bw.WriteString("\n]\n")
	case "table":
		w.tw.Flush()
	case "csv":
		w.cw.Flush()
		if err := w.cw.Error(); err != nil {
			return err
		}
	}
	return w.bw.Flush()
}
