package faultproxy

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/cursor"
	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

// Upstream is an idlog server standing in for an Okta org: its
// GET /api/v1/logs pages, links and polling behave like Okta's.
type Upstream struct {
	Store store.Store
	URL   string // scheme://host
	Token string // a read token, sent as SSWS
}

// NewUpstream starts an upstream over an in-memory store; the test's cleanup
// stops it. rateLimit is requests per token and minute (0: none).
func NewUpstream(t testing.TB, rateLimit int) *Upstream {
	t.Helper()
	st, err := storeurl.Open(context.Background(), "duckdb::memory:")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tokens := auth.OpenTokens(dir)
	tok, _, err := tokens.Create("collector", []auth.Scope{auth.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	codec, err := cursor.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(st, api.Options{Authenticator: auth.Chain{tokens}, Cursors: codec, RateLimit: rateLimit,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		st.Close()
	})
	return &Upstream{Store: st, URL: ts.URL, Token: tok}
}

// Events makes days of a simulated org of users ending at end, in
// published order.
func Events(t testing.TB, seed int64, users, days int, end time.Time) []store.Event {
	t.Helper()
	g := simulate.New(simulate.Config{Users: users, Days: days, End: end, Seed: seed})
	var out []store.Event
	err := g.Run(func(raw []byte) error {
		e, err := ingest.ParseEvent(raw)
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Split holds back a share of events, chosen at random, to be appended
// later: the held-back ones then reach the stream with published times
// older than events already in it, as Okta's delayed events do.
func Split(events []store.Event, heldBack float64, seed uint64) (now, later []store.Event) {
	r := rand.New(rand.NewPCG(seed, 7))
	for _, e := range events {
		if r.Float64() < heldBack {
			later = append(later, e)
		} else {
			now = append(now, e)
		}
	}
	return now, later
}
