package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseSizes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
		err  bool
	}{
		{"1000000,3000000,10000000", []int{1_000_000, 3_000_000, 10_000_000}, false},
		{"10M, 1M,3M", []int{1_000_000, 3_000_000, 10_000_000}, false},
		{"100k,300k,100k", []int{100_000, 300_000}, false},
		{"1_000_000", []int{1_000_000}, false},
		{"", nil, true},
		{"1M,x", nil, true},
		{"0", nil, true},
		{"-5", nil, true},
	} {
		got, err := ParseSizes(c.in)
		if (err != nil) != c.err || !slices.Equal(got, c.want) {
			t.Errorf("ParseSizes(%q) = %v, %v; want %v (error %v)", c.in, got, err, c.want, c.err)
		}
	}
}

func TestStatusKB(t *testing.T) {
	status := []byte("Name:\tidlog\nVmPeak:\t 900 kB\nVmHWM:\t  12345 kB\nVmRSS:\t    678 kB\n")
	for _, c := range []struct {
		name string
		want int64
	}{{"VmHWM:", 12345 * 1024}, {"VmRSS:", 678 * 1024}, {"VmSwap:", 0}} {
		if got := statusKB(status, c.name); got != c.want {
			t.Errorf("statusKB(%s) = %d, want %d", c.name, got, c.want)
		}
	}
}

// fakeVictoriaLogs answers the endpoints the peer run uses, the way
// VictoriaLogs does (JSON lines), and records what it was sent.
type fakeVictoriaLogs struct {
	mu      sync.Mutex
	lines   []string
	params  []string
	queries []string
}

func (f *fakeVictoriaLogs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/insert/jsonline":
		f.params = append(f.params, r.URL.RawQuery)
		b, _ := io.ReadAll(r.Body)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			http.Error(w, "body not cut at a line end", 400)
			return
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			f.lines = append(f.lines, sc.Text())
		}
	case "/select/logsql/query":
		q := r.URL.Query().Get("query")
		f.queries = append(f.queries, q)
		switch {
		case q == "* | stats count() n":
			fmt.Fprintf(w, `{"n":"%d"}`+"\n", len(f.lines))
		case strings.Contains(q, "stats by (_time:1h)"):
			fmt.Fprint(w, "{\"_time\":\"2026-10-01T10:00:00Z\",\"n\":\"3\"}\n{\"_time\":\"2026-10-01T11:00:00Z\",\"n\":\"1\"}\n")
		case strings.Contains(q, "actor.id:="):
			fmt.Fprint(w, "{\"_time\":\"2026-10-01T11:00:00Z\",\"uuid\":\"u2\"}\n\n{\"_time\":\"2026-10-01T10:00:00Z\",\"uuid\":\"u1\"}\n")
		default:
			http.Error(w, "unknown query", 400)
		}
	default:
		http.NotFound(w, r)
	}
}

func TestVictoriaLogsClient(t *testing.T) {
	f := &fakeVictoriaLogs{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := &vlClient{base: srv.URL}
	ctx := context.Background()

	// More than one 4 MiB body, so the cut between bodies is exercised.
	path := filepath.Join(t.TempDir(), "events.ndjson")
	var want []string
	var file bytes.Buffer
	for i := 0; file.Len() < 9<<20; i++ {
		line := fmt.Sprintf(`{"uuid":"u%d","published":"2026-10-01T10:00:00Z","eventType":"user.session.start","pad":%q}`, i, strings.Repeat("x", 1000+i%700))
		want = append(want, line)
		file.WriteString(line + "\n")
	}
	os.WriteFile(path, file.Bytes(), 0o644)
	if err := c.ingest(ctx, path, 2); err != nil {
		t.Fatal(err)
	}
	got := slices.Clone(f.lines)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("ingested %d lines, want the file's %d, each once and whole", len(got), len(want))
	}
	if len(f.params) < 3 {
		t.Errorf("%d requests for a 9 MiB file: want bodies of about 4 MiB", len(f.params))
	}
	for _, p := range f.params {
		if p != "_msg_field=displayMessage&_stream_fields=eventType&_time_field=published" {
			t.Errorf("ingest parameters %q", p)
			break
		}
	}
	if n, err := c.count(ctx); err != nil || n != int64(len(want)) {
		t.Errorf("count = %d, %v; want %d", n, err, len(want))
	}

	since, until := time.Date(2026, 8, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	uuids, err := c.fieldQuestion(ctx, "00uABC", since, until)
	if err != nil || !slices.Equal(uuids, []string{"u2", "u1"}) {
		t.Errorf("fieldQuestion = %v, %v", uuids, err)
	}
	wantQ := `_time:[2026-08-03T00:00:00Z, 2026-11-01T00:00:00Z) {eventType in ("user.session.start","policy.evaluate_sign_on","user.authentication.auth_via_mfa","user.authentication.verify")} actor.id:="00uABC" | sort by (_time desc) limit 100 | fields _time, uuid`
	if q := f.queries[len(f.queries)-1]; q != wantQ {
		t.Errorf("field question in LogsQL:\n got %s\nwant %s", q, wantQ)
	}
	if n, err := c.hourly(ctx, since, until); err != nil || n != 2 {
		t.Errorf("hourly = %d, %v; want 2 buckets", n, err)
	}
	if _, err := c.logsQL(ctx, "bad"); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("a refused query gave %v, want the server's 400", err)
	}
}

func TestVictoriaLogsIngestError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		http.Error(w, "cannot parse JSON line", 400)
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "events.ndjson")
	os.WriteFile(path, []byte("{\"a\":1}\n"), 0o644)
	err := (&vlClient{base: srv.URL}).ingest(context.Background(), path, 2)
	if err == nil || !strings.Contains(err.Error(), "cannot parse JSON line") {
		t.Errorf("ingest = %v, want the server's refusal", err)
	}
}

func serverResult(name string, rate float64, bytes int64, field time.Duration, ref []string) *ServerResult {
	return &ServerResult{Name: name, Command: name + " serve", Events: 1000, ImportRate: rate, ImportPeakRSS: 600e6, BytesOnDisk: bytes,
		OpenToFirst: time.Second, RSS: 300e6, PeakRSS: 500e6, Reference: ref,
		Queries: []*Latency{
			{Name: FieldQuestion, Samples: []time.Duration{field, field, 2 * field}, Rows: 300},
			{Name: HourlyHist, Samples: []time.Duration{5 * time.Millisecond}, Rows: 2160},
		}}
}

func TestPeerMarkdown(t *testing.T) {
	ds := &Dataset{Events: 1000, Bytes: 2_000_000, Users: 10}
	for _, c := range []struct {
		name      string
		peerRef   []string
		want, not []string
	}{
		{"agree", []string{"u2", "u1"}, []string{
			"| measure | idlog | VictoriaLogs v1.52.1 | idlog ÷ VictoriaLogs v1.52.1 |",
			"| import rate, until queryable (higher is better) | 20000 events/s | 80000 events/s | 0.25× |",
			"| bytes on disk per event ² | 140 B | 130 B | 1.08× |",
			"| one user, 4 sign-in types, newest 100, 90 days: p50 | 1.0 ms | 10.0 ms | 0.10× |",
			"| same, p99 | 2.0 ms | 20.0 ms | 0.10× |",
			"| server RSS after the queries | 300 MB | 300 MB | 1.00× |",
			"| same answer to the field question as idlog ³ | | yes | |",
			"`idlog bench --peer victorialogs=vl`",
		}, []string{"**no**"}},
		{"disagree", []string{"u1"}, []string{"**no** (1 rows against 2)"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := &PeerReport{When: time.Now(), Machine: "m", Command: "idlog bench --peer victorialogs=vl", Dataset: ds, Systems: []*ServerResult{
				serverResult("idlog", 20000, 140000, time.Millisecond, []string{"u1", "u2"}),
				serverResult("VictoriaLogs v1.52.1", 80000, 130000, 10*time.Millisecond, c.peerRef),
			}}
			md := rep.Markdown()
			for _, w := range c.want {
				if !strings.Contains(md, w) {
					t.Errorf("lacks %q", w)
				}
			}
			for _, w := range c.not {
				if strings.Contains(md, w) {
					t.Errorf("has %q", w)
				}
			}
			if t.Failed() {
				t.Logf("markdown:\n%s", md)
			}
		})
	}
}

func TestGrowthMarkdown(t *testing.T) {
	row := func(n int64, open time.Duration, rss int64) GrowthRow {
		r := serverResult("idlog", 120000, 140*n, time.Millisecond, nil)
		r.Events, r.OpenToFirst, r.RSS = n, open, rss
		r.Queries = append(r.Queries, &Latency{Name: "scenario mfa, 7 days", Samples: []time.Duration{3 * time.Millisecond}},
			&Latency{Name: "scenario mfa, 90 days", Samples: []time.Duration{9 * time.Millisecond}},
			&Latency{Name: "scenario sspr, 90 days", Samples: []time.Duration{7 * time.Millisecond}})
		return GrowthRow{ServerResult: r}
	}
	for _, c := range []struct {
		name      string
		rows      []GrowthRow
		want, not []string
	}{
		{"at 10M, flat", []GrowthRow{row(1_000_000, time.Second, 300e6), row(10_000_000, 1400*time.Millisecond, 390e6)}, []string{
			"| 10000000 | 120000 events/s | 600 MB | 140 B | 1400.0 ms | 390 MB | 500 MB | 3.0 ms / 9.0 ms |",
			"| `serve` start to first answer ≤ 1.5 s | 1400.0 ms | met |",
			"| `serve` RSS after the seed queries ≤ 400 MB | 390 MB | met |",
			"| `serve` start to first answer grows ≤ 1.5× | 1.40× | met |",
			"| `serve` RSS grows ≤ 1.5× | 1.30× | met |",
		}, []string{"missed", "not measured"}},
		{"at 10M, growing", []GrowthRow{row(1_000_000, time.Second, 200e6), row(10_000_000, 4*time.Second, 390e6)}, []string{
			"| `serve` start to first answer ≤ 1.5 s | 4000.0 ms | **missed** |",
			"| `serve` start to first answer grows ≤ 1.5× | 4.00× | **missed** |",
			"| `serve` RSS grows ≤ 1.5× | 1.95× | **missed** |",
		}, nil},
		{"the simulator's sizes (about 1M and 10M)", []GrowthRow{row(998_224, 2*time.Second, 700e6), row(9_984_893, 5*time.Second, 1600e6)}, []string{
			"| `serve` start to first answer ≤ 1.5 s | 5000.0 ms | **missed** |",
			"| `serve` RSS grows ≤ 1.5× | 2.29× | **missed** |",
		}, []string{"not measured", "target is 10M against 1M"}},
		{"small sizes", []GrowthRow{row(100_000, time.Second, 200e6), row(300_000, time.Second, 200e6)}, []string{
			"not measured at 10M (largest here: 300000)", "target is 10M against 1M; here 300000 against 100000",
		}, []string{"met", "missed"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			md := (&GrowthReport{When: time.Now(), Machine: "m", Command: "idlog bench --growth x", Rows: c.rows}).Markdown()
			for _, w := range c.want {
				if !strings.Contains(md, w) {
					t.Errorf("lacks %q", w)
				}
			}
			for _, w := range c.not {
				if strings.Contains(md, w) {
					t.Errorf("has %q", w)
				}
			}
			if t.Failed() {
				t.Logf("markdown:\n%s", md)
			}
		})
	}
}

// TestMeasureVictoriaLogs runs the real peer on a small dataset when its
// binary is named (IDLOG_VICTORIALOGS_BIN, built by
// scripts/victorialogs-build.sh); CI has none and skips it.
func TestMeasureVictoriaLogs(t *testing.T) {
	bin := os.Getenv("IDLOG_VICTORIALOGS_BIN")
	if bin == "" {
		t.Skip("IDLOG_VICTORIALOGS_BIN is not set (scripts/victorialogs-build.sh builds the binary)")
	}
	dir := t.TempDir()
	ds, err := MakeDataset(dir, 3000, 1, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	res, err := MeasureVictoriaLogs(context.Background(), VictoriaLogsRun{Bin: bin, Dir: dir, Reps: 3, Log: io.Discard}, ds)
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != int64(ds.Events) || res.BytesOnDisk == 0 || res.PeakRSS == 0 || res.OpenToFirst == 0 || len(res.Reference) == 0 {
		t.Errorf("result %+v", res)
	}
	// The answer must be the dataset's: the first sample user's newest
	// sign-in events, computed here from the NDJSON.
	f, _ := os.Open(ds.Path)
	defer f.Close()
	var hits []hit
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e struct {
			UUID, Published, EventType string
			Actor                      struct{ ID string }
		}
		json.Unmarshal(sc.Bytes(), &e)
		if e.Actor.ID == ds.Samples.Users[0] && slices.Contains(SignInTypes, e.EventType) && e.Published >= End.Add(-Days*24*time.Hour).Format(time.RFC3339) {
			hits = append(hits, hit{e.Published, e.UUID})
		}
	}
	if want := newest100(hits); !sameSet(res.Reference, want) {
		t.Errorf("VictoriaLogs answered %d uuids, the file has %d: %v vs %v", len(res.Reference), len(want), res.Reference, want)
	}
	if name := res.Name; !strings.HasPrefix(name, "VictoriaLogs v") {
		t.Errorf("name %q lacks the module version", name)
	}
}

func TestWaitHTTP(t *testing.T) {
	p, err := startProc("sleeper", "sleep", "30")
	if err != nil {
		t.Skip("no sleep command:", err)
	}
	defer p.stop(time.Second)
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		switch {
		case r.URL.Path == "/refuse":
			http.Error(w, "bad filter", http.StatusBadRequest)
		case calls < 3:
			http.Error(w, "starting", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	if err := waitHTTP(context.Background(), p, srv.URL+"/ok", nil, 10*time.Second); err != nil || calls != 3 {
		t.Errorf("waitHTTP = %v after %d calls, want nil after 3 (two 503s, then 200)", err, calls)
	}
	start := time.Now()
	if err := waitHTTP(context.Background(), p, srv.URL+"/refuse", nil, 10*time.Second); err == nil || !strings.Contains(err.Error(), "bad filter") || time.Since(start) > 5*time.Second {
		t.Errorf("a 400 gave %v after %s, want the server's reason at once", err, time.Since(start))
	}
	dead, _ := startProc("false", "false")
	<-dead.done
	if err := waitHTTP(context.Background(), dead, "http://127.0.0.1:1/", nil, 10*time.Second); err == nil || !strings.Contains(err.Error(), "false exited") {
		t.Errorf("a dead process gave %v", err)
	}
}
