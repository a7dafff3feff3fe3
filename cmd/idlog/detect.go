package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idlog/idlog/internal/detect"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/timeparse"
)

func init() {
	register(&command{name: "detect", summary: "run detection rules over stored history and print the alerts", run: runDetect})
}

// ruleFlags are --rules and --builtin, shared by detect and rules.
type ruleFlags struct {
	dir     string
	builtin bool
	only    string
}

func addRuleFlags(fs *flag.FlagSet) *ruleFlags {
	rf := &ruleFlags{}
	fs.StringVar(&rf.dir, "rules", "", "also load the rules in `DIR` (idlog YAML rules and Sigma rules, .yml/.yaml, recursively)")
	fs.BoolVar(&rf.builtin, "builtin", true, "load the built-in library (docs/detections.md)")
	return rf
}

// load returns the rules to run; every file that cannot run is reported on
// w with its reason.
// Verbose prints the built-in refusals in full; otherwise one line says how
// many there are.
func (rf *ruleFlags) load(w io.Writer, verbose bool) ([]*detect.Rule, int, error) {
	var rules []*detect.Rule
	refused := 0
	if rf.builtin {
		b, bad := detect.Builtin()
		rules = append(rules, b...)
		for _, x := range bad {
			if verbose {
				fmt.Fprintf(w, "idlog: built-in rule refused: %v\n", x)
			}
			refused++
		}
		if !verbose && len(bad) > 0 {
			fmt.Fprintf(w, "idlog: %d of Okta's customer-detections queries not loaded (a mistake in the query; 'idlog rules list' says which)\n", len(bad))
		}
	}
	if rf.dir != "" {
		r, bad, err := detect.LoadDir(rf.dir)
		if err != nil {
			return nil, 0, err
		}
		for _, x := range bad {
			fmt.Fprintf(w, "idlog: rule refused: %v\n", x)
			refused++
		}
		rules = append(rules, r...)
	}
	if rf.only != "" {
		var keep []*detect.Rule
		for _, r := range rules {
			if r.ID == rf.only {
				keep = append(keep, r)
			}
		}
		if len(keep) == 0 {
			return nil, 0, &exitError{code: 2, msg: fmt.Sprintf("no rule %q (see 'idlog rules list')", rf.only)}
		}
		rules = keep
	}
	seen := map[string]string{}
	for _, r := range rules {
		if prev, ok := seen[r.ID]; ok {
			return nil, 0, &exitError{code: 2, msg: fmt.Sprintf("rule id %q appears twice (%s and %s)", r.ID, prev, r.Source)}
		}
		seen[r.ID] = r.Source
	}
	if len(rules) == 0 {
		return nil, 0, &exitError{code: 2, msg: "no rules to run (--builtin=false and no --rules DIR)"}
	}
	return rules, refused, nil
}

func runDetect(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("detect", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	sf := addStoreFlags(fs, true)
	sf.mustExist = true
	rf := addRuleFlags(fs)
	var since, until, output string
	var quiet bool
	fs.StringVar(&since, "since", "-30d", "replay events published at or after `T`; "+timeparse.Help)
	fs.StringVar(&until, "until", "", "and before `T` (default: now)")
	fs.StringVar(&rf.only, "rule", "", "run only the rule with this `ID`")
	fs.StringVar(&output, "output", "ndjson", "`format`: ndjson (one alert per line) or table")
	fs.BoolVar(&quiet, "quiet", false, "no progress on stderr")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: idlog detect [flags]

Replays detection rules over the stored events of a time range, oldest
first, and prints the alerts they raise: one JSON object per line with at
least rule, title, severity, group, first, last, count and uuids (the events
that made the alert; at most 1000, count goes on). The built-in library runs
unless --builtin=false; --rules DIR adds idlog YAML rules, Sigma rules and
Sigma correlation rules. A rule file that cannot run is reported with its
reason on stderr. When every rule names the event types it can match, only
events of those types are read (--rule password-spray reads only
user.session.start events, not the whole range).

`+storeFlagsHelp+`
Examples:
  idlog detect --since -365d
  idlog detect --since -90d --rule password-spray --output table
  idlog detect --builtin=false --rules ./sigma/rules/identity/okta --since 2026-01-01
  idlog detect --server http://127.0.0.1:8080 --token $IDLOG_TOKEN --since -7d

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
		return &exitError{code: 2, msg: "detect: " + fmt.Sprintf(format, a...)}
	}
	if output != "ndjson" && output != "table" {
		return usageErr("--output %q: use ndjson or table", output)
	}
	now := time.Now()
	var eq eventQuery
	eq.until = now
	if until != "" {
		t, err := timeparse.Parse(until, now)
		if err != nil {
			return usageErr("--until: %v", err)
		}
		eq.until = t
	}
	t, err := timeparse.Parse(since, now)
	if err != nil {
		return usageErr("--since: %v", err)
	}
	eq.since = t
	if !eq.since.Before(eq.until) {
		return usageErr("--since (%s) is not before --until (%s)", eq.since.Format(time.RFC3339), eq.until.Format(time.RFC3339))
	}
	rules, _, err := rf.load(e.stderr, false)
	if err != nil {
		return err
	}
	// The store is asked only for the event types the rules can match
	// (every event when a rule can match any type); the engine's
	// event-type index then picks the rules for each event. Asking for the
	// or of the rules' whole filters instead was tried and is far slower on
	// DuckDB (a 41-way or over JSON paths, evaluated again for each page).
	if x := detect.Prefilter(rules); x != nil {
		eq.expr, eq.filterText = x, x.String()
	}
	b, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer b.Close()

	eng := detect.NewEngine(rules)
	start := time.Now()
	var progress detect.ReplayProgress
	if !quiet {
		progress = func(n, alerts int, at time.Time) {
			fmt.Fprintf(e.stderr, "idlog detect: %d events, %d alerts, at %s\n", n, alerts, at.Format(time.RFC3339))
		}
	}
	read := func(fn func([]byte) error) error {
		return b.query(ctx, eq, func(raw json.RawMessage) error { return fn(raw) })
	}
	if !b.remote {
		// A store that can hand over only the members the rules read, in
		// one pass over the range, does (DuckDB); others are paged.
		q := store.Query{Filter: eq.expr, Since: eq.since, Until: eq.until}
		if r, ok := detect.ProjectedReader(ctx, b.st, q, eng); ok {
			read = r
		}
	}
	alerts, n, err := detect.Replay(ctx, eng, read, progress)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	list := make([]detect.Alert, 0, len(alerts))
	for _, a := range alerts {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool {
		if !list[i].First.Equal(list[j].First) {
			return list[i].First.Before(list[j].First)
		}
		return list[i].ID < list[j].ID
	})
	if err := writeAlerts(e.stdout, list, output); err != nil {
		return err
	}
	if !quiet {
		fmt.Fprintf(e.stderr, "idlog detect: %d rules over %d events in %s: %d alerts\n", len(rules), n, time.Since(start).Round(time.Millisecond), len(list))
	}
	return nil
}

// writeAlerts prints alerts as NDJSON or a table.
func writeAlerts(w io.Writer, list []detect.Alert, output string) error {
	bw := bufio.NewWriter(w)
	if output == "table" {
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "FIRST\tLAST\tSEVERITY\tRULE\tCOUNT\tSTATUS\tGROUP")
		for _, a := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", a.First.Format(time.RFC3339), a.Last.Format(time.RFC3339),
				a.Severity, a.Rule, a.Count, a.Status, strings.ReplaceAll(a.Group, "\t", " "))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		return bw.Flush()
	}
	enc := json.NewEncoder(bw)
	for _, a := range list {
		if err := enc.Encode(a); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// serveDetectFlags are serve's detection settings.
type serveDetectFlags struct {
	on      bool
	rules   ruleFlags
	webhook string
}

func addServeDetectFlags(fs *flag.FlagSet) *serveDetectFlags {
	d := &serveDetectFlags{}
	fs.BoolVar(&d.on, "detect", true, "run detection rules on events as they are stored, and serve their alerts (/api/idlog/v1/alerts)")
	fs.BoolVar(&d.rules.builtin, "builtin-rules", true, "run the built-in rule library (docs/detections.md)")
	fs.StringVar(&d.rules.dir, "rules", "", "also run the rules in `DIR` (idlog YAML and Sigma rules); a file that cannot run stops the start with its reason")
	fs.StringVar(&d.webhook, "alert-webhook", "", "POST each new alert as JSON to this `URL` (generic JSON with a Slack-compatible text field; retried 5 times)")
	return d
}

// start builds the detection runner of a server: alerts and engine state
// live in the data directory (alerts.ndjson, detect-state.json). It returns
// nil when detection is off.
func (d *serveDetectFlags) start(dataDir string, log *slog.Logger) (*detect.Runner, error) {
	if d == nil || !d.on {
		return nil, nil
	}
	var refusals strings.Builder
	rules, refused, err := d.rules.load(&refusals, true)
	if err != nil {
		return nil, err
	}
	if d.rules.dir != "" && refused > 0 {
		// A rule the operator asked for that cannot run: say why now rather
		// than run without it.
		return nil, &exitError{code: 2, msg: "serve: --rules: " + strings.TrimSpace(refusals.String())}
	}
	logf := func(format string, args ...any) { log.Warn(fmt.Sprintf(format, args...)) }
	alerts, err := detect.OpenFileAlerts(filepath.Join(dataDir, "alerts.ndjson"))
	if err != nil {
		return nil, err
	}
	o := detect.RunnerOptions{StatePath: filepath.Join(dataDir, "detect-state.json"), Logf: logf}
	if d.webhook != "" {
		o.Webhook = &detect.Webhook{URL: d.webhook, Logf: logf}
	}
	r, err := detect.NewRunner(rules, alerts, o)
	if err != nil {
		alerts.Close()
		return nil, err
	}
	log.Info("detection rules running", "rules", len(rules))
	return r, nil
}

// runnerAlerts is the runner's alert store, or a nil interface.
func runnerAlerts(r *detect.Runner) detect.AlertStore {
	if r == nil {
		return nil
	}
	return r.Alerts()
}
