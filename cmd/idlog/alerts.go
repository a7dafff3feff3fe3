package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idlog/idlog/internal/detect"
	"github.com/idlog/idlog/internal/timeparse"
)

func init() {
	register(&command{name: "alerts", summary: "list the alerts a server's detection rules raised; acknowledge or close one", run: runAlerts})
}

// alertsTarget is where the alerts are: a server's API, or its data
// directory's file when the server is not running.
type alertsTarget struct {
	server, token, dataDir string
}

func runAlerts(ctx context.Context, e *env, args []string) error {
	sub := "list"
	if len(args) > 0 && (args[0] == "list" || args[0] == "ack" || args[0] == "close" || args[0] == "reopen") {
		sub, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("alerts "+sub, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var tg alertsTarget
	var q detect.AlertQuery
	var since, until, output, note string
	fs.StringVar(&tg.server, "server", "", "the idlog server `URL`; default IDLOG_SERVER")
	fs.StringVar(&tg.token, "token", "", "API `token` (logs.read to list, logs.write to change); default IDLOG_TOKEN")
	fs.StringVar(&tg.dataDir, "data-dir", "", "read (or change) the alerts in this server data `directory` instead, while the server is stopped")
	fs.StringVar(&q.Rule, "rule", "", "only alerts of the rule with this `ID`")
	fs.StringVar(&q.Severity, "severity", "", "only alerts of this `severity` (info, low, medium, high, critical)")
	fs.StringVar(&q.Status, "status", "", "only alerts with this `status` (open, acknowledged, closed)")
	fs.StringVar(&since, "since", "", "only alerts whose last event is at or after `T`; "+timeparse.Help)
	fs.StringVar(&until, "until", "", "and before `T`")
	fs.IntVar(&q.Limit, "limit", 100, "at most `N` alerts, newest first")
	fs.StringVar(&output, "output", "table", "`format`: table or ndjson")
	fs.StringVar(&note, "note", "", "with ack, close or reopen: a note kept with the alert")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage:
  idlog alerts [list] [flags]            list alerts, newest first
  idlog alerts ack|close|reopen ID [--note TEXT]

Alerts are raised by the detection rules a server runs on events as they
are stored (see 'idlog serve -h', docs/detections.md). They live in the
server's data directory; ask the server (--server, --token or IDLOG_SERVER,
IDLOG_TOKEN), or read the directory while the server is stopped (--data-dir).

Examples:
  idlog alerts --status open --severity high
  idlog alerts --rule password-spray --output ndjson | jq .uuids
  idlog alerts ack 3f2a9c0d1e4b5a67 --note "red team exercise, ticket SEC-42"

Flags:
`)
		fs.PrintDefaults()
	}
	rest, help, err := parseFlags(fs, e, args, sub != "list")
	if help || err != nil {
		return err
	}
	usageErr := func(format string, a ...any) error {
		return &exitError{code: 2, msg: "alerts: " + fmt.Sprintf(format, a...)}
	}
	if tg.server == "" && tg.dataDir == "" {
		tg.server = e.getenv("IDLOG_SERVER")
	}
	if tg.server != "" && tg.token == "" {
		tg.token = e.getenv("IDLOG_TOKEN")
	}
	switch {
	case tg.server != "" && tg.dataDir != "":
		return usageErr("--server and --data-dir exclude each other")
	case tg.server == "" && tg.dataDir == "":
		return usageErr("where are the alerts? --server URL --token T (or IDLOG_SERVER, IDLOG_TOKEN), or --data-dir DIR")
	case tg.server != "" && tg.token == "":
		return usageErr("--server needs --token or IDLOG_TOKEN")
	}
	if output != "table" && output != "ndjson" {
		return usageErr("--output %q: use table or ndjson", output)
	}
	now := time.Now()
	for _, tv := range []struct {
		s   string
		dst *time.Time
		n   string
	}{{since, &q.Since, "--since"}, {until, &q.Until, "--until"}} {
		if tv.s == "" {
			continue
		}
		t, err := timeparse.Parse(tv.s, now)
		if err != nil {
			return usageErr("%s: %v", tv.n, err)
		}
		*tv.dst = t
	}
	if sub != "list" {
		if len(rest) != 1 {
			return usageErr("%s needs one alert id", sub)
		}
		status := map[string]string{"ack": detect.StatusAcknowledged, "close": detect.StatusClosed, "reopen": detect.StatusOpen}[sub]
		a, err := tg.update(ctx, rest[0], status, note)
		if err != nil {
			return err
		}
		if output == "table" {
			return writeAlertsTable(e.stdout, []detect.Alert{a})
		}
		return writeAlerts(e.stdout, []detect.Alert{a}, "ndjson")
	}
	list, err := tg.list(ctx, q)
	if err != nil {
		return err
	}
	if output == "table" {
		if err := writeAlertsTable(e.stdout, list); err != nil {
			return err
		}
	} else if err := writeAlerts(e.stdout, list, "ndjson"); err != nil {
		return err
	}
	if len(list) == q.Limit {
		fmt.Fprintf(e.stderr, "idlog alerts: stopped at --limit %d; there may be more\n", q.Limit)
	}
	return nil
}

func writeAlertsTable(w io.Writer, list []detect.Alert) error {
	var b bytes.Buffer
	b.WriteString("ID\tLAST\tSEVERITY\tRULE\tCOUNT\tSTATUS\tGROUP\n")
	for _, a := range list {
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", a.ID, a.Last.Format(time.RFC3339), a.Severity, a.Rule, a.Count, a.Status, a.Group)
	}
	return writeTabbed(w, b.Bytes())
}

func writeTabbed(w io.Writer, text []byte) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if _, err := tw.Write(text); err != nil {
		return err
	}
	return tw.Flush()
}

func (tg alertsTarget) list(ctx context.Context, q detect.AlertQuery) ([]detect.Alert, error) {
	if tg.dataDir != "" {
		fa, err := detect.OpenFileAlerts(filepath.Join(tg.dataDir, "alerts.ndjson"))
		if err != nil {
			return nil, err
		}
		defer fa.Close()
		return fa.List(ctx, q)
	}
	v := url.Values{}
	for k, s := range map[string]string{"rule": q.Rule, "severity": q.Severity, "status": q.Status} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	var out []detect.Alert
	for {
		want := min(q.Limit-len(out), 1000)
		v.Set("limit", fmt.Sprint(want))
		var page []detect.Alert
		if err := tg.call(ctx, "GET", "/api/idlog/v1/alerts?"+v.Encode(), nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < want || len(out) >= q.Limit {
			break
		}
		v.Set("after", page[len(page)-1].ID)
	}
	return out, nil
}

func (tg alertsTarget) update(ctx context.Context, id, status, note string) (detect.Alert, error) {
	if tg.dataDir != "" {
		fa, err := detect.OpenFileAlerts(filepath.Join(tg.dataDir, "alerts.ndjson"))
		if err != nil {
			return detect.Alert{}, err
		}
		defer fa.Close()
		a, err := fa.Update(ctx, id, status, note, time.Now())
		if errors.Is(err, detect.ErrNoAlert) {
			return a, &exitError{code: 1, msg: "alerts: no alert " + id}
		}
		return a, err
	}
	body, _ := json.Marshal(map[string]string{"status": status, "note": note})
	var a detect.Alert
	err := tg.call(ctx, "POST", "/api/idlog/v1/alerts/"+url.PathEscape(id), body, &a)
	return a, err
}

func (tg alertsTarget) call(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(tg.server, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "SSWS "+tg.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var oe struct {
			Code    string `json:"errorCode"`
			Summary string `json:"errorSummary"`
		}
		if json.Unmarshal(raw, &oe) == nil && oe.Summary != "" {
			return fmt.Errorf("alerts: %s %s: %s", resp.Status, oe.Code, oe.Summary)
		}
		return fmt.Errorf("alerts: %s", resp.Status)
	}
	return json.Unmarshal(raw, out)
}
