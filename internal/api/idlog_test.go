package api_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
)

func TestIdlogEndpoints(t *testing.T) {
	e := newEnv(t, api.Options{Scenarios: []api.Scenario{{Name: "user", Title: "A user's sign-ins", Param: "user id", Template: `actor.id eq "{{value}}"`}}})
	evs := genEvents(30, 120, t0, 48*time.Hour)
	e.add(evs...)
	ctx := context.Background()
	getJSON := func(path string, v any) {
		t.Helper()
		resp, body := e.get(e.read, path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("%s: %v: %s", path, err, body)
		}
	}

	var stats map[string]any
	getJSON("/api/idlog/v1/stats", &stats)
	st, _ := e.st.Stats(ctx)
	if stats["events"] != float64(120) || stats["maxSeq"] != float64(st.MaxSeq) || stats["oldest"] != st.Oldest.UTC().Format(time.RFC3339Nano) {
		t.Fatalf("stats %v, store %+v", stats, st)
	}

	f := `outcome.result eq "FAILURE"`
	sel := "filter=" + url.QueryEscape(f) + "&since=" + t0.Format(time.RFC3339) + "&until=" + t0.Add(24*time.Hour).Format(time.RFC3339)
	q := store.Query{Filter: mustParse(t, f), Since: t0, Until: t0.Add(24 * time.Hour)}
	var count map[string]int64
	getJSON("/api/idlog/v1/count?"+sel, &count)
	want, _ := e.st.Count(ctx, q)
	if count["count"] != want || want == 0 {
		t.Fatalf("count %v, store %d", count, want)
	}

	var hist []struct {
		Start  string           `json:"start"`
		Counts map[string]int64 `json:"counts"`
	}
	getJSON("/api/idlog/v1/histogram?step=1h&"+sel, &hist)
	var total int64
	for _, b := range hist {
		if _, err := time.Parse(time.RFC3339, b.Start); err != nil {
			t.Fatal(err)
		}
		total += b.Counts["FAILURE"]
		if len(b.Counts) != 1 {
			t.Fatalf("bucket %v has other outcomes", b)
		}
	}
	if total != want {
		t.Fatalf("histogram totals %d, count %d", total, want)
	}
	resp, body := e.get(e.read, "/api/idlog/v1/histogram?"+sel)
	if resp.StatusCode != 200 || resp.Header.Get("X-Idlog-Step") != "15m0s" {
		t.Fatalf("auto step for a day: %q %s", resp.Header.Get("X-Idlog-Step"), body)
	}

	var top []struct {
		Value string `json:"value"`
		Count int64  `json:"count"`
	}
	getJSON("/api/idlog/v1/top?field=target.id&n=3", &top)
	wantTop, _ := e.st.TopValues(ctx, store.Query{}, filter.Path{"target", "id"}, 3)
	if len(top) != 3 || top[0].Value != wantTop[0].Value || top[0].Count != wantTop[0].Count {
		t.Fatalf("top %v, store %v", top, wantTop)
	}

	var types []map[string]any
	getJSON("/api/idlog/v1/eventtypes", &types)
	if len(types) < 10 || types[0]["name"] == "" {
		t.Fatalf("event types: %v", types[:1])
	}
	var scen []api.Scenario
	getJSON("/api/idlog/v1/scenarios", &scen)
	if len(scen) != 1 || scen[0].Template == "" {
		t.Fatalf("scenarios %v", scen)
	}

	var one uuidOnly
	json.Unmarshal(evs[5], &one)
	resp, body = e.get(e.read, "/api/idlog/v1/events/"+one.UUID)
	if resp.StatusCode != 200 || string(body) != string(evs[5]) {
		t.Fatalf("get: %d %s", resp.StatusCode, body)
	}
	resp, body = e.get(e.read, "/api/idlog/v1/events/nope")
	wantError(t, resp, body, 404, "E0000007")

	cut := t0.Add(24 * time.Hour)
	before, _ := e.st.Count(ctx, store.Query{Until: cut})
	resp, body = e.do("POST", e.admin, "/api/idlog/v1/prune?before="+cut.Format(time.RFC3339), nil, nil)
	var pruned map[string]int64
	json.Unmarshal(body, &pruned)
	if resp.StatusCode != 200 || pruned["deleted"] != before || before == 0 {
		t.Fatalf("prune: %d %s, want %d", resp.StatusCode, body, before)
	}
	if n, _ := e.st.Count(ctx, store.Query{Until: cut}); n != 0 {
		t.Fatalf("%d events left before the cut", n)
	}
}

func TestIdlogEndpointErrors(t *testing.T) {
	e := newEnv(t, api.Options{})
	tests := []struct {
		method, path, code string
	}{
		{"GET", "/api/idlog/v1/top", "E0000001"},
		{"GET", "/api/idlog/v1/top?field=actor..id", "E0000001"},
		{"GET", "/api/idlog/v1/top?field=actor.id&n=0", "E0000001"},
		{"GET", "/api/idlog/v1/histogram?step=1x", "E0000001"},
		{"GET", "/api/idlog/v1/histogram?step=1s&since=2000-01-01T00:00:00Z&until=2026-01-01T00:00:00Z", "E0000001"},
		{"GET", "/api/idlog/v1/count?filter=" + url.QueryEscape("eventType eqq 1"), "E0000053"},
		{"GET", "/api/idlog/v1/count?since=never", "E0000001"},
		{"POST", "/api/idlog/v1/prune", "E0000001"},
	}
	for _, tc := range tests {
		resp, body := e.do(tc.method, e.admin, tc.path, nil, nil)
		if resp.StatusCode != 400 {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, resp.StatusCode, body)
			continue
		}
		wantError(t, resp, body, 400, tc.code)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.get(e.read, "/api/v1/logs")
	e.get(e.read, "/api/v1/logs?limit=x")
	e.do("POST", e.write, "/api/v1/logs", strings.NewReader(string(genEvents(40, 1, t0, time.Hour)[0])+"\nbad\n"), nil)
	// The event read twice: the second time from the store's cache.
	since := "/api/v1/logs?since=" + t0.Add(-time.Hour).Format(time.RFC3339)
	e.get(e.read, since)
	e.get(e.read, since)
	resp, body := e.get(e.read, "/metrics")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`idlog_http_requests_total{route="GET /api/v1/logs",code="200"} 3`,
		`idlog_http_requests_total{route="GET /api/v1/logs",code="400"} 1`,
		`idlog_http_request_duration_seconds_count{route="GET /api/v1/logs"} 4`,
		`idlog_store_cache_events_total{result="hit"} 1`,
		`idlog_store_cache_events_total{result="miss"} 1`,
		`idlog_ingest_events_total{result="accepted"} 1`,
		`idlog_ingest_events_total{result="rejected"} 1`,
		"idlog_store_events 1\n",
		"idlog_store_index_misses_total 0\n",
		"idlog_store_repairs_total 0\n",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if resp, _ := e.get("", "/metrics"); resp.StatusCode != 401 {
		t.Fatalf("metrics without a token: %d", resp.StatusCode)
	}
}

// TestCheckRoute: POST /api/idlog/v1/check reports each derived structure
// of the store, for admins only.
func TestCheckRoute(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.do("POST", e.write, "/api/v1/logs", strings.NewReader(string(genEvents(40, 1, t0, time.Hour)[0])+"\n"), nil)
	if resp, body := e.do("POST", e.read, "/api/idlog/v1/check", nil, nil); resp.StatusCode != 403 {
		t.Fatalf("check with a read token: %d %s", resp.StatusCode, body)
	}
	for _, path := range []string{"/api/idlog/v1/check", "/api/idlog/v1/check?repair=true"} {
		resp, body := e.do("POST", e.admin, path, nil, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		var rep store.CheckReport
		if err := json.Unmarshal(body, &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.Findings) < 4 || rep.Damaged() {
			t.Errorf("%s: %s", path, body)
		}
		for _, f := range rep.Findings {
			if f.Structure == "seq index" && f.Checked != 1 {
				t.Errorf("%s: the seq index check compared %d rows, want 1", path, f.Checked)
			}
		}
	}
}
