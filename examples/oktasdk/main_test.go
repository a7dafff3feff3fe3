package main

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/cursor"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

// TestExampleRunsAsWritten runs the README's SDK program against a real
// server and checks it prints exactly the store's answer, across pages.
func TestExampleRunsAsWritten(t *testing.T) {
	ctx := context.Background()
	st, err := storeurl.Open(ctx, "duckdb::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	end := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	var evs []store.Event
	err = simulate.New(simulate.Config{Users: 60, Days: 7, End: end, Seed: 5, Attacks: true}).Run(func(raw []byte) error {
		ev, err := ingest.ParseEvent(raw)
		evs = append(evs, ev)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tokens := auth.OpenTokens(dir)
	token, _, err := tokens.Create("example", []auth.Scope{auth.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	codec, err := cursor.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(st, api.Options{Authenticator: auth.Chain{tokens}, Cursors: codec})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	const f = `eventType eq "user.session.start" or outcome.result eq "FAILURE"`
	since := end.Add(-7 * 24 * time.Hour)
	var out strings.Builder
	n, err := list(ts.URL, token, f, since, end, &out)
	if err != nil {
		t.Fatal(err)
	}
	expr, _ := filter.Parse(f)
	want, err := st.Query(ctx, store.Query{Filter: expr, Since: since, Until: end, Order: store.ByPublished})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(want) || n <= 100 {
		t.Fatalf("printed %d events, the store has %d (want more than one page)", n, len(want))
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	for i, ev := range want {
		if !strings.Contains(lines[i], ev.UUID) {
			t.Fatalf("line %d %q, want event %s", i, lines[i], ev.UUID)
		}
	}
}
