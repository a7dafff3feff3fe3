package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/cursor"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/scenario"
	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

// envInt and envDuration read a load-test setting.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestLoad runs readers and a writer against a server on loopback and
// fails on any error. Settings (environment):
//
//	IDLOG_LOAD_EVENTS    events stored before the run (default 10,000)
//	IDLOG_LOAD_DURATION  how long readers and the writer run (default 3s)
//	IDLOG_LOAD_READERS   concurrent readers (default 50)
//	IDLOG_LOAD_RATE      events per second the writer pushes (default 5,000)
//	IDLOG_LOAD_STORE     a store URL to keep the loaded events between runs
//	IDLOG_LOAD_VALUES    values per scenario parameter the readers pick
//	                     from, the most frequent first (default 20): how
//	                     many distinct pages the readers ask for
//
// The documented run (docs/benchmarks.md, API) is
// IDLOG_LOAD_EVENTS=1000000 IDLOG_LOAD_DURATION=60s
// IDLOG_LOAD_STORE=duckdb:/tmp/idlog-load/events.duckdb
// go test -run TestLoad -v -timeout 60m ./internal/api/
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	nEvents := envInt("IDLOG_LOAD_EVENTS", 10000)
	dur := envDuration("IDLOG_LOAD_DURATION", 3*time.Second)
	readers := envInt("IDLOG_LOAD_READERS", 50)
	rate := envInt("IDLOG_LOAD_RATE", 5000)
	nValues := envInt("IDLOG_LOAD_VALUES", 20)
	storeURL := os.Getenv("IDLOG_LOAD_STORE")
	if storeURL == "" {
		storeURL = "duckdb:" + filepath.Join(t.TempDir(), "events.duckdb")
	}
	ctx := context.Background()
	st, err := storeurl.Open(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	// Load a simulated org big enough for nEvents (about 230 events per
	// user and 30 days, so 210 users per 48,000 events leave a margin),
	// stopping at nEvents, unless the store already holds them.
	stats, err := st.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	end := simEnd
	if stats.Events < int64(nEvents) {
		users := max(20, nEvents*210/48000)
		g := simulate.New(simulate.Config{Users: users, Days: 30, End: end, Seed: 5, Attacks: true})
		pr, pw := io.Pipe()
		go func() {
			var buf bytes.Buffer
			n := int(stats.Events)
			err := g.Run(func(raw []byte) error {
				if n >= nEvents {
					return io.EOF
				}
				n++
				buf.Write(raw)
				buf.WriteByte('\n')
				if buf.Len() > 1<<20 {
					_, err := pw.Write(buf.Bytes())
					buf.Reset()
					return err
				}
				return nil
			})
			if err == io.EOF || err == nil {
				_, err = pw.Write(buf.Bytes())
			}
			pw.CloseWithError(err)
		}()
		began := time.Now()
		res, err := ingest.New(st, ingest.Options{}).Ingest(ctx, pr, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("loaded %d events in %s", res.Accepted, time.Since(began).Round(time.Millisecond))
	}
	if stats, err = st.Stats(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("store: %d events, %s to %s, %d MB on disk", stats.Events, stats.Oldest.Format(time.DateOnly), stats.Newest.Format(time.DateOnly), stats.BytesOnDisk>>20)

	dir := t.TempDir()
	tokens := auth.OpenTokens(dir)
	read, _, _ := tokens.Create("reader", []auth.Scope{auth.ScopeRead})
	write, _, _ := tokens.Create("writer", []auth.Scope{auth.ScopeWrite})
	codec, err := cursor.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(st, api.Options{Authenticator: auth.Chain{tokens}, Cursors: codec,
		Ingest: api.PipelineIngest(ingest.New(st, ingest.Options{})), Logger: discardLogger(),
		Now: func() time.Time { return end }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: readers + 4}}

	// The readers' queries: every scenario with values that exist.
	var queries []string
	since, until := stats.Oldest, end
	paths := map[string]filter.Path{scenario.ParamUser: {"actor", "id"}, scenario.ParamIP: {"client", "ipAddress"},
		scenario.ParamSession: {"authenticationContext", "externalSessionId"}}
	for _, sc := range scenario.All() {
		vals, err := st.TopValues(ctx, store.Query{}, paths[sc.Param], nValues)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			f, _ := sc.Expand(v.Value)
			q := url.Values{"filter": {f}, "since": {since.Format(time.RFC3339)}, "until": {until.Format(time.RFC3339)}, "limit": {"100"}}
			queries = append(queries, ts.URL+"/api/v1/logs?"+q.Encode())
		}
	}

	var mu sync.Mutex
	var readLat, writeLat []time.Duration
	var errs []string
	var written atomic.Int64
	record := func(lat *[]time.Duration, d time.Duration, err string) {
		mu.Lock()
		defer mu.Unlock()
		*lat = append(*lat, d)
		if err != "" && len(errs) < 20 {
			errs = append(errs, err)
		} else if err != "" {
			errs = append(errs, "")
		}
	}
	do := func(req *http.Request, lat *[]time.Duration) (*http.Response, []byte) {
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			record(lat, time.Since(start), err.Error())
			return nil, nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		switch {
		case err != nil:
			record(lat, d, err.Error())
		case resp.StatusCode != 200:
			record(lat, d, fmt.Sprintf("%s %s: %d %.200s", req.Method, req.URL.Path, resp.StatusCode, body))
		default:
			record(lat, d, "")
		}
		return resp, body
	}

	// The writer's batches are made before the clock starts, so making
	// them does not compete with the server for the CPU.
	batch := max(1, rate/10)
	nBatches := max(1, min(int(dur/(100*time.Millisecond))+1, 400_000/batch))
	bodies := make([][]byte, nBatches)
	// Seeded from the clock: a rerun on a kept store sends new events, not duplicates.
	wr := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 99))
	for b := range bodies {
		var buf bytes.Buffer
		for j := range batch {
			buf.Write(genEvent(wr, 10_000_000+b*batch+j, end.Add(-time.Duration(wr.Int64N(int64(24*time.Hour))))))
			buf.WriteByte('\n')
		}
		bodies[b] = buf.Bytes()
	}

	stop := time.Now().Add(dur)
	var wg sync.WaitGroup
	for i := range readers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(i), 1))
			for time.Now().Before(stop) {
				// A scenario's first page, then up to two next pages.
				next := queries[r.IntN(len(queries))]
				for page := 0; page < 3 && next != "" && time.Now().Before(stop); page++ {
					req, _ := http.NewRequest("GET", next, nil)
					req.Header.Set("Authorization", "SSWS "+read)
					resp, _ := do(req, &readLat)
					next = ""
					if resp != nil {
						for _, l := range resp.Header.Values("Link") {
							if m := nextLink.FindStringSubmatch(l); m != nil {
								next = m[1]
							}
						}
					}
				}
			}
		})
	}
	var skipped atomic.Int64
	wg.Go(func() {
		// The writer: a batch every 100 ms, events published in the last
		// day. Batches go out on schedule whether or not the previous one
		// was answered (at most 32 in flight; a tick with 32 pending is
		// counted as skipped), so a slow answer does not lower the rate
		// offered.
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		sem := make(chan struct{}, 32)
		var posts sync.WaitGroup
		for i := 0; time.Now().Before(stop); i++ {
			body := bodies[i%len(bodies)]
			select {
			case sem <- struct{}{}:
				posts.Go(func() {
					defer func() { <-sem }()
					req, _ := http.NewRequest("POST", ts.URL+"/api/v1/logs", bytes.NewReader(body))
					req.Header.Set("Authorization", "SSWS "+write)
					if resp, _ := do(req, &writeLat); resp != nil && resp.StatusCode == 200 {
						written.Add(int64(batch))
					}
				})
			default:
				skipped.Add(1)
			}
			<-tick.C
		}
		posts.Wait()
	})
	began := time.Now()
	wg.Wait()
	elapsed := time.Since(began)

	pct := func(l []time.Duration, p float64) time.Duration {
		if len(l) == 0 {
			return 0
		}
		s := slices.Clone(l)
		slices.Sort(s)
		return s[min(len(s)-1, int(float64(len(s))*p))]
	}
	t.Logf("%d readers + 1 writer for %s against %d events (GOMAXPROCS from the machine); %d distinct first pages", readers, elapsed.Round(time.Millisecond), stats.Events, len(queries))
	t.Logf("reads:  %d requests (%.0f/s), p50 %s, p99 %s, max %s", len(readLat), float64(len(readLat))/elapsed.Seconds(),
		pct(readLat, .5).Round(time.Microsecond), pct(readLat, .99).Round(time.Microsecond), pct(readLat, 1).Round(time.Microsecond))
	t.Logf("writes: %d batches, %d events (%.0f events/s, target %d), p50 %s, p99 %s, max %s", len(writeLat), written.Load(),
		float64(written.Load())/elapsed.Seconds(), rate, pct(writeLat, .5).Round(time.Microsecond), pct(writeLat, .99).Round(time.Microsecond), pct(writeLat, 1).Round(time.Microsecond))
	t.Logf("writer ticks skipped with 32 batches pending: %d", skipped.Load())
	if after, err := st.Stats(ctx); err == nil && after.CacheHits+after.CacheMisses > 0 {
		t.Logf("store's row cache: %d of %d events read were in it (%.1f%%)", after.CacheHits-stats.CacheHits,
			after.CacheHits+after.CacheMisses-stats.CacheHits-stats.CacheMisses,
			100*float64(after.CacheHits-stats.CacheHits)/float64(after.CacheHits+after.CacheMisses-stats.CacheHits-stats.CacheMisses))
	}
	t.Logf("errors: %d", len(errs))
	if len(errs) > 0 {
		t.Fatalf("%d errors, first: %v", len(errs), errs[:min(5, len(errs))])
	}
}
