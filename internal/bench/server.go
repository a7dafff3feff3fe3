package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/scenario"
)

// ServerResult is one system measured as its own processes: the dataset
// imported, the server started afresh on the stored data, and asked over
// HTTP. idlog (`idlog import`, then `idlog serve`) and a peer such as
// VictoriaLogs fill the same fields, so a table can put them side by side.
type ServerResult struct {
	Name    string // "idlog", "VictoriaLogs v1.52.1"
	Command string // how the server was run, for the document
	Events  int64  // events stored, as the system counts them
	// ImportTime runs from the first byte read to the last event
	// queryable (idlog: the whole `idlog import` process; a peer: its
	// ingest requests and the flush that makes them searchable).
	ImportTime time.Duration
	ImportRate float64
	// ImportPeakRSS is the peak resident memory of the process that
	// imported: `idlog import`, or the peer's server while it ingested.
	ImportPeakRSS int64
	BytesOnDisk   int64
	// OpenToFirst runs from the server process's start (on the stored
	// data) until the first query's answer has arrived.
	OpenToFirst time.Duration
	// Queries are timed through the server's HTTP API: the field question,
	// the hourly histogram and (idlog) the seed scenarios.
	Queries []*Latency
	// RSS is the server's resident memory after the queries; PeakRSS its
	// peak over its life (the open included).
	RSS, PeakRSS int64
	// Reference is the answer to the field question for the first sample
	// user (uuids, newest first).
	Reference []string
}

func (r *ServerResult) bytesPerEvent() float64 {
	return float64(r.BytesOnDisk) / float64(max(r.Events, 1))
}

func (r *ServerResult) query(name string) *Latency {
	for _, l := range r.Queries {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// Names of the latencies every system of a process-level run reports.
const (
	FieldQuestion = "one user, 4 sign-in types, newest 100, 90 days"
	HourlyHist    = "hourly histogram, 90 days"
)

// IdlogRun says how to measure idlog as processes.
type IdlogRun struct {
	Bin   string // the idlog binary (bench passes its own executable)
	Dir   string // store and server data go here; the store is rebuilt
	Reps  int    // runs of each query shape
	Seeds bool   // also time every seed scenario (7 and 90 days) through the server
	Log   io.Writer
}

// MeasureIdlog imports ds with `idlog import` into a fresh store under
// r.Dir, then starts `idlog serve` on it and times the first answer, the
// field question, the hourly histogram and, with r.Seeds, every seed
// scenario, and reads the server's memory after them.
func MeasureIdlog(ctx context.Context, r IdlogRun, ds *Dataset) (*ServerResult, error) {
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(r.Dir, "idlog.duckdb")
	for _, suffix := range []string{"", ".wal"} {
		if err := os.RemoveAll(path + suffix); err != nil {
			return nil, err
		}
	}
	storeURL := "duckdb:" + path
	res := &ServerResult{Name: "idlog", Command: "idlog serve --store " + storeURL}
	fmt.Fprintf(r.Log, "idlog: import %s into %s\n", filepath.Base(ds.Path), storeURL)
	wall, peak, err := runMeasured(ctx, "idlog import", r.Bin, "import", "--quiet", "--store", storeURL, ds.Path)
	if err != nil {
		return nil, err
	}
	res.ImportTime, res.ImportPeakRSS = wall, peak
	fmt.Fprintf(r.Log, "idlog: imported in %s, peak RSS %.0f MB\n", wall.Round(time.Millisecond), float64(peak)/1e6)

	data := filepath.Join(r.Dir, "serve-data")
	if err := os.RemoveAll(data); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	token, _, err := auth.OpenTokens(data).Create("bench", []auth.Role{auth.RoleViewer})
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	c := &idlogClient{base: "http://" + addr, header: http.Header{"Authorization": {"SSWS " + token}}}
	// The first answer is a seed page for the first sample user: what an
	// analyst asks a server that has just started.
	first, err := seedFilter(ds.Samples, 0)
	if err != nil {
		return nil, err
	}
	p, err := startProc("idlog serve", r.Bin, "serve", "--store", storeURL, "--addr", addr, "--data-dir", data, "--rate-limit", "0")
	if err != nil {
		return nil, err
	}
	defer p.stop(time.Minute)
	if err := waitHTTP(ctx, p, c.logsURL(first, End.Add(-Days*24*time.Hour), End), c.header, 30*time.Minute); err != nil {
		return nil, err
	}
	res.OpenToFirst = time.Since(p.started)
	fmt.Fprintf(r.Log, "idlog: serve answered its first seed query %s after it started\n", res.OpenToFirst.Round(time.Millisecond))

	var stats struct {
		Events      int64 `json:"events"`
		BytesOnDisk int64 `json:"bytesOnDisk"`
	}
	if err := c.getJSON(ctx, c.base+"/api/idlog/v1/stats", &stats); err != nil {
		return nil, err
	}
	res.Events, res.BytesOnDisk = stats.Events, stats.BytesOnDisk
	res.ImportRate = float64(res.Events) / res.ImportTime.Seconds()
	if res.Events != int64(ds.Events) {
		return nil, fmt.Errorf("idlog holds %d events after importing %d", res.Events, ds.Events)
	}
	if err := timeServer(ctx, res, c, ds, r.Reps, r.Seeds, r.Log); err != nil {
		return nil, err
	}
	res.RSS, res.PeakRSS = p.memory()
	return res, nil
}

// seedFilter is the first seed scenario with a user parameter, for the
// i-th sample user.
func seedFilter(s Samples, i int) (string, error) {
	if len(s.Users) == 0 {
		return "", fmt.Errorf("the dataset has no sample users")
	}
	for _, sc := range scenario.All() {
		if sc.Param == scenario.ParamUser {
			return sc.Expand(s.Users[i%len(s.Users)])
		}
	}
	return "", fmt.Errorf("no seed scenario takes a user")
}

// asker is a server answering the process-level questions.
type asker interface {
	// fieldQuestion returns the uuids of one user's newest 100 sign-in
	// events (SignInTypes) in [since, until), newest first.
	fieldQuestion(ctx context.Context, user string, since, until time.Time) ([]string, error)
	// hourly returns how many hourly buckets hold events in [since, until).
	hourly(ctx context.Context, since, until time.Time) (int, error)
}

// timeServer times the field question and the hourly histogram (and, with
// seeds, the seed scenarios: idlog only) and keeps the reference answer.
func timeServer(ctx context.Context, res *ServerResult, a asker, ds *Dataset, reps int, seeds bool, log io.Writer) error {
	since, until := End.Add(-Days*24*time.Hour), End
	add := func(l *Latency) {
		res.Queries = append(res.Queries, l)
		fmt.Fprintf(log, "%s: %-45s p50 %8s p99 %8s rows %d\n", res.Name, l.Name, ms(l.Quantile(.5)), ms(l.Quantile(.99)), l.Rows)
	}
	if len(ds.Samples.Users) == 0 {
		return fmt.Errorf("the dataset has no sample users")
	}
	field := &Latency{Name: FieldQuestion}
	for i := 0; i < reps; i++ {
		t := time.Now()
		got, err := a.fieldQuestion(ctx, ds.Samples.Users[i%len(ds.Samples.Users)], since, until)
		if err != nil {
			return fmt.Errorf("%s: field question: %w", res.Name, err)
		}
		field.Samples = append(field.Samples, time.Since(t))
		field.Rows += len(got)
	}
	add(field)
	hist := &Latency{Name: HourlyHist}
	for i := 0; i < max(reps/10, 3); i++ {
		t := time.Now()
		n, err := a.hourly(ctx, since, until)
		if err != nil {
			return fmt.Errorf("%s: hourly histogram: %w", res.Name, err)
		}
		hist.Samples = append(hist.Samples, time.Since(t))
		hist.Rows += n
	}
	add(hist)
	ref, err := a.fieldQuestion(ctx, ds.Samples.Users[0], since, until)
	if err != nil {
		return err
	}
	res.Reference = ref
	if !seeds {
		return nil
	}
	c, ok := a.(*idlogClient)
	if !ok {
		return nil
	}
	for _, window := range []struct {
		name  string
		since time.Time
	}{{"7 days", End.Add(-7 * 24 * time.Hour)}, {"90 days", since}} {
		s := ds.Samples
		if window.name == "7 days" && len(ds.Recent.Users) > 0 {
			s = ds.Recent
		}
		for _, sc := range scenario.All() {
			values := s.Users
			switch sc.Param {
			case scenario.ParamIP:
				values = s.IPs
			case scenario.ParamSession:
				values = s.Sessions
			}
			if len(values) == 0 {
				continue
			}
			l := &Latency{Name: "scenario " + sc.Name + ", " + window.name}
			for i := 0; i < reps; i++ {
				f, err := sc.Expand(values[i%len(values)])
				if err != nil {
					return err
				}
				t := time.Now()
				got, err := c.logs(ctx, f, window.since, until)
				if err != nil {
					return fmt.Errorf("%s: %w", l.Name, err)
				}
				l.Samples = append(l.Samples, time.Since(t))
				l.Rows += len(got)
			}
			add(l)
		}
	}
	return nil
}

// idlogClient asks `idlog serve` over its API with a token.
type idlogClient struct {
	base   string
	header http.Header
}

func (c *idlogClient) logsURL(filter string, since, until time.Time) string {
	v := url.Values{
		"filter":    {filter},
		"since":     {since.UTC().Format(time.RFC3339)},
		"until":     {until.UTC().Format(time.RFC3339)},
		"limit":     {"100"},
		"sortOrder": {"DESCENDING"},
	}
	return c.base + "/api/v1/logs?" + v.Encode()
}

func (c *idlogClient) getJSON(ctx context.Context, u string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header = c.header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(into)
}

func (c *idlogClient) logs(ctx context.Context, filter string, since, until time.Time) ([]string, error) {
	var evs []struct {
		UUID string `json:"uuid"`
	}
	if err := c.getJSON(ctx, c.logsURL(filter, since, until), &evs); err != nil {
		return nil, err
	}
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.UUID
	}
	return out, nil
}

func (c *idlogClient) fieldQuestion(ctx context.Context, user string, since, until time.Time) ([]string, error) {
	return c.logs(ctx, SignInQuery(user), since, until)
}

func (c *idlogClient) hourly(ctx context.Context, since, until time.Time) (int, error) {
	v := url.Values{"since": {since.UTC().Format(time.RFC3339)}, "until": {until.UTC().Format(time.RFC3339)}, "step": {"1h"}}
	var buckets []json.RawMessage
	if err := c.getJSON(ctx, c.base+"/api/idlog/v1/histogram?"+v.Encode(), &buckets); err != nil {
		return 0, err
	}
	return len(buckets), nil
}
