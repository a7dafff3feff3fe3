package main

// Crash tests that read: 'idlog import', 'idlog pull', and 'idlog serve'
// under push load (alone, and while its background collector pulls an org)
// are SIGKILLed at random moments, and after every kill a
// server started on the store must answer every read through the API —
// polling pages and bounded pages followed to the end by their next links,
// in both orders and at random page sizes, and the seed's scenarios — as
// the reference evaluator answers over the events stored; and those must
// include every event the run was told was stored. The server itself is
// SIGKILLed after its reads, so the next process meets a WAL to replay
// again, as a host that keeps crashing would leave it; then 'idlog check'
// compares the postings on disk with the table, row for row.
//
// IDLOG_CRASH_KILLS sets the kills per command: 6 by default (CI), 50 for
// the full run (docs/reliability.md):
//
//	IDLOG_CRASH_KILLS=50 go test -run 'TestCrashReads' -timeout 60m ./cmd/idlog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/faultproxy"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/scenario"
	"github.com/idlog/idlog/internal/store"
)

// crashKills is how many times each crash test kills its command.
func crashKills(t *testing.T) int {
	if v := os.Getenv("IDLOG_CRASH_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("IDLOG_CRASH_KILLS=%q: want a positive number", v)
		}
		return n
	}
	return 6
}

// crashRef is what a crash run knows of the events: every event it may
// have stored (by uuid, as ParseEvent makes it), and those it was told
// were stored.
type crashRef struct {
	mu    sync.Mutex
	sent  map[string]json.RawMessage
	acked map[string]bool
}

func newCrashRef(evs []store.Event) *crashRef {
	r := &crashRef{sent: map[string]json.RawMessage{}, acked: map[string]bool{}}
	for _, e := range evs {
		r.sent[e.UUID] = e.Raw
	}
	return r
}

func (r *crashRef) ack(evs []store.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range evs {
		r.acked[e.UUID] = true
	}
}

// crashServer is an 'idlog serve' process.
type crashServer struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
}

// startCrashServer starts 'idlog serve' on the store and waits until it
// listens.
func startCrashServer(t *testing.T, bin, storeURL, dataDir string, extra ...string) *crashServer {
	t.Helper()
	args := append([]string{"serve", "--store", storeURL, "--data-dir", dataDir, "--addr", "127.0.0.1:0", "--rate-limit", "0"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = os.Environ()
	if len(extra) > 0 {
		// The background collector's token (serve --pull-org).
		cmd.Env = append(cmd.Env, "OKTA_API_TOKEN="+crashOrgToken)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "idlog: serving ") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("serve said %q (%v); its log:\n%s", line, err, logs.String())
	}
	go io.Copy(io.Discard, stdout)
	u := strings.TrimSuffix(strings.Fields(strings.TrimPrefix(line, "idlog: serving "))[0], "/")
	return &crashServer{cmd: cmd, url: u, logs: logs}
}

func (s *crashServer) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	s.cmd.Wait()
}

// apiPage GETs one page of /api/v1/logs and returns its events and the
// next link ("" when none).
func apiPage(t *testing.T, link, token string) ([]json.RawMessage, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "SSWS "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", link, resp.StatusCode, body)
	}
	var evs []json.RawMessage
	if err := json.Unmarshal(body, &evs); err != nil {
		t.Fatalf("GET %s: %v", link, err)
	}
	next := ""
	for _, l := range resp.Header.Values("Link") {
		if strings.HasSuffix(l, `rel="next"`) {
			next = strings.TrimSuffix(strings.TrimPrefix(l, "<"), `>; rel="next"`)
		}
	}
	return evs, next
}

// follow reads a listing from its first link to its end: until there is
// no next link (bounded) or a page is empty (polling, whose next link never
// ends).
func follow(t *testing.T, first, token string) []string {
	t.Helper()
	var out []string
	link := first
	for n := 0; link != ""; n++ {
		if n > 100000 {
			t.Fatalf("no end to the pages of %s", first)
		}
		evs, next := apiPage(t, link, token)
		for _, raw := range evs {
			var head struct{ UUID string }
			if err := json.Unmarshal(raw, &head); err != nil {
				t.Fatal(err)
			}
			out = append(out, head.UUID)
		}
		if len(evs) == 0 {
			break
		}
		link = next
	}
	return out
}

// apiStats is /api/idlog/v1/stats' event count: count(*), which no index
// answers.
func apiStats(t *testing.T, base, token string) int64 {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/idlog/v1/stats", nil)
	req.Header.Set("Authorization", "SSWS "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct{ Events int64 }
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.Events
}

// verifyReads reads the store through the server and checks every answer
// (see the top of the file). It returns the stored events.
func verifyReads(t *testing.T, base, token string, ref *crashRef, rng *rand.Rand) map[string]bool {
	t.Helper()
	const since, until = "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z"
	logs := base + "/api/v1/logs?"
	q := func(v url.Values) string { return logs + v.Encode() }

	// Every stored event, in seq order: a polling listing.
	bySeq := follow(t, q(url.Values{"since": {since}, "limit": {"1000"}}), token)
	n := apiStats(t, base, token)
	if int64(len(bySeq)) != n {
		t.Fatalf("the polling listing has %d events, the store counts %d", len(bySeq), n)
	}
	ref.mu.Lock()
	acked := copySet(ref.acked)
	ref.mu.Unlock()
	stored := map[string]bool{}
	docs := map[string]any{}
	pubs := map[string]time.Time{}
	for _, id := range bySeq {
		if stored[id] {
			t.Fatalf("event %s listed twice", id)
		}
		stored[id] = true
		raw, ok := ref.sent[id]
		if !ok {
			t.Fatalf("event %s was never sent", id)
		}
		doc, err := filter.DecodeJSON(raw)
		if err != nil {
			t.Fatal(err)
		}
		docs[id] = doc
		e, _ := ingest.ParseEvent(raw)
		pubs[id] = e.Published
	}
	for id := range acked {
		if !stored[id] {
			t.Fatalf("event %s was acknowledged as stored but is not listed (%d listed, %d acknowledged)", id, len(stored), len(acked))
		}
	}
	rank := make(map[string]int, len(bySeq))
	for i, id := range bySeq {
		rank[id] = i
	}
	// want is the evaluator's answer to a filter, in published order.
	want := func(f filter.Expr, desc bool) []string {
		var out []string
		for _, id := range bySeq {
			if f == nil || filter.Match(f, docs[id]) {
				out = append(out, id)
			}
		}
		slices.SortFunc(out, func(a, b string) int {
			c := pubs[a].Compare(pubs[b])
			if c == 0 {
				c = rank[a] - rank[b]
			}
			if desc {
				c = -c
			}
			return c
		})
		return out
	}
	check := func(what string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Fatalf("%s: %d events, the evaluator says %d", what, len(got), len(want))
		}
	}
	// Whole listings in pages of 20 to 200; the scenarios' shorter
	// answers in pages of 1 to 30.
	pageSize := func() string { return strconv.Itoa(20 + rng.IntN(180)) }
	smallPage := func() string { return strconv.Itoa(1 + rng.IntN(30)) }

	l := pageSize()
	check("polling, limit "+l, follow(t, q(url.Values{"since": {since}, "limit": {l}}), token), bySeq)
	l = pageSize()
	check("bounded, limit "+l, follow(t, q(url.Values{"since": {since}, "until": {until}, "limit": {l}}), token), want(nil, false))
	l = pageSize()
	check("bounded descending, limit "+l, follow(t, q(url.Values{"since": {since}, "until": {until}, "limit": {l}, "sortOrder": {"DESCENDING"}}), token), want(nil, true))

	// The seed's scenarios for a few stored users, addresses and sessions.
	values := map[string][]string{}
	for _, id := range bySeq[:min(len(bySeq), 400)] {
		doc := docs[id]
		for param, path := range map[string]filter.Path{
			scenario.ParamUser:    {"actor", "id"},
			scenario.ParamIP:      {"client", "ipAddress"},
			scenario.ParamSession: {"authenticationContext", "externalSessionId"},
		} {
			for _, v := range filter.Resolve(doc, path) {
				if s, ok := v.(string); ok && len(values[param]) < 2 && !slices.Contains(values[param], s) {
					values[param] = append(values[param], s)
				}
			}
		}
	}
	for _, sc := range scenario.All() {
		for _, v := range values[sc.Param] {
			text, err := sc.Expand(v)
			if err != nil {
				t.Fatal(err)
			}
			f, err := filter.Parse(text)
			if err != nil {
				t.Fatal(err)
			}
			l := smallPage()
			desc := rng.IntN(2) == 0
			v := url.Values{"since": {since}, "until": {until}, "limit": {l}, "filter": {text}}
			if desc {
				v.Set("sortOrder", "DESCENDING")
			}
			check(fmt.Sprintf("scenario %s for %s, limit %s, descending %v", sc.Name, sc.Param, l, desc), follow(t, q(v), token), want(f, desc))
		}
	}
	checkKeywordsAndHistogram(t, base, token, bySeq, docs, pubs, want(nil, true))
	return stored
}

// checkKeywordsAndHistogram: q (read through the store's blooms) and the
// hourly histogram (read from its hourly counts) agree with the events
// after a kill, as the structures are written in the rows' transactions.
func checkKeywordsAndHistogram(t *testing.T, base, token string, bySeq []string, docs map[string]any, pubs map[string]time.Time, newest []string) {
	t.Helper()
	if len(bySeq) == 0 {
		return
	}
	var kws []string
	for _, id := range []string{bySeq[0], bySeq[len(bySeq)/2], bySeq[len(bySeq)-1]} {
		kws = append(kws, strings.ToLower(id))
		for _, v := range filter.Resolve(docs[id], filter.Path{"actor", "alternateId"}) {
			if s, ok := v.(string); ok {
				kws = append(kws, strings.ToLower(s))
			}
		}
	}
	for _, kw := range kws {
		var wantIDs []string
		for _, id := range newest {
			if filter.MatchKeywords([]string{kw}, docs[id]) {
				wantIDs = append(wantIDs, id)
			}
		}
		v := url.Values{"since": {"2000-01-01T00:00:00Z"}, "until": {"2100-01-01T00:00:00Z"}, "limit": {"50"}, "q": {kw}, "sortOrder": {"DESCENDING"}}
		if got := follow(t, base+"/api/v1/logs?"+v.Encode(), token); !slices.Equal(got, wantIDs) {
			t.Fatalf("q=%s: %d events, the evaluator says %d", kw, len(got), len(wantIDs))
		}
	}
	first, last := pubs[bySeq[0]], pubs[bySeq[0]]
	wantCounts := map[string]map[string]int64{}
	for _, id := range bySeq {
		p := pubs[id]
		first, last = minTime(first, p), maxTime(last, p)
		start := p.Truncate(time.Hour).UTC().Format(time.RFC3339)
		outcome := ""
		for _, v := range filter.Resolve(docs[id], filter.Path{"outcome", "result"}) {
			outcome, _ = v.(string)
		}
		if wantCounts[start] == nil {
			wantCounts[start] = map[string]int64{}
		}
		wantCounts[start][outcome]++
	}
	v := url.Values{"step": {"1h"}, "since": {first.Truncate(time.Hour).Format(time.RFC3339)}, "until": {last.Truncate(time.Hour).Add(time.Hour).Format(time.RFC3339)}}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/idlog/v1/histogram?"+v.Encode(), nil)
	req.Header.Set("Authorization", "SSWS "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buckets []struct {
		Start  string
		Counts map[string]int64
	}
	if err := json.NewDecoder(resp.Body).Decode(&buckets); err != nil {
		t.Fatalf("histogram: %v", err)
	}
	gotCounts := map[string]map[string]int64{}
	for _, b := range buckets {
		gotCounts[b.Start] = b.Counts
	}
	if !reflect.DeepEqual(gotCounts, wantCounts) {
		t.Fatalf("hourly histogram: %d buckets, the events make %d (or counts differ)", len(gotCounts), len(wantCounts))
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func copySet(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// crashSetup makes a data directory with an admin token.
func crashSetup(t *testing.T, bin string) (dataDir, storeURL, token string) {
	t.Helper()
	dataDir = t.TempDir()
	storeURL = "duckdb:" + filepath.Join(dataDir, "events.duckdb")
	out, err := exec.Command(bin, "token", "create", "--data-dir", dataDir, "--name", "crash-test", "--scope", "admin").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	return dataDir, storeURL, strings.TrimSpace(string(out))
}

// checkAfterKill starts a server on the store, checks every read, and
// kills the server too.
func checkAfterKill(t *testing.T, bin, storeURL, dataDir, token string, ref *crashRef, rng *rand.Rand) map[string]bool {
	t.Helper()
	srv := startCrashServer(t, bin, storeURL, dataDir)
	defer srv.kill()
	got := verifyReads(t, srv.url, token, ref, rng)
	srv.kill()
	checkPostings(t, bin, storeURL, len(got))
	return got
}

// checkPostings runs 'idlog check' on the store (left by a killed
// process) and fails unless the postings on disk agree with the table
// row for row.
func checkPostings(t *testing.T, bin, storeURL string, stored int) {
	t.Helper()
	out, err := exec.Command(bin, "check", "--json", "--store", storeURL).Output()
	var rep store.CheckReport
	if jerr := json.Unmarshal(out, &rep); jerr != nil {
		t.Fatalf("idlog check: %v %v\n%s", err, jerr, out)
	}
	for _, f := range rep.Findings {
		if f.Structure != "postings" {
			continue
		}
		if f.Problems != 0 || f.Checked != int64(stored) {
			t.Fatalf("after the kill the postings disagree with the table: %+v (%d events stored)", f, stored)
		}
		return
	}
	t.Fatalf("idlog check reported no postings: %s", out)
}

func parsedEvents(t *testing.T, data []byte) []store.Event {
	t.Helper()
	var out []store.Event
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		e, err := ingest.ParseEvent(l)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestCrashReads(t *testing.T) {
	bin := buildIdlog(t)
	t.Run("import", func(t *testing.T) { testCrashReadsImport(t, bin) })
	t.Run("serve", func(t *testing.T) { testCrashReadsServe(t, bin, false) })
	t.Run("serve+pull", func(t *testing.T) { testCrashReadsServe(t, bin, true) })
	t.Run("pull", func(t *testing.T) { testCrashReadsPull(t, bin) })
}

// testCrashReadsImport kills 'idlog import' of one file again and again;
// each run stores more of it (duplicates are skipped).
func testCrashReadsImport(t *testing.T, bin string) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	data := simulatedOrg(t, 60, 30)
	evs := parsedEvents(t, data)
	file := writeFile(t, "org.ndjson", data)
	dataDir, storeURL, token := crashSetup(t, bin)
	ref := newCrashRef(evs)
	kills, stored := 0, 0
	for kills < crashKills(t) {
		// The kill comes at a random moment after a random number of
		// stored batches (a progress line follows each), so that it
		// falls inside the import however fast the machine is.
		cmd := exec.Command(bin, "import", "--store", storeURL, "--progress-every", "1ns", file)
		pipe, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(pipe)
		batches, wantBatches := 0, rng.IntN(4)
		for batches < wantBatches && sc.Scan() {
			if strings.Contains(sc.Text(), "events read") {
				batches++
			}
		}
		go io.Copy(io.Discard, pipe)
		time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		err = cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Logf("the import ended before its kill (%v): starting again from an empty store", err)
			dataDir, storeURL, token = crashSetup(t, bin)
			ref = newCrashRef(evs)
			stored = 0
			continue
		}
		kills++
		got := checkAfterKill(t, bin, storeURL, dataDir, token, ref, rng)
		if len(got) < stored {
			t.Fatalf("kill %d: %d events stored, fewer than the %d before", kills, len(got), stored)
		}
		stored = len(got)
	}
	t.Logf("%d kills; %d of %d events stored before the last run", kills, stored, len(evs))
	if out, err := exec.Command(bin, "import", "--store", storeURL, file).CombinedOutput(); err != nil {
		t.Fatalf("the last import: %v\n%s", err, out)
	}
	ref.ack(evs)
	if got := checkAfterKill(t, bin, storeURL, dataDir, token, ref, rng); len(got) != len(evs) {
		t.Fatalf("after the last import %d events, want %d", len(got), len(evs))
	}
}

// crashOrgToken is the stand-in org's API token in the serve-and-pull run
// (faultproxy.NewUpstream's; set before the first server starts).
var crashOrgToken string

// testCrashReadsServe kills 'idlog serve' while a client pushes batches
// and retries each until it is acknowledged; with pull, the server also
// mirrors an org (its background collector, through a proxy that injects
// faults) while that org keeps logging.
func testCrashReadsServe(t *testing.T, bin string, pull bool) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	evs := parsedEvents(t, simulatedOrg(t, 60, 20))
	dataDir, storeURL, token := crashSetup(t, bin)
	ref := newCrashRef(evs)
	var (
		org      *crashOrg
		pullArgs []string
	)
	if pull {
		org = newCrashOrg(t, seed)
		defer org.close()
		for _, e := range org.all {
			ref.sent[e.UUID] = e.Raw
		}
		pullArgs = org.serveArgs()
	}

	var (
		mu      sync.Mutex // held while a batch is in flight; the reads take it to pause the pushes
		base    string
		pushed  int
		retries int
	)
	stop := make(chan struct{})
	pusherDone := make(chan error, 1)
	go func() {
		client := &http.Client{Timeout: 10 * time.Second}
		r := rand.New(rand.NewPCG(seed, 3))
		for i := 0; i < len(evs); {
			select {
			case <-stop:
				pusherDone <- nil
				return
			default:
			}
			batch := evs[i:min(len(evs), i+20+r.IntN(150))]
			var body bytes.Buffer
			for _, e := range batch {
				body.Write(e.Raw)
				body.WriteByte('\n')
			}
			mu.Lock()
			req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/logs", &body)
			req.Header.Set("Authorization", "SSWS "+token)
			req.Header.Set("Content-Type", "application/x-ndjson")
			resp, err := client.Do(req)
			ok := false
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				ok = resp.StatusCode == http.StatusOK
				if resp.StatusCode/100 == 4 {
					mu.Unlock()
					pusherDone <- fmt.Errorf("push answered %d", resp.StatusCode)
					return
				}
			}
			if ok {
				ref.ack(batch)
				i += len(batch)
				pushed = i
			} else {
				retries++
			}
			mu.Unlock()
			if !ok {
				time.Sleep(20 * time.Millisecond)
			}
		}
		pusherDone <- nil
	}()

	srv := startCrashServer(t, bin, storeURL, dataDir, pullArgs...)
	mu.Lock()
	base = srv.url
	mu.Unlock()
	for kills := 0; kills < crashKills(t); kills++ {
		if org != nil {
			org.log(t, crashKills(t))
		}
		time.Sleep(time.Duration(200+rng.IntN(1200)) * time.Millisecond)
		srv.kill()
		srv = startCrashServer(t, bin, storeURL, dataDir, pullArgs...)
		mu.Lock()
		base = srv.url
		org.pause(t)
		verifyReads(t, srv.url, token, ref, rng)
		org.resume()
		mu.Unlock()
	}
	// Let the pusher finish, then one more look.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		mu.Lock()
		p := pushed
		mu.Unlock()
		if p == len(evs) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	if err := <-pusherDone; err != nil {
		t.Fatal(err)
	}
	defer srv.kill()
	want := len(evs)
	if org != nil {
		// The org logs the rest; the collector catches up.
		org.log(t, 0)
		org.caughtUp(t)
		ref.ack(org.all)
		org.pause(t)
		want += len(org.all)
	}
	got := verifyReads(t, srv.url, token, ref, rng)
	t.Logf("%d kills, %d events pushed, %d retried pushes, %d pulled", crashKills(t), len(evs), retries, want-len(evs))
	if len(got) != want {
		t.Fatalf("after the pushes %d events stored, want %d", len(got), want)
	}
}

// crashOrg is a stand-in Okta org behind a proxy that injects faults
// (429s, 500s, slow and cut answers, repeated events), which logs more
// events as the run goes on.
type crashOrg struct {
	ctx   context.Context
	up    *faultproxy.Upstream
	proxy *faultproxy.Proxy
	srv   *httptest.Server
	all   []store.Event // every event the org will have logged
	later []store.Event // not logged yet
	end   time.Time

	// While paused the org answers 503 (the collector retries), so that
	// reads see a store nobody writes to.
	paused   atomic.Bool
	inflight atomic.Int64
	refused  atomic.Int64
}

// ServeHTTP passes requests to the proxy unless the org is paused.
func (o *crashOrg) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.inflight.Add(1)
	defer o.inflight.Add(-1)
	if o.paused.Load() {
		o.refused.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"errorCode":"E0000009","errorSummary":"paused by the test","errorCauses":[]}`)
		return
	}
	o.proxy.ServeHTTP(w, r)
}

// pause stops the org answering and waits until the collector has stored
// what it was given: the collector asks for a page only after storing the
// one before, so once it has been refused with nothing in flight, it has
// nothing left to write. A nil org (no collector) has nothing to pause.
func (o *crashOrg) pause(t *testing.T) {
	t.Helper()
	if o == nil {
		return
	}
	o.paused.Store(true)
	refused := o.refused.Load()
	for deadline := time.Now().Add(30 * time.Second); o.refused.Load() == refused || o.inflight.Load() > 0; {
		if time.Now().After(deadline) {
			t.Fatal("the collector asked for nothing in 30 s while the org was paused")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (o *crashOrg) resume() {
	if o != nil {
		o.paused.Store(false)
	}
}

func newCrashOrg(t *testing.T, seed uint64) *crashOrg {
	t.Helper()
	o := &crashOrg{ctx: context.Background(), end: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)}
	o.up = faultproxy.NewUpstream(t, 0)
	crashOrgToken = o.up.Token
	o.all = faultproxy.Events(t, int64(seed), 60, 2, o.end)
	var first []store.Event
	first, o.later = faultproxy.Split(o.all, 0.35, seed)
	if _, err := o.up.Store.Append(o.ctx, first); err != nil {
		t.Fatal(err)
	}
	o.proxy = faultproxy.New(o.up.URL, faultproxy.Faults{TooMany: 0.03, Reset: time.Second, Error: 0.05,
		Slow: 0.05, Delay: time.Second, Cut: 0.05, Repeat: 0.2}, seed)
	o.srv = httptest.NewServer(o)
	return o
}

func (o *crashOrg) close() { o.srv.Close() }

// serveArgs turn on serve's background collector for this org, with short
// pauses so that it works between kills.
func (o *crashOrg) serveArgs() []string {
	return []string{"--pull-org", o.srv.URL, "--pull-since", o.end.Add(-72 * time.Hour).Format(time.RFC3339),
		"--pull-page-size", "50", "--pull-poll-interval", "100ms", "--pull-request-timeout", "2s", "--pull-max-backoff", "200ms"}
}

// log makes the org log its next share of events: a part sized for
// kills kills, or (kills == 0) all the rest.
func (o *crashOrg) log(t *testing.T, kills int) {
	t.Helper()
	n := len(o.later)
	if kills > 0 {
		n = min(n, 1+len(o.all)/(3*kills))
	}
	if n == 0 {
		return
	}
	if _, err := o.up.Store.Append(o.ctx, o.later[:n]); err != nil {
		t.Fatal(err)
	}
	o.later = o.later[n:]
}

// caughtUp waits until the collector has seen three empty pages, so it
// has everything the org logged.
func (o *crashOrg) caughtUp(t *testing.T) {
	t.Helper()
	empties := o.proxy.EmptyPages.Load()
	for deadline := time.Now().Add(90 * time.Second); o.proxy.EmptyPages.Load() < empties+3; {
		if time.Now().After(deadline) {
			t.Fatal("the collector did not catch up in 90 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testCrashReadsPull kills 'idlog pull' mirroring an org through a proxy
// that injects faults, while the org keeps logging.
func testCrashReadsPull(t *testing.T, bin string) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 4))
	ctx := context.Background()
	end := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	up := faultproxy.NewUpstream(t, 0)
	all := faultproxy.Events(t, int64(seed), 60, 2, end)
	first, later := faultproxy.Split(all, 0.35, seed)
	if _, err := up.Store.Append(ctx, first); err != nil {
		t.Fatal(err)
	}
	proxy := faultproxy.New(up.URL, faultproxy.Faults{TooMany: 0.03, Reset: time.Second, Error: 0.05,
		Slow: 0.05, Delay: time.Second, Cut: 0.05, Repeat: 0.2}, seed)
	ps := httptest.NewServer(proxy)
	defer ps.Close()
	dataDir, storeURL, token := crashSetup(t, bin)
	ref := newCrashRef(all)
	args := []string{"pull", "--org", ps.URL, "--store", storeURL, "--since", end.Add(-72 * time.Hour).Format(time.RFC3339),
		"--page-size", "50", "--poll-interval", "100ms", "--request-timeout", "2s", "--max-backoff", "200ms"}
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "OKTA_API_TOKEN="+up.Token)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	for kills := 0; kills < crashKills(t); kills++ {
		if len(later) > 0 {
			n := min(len(later), 1+len(all)/(3*crashKills(t)))
			if _, err := up.Store.Append(ctx, later[:n]); err != nil {
				t.Fatal(err)
			}
			later = later[n:]
		}
		cmd := start()
		time.Sleep(time.Duration(200+rng.IntN(1200)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		checkAfterKill(t, bin, storeURL, dataDir, token, ref, rng)
	}
	if _, err := up.Store.Append(ctx, later); err != nil {
		t.Fatal(err)
	}
	// The last run catches up and stops cleanly.
	cmd := start()
	empties := proxy.EmptyPages.Load()
	for deadline := time.Now().Add(60 * time.Second); proxy.EmptyPages.Load() < empties+3; {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the collector did not catch up in 60 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("pull after SIGTERM: %v", err)
	}
	ref.ack(all)
	if got := checkAfterKill(t, bin, storeURL, dataDir, token, ref, rng); len(got) != len(all) {
		t.Fatalf("the mirror has %d events, the org %d", len(got), len(all))
	}
	t.Logf("%d kills, %d events", crashKills(t), len(all))
}
