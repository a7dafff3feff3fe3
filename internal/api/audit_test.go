package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/audit"
	"github.com/idlog/idlog/internal/saved"
)

type auditEvent struct {
	UUID      string `json:"uuid"`
	Published string `json:"published"`
	EventType string `json:"eventType"`
	Actor     struct {
		ID, Type, AlternateID string
	} `json:"actor"`
	Client struct {
		IPAddress string `json:"ipAddress"`
		UserAgent struct {
			RawUserAgent string `json:"rawUserAgent"`
		} `json:"userAgent"`
	} `json:"client"`
	Outcome struct {
		Result string `json:"result"`
		Reason string `json:"reason"`
	} `json:"outcome"`
	Target []struct {
		ID, Type string
	} `json:"target"`
	DebugContext struct {
		DebugData map[string]any `json:"debugData"`
	} `json:"debugContext"`
}

// auditEnv is a server with an audit trail and saved searches.
func auditEnv(t *testing.T) (*env, *audit.Log) {
	dir := t.TempDir()
	trail := audit.Open(dir)
	e := newEnv(t, api.Options{Audit: trail, Searches: saved.Open(dir)})
	return e, trail
}

func trailEvents(t *testing.T, trail *audit.Log) []auditEvent {
	t.Helper()
	res, err := trail.Find(audit.Query{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]auditEvent, len(res.Events))
	for i, raw := range res.Events {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestAuditEachActionOnce does each audited action and checks that it
// added exactly one record, with the right event type, actor, client,
// outcome and query.
func TestAuditEachActionOnce(t *testing.T) {
	e, trail := auditEnv(t)
	e.add(genEvents(1, 30, time.Now().Add(-48*time.Hour), 24*time.Hour)...)
	ids := map[string]string{}
	for name := range map[string]bool{"reader": true, "analyst": true, "admin": true} {
		tok, _ := e.tokens.List()
		for _, x := range tok {
			if x.Name == name {
				ids[name] = x.ID
			}
		}
	}
	ua := map[string][]string{"User-Agent": {"audit-test/1.0"}}
	since := time.Now().Add(-72 * time.Hour).UTC().Format(time.RFC3339)
	search := "/api/v1/logs?" + url.Values{"filter": {`eventType eq "user.session.start"`}, "q": {"Event"}, "since": {since}, "limit": {"2"}}.Encode()
	var nextLink string
	var savedID string

	steps := []struct {
		name          string
		do            func() (*http.Response, []byte)
		status        int
		eventType     string
		actor, result string
		debug         map[string]string
		none          bool // the action must add no record
	}{
		{name: "search", do: func() (*http.Response, []byte) { return e.do("GET", e.read, search, nil, ua) },
			status: 200, eventType: audit.Search, actor: "reader", result: "SUCCESS",
			debug: map[string]string{"filter": `eventType eq "user.session.start"`, "q": "Event", "since": since, "requestUri": "/api/v1/logs"}},
		{name: "next page of the same search", do: func() (*http.Response, []byte) { return e.do("GET", e.read, nextLink, nil, ua) },
			status: 200, none: true},
		{name: "search with a bad filter", do: func() (*http.Response, []byte) {
			return e.do("GET", e.read, "/api/v1/logs?filter="+url.QueryEscape(`eventType eq`), nil, ua)
		}, status: 400, eventType: audit.Search, actor: "reader", result: "FAILURE", debug: map[string]string{"filter": "eventType eq"}},
		{name: "export", do: func() (*http.Response, []byte) {
			return e.do("GET", e.analyst, "/api/v1/logs?limit=5", nil, map[string][]string{"User-Agent": {"audit-test/1.0"}, api.ExportHeader: {"csv"}})
		}, status: 200, eventType: audit.Export, actor: "analyst", result: "SUCCESS", debug: map[string]string{"format": "csv"}},
		{name: "export by a viewer", do: func() (*http.Response, []byte) {
			return e.do("GET", e.read, "/api/v1/logs?limit=5", nil, map[string][]string{"User-Agent": {"audit-test/1.0"}, api.ExportHeader: {"csv"}})
		}, status: 403, eventType: audit.Export, actor: "reader", result: "DENY"},
		{name: "save a search", do: func() (*http.Response, []byte) {
			return e.do("POST", e.analyst, "/api/idlog/v1/searches", strings.NewReader(`{"name":"Lockouts","filter":"eventType eq \"user.account.lock\"","range":"7d","shared":true}`), ua)
		}, status: 201, eventType: audit.SearchCreate, actor: "analyst", result: "SUCCESS", debug: map[string]string{"savedFilter": `eventType eq "user.account.lock"`}},
		{name: "change it", do: func() (*http.Response, []byte) {
			return e.do("PUT", e.analyst, "/api/idlog/v1/searches/"+savedID, strings.NewReader(`{"name":"Lockouts 30d","filter":"eventType eq \"user.account.lock\"","range":"30d","shared":true}`), ua)
		}, status: 200, eventType: audit.SearchUpdate, actor: "analyst", result: "SUCCESS", debug: map[string]string{"savedRange": "30d"}},
		{name: "a viewer deleting it", do: func() (*http.Response, []byte) {
			return e.do("DELETE", e.read, "/api/idlog/v1/searches/"+savedID, nil, ua)
		}, status: 403, eventType: audit.SearchDelete, actor: "reader", result: "DENY"},
		{name: "delete it", do: func() (*http.Response, []byte) {
			return e.do("DELETE", e.analyst, "/api/idlog/v1/searches/"+savedID, nil, ua)
		}, status: 204, eventType: audit.SearchDelete, actor: "analyst", result: "SUCCESS"},
		{name: "prune by a viewer", do: func() (*http.Response, []byte) {
			return e.do("POST", e.read, "/api/idlog/v1/prune?before=2000-01-01T00:00:00Z", nil, ua)
		}, status: 403, eventType: audit.Prune, actor: "reader", result: "DENY", debug: map[string]string{"before": "2000-01-01T00:00:00Z"}},
		{name: "prune", do: func() (*http.Response, []byte) {
			return e.do("POST", e.admin, "/api/idlog/v1/prune?before=2000-01-01T00:00:00Z", nil, ua)
		}, status: 200, eventType: audit.Prune, actor: "admin", result: "SUCCESS", debug: map[string]string{"before": "2000-01-01T00:00:00Z"}},
		{name: "a viewer reading the audit trail", do: func() (*http.Response, []byte) {
			return e.do("GET", e.read, "/api/idlog/v1/audit", nil, ua)
		}, status: 403, eventType: audit.AuditSearch, actor: "reader", result: "DENY"},
		{name: "an admin reading it", do: func() (*http.Response, []byte) {
			return e.do("GET", e.admin, "/api/idlog/v1/audit?filter="+url.QueryEscape(`eventType sw "idlog.search."`), nil, ua)
		}, status: 200, eventType: audit.AuditSearch, actor: "admin", result: "SUCCESS", debug: map[string]string{"filter": `eventType sw "idlog.search."`}},
		{name: "look up a user's flows", do: func() (*http.Response, []byte) {
			return e.do("GET", e.read, "/api/idlog/v1/flows?user=00u001&since="+url.QueryEscape(since), nil, ua)
		}, status: 200, eventType: audit.FlowSearch, actor: "reader", result: "SUCCESS", debug: map[string]string{"user": "00u001"}},
		{name: "counts and histograms are not separate looks", do: func() (*http.Response, []byte) {
			return e.do("GET", e.read, "/api/idlog/v1/count", nil, ua)
		}, status: 200, none: true},
	}
	for _, st := range steps {
		before := len(trailEvents(t, trail))
		resp, body := st.do()
		if resp.StatusCode != st.status {
			t.Fatalf("%s: %d %s, want %d", st.name, resp.StatusCode, body, st.status)
		}
		if st.name == "search" {
			for _, l := range resp.Header.Values("Link") {
				if strings.HasSuffix(l, `rel="next"`) {
					nextLink = strings.TrimSuffix(strings.TrimPrefix(strings.Split(l, ">")[0], "<"), ">")
				}
			}
			if nextLink == "" {
				t.Fatal("the search has no next page to follow")
			}
		}
		if st.name == "save a search" {
			var x struct{ ID, Link string }
			json.Unmarshal(body, &x)
			savedID = x.ID
		}
		evs := trailEvents(t, trail)
		if st.none {
			if len(evs) != before {
				t.Errorf("%s: %d records added, want none", st.name, len(evs)-before)
			}
			continue
		}
		if len(evs) != before+1 {
			t.Fatalf("%s: %d records added, want exactly one", st.name, len(evs)-before)
		}
		ev := evs[len(evs)-1]
		if ev.EventType != st.eventType || ev.Actor.ID != ids[st.actor] || ev.Actor.Type != "Token" || ev.Actor.AlternateID != st.actor ||
			ev.Outcome.Result != st.result || ev.Client.IPAddress != "127.0.0.1" || ev.Client.UserAgent.RawUserAgent != "audit-test/1.0" ||
			ev.UUID == "" || ev.Published == "" {
			t.Errorf("%s: record %+v, want %s by %s (%s), %s", st.name, ev, st.eventType, st.actor, ids[st.actor], st.result)
		}
		if st.result != "SUCCESS" && ev.Outcome.Reason == "" {
			t.Errorf("%s: a %s record without a reason", st.name, st.result)
		}
		for k, v := range st.debug {
			if got, _ := ev.DebugContext.DebugData[k].(string); got != v {
				t.Errorf("%s: debugData.%s = %q, want %q", st.name, k, got, v)
			}
		}
		if strings.HasPrefix(st.eventType, "idlog.search.") && st.result == "SUCCESS" && (len(ev.Target) != 1 || ev.Target[0].ID != savedID || ev.Target[0].Type != "SavedSearch") {
			t.Errorf("%s: targets %+v, want the saved search %s", st.name, ev.Target, savedID)
		}
	}
}

// TestAuditFilterAndPaging reads the trail through the API with Okta's
// filter language, both orders, and its next links.
func TestAuditFilterAndPaging(t *testing.T) {
	e, trail := auditEnv(t)
	for i := 0; i < 7; i++ {
		trail.Record(audit.Entry{EventType: audit.Search, ActorName: "alice@example.com", Debug: map[string]any{"filter": "n" + string(rune('0'+i))}})
		trail.Record(audit.Entry{EventType: audit.Export, ActorName: "bob@example.com"})
	}
	var got []auditEvent
	next := "/api/idlog/v1/audit?limit=3&filter=" + url.QueryEscape(`actor.alternateId eq "alice@example.com"`)
	pages := 0
	for next != "" {
		resp, body := e.get(e.admin, next)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", next, resp.StatusCode, body)
		}
		var page []auditEvent
		json.Unmarshal(body, &page)
		got = append(got, page...)
		next = ""
		for _, l := range resp.Header.Values("Link") {
			if strings.HasSuffix(l, `rel="next"`) {
				next = strings.TrimSuffix(strings.TrimPrefix(strings.Split(l, ">")[0], "<"), ">")
			}
		}
		pages++
	}
	if len(got) != 7 || pages != 3 {
		t.Fatalf("%d events over %d pages, want 7 over 3", len(got), pages)
	}
	for i, ev := range got {
		if ev.EventType != audit.Search || ev.DebugContext.DebugData["filter"] != "n"+string(rune('0'+i)) {
			t.Fatalf("event %d: %+v", i, ev)
		}
	}
	resp, body := e.get(e.admin, "/api/idlog/v1/audit?sortOrder=DESCENDING&limit=1&filter="+url.QueryEscape(`eventType eq "idlog.log.export"`))
	var page []auditEvent
	json.Unmarshal(body, &page)
	if resp.StatusCode != 200 || len(page) != 1 || page[0].Actor.AlternateID != "bob@example.com" {
		t.Fatalf("newest export: %d %s", resp.StatusCode, body)
	}
	resp, body = e.get(e.admin, "/api/idlog/v1/audit?filter="+url.QueryEscape(`eventType eq`))
	wantError(t, resp, body, 400, "E0000053")
}

// TestPruneLeavesAuditIntact prunes every org event and checks that the
// audit trail is untouched (and gained the prune's own record).
func TestPruneLeavesAuditIntact(t *testing.T) {
	e, trail := auditEnv(t)
	e.add(genEvents(2, 50, time.Now().Add(-30*24*time.Hour), 24*time.Hour)...)
	for i := 0; i < 5; i++ {
		if resp, body := e.get(e.read, "/api/v1/logs?limit=1"); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	before := trailEvents(t, trail)
	cut := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	resp, body := e.do("POST", e.admin, "/api/idlog/v1/prune?before="+cut, nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"deleted":50`) {
		t.Fatalf("prune: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.get(e.read, "/api/idlog/v1/count"); !strings.Contains(string(body), `"count":0`) {
		t.Fatalf("org events after the prune: %d %s", resp.StatusCode, body)
	}
	after := trailEvents(t, trail)
	if len(after) != len(before)+1 || after[len(after)-1].EventType != audit.Prune {
		t.Fatalf("audit trail: %d records before, %d after; want the same plus the prune", len(before), len(after))
	}
	for i := range before {
		if after[i].UUID != before[i].UUID {
			t.Fatalf("record %d changed by the prune", i)
		}
	}
}
