package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/cursor"
	"github.com/idlog/idlog/internal/flows"
	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

// flowServer is a server over a store holding two simulated days, with the
// flow endpoints mounted.
func flowServer(t *testing.T) (*httptest.Server, string, []flows.Event) {
	t.Helper()
	ctx := context.Background()
	st, err := storeurl.Open(ctx, "duckdb::memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var batch []store.Event
	var evs []flows.Event
	err = simulate.New(simulate.Config{Users: 40, Days: 2, Seed: 4, Attacks: true,
		End: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}).Run(func(raw []byte) error {
		e, err := flows.FromRaw(raw)
		if err != nil {
			return err
		}
		evs = append(evs, e)
		batch = append(batch, store.Event{UUID: e.UUID, Published: e.Time(), Raw: append([]byte(nil), raw...)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tokens := auth.OpenTokens(dir)
	secret, _, err := tokens.Create("reader", []auth.Scope{auth.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := cursor.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(st, Options{Authenticator: auth.Chain{tokens}, Cursors: cur, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, pattern := s.mux.Handler(httptest.NewRequest("GET", "/api/idlog/v1/flows", nil)); pattern != "GET /api/idlog/v1/flows" {
		t.Fatalf("flows answered by %q", pattern)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts, secret, evs
}

func getFlowJSON(t *testing.T, ts *httptest.Server, token, path string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.URL+path, nil)
	req.Header.Set("Authorization", "SSWS "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 && v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("%s: %v: %s", path, err, body)
		}
	}
	return resp.StatusCode
}

func TestFlowEndpoints(t *testing.T) {
	ts, token, evs := flowServer(t)
	all := flows.Reconstruct(evs)
	var ab *flows.Instance
	for _, in := range all {
		if in.Status == "abandoned" && in.Missing != "" && len(in.UUIDs) > 1 {
			ab = in
			break
		}
	}
	if ab == nil {
		t.Fatal("no abandoned instance of several events in the simulated days")
	}

	// Show its flow: from the abandoned instance's last event.
	var got []flows.Instance
	if code := getFlowJSON(t, ts, token, "/api/idlog/v1/flows?event="+ab.UUIDs[len(ab.UUIDs)-1], &got); code != 200 {
		t.Fatalf("event=: %d", code)
	}
	if len(got) != 1 || !slices.Equal(got[0].UUIDs, ab.UUIDs) || got[0].Missing != ab.Missing || got[0].Status != ab.Status {
		t.Fatalf("event=: got %+v, want the instance %v missing %s", got, ab.UUIDs, ab.Missing)
	}

	// A user's flows.
	got = nil
	q := "user=" + url.QueryEscape(ab.User) + "&since=2026-10-30T00:00:00Z&until=2026-11-02T00:00:00Z"
	if code := getFlowJSON(t, ts, token, "/api/idlog/v1/flows?"+q, &got); code != 200 {
		t.Fatalf("user=: %d", code)
	}
	found := false
	for _, in := range got {
		found = found || slices.Equal(in.UUIDs, ab.UUIDs)
	}
	if !found {
		t.Errorf("user=%s: %d instances, none is %v", ab.User, len(got), ab.UUIDs)
	}

	var fn flows.Funnel
	if code := getFlowJSON(t, ts, token, "/api/idlog/v1/funnels?flow=signin&split=factor&filter="+url.QueryEscape(`outcome.result ne "DENY"`), &fn); code != 200 {
		t.Fatalf("funnels: %d", code)
	}
	want, _ := flows.BuildFunnel("signin", all, "factor")
	if fn.Instances == 0 || fn.Instances > want.Instances || len(fn.Parts) == 0 || len(fn.Steps) != len(want.Steps) {
		t.Errorf("funnel: %d instances (all: %d), %d parts", fn.Instances, want.Instances, len(fn.Parts))
	}
	// Unfiltered: read from the events until the index is built, then from
	// the index, with the same answer over the whole store.
	var fromEvents, fromIndex flows.Funnel
	src := getFunnel(t, ts, token, "/api/idlog/v1/funnels?flow=signin&split=app", &fromEvents)
	if src != "events" {
		t.Errorf("first unfiltered funnel came from %q, want events (the index is built in the background)", src)
	}
	for i := 0; i < 500 && src != "index"; i++ {
		time.Sleep(20 * time.Millisecond)
		src = getFunnel(t, ts, token, "/api/idlog/v1/funnels?flow=signin&split=app", &fromIndex)
	}
	fe, _ := json.Marshal(fromEvents)
	fi, _ := json.Marshal(fromIndex)
	if src != "index" || string(fe) != string(fi) || fromIndex.Instances == 0 {
		t.Errorf("funnel from %s\n%s\nfrom the events\n%s", src, fi, fe)
	}

	var defs []map[string]any
	if code := getFlowJSON(t, ts, token, "/api/idlog/v1/flowdefs", &defs); code != 200 || len(defs) != 7 {
		t.Errorf("flowdefs: %d, %d definitions", code, len(defs))
	}

	for path, want := range map[string]int{
		"/api/idlog/v1/flows":                            400,
		"/api/idlog/v1/flows?user=x&since=yesterday":     400,
		"/api/idlog/v1/flows?event=no-such-uuid":         404,
		"/api/idlog/v1/funnels?flow=nope":                400,
		"/api/idlog/v1/funnels?flow=sspr&split=shoe":     400,
		"/api/idlog/v1/funnels?flow=sspr&filter=eventTy": 400,
	} {
		if code := getFlowJSON(t, ts, token, path, nil); code != want {
			t.Errorf("%s: %d, want %d", path, code, want)
		}
	}
	if code := getFlowJSON(t, ts, "wrong", "/api/idlog/v1/flows?user=x", nil); code != 401 {
		t.Errorf("bad token: %d", code)
	}
}

// getFunnel reads a funnel and says where the server took it from.
func getFunnel(t *testing.T, ts *httptest.Server, token, path string, fn *flows.Funnel) string {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.URL+path, nil)
	req.Header.Set("Authorization", "SSWS "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(fn); err != nil {
		t.Fatal(err)
	}
	return resp.Header.Get("X-Idlog-Funnel-Source")
}
