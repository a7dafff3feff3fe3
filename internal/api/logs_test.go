package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

type uuidOnly struct {
	UUID string `json:"uuid"`
}

// page decodes a JSON array of events to their uuids, and checks each is
// byte-identical to what the store holds.
func (e *env) page(body []byte) []string {
	e.t.Helper()
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		e.t.Fatalf("body is not a JSON array: %v: %.200s", err, body)
	}
	out := make([]string, len(raws))
	for i, r := range raws {
		var u uuidOnly
		json.Unmarshal(r, &u)
		out[i] = u.UUID
		got, err := e.st.Get(context.Background(), u.UUID)
		if err != nil {
			e.t.Fatalf("event %s: %v", u.UUID, err)
		}
		if string(got.Raw) != string(r) {
			e.t.Fatalf("event %s differs from the stored bytes:\n got %s\nwant %s", u.UUID, r, got.Raw)
		}
	}
	return out
}

// follow pages from first through every next link and returns the uuids
// in order, the number of pages and the longest Link line.
func (e *env) follow(token, first string, maxPages int) (uuids []string, pages, longest int) {
	e.t.Helper()
	next := first
	for next != "" {
		pages++
		if pages > maxPages {
			e.t.Fatalf("more than %d pages", maxPages)
		}
		resp, body := e.get(token, next)
		if resp.StatusCode != 200 {
			e.t.Fatalf("GET %s: %d %s", next, resp.StatusCode, body)
		}
		for _, l := range resp.Header.Values("Link") {
			longest = max(longest, len(l))
		}
		ls := e.linkOrder(resp.Header.Values("Link"))
		ids := e.page(body)
		uuids = append(uuids, ids...)
		next = ls["next"]
		if len(ids) == 0 && next != "" {
			break // a polling stream: an empty page ends this test's reading
		}
	}
	return uuids, pages, longest
}

// linkOrder checks self comes first and next last, each on its own line.
func (e *env) linkOrder(lines []string) map[string]string {
	e.t.Helper()
	if len(lines) == 0 || !strings.HasSuffix(lines[0], `rel="self"`) {
		e.t.Fatalf("first Link line is not self: %q", lines)
	}
	if len(lines) > 2 || (len(lines) == 2 && !strings.HasSuffix(lines[1], `rel="next"`)) {
		e.t.Fatalf("Link lines %q: want self then next", lines)
	}
	l := map[string]string{}
	for _, line := range lines {
		u, rest, _ := strings.Cut(strings.TrimPrefix(line, "<"), ">")
		if u != e.ts.URL+"/api/v1/logs" && !strings.HasPrefix(u, e.ts.URL+"/api/v1/logs?") {
			e.t.Fatalf("link %q is not absolute to this server", u)
		}
		l[strings.TrimSuffix(strings.TrimPrefix(rest, `; rel="`), `"`)] = u
	}
	return l
}

func (e *env) storeAnswer(q store.Query) []string {
	e.t.Helper()
	evs, err := e.st.Query(context.Background(), q)
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.UUID
	}
	return out
}

func mustParse(t *testing.T, src string) filter.Expr {
	t.Helper()
	if src == "" {
		return nil
	}
	e, err := filter.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func equalIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: event %d is %s, want %s", what, i, got[i], want[i])
		}
	}
}

func TestBoundedPagingMatchesStore(t *testing.T) {
	e := newEnv(t, api.Options{Now: func() time.Time { return t0.Add(30 * 24 * time.Hour) }})
	e.add(genEvents(1, 300, t0, 10*24*time.Hour)...)
	since, until := t0.Add(24*time.Hour), t0.Add(8*24*time.Hour)
	tests := []struct {
		name, filter, q string
		desc            bool
		limit           int
	}{
		{name: "all asc", limit: 7},
		{name: "all desc", desc: true, limit: 13},
		{name: "filter", filter: `eventType eq "user.session.start" and outcome.result eq "FAILURE"`, limit: 3},
		{name: "filter or", filter: `(eventType sw "user.authentication") or target.id eq "0oa03"`, desc: true, limit: 5},
		{name: "keywords", q: "user.session.start", limit: 9},
		{name: "filter and q", filter: `outcome.result ne "SUCCESS"`, q: "00u007", limit: 2},
		{name: "one page", filter: `actor.id eq "00u001"`, limit: 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := url.Values{"since": {since.Format(time.RFC3339)}, "until": {until.Format(time.RFC3339)},
				"limit": {fmt.Sprint(tc.limit)}}
			if tc.filter != "" {
				v.Set("filter", tc.filter)
			}
			if tc.q != "" {
				v.Set("q", tc.q)
			}
			if tc.desc {
				v.Set("sortOrder", "DESCENDING")
			}
			kws, _ := filter.ParseKeywords(tc.q)
			want := e.storeAnswer(store.Query{Filter: mustParse(t, tc.filter), Keywords: kws, Since: since, Until: until,
				Order: store.ByPublished, Descending: tc.desc})
			if len(want) == 0 {
				t.Fatal("test data selects nothing")
			}
			got, pages, _ := e.follow(e.read, "/api/v1/logs?"+v.Encode(), 1000)
			equalIDs(t, tc.name, got, want)
			if wantPages := (len(want) + tc.limit - 1) / tc.limit; pages != wantPages {
				t.Errorf("%d pages, want %d (the last page must have no next link)", pages, wantPages)
			}
		})
	}
}

func TestDescendingWithoutUntilIsBoundedAtNow(t *testing.T) {
	now := t0.Add(5 * 24 * time.Hour)
	e := newEnv(t, api.Options{Now: func() time.Time { return now }})
	e.add(genEvents(2, 80, t0, 7*24*time.Hour)...) // some after now
	got, _, _ := e.follow(e.read, "/api/v1/logs?sortOrder=DESCENDING&limit=10", 100)
	want := e.storeAnswer(store.Query{Since: now.Add(-7 * 24 * time.Hour), Until: now, Order: store.ByPublished, Descending: true})
	equalIDs(t, "descending", got, want)
}

// A polling client that follows next while events arrive out of published
// order sees every event exactly once.
func TestPollingSeesLateEventsExactlyOnce(t *testing.T) {
	now := t0.Add(10 * 24 * time.Hour)
	e := newEnv(t, api.Options{Now: func() time.Time { return now }})
	all := genEvents(3, 400, now.Add(-6*24*time.Hour), 6*24*time.Hour)
	e.add(all[:50]...)

	seen := map[string]int{}
	next := "/api/v1/logs?limit=17&since=" + url.QueryEscape(now.Add(-7*24*time.Hour).Format(time.RFC3339))
	added := 50
	for round := 0; round < 500 && (added < len(all) || len(seen) < len(all)); round++ {
		resp, body := e.get(e.read, next)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		ls := e.linkOrder(resp.Header.Values("Link"))
		if ls["next"] == "" {
			t.Fatal("polling page without next link")
		}
		for _, id := range e.page(body) {
			seen[id]++
		}
		next = ls["next"]
		if added < len(all) {
			// The generator's published times are random, so each batch
			// holds events older than ones already read.
			n := min(23, len(all)-added)
			e.add(all[added : added+n]...)
			added += n
		}
	}
	if len(seen) != len(all) {
		t.Fatalf("saw %d distinct events, want %d", len(seen), len(all))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("event %s seen %d times", id, n)
		}
	}
	// At the end of the stream: an empty page, still with a next link
	// that comes back to the same place.
	resp, body := e.get(e.read, next)
	ls := e.linkOrder(resp.Header.Values("Link"))
	if string(body) != "[]" || ls["next"] == "" {
		t.Fatalf("end of stream: body %s, links %v", body, ls)
	}
	e.add(genEvents(4, 1, now.Add(-time.Hour), time.Minute)...)
	_, body = e.get(e.read, ls["next"])
	if ids := e.page(body); len(ids) != 1 {
		t.Fatalf("after one more event the stream gave %d", len(ids))
	}
}

func TestPollingEmptyFirstPageHasNext(t *testing.T) {
	e := newEnv(t, api.Options{})
	resp, body := e.get(e.read, "/api/v1/logs")
	ls := e.linkOrder(resp.Header.Values("Link"))
	if resp.StatusCode != 200 || string(body) != "[]" || ls["next"] == "" {
		t.Fatalf("%d %s %v", resp.StatusCode, body, ls)
	}
	e.add(genEvents(5, 3, time.Now().Add(-time.Hour), time.Minute)...)
	_, body = e.get(e.read, ls["next"])
	if n := len(e.page(body)); n != 3 {
		t.Fatalf("next of an empty first page gave %d events, want 3", n)
	}
}

// longFilter is a filter of about n bytes that compresses badly (random
// ids), like a list of users pasted into the search box.
func longFilter(n int) string {
	var b strings.Builder
	b.WriteString(`eventType sw "user" and (`)
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteString(" or ")
		}
		fmt.Fprintf(&b, `actor.id eq "00u%03d%x"`, i%40, uint64(i)*0x9e3779b97f4a7c15)
	}
	b.WriteString(` or actor.id sw "00u0")`)
	return b.String()
}

func TestLongFilterKeepsLinksShort(t *testing.T) {
	e := newEnv(t, api.Options{Now: func() time.Time { return t0.Add(20 * 24 * time.Hour) }})
	e.add(genEvents(6, 200, t0, 10*24*time.Hour)...)
	f := longFilter(4096)
	if len(f) < 4096 {
		t.Fatal("filter too short")
	}
	for _, mode := range []string{"bounded", "polling"} {
		v := url.Values{"filter": {f}, "limit": {"7"}, "since": {t0.Format(time.RFC3339)}}
		if mode == "bounded" {
			v.Set("until", t0.Add(10*24*time.Hour).Format(time.RFC3339))
		}
		got, pages, _ := e.follow(e.read, "/api/v1/logs?"+v.Encode(), 100)
		if pages < 3 {
			t.Fatalf("%s: only %d pages", mode, pages)
		}
		// Every Link line, the first page's self link included, stays
		// short; the self link of the first page stands for that page.
		next := "/api/v1/logs?" + v.Encode()
		for i := 0; next != "" && i < 50; i++ {
			resp, body := e.get(e.read, next)
			for _, l := range resp.Header.Values("Link") {
				if len(l) >= 1000 {
					t.Fatalf("%s: Link line of %d chars: %.120s…", mode, len(l), l)
				}
			}
			ls := e.linkOrder(resp.Header.Values("Link"))
			if _, again := e.get(e.read, ls["self"]); string(again) != string(body) {
				t.Fatalf("%s page %d: the self link gives another page", mode, i)
			}
			next = ls["next"]
			if mode == "polling" && i > 5 {
				break
			}
		}
		if mode == "bounded" {
			want := e.storeAnswer(store.Query{Filter: mustParse(t, f), Since: t0, Until: t0.Add(10 * 24 * time.Hour), Order: store.ByPublished})
			equalIDs(t, "long filter", got, want)
		}
	}
}

// Clients that repeat their first request's parameters beside after get
// the same page; contradicting ones get a 400.
func TestAfterWithRepeatedParameters(t *testing.T) {
	e := newEnv(t, api.Options{Now: func() time.Time { return t0.Add(20 * 24 * time.Hour) }})
	e.add(genEvents(7, 100, t0, 5*24*time.Hour)...)
	orig := url.Values{"since": {t0.Format(time.RFC3339)}, "until": {t0.Add(5 * 24 * time.Hour).Format(time.RFC3339)},
		"filter": {`outcome.result ne "SUCCESS"`}, "q": {""}, "limit": {"5"}, "sortOrder": {"ASCENDING"}}
	resp, _ := e.get(e.read, "/api/v1/logs?"+orig.Encode())
	next := e.linkOrder(resp.Header.Values("Link"))["next"]
	nu, _ := url.Parse(next)
	after := nu.Query().Get("after")
	_, want := e.get(e.read, next)

	same := func(mod func(url.Values)) url.Values {
		v := url.Values{}
		for k, vs := range orig {
			v[k] = append([]string(nil), vs...)
		}
		v.Set("after", after)
		mod(v)
		return v
	}
	ok := []struct {
		name string
		mod  func(url.Values)
	}{
		{"everything repeated", func(url.Values) {}},
		{"python style: since and after", func(v url.Values) { v.Del("until"); v.Del("filter"); v.Del("q"); v.Del("sortOrder") }},
		{"filter spelled differently", func(v url.Values) { v.Set("filter", `outcome.result  NE "SUCCESS"`) }},
		{"since with an offset", func(v url.Values) { v.Set("since", t0.In(time.FixedZone("x", 3600)).Format(time.RFC3339)) }},
	}
	for _, tc := range ok {
		resp, body := e.get(e.read, "/api/v1/logs?"+same(tc.mod).Encode())
		if resp.StatusCode != 200 || string(body) != string(want) {
			t.Errorf("%s: %d, body differs from the next link's page: %.200s", tc.name, resp.StatusCode, body)
		}
	}
	bad := []struct {
		name, param string
		mod         func(url.Values)
	}{
		{"other filter", "filter", func(v url.Values) { v.Set("filter", `outcome.result eq "SUCCESS"`) }},
		{"other q", "q", func(v url.Values) { v.Set("q", "foo") }},
		{"other since", "since", func(v url.Values) { v.Set("since", t0.Add(time.Hour).Format(time.RFC3339)) }},
		{"other until", "until", func(v url.Values) { v.Set("until", t0.Add(time.Hour).Format(time.RFC3339)) }},
		{"other order", "sortOrder", func(v url.Values) { v.Set("sortOrder", "DESCENDING") }},
	}
	for _, tc := range bad {
		resp, body := e.get(e.read, "/api/v1/logs?"+same(tc.mod).Encode())
		er := wantError(t, resp, body, 400, "E0000001")
		if !strings.Contains(er.ErrorSummary, "'"+tc.param+"'") || !strings.Contains(er.ErrorSummary, "after") {
			t.Errorf("%s: summary %q does not name %s and after", tc.name, er.ErrorSummary, tc.param)
		}
	}
	// A different limit beside after is a different page size, not a
	// contradiction.
	resp, body := e.get(e.read, "/api/v1/logs?"+same(func(v url.Values) { v.Set("limit", "2") }).Encode())
	if resp.StatusCode != 200 || len(e.page(body)) != 2 {
		t.Fatalf("limit beside after: %d %s", resp.StatusCode, body)
	}
}

func TestCursorTamperIsRefused(t *testing.T) {
	e := newEnv(t, api.Options{Now: func() time.Time { return t0.Add(20 * 24 * time.Hour) }})
	e.add(genEvents(8, 30, t0, 24*time.Hour)...)
	resp, _ := e.get(e.read, "/api/v1/logs?limit=5&since="+t0.Format(time.RFC3339)+"&until="+t0.Add(24*time.Hour).Format(time.RFC3339))
	nu, _ := url.Parse(e.linkOrder(resp.Header.Values("Link"))["next"])
	after := nu.Query().Get("after")
	forged := []string{"x", "AAAA", strings.Repeat("A", 60), after[:len(after)-1], after + "A", "1627500044869_1",
		"349996bd-5091-45dc-a39f-d357867a30d7", strings.Repeat("_", 9000)}
	for i := range after {
		// Flip one character at a time.
		c := byte('A')
		if after[i] == 'A' {
			c = 'B'
		}
		forged = append(forged, after[:i]+string(c)+after[i+1:])
	}
	for _, f := range forged {
		resp, body := e.get(e.read, "/api/v1/logs?after="+url.QueryEscape(f))
		er := wantError(t, resp, body, 400, "E0000001")
		if !strings.Contains(er.ErrorSummary, "'after'") {
			t.Fatalf("summary %q", er.ErrorSummary)
		}
	}
	// Still serving, and the real cursor still works.
	if resp, body := e.get(e.read, nu.String()); resp.StatusCode != 200 || len(e.page(body)) != 5 {
		t.Fatalf("after the forgeries: %d %s", resp.StatusCode, body)
	}
}

func TestCursorSurvivesRestart(t *testing.T) {
	e := newEnv(t, api.Options{Now: func() time.Time { return t0.Add(20 * 24 * time.Hour) }})
	e.add(genEvents(9, 30, t0, 24*time.Hour)...)
	resp, _ := e.get(e.read, "/api/v1/logs?limit=5&filter="+url.QueryEscape(longFilter(2000))+"&since="+t0.Format(time.RFC3339)+"&until="+t0.Add(24*time.Hour).Format(time.RFC3339))
	next := e.linkOrder(resp.Header.Values("Link"))["next"]
	_, want := e.get(e.read, next)

	// A second server over the same store and data directory: a restart.
	e2 := &env{t: t, st: e.st, dir: e.dir, read: e.read}
	srv2 := newEnvFrom(t, e2, api.Options{Now: func() time.Time { return t0.Add(20 * 24 * time.Hour) }})
	_ = srv2
	nu, _ := url.Parse(next)
	resp, body := e2.get(e.read, "/api/v1/logs?"+nu.RawQuery)
	if resp.StatusCode != 200 || string(body) != string(want) {
		t.Fatalf("after a restart: %d %.200s", resp.StatusCode, body)
	}
}

func TestLogsParameterErrors(t *testing.T) {
	e := newEnv(t, api.Options{})
	tests := []struct {
		query, code, inSummary string
		causes                 int
	}{
		{"until=yesterday", "E0000001", "'until': The date format in your query is not recognized", 2},
		{"since=2017-13-01T00:00:00Z", "E0000001", "'since': must be a valid date-time or empty.", 2},
		{"limit=1001", "E0000001", "'limit'", 1},
		{"limit=-1", "E0000001", "'limit'", 1},
		{"limit=ten", "E0000001", "'limit'", 1},
		{"sortOrder=UP", "E0000001", "'sortOrder'", 1},
		{"since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "E0000001", "'since': must be earlier than until", 1},
		{"limit=5000&until=x", "E0000001", "'limit'", 3},
		{"filter=" + url.QueryEscape(`display_message eqq "Create okta user"`), "E0000053", "Invalid filter 'display_message eqq \"Create okta user\"': ", 1},
		{"filter=" + url.QueryEscape(`outcome.result gt true`), "E0000031", "", 1},
		{"q=" + strings.Repeat("a", 41), "E0000001", "'q': Freeform search cannot contain items longer than 40 characters", 1},
		{"q=" + url.QueryEscape(strings.Repeat("a ", 11)), "E0000001", "'q'", 1},
		{"filter=" + url.QueryEscape(longFilter(17000)), "E0000001", "'filter': is longer than 16384 bytes", 1},
	}
	for _, tc := range tests {
		resp, body := e.get(e.read, "/api/v1/logs?"+tc.query)
		if resp.StatusCode != 400 {
			t.Errorf("%s: %d %s", tc.query, resp.StatusCode, body)
			continue
		}
		er := wantError(t, resp, body, 400, tc.code)
		if !strings.Contains(er.ErrorSummary, tc.inSummary) {
			t.Errorf("%s: summary %q lacks %q", tc.query, er.ErrorSummary, tc.inSummary)
		}
		if len(er.ErrorCauses) != tc.causes {
			t.Errorf("%s: %d causes, want %d: %+v", tc.query, len(er.ErrorCauses), tc.causes, er.ErrorCauses)
		}
	}
	// Okta's own documented example of a bad until, word for word.
	resp, body := e.get(e.read, "/api/v1/logs?until=foo")
	er := wantError(t, resp, body, 400, "E0000001")
	if want := "Api validation failed: 'until': The date format in your query is not recognized. Please enter dates using ISO8601 string format.. 'until': must be a valid date-time or empty."; er.ErrorSummary != want {
		t.Errorf("summary %q\nwant    %q", er.ErrorSummary, want)
	}
}

func TestDatesAcceptedForms(t *testing.T) {
	e := newEnv(t, api.Options{})
	for _, d := range []string{"2026-11-01T00:00:00Z", "2026-11-01T00:00:00.000Z", "2026-11-01T01:00:00%2B01:00",
		"2026-11-01T01:00:00+01:00" /* unencoded +: arrives as a space */, "2026-10-31T19:00:00-05:00"} {
		resp, body := e.get(e.read, "/api/v1/logs?since="+d+"&until=2026-11-02T00:00:00Z")
		if resp.StatusCode != 200 {
			t.Errorf("since=%s: %d %s", d, resp.StatusCode, body)
		}
	}
}

func TestLimitZeroAndDefault(t *testing.T) {
	e := newEnv(t, api.Options{Now: func() time.Time { return t0.Add(24 * time.Hour) }})
	e.add(genEvents(10, 150, t0, 12*time.Hour)...)
	resp, body := e.get(e.read, "/api/v1/logs?since="+t0.Format(time.RFC3339))
	if n := len(e.page(body)); resp.StatusCode != 200 || n != 100 {
		t.Fatalf("default limit: %d events", n)
	}
	resp, body = e.get(e.read, "/api/v1/logs?limit=0&since="+t0.Format(time.RFC3339))
	if resp.StatusCode != 200 || string(body) != "[]" {
		t.Fatalf("limit=0: %d %s", resp.StatusCode, body)
	}
}

// slowStore blocks every Query until the context ends.
type slowStore struct{ store.Store }

func (slowStore) Query(ctx context.Context, q store.Query) ([]store.Event, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestQueryTimeout(t *testing.T) {
	e := newEnvStore(t, api.Options{QueryTimeout: 50 * time.Millisecond}, func(s store.Store) store.Store { return slowStore{s} })
	resp, body := e.get(e.read, "/api/v1/logs")
	er := wantError(t, resp, body, 500, "E0000009")
	if !strings.Contains(er.ErrorSummary, "took too long") {
		t.Fatalf("summary %q", er.ErrorSummary)
	}
}

func TestConcurrentReaders(t *testing.T) {
	e := newEnv(t, api.Options{Now: func() time.Time { return t0.Add(24 * time.Hour) }})
	e.add(genEvents(11, 200, t0, 12*time.Hour)...)
	want := e.storeAnswer(store.Query{Since: t0, Until: t0.Add(12 * time.Hour), Order: store.ByPublished})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			got, _, _ := e.follow(e.read, "/api/v1/logs?limit=30&since="+t0.Format(time.RFC3339)+"&until="+t0.Add(12*time.Hour).Format(time.RFC3339), 100)
			equalIDs(t, "concurrent", got, want)
		})
	}
	wg.Wait()
}

func TestGzipPages(t *testing.T) {
	e := newEnv(t, api.Options{Gzip: true, Now: func() time.Time { return t0.Add(24 * time.Hour) }})
	e.add(genEvents(80, 50, t0, time.Hour)...)
	q := "/api/v1/logs?limit=50&since=" + t0.Format(time.RFC3339) + "&until=" + t0.Add(time.Hour).Format(time.RFC3339)
	// Go's client asks for gzip itself and unpacks it transparently.
	req, _ := http.NewRequest("GET", e.ts.URL+q, nil)
	req.Header.Set("Authorization", "SSWS "+e.read)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !resp.Uncompressed {
		t.Fatal("a 50-event page was not gzipped for a client that accepts it")
	}
	if n := len(e.page(body)); n != 50 {
		t.Fatalf("%d events", n)
	}
	// Off by default.
	off := newEnv(t, api.Options{Now: func() time.Time { return t0.Add(24 * time.Hour) }})
	off.add(genEvents(80, 50, t0, time.Hour)...)
	req, _ = http.NewRequest("GET", off.ts.URL+q, nil)
	req.Header.Set("Authorization", "SSWS "+off.read)
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Uncompressed {
		t.Fatal("gzipped without Options.Gzip")
	}
	// Without Accept-Encoding (curl's default), plain JSON.
	for _, ae := range []string{"identity", "gzip;q=0", "br"} {
		req, _ = http.NewRequest("GET", e.ts.URL+q, nil)
		req.Header.Set("Authorization", "SSWS "+e.read)
		req.Header.Set("Accept-Encoding", ae)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "" || len(e.page(body)) != 50 {
			t.Fatalf("Accept-Encoding %q: Content-Encoding %q", ae, resp.Header.Get("Content-Encoding"))
		}
	}
}
