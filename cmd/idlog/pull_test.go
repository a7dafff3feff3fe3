package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/collect"
	"github.com/idlog/idlog/internal/faultproxy"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

// TestPullSIGKILL runs 'idlog pull' as a process against an idlog server
// standing in for Okta, through a proxy that injects 429s, 500s, slow
// answers, cut bodies and repeated events, while events keep arriving
// upstream (a third of them with published times older than events already
// served). The process is SIGKILLed at random moments and started again,
// then left to catch up and stopped with SIGTERM. The mirror must hold
// exactly the upstream's events: none missing, none twice.
func TestPullSIGKILL(t *testing.T) {
	bin := buildIdlog(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	ctx := context.Background()

	end := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	up := faultproxy.NewUpstream(t, 0)
	all := faultproxy.Events(t, int64(seed), 100, 2, end)
	first, later := faultproxy.Split(all, 0.35, seed)
	if _, err := up.Store.Append(ctx, first); err != nil {
		t.Fatal(err)
	}
	proxy := faultproxy.New(up.URL, faultproxy.Faults{TooMany: 0.04, Reset: time.Second, Error: 0.08,
		Slow: 0.08, Delay: 2500 * time.Millisecond, Cut: 0.08, Repeat: 0.3,
		Script: []faultproxy.Fault{faultproxy.None, faultproxy.Cut, faultproxy.Repeat, faultproxy.Error, faultproxy.Slow, faultproxy.TooMany}}, seed)
	ps := httptest.NewServer(proxy)
	defer ps.Close()

	dir := t.TempDir()
	storeURL := "duckdb:" + filepath.Join(dir, "mirror.duckdb")
	args := []string{"pull", "--org", ps.URL, "--store", storeURL, "--since", end.Add(-72 * time.Hour).Format(time.RFC3339),
		"--page-size", "50", "--poll-interval", "100ms", "--request-timeout", "2s", "--max-backoff", "200ms"}
	logs := &bytes.Buffer{}
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "OKTA_API_TOKEN="+up.Token)
		cmd.Stderr = logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}

	// Events keep arriving while the collector is killed and restarted.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(seed, 3))
		for len(later) > 0 {
			n := min(len(later), 10+r.IntN(40))
			if _, err := up.Store.Append(ctx, later[:n]); err != nil {
				t.Error(err)
				return
			}
			later = later[n:]
			time.Sleep(time.Duration(100+r.IntN(200)) * time.Millisecond)
		}
	}()
	kills := 0
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline) || kills < 10; {
		cmd := start()
		time.Sleep(time.Duration(150+rng.IntN(1200)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		kills++
	}
	wg.Wait()

	// The last run catches up: it has answered empty pages after the last
	// append (three, so a page fetched for a killed process cannot count).
	cmd := start()
	empties := proxy.EmptyPages.Load()
	caughtUp := false
	for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); {
		if proxy.EmptyPages.Load() >= empties+3 {
			caughtUp = true
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	t.Logf("%d events upstream, %d kills; proxy: %d requests, %d 429s, %d 500s, %d slow, %d cut, %d repeated; upstream statuses %v",
		len(all), kills, proxy.Requests.Load(), proxy.Injected429.Load(), proxy.Injected500.Load(),
		proxy.Slowed.Load(), proxy.CutBodies.Load(), proxy.Repeated.Load(), proxy.Statuses())
	if !caughtUp {
		t.Fatalf("the collector did not catch up in 40 s; its log:\n%s", tail(logs.String(), 4000))
	}
	if err != nil {
		t.Errorf("after SIGTERM: %v (want exit 0)", err)
	}
	if !strings.Contains(logs.String(), "resuming at the stored next link") {
		t.Errorf("no run resumed from a stored link")
	}

	st, err := storeurl.Open(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.Query(ctx, store.Query{Order: store.BySeq})
	if err != nil {
		t.Fatal(err)
	}
	s, ok, err := collect.ReadState(ctx, st, "")
	st.Close()
	if err != nil || !ok {
		t.Fatalf("no collector state: %v", err)
	}
	want := map[string]string{}
	for _, e := range all {
		want[e.UUID] = string(e.Raw)
	}
	seen := map[string]bool{}
	for _, e := range got {
		switch {
		case seen[e.UUID]:
			t.Errorf("event %s stored twice", e.UUID)
		case want[e.UUID] == "":
			t.Errorf("event %s is not upstream", e.UUID)
		case want[e.UUID] != string(e.Raw):
			t.Errorf("event %s differs from upstream", e.UUID)
		}
		seen[e.UUID] = true
	}
	missing := 0
	for u := range want {
		if !seen[u] {
			missing++
		}
	}
	if missing > 0 || len(got) != len(all) {
		t.Errorf("mirror has %d events, upstream %d; %d missing", len(got), len(all), missing)
	}
	// Kills can lose a page from the counters (never from the store), not add one.
	if s.Requests < int64(len(all)/50) || s.Newest.IsZero() || s.Events > int64(len(all)) {
		t.Errorf("stored state %+v", s)
	}

	// pull status reads the same state.
	out, err := exec.Command(bin, "pull", "status", "--store", storeURL).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "org:           "+ps.URL) || !strings.Contains(string(out), "lag:") {
		t.Errorf("pull status: %v\n%s", err, out)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// TestStartPull: the background collector of 'idlog serve --pull-org'
// mirrors the org into the server's store and stops with its context.
func TestStartPull(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	end := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	up := faultproxy.NewUpstream(t, 0)
	all := faultproxy.Events(t, 1, 30, 1, end)
	if _, err := up.Store.Append(ctx, all); err != nil {
		t.Fatal(err)
	}
	st, err := storeurl.Open(ctx, "duckdb::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	pf := addPullFlags(fs, "pull-")
	if err := fs.Parse([]string{"--pull-org", up.URL, "--pull-since", "2026-03-01", "--pull-token-env", "UPSTREAM_TOKEN", "--pull-poll-interval", "50ms"}); err != nil {
		t.Fatal(err)
	}
	e := &env{stderr: io.Discard, stdout: io.Discard, getenv: func(k string) string {
		if k == "UPSTREAM_TOKEN" {
			return up.Token
		}
		return ""
	}}
	wait, err := startPull(ctx, e, pf, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if s, err := st.Stats(ctx); err == nil && s.Events == int64(len(all)) {
			break
		}
	}
	cancel()
	wait()
	s, err := st.Stats(context.Background())
	if err != nil || s.Events != int64(len(all)) {
		t.Errorf("mirror holds %d events, upstream %d (%v)", s.Events, len(all), err)
	}

	// Without credentials it refuses to start, naming the variable.
	e.getenv = func(string) string { return "" }
	if _, err := startPull(context.Background(), e, pf, st, slog.Default()); err == nil || !strings.Contains(err.Error(), "UPSTREAM_TOKEN") {
		t.Errorf("no token: %v", err)
	}
	// Without --pull-org nothing starts.
	if wait, err := startPull(context.Background(), e, addPullFlags(flag.NewFlagSet("x", flag.ContinueOnError), "pull-"), st, slog.Default()); err != nil {
		t.Error(err)
	} else {
		wait()
	}
}

// TestPullFlags: mistakes in flags and credentials are refused before any
// store is opened, with a message that says what to do; a refused token ends
// the collector with exit status 1.
func TestPullFlags(t *testing.T) {
	up := faultproxy.NewUpstream(t, 0)
	dir := t.TempDir()
	storeURL := "duckdb:" + filepath.Join(dir, "m.duckdb")
	keyFile := filepath.Join(dir, "key.pem")
	os.WriteFile(keyFile, []byte("not a key"), 0o600)
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		code  int
		wantE string // in stderr
	}{
		{"no org", nil, []string{"pull"}, 2, "--org is required"},
		{"org with a path", nil, []string{"pull", "--org", "https://acme.okta.com/api"}, 2, "without a path"},
		{"no token", nil, []string{"pull", "--org", "acme.okta.com"}, 2, "export the API token as OKTA_API_TOKEN"},
		{"token in another variable", map[string]string{"OKTA_API_TOKEN": "x"}, []string{"pull", "--org", "acme.okta.com", "--token-env", "MY_TOKEN"}, 2, "MY_TOKEN"},
		{"client id without key", nil, []string{"pull", "--org", "acme.okta.com", "--oauth-client-id", "0oa1"}, 2, "go together"},
		{"unreadable key", nil, []string{"pull", "--org", "acme.okta.com", "--oauth-client-id", "0oa1", "--oauth-key", keyFile}, 2, "neither PEM nor a JWK"},
		{"budget", map[string]string{"OKTA_API_TOKEN": "x"}, []string{"pull", "--org", "acme.okta.com", "--budget", "0"}, 2, "--budget"},
		{"page size", map[string]string{"OKTA_API_TOKEN": "x"}, []string{"pull", "--org", "acme.okta.com", "--page-size", "5000"}, 2, "--page-size"},
		{"since", map[string]string{"OKTA_API_TOKEN": "x"}, []string{"pull", "--org", "acme.okta.com", "--since", "last tuesday"}, 2, "--since"},
		{"status of an empty store", nil, []string{"pull", "status", "--store", storeURL}, 1, "nothing was pulled"},
		{"refused token", map[string]string{"OKTA_API_TOKEN": "wrong"}, []string{"pull", "--org", up.URL, "--store", storeURL, "--max-backoff", "10ms"}, 1, "refused the credentials (HTTP 401)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return tc.env[k] }}
			code := run(context.Background(), e, tc.args)
			if code != tc.code || !strings.Contains(errb.String(), tc.wantE) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, errb.String(), tc.code, tc.wantE)
			}
		})
	}
	// The refused run kept its error for pull status.
	var out bytes.Buffer
	e := &env{stdout: &out, stderr: io.Discard, getenv: func(string) string { return "" }}
	if code := run(context.Background(), e, []string{"pull", "status", "--store", storeURL}); code != 0 || !strings.Contains(out.String(), "HTTP 401") {
		t.Errorf("status after a refused token: exit %d\n%s", code, out.String())
	}
}
