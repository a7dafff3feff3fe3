package bench

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// VictoriaLogs, the log store the issue measures idlog against, runs as a
// peer: its own server process on a free loopback port with its own data
// directory, fed the dataset's NDJSON through its JSON-lines API and asked
// the same questions in LogsQL.
//
// How the events are mapped, and why:
//   - _time_field=published: the event's time, which both systems sort by.
//   - _msg_field=displayMessage: the human sentence of an Okta event.
//   - _stream_fields=eventType: a stream per event type (about a hundred),
//     which VictoriaLogs keeps apart on disk; the field question names
//     four event types, so this is the layout that suits it best. One org
//     is one source, so nothing else identifies a stream.
//
// Nested objects become dotted fields (actor.id), arrays JSON text, and
// published becomes _time: VictoriaLogs keeps the fields, not the event's
// bytes, so its size is not of a byte-for-byte copy as idlog's is.
const (
	vlStreamFields = "eventType"
	vlMsgField     = "displayMessage"
	vlTimeField    = "published"
)

// VictoriaLogsRun says how to measure VictoriaLogs.
type VictoriaLogsRun struct {
	Bin  string // the victoria-logs binary (scripts/victorialogs-build.sh)
	Dir  string // its data directory goes here (rebuilt)
	Reps int
	Log  io.Writer
}

// vlModule is the module VictoriaLogs' binary is built from.
const vlModule = "github.com/VictoriaMetrics/VictoriaLogs"

// VictoriaLogsVersion reads the module version a victoria-logs binary was
// built from (its Go build information), or "" when it does not say.
func VictoriaLogsVersion(bin string) string {
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		return ""
	}
	if bi.Main.Path == vlModule && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == vlModule {
			return d.Version
		}
	}
	return ""
}

// MeasureVictoriaLogs ingests ds into a fresh VictoriaLogs, restarts it on
// the stored data and times the first answer, the field question and the
// hourly histogram.
func MeasureVictoriaLogs(ctx context.Context, r VictoriaLogsRun, ds *Dataset) (*ServerResult, error) {
	data := filepath.Join(r.Dir, "victorialogs-data")
	if err := os.RemoveAll(data); err != nil {
		return nil, err
	}
	name := "VictoriaLogs"
	if v := VictoriaLogsVersion(r.Bin); v != "" {
		name += " " + v
	}
	start := func() (*proc, *vlClient, error) {
		addr, err := freeAddr()
		if err != nil {
			return nil, nil, err
		}
		p, err := startProc("victoria-logs", r.Bin, "-storageDataPath="+data, "-httpListenAddr="+addr,
			"-retentionPeriod=100y", "-loggerLevel=WARN")
		if err != nil {
			return nil, nil, err
		}
		return p, &vlClient{base: "http://" + addr}, nil
	}
	res := &ServerResult{Name: name, Command: fmt.Sprintf("victoria-logs -storageDataPath=DIR -retentionPeriod=100y; ingest with /insert/jsonline?_time_field=%s&_msg_field=%s&_stream_fields=%s", vlTimeField, vlMsgField, vlStreamFields)}

	p, c, err := start()
	if err != nil {
		return nil, err
	}
	defer func() { p.stop(time.Minute) }()
	if err := waitHTTP(ctx, p, c.base+"/health", nil, 2*time.Minute); err != nil {
		return nil, err
	}
	fmt.Fprintf(r.Log, "%s: ingest %s\n", name, filepath.Base(ds.Path))
	t := time.Now()
	if err := c.ingest(ctx, ds.Path, 2); err != nil {
		return nil, err
	}
	if err := c.get(ctx, "/internal/force_flush", nil, nil); err != nil {
		return nil, err
	}
	res.ImportTime = time.Since(t)
	_, res.ImportPeakRSS = p.memory()
	n, err := c.count(ctx)
	if err != nil {
		return nil, err
	}
	res.Events = n
	res.ImportRate = float64(n) / res.ImportTime.Seconds()
	fmt.Fprintf(r.Log, "%s: %d events in %s (%.0f/s), peak RSS %.0f MB\n", name, n, res.ImportTime.Round(time.Millisecond), res.ImportRate, float64(res.ImportPeakRSS)/1e6)
	if n != int64(ds.Events) {
		return nil, fmt.Errorf("%s holds %d events after ingesting %d (see its log: %s)", name, n, ds.Events, strings.TrimSpace(p.out.String()))
	}
	// Stopped and started again, it is measured as idlog's server is: from
	// a process start on data at rest, its caches empty.
	p.stop(5 * time.Minute)
	if res.BytesOnDisk, err = dirSize(data); err != nil {
		return nil, err
	}
	if p, c, err = start(); err != nil {
		return nil, err
	}
	since, until := End.Add(-Days*24*time.Hour), End
	if len(ds.Samples.Users) == 0 {
		return nil, fmt.Errorf("the dataset has no sample users")
	}
	q := c.fieldLogsQL(ds.Samples.Users[0], since, until)
	if err := waitHTTP(ctx, p, c.base+"/select/logsql/query?"+url.Values{"query": {q}}.Encode(), nil, 10*time.Minute); err != nil {
		return nil, err
	}
	res.OpenToFirst = time.Since(p.started)
	if err := timeServer(ctx, res, c, ds, r.Reps, false, r.Log); err != nil {
		return nil, err
	}
	res.RSS, res.PeakRSS = p.memory()
	return res, nil
}

// vlClient talks to a VictoriaLogs server.
type vlClient struct {
	base string
}

// get GETs path with the query values and hands each line of the answer
// to line (nil: the answer is dropped).
func (c *vlClient) get(ctx context.Context, path string, v url.Values, line func([]byte) error) error {
	u := c.base + path
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return fmt.Errorf("VictoriaLogs %s: %s: %s", path, resp.Status, bytes.TrimSpace(b))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		if line != nil && len(bytes.TrimSpace(sc.Bytes())) > 0 {
			if err := line(sc.Bytes()); err != nil {
				return err
			}
		}
	}
	return sc.Err()
}

// logsQL asks a LogsQL query and returns its rows.
func (c *vlClient) logsQL(ctx context.Context, q string) ([]map[string]string, error) {
	var rows []map[string]string
	err := c.get(ctx, "/select/logsql/query", url.Values{"query": {q}}, func(b []byte) error {
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("VictoriaLogs answered %q: %w", b, err)
		}
		rows = append(rows, m)
		return nil
	})
	return rows, err
}

// timeRange is a LogsQL filter on [since, until).
func timeRange(since, until time.Time) string {
	return "_time:[" + since.UTC().Format(time.RFC3339) + ", " + until.UTC().Format(time.RFC3339) + ")"
}

// fieldLogsQL is the field question in LogsQL: the four event types through
// the stream filter, the user by exact match, newest 100 by time.
func (c *vlClient) fieldLogsQL(user string, since, until time.Time) string {
	types := make([]string, len(SignInTypes))
	for i, t := range SignInTypes {
		types[i] = strconv.Quote(t)
	}
	return timeRange(since, until) + " {eventType in (" + strings.Join(types, ",") + ")} actor.id:=" + strconv.Quote(user) +
		" | sort by (_time desc) limit 100 | fields _time, uuid"
}

func (c *vlClient) fieldQuestion(ctx context.Context, user string, since, until time.Time) ([]string, error) {
	rows, err := c.logsQL(ctx, c.fieldLogsQL(user, since, until))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r["uuid"]
	}
	return out, nil
}

func (c *vlClient) hourly(ctx context.Context, since, until time.Time) (int, error) {
	rows, err := c.logsQL(ctx, timeRange(since, until)+" | stats by (_time:1h) count() n")
	return len(rows), err
}

// count returns how many events VictoriaLogs holds.
func (c *vlClient) count(ctx context.Context) (int64, error) {
	rows, err := c.logsQL(ctx, "* | stats count() n")
	if err != nil {
		return 0, err
	}
	if len(rows) != 1 {
		return 0, fmt.Errorf("VictoriaLogs count: %d rows", len(rows))
	}
	return strconv.ParseInt(rows[0]["n"], 10, 64)
}

// ingest sends the NDJSON file in bodies of about 4 MiB, cut at line ends,
// over workers concurrent requests.
func (c *vlClient) ingest(ctx context.Context, path string, workers int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	v := url.Values{"_time_field": {vlTimeField}, "_msg_field": {vlMsgField}, "_stream_fields": {vlStreamFields}}
	u := c.base + "/insert/jsonline?" + v.Encode()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bodies := make(chan []byte, workers)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range bodies {
				if err := c.post(ctx, u, b); err != nil {
					once.Do(func() { firstErr = err; cancel() })
				}
			}
		}()
	}
	r := bufio.NewReaderSize(f, 1<<20)
	const size = 4 << 20
	var readErr error
	for ctx.Err() == nil {
		body := make([]byte, 0, size+64<<10)
		for len(body) < size {
			line, err := r.ReadSlice('\n')
			if err == bufio.ErrBufferFull {
				body = append(body, line...)
				continue
			}
			body = append(body, line...)
			if err == io.EOF {
				break
			}
			if err != nil {
				readErr = err
				break
			}
		}
		if len(body) == 0 || readErr != nil {
			break
		}
		bodies <- body
		if len(body) < size { // EOF
			break
		}
	}
	close(bodies)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return readErr
}

func (c *vlClient) post(ctx context.Context, u string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/stream+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return fmt.Errorf("VictoriaLogs ingest: %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	return nil
}
