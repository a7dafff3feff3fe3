package collect_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/collect"
	"github.com/idlog/idlog/internal/faultproxy"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

// This test is outside package collect: faultproxy's upstream is an
// api.Server, and api may import collect (for /metrics).

// TestMirrorThroughFaults pulls from an idlog server standing in for Okta,
// through a proxy that injects every fault, while events keep arriving
// (some with old published times) and the collector is stopped at random
// moments and started again. The mirror must end with exactly the
// upstream's events. (cmd/idlog's TestPullSIGKILL does the same with a
// killed process.)
func TestMirrorThroughFaults(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	end := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC) // a Thursday: a working day of events
	up := faultproxy.NewUpstream(t, 0)
	all := faultproxy.Events(t, int64(seed), 100, 2, end)
	first, later := faultproxy.Split(all, 0.3, seed)
	ctx := context.Background()
	if _, err := up.Store.Append(ctx, first); err != nil {
		t.Fatal(err)
	}
	proxy := faultproxy.New(up.URL, faultproxy.Faults{TooMany: 0.03, Reset: time.Second, Error: 0.1, Slow: 0.05,
		Delay: 1200 * time.Millisecond, Cut: 0.1, Repeat: 0.3,
		// Cut comes back in the script: a scripted cut that meets an
		// empty page, or a request the collector's short run already
		// gave up on, cuts nothing (seen on a loaded machine).
		Script: []faultproxy.Fault{faultproxy.None, faultproxy.Cut, faultproxy.Repeat, faultproxy.Error, faultproxy.TooMany, faultproxy.Slow,
			faultproxy.None, faultproxy.Cut, faultproxy.None, faultproxy.None, faultproxy.Cut, faultproxy.None, faultproxy.Cut}}, seed)
	ps := httptest.NewServer(proxy)
	defer ps.Close()

	mirror, err := storeurl.Open(ctx, "duckdb:"+t.TempDir()+"/mirror.duckdb")
	if err != nil {
		t.Fatal(err)
	}
	defer mirror.Close()
	cfg := collect.Config{Org: ps.URL, Auth: collect.APIToken(up.Token), Store: mirror, Since: end.Add(-48 * time.Hour),
		PageSize: 100, PollInterval: 50 * time.Millisecond, RequestTimeout: time.Second,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}

	// Upstream keeps growing while the collector is stopped and started.
	for i := 0; len(later) > 0 || i < 5; i++ {
		n := min(len(later), 40+rng.IntN(80))
		if _, err := up.Store.Append(ctx, later[:n]); err != nil {
			t.Fatal(err)
		}
		later = later[n:]
		rctx, cancel := context.WithTimeout(ctx, time.Duration(100+rng.IntN(500))*time.Millisecond)
		if err := collect.Run(rctx, cfg); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	// Now let it catch up: until the upstream has answered an empty page
	// after the last append.
	caughtUp := proxy.EmptyPages.Load()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	go func() {
		for rctx.Err() == nil && proxy.EmptyPages.Load() < caughtUp+2 {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	if err := collect.Run(rctx, cfg); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := collect.ReadState(ctx, mirror, ""); rctx.Err() == context.DeadlineExceeded {
		t.Errorf("did not catch up in 30 s; state %+v", st)
	}
	t.Logf("%d events; proxy: %d requests, %d 429s, %d 500s, %d slow, %d cut, %d repeated; upstream statuses %v", len(all), proxy.Requests.Load(),
		proxy.Injected429.Load(), proxy.Injected500.Load(), proxy.Slowed.Load(), proxy.CutBodies.Load(), proxy.Repeated.Load(), proxy.Statuses())
	if proxy.CutBodies.Load() == 0 || proxy.Repeated.Load() == 0 || proxy.Injected429.Load() == 0 {
		t.Errorf("a fault was never injected; the test proves less than it claims")
	}
	sameEvents(t, all, mirror)

	s, ok, err := collect.ReadState(ctx, mirror, "")
	if err != nil || !ok {
		t.Fatalf("ReadState: %v, %v", ok, err)
	}
	if s.Org != cfg.Org || s.Requests == 0 || s.Newest.IsZero() {
		t.Errorf("stored state %+v", s)
	}
}

// sameEvents checks the mirror holds exactly want, each once and byte for byte.
func sameEvents(t *testing.T, want []store.Event, mirror store.Store) {
	t.Helper()
	got, err := mirror.Query(context.Background(), store.Query{Order: store.BySeq})
	if err != nil {
		t.Fatal(err)
	}
	wantRaw := map[string]string{}
	for _, e := range want {
		wantRaw[e.UUID] = string(e.Raw)
	}
	seen := map[string]bool{}
	for _, e := range got {
		if seen[e.UUID] {
			t.Errorf("event %s stored twice", e.UUID)
		}
		seen[e.UUID] = true
		if w, ok := wantRaw[e.UUID]; !ok {
			t.Errorf("event %s is not upstream", e.UUID)
		} else if w != string(e.Raw) {
			t.Errorf("event %s differs from upstream", e.UUID)
		}
	}
	var missing []string
	for u := range wantRaw {
		if !seen[u] {
			missing = append(missing, u)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("%d of %d events missing, e.g. %v", len(missing), len(want), missing[:min(3, len(missing))])
	}
	if len(got) != len(want) {
		t.Errorf("mirror has %d events, upstream %d", len(got), len(want))
	}
}
