package ui_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/idlog/idlog/internal/scenario"
)

// seedLink returns the seed document's share link with the org URL and
// the user id put in, and nothing else changed.
func seedLink(t testing.TB, s *server, userID string) string {
	b, err := os.ReadFile("testdata/seed-share-link.txt")
	if err != nil {
		t.Fatal(err)
	}
	// A browser's address bar encodes the spaces the link has after some
	// "+or+"; the protocol's navigate wants them encoded already.
	link := strings.ReplaceAll(strings.TrimSpace(string(b)), " ", "%20")
	// The placeholder "<Okta org URL>" holds a no-break space; replace
	// everything before the path.
	link = s.URL + link[strings.Index(link, "/report/"):]
	return strings.Replace(link, "<userID>", userID, 1)
}

// busyUser finds a user who signed in during the share link's range.
func busyUser(t testing.TB, s *server) string {
	var evs []apiEvent
	s.getAPI(t, "/api/v1/logs", url.Values{"filter": {`eventType eq "user.session.start"`},
		"since": {"2022-08-02T00:00:00Z"}, "until": {"2022-08-09T23:59:59Z"}, "limit": {"1"}}, &evs)
	if len(evs) == 0 {
		t.Fatal("the simulated month has no sign-ins in the share link's range")
	}
	return evs[0].Actor.ID
}

// linkQuery decodes a share link's query the way Okta's page does.
func linkQuery(t testing.TB, link string) url.Values {
	u, err := url.Parse(strings.ReplaceAll(link, " ", "%20"))
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// apiList asks the API what the page should show for a link's state.
func apiList(t testing.TB, s *server, filter, since, until string, limit int) []apiEvent {
	var evs []apiEvent
	q := url.Values{"since": {since}, "until": {until}, "limit": {strconv.Itoa(limit)}, "sortOrder": {"DESCENDING"}}
	if filter != "" {
		q.Set("filter", filter)
	}
	s.getAPI(t, "/api/v1/logs", q, &evs)
	return evs
}

func TestSeedShareLink(t *testing.T) {
	s := sharedServer(t)
	ctx := browserCtx(t)
	link := seedLink(t, s, busyUser(t, s))
	s.signIn(t, ctx, link) // also checks that the page wants a session
	waitRun(t, ctx, 0)

	want := linkQuery(t, link)
	got := location(t, ctx).Query()
	for _, k := range []string{"search", "fromTime", "toTime", "locale", "limit", "view", "topLeftLongitude", "topLeftLatitude", "bottomRightLongitude", "bottomRightLatitude", "mapZoom"} {
		if got.Get(k) != want.Get(k) {
			t.Errorf("after sign-in the address bar has %s=%q, the link had %q", k, got.Get(k), want.Get(k))
		}
	}
	box := eval[struct{ Search, From, To, TZ string }](t, ctx, `({Search: search.value, From: from.value, To: to.value, TZ: tz.value})`)
	if box.Search != want.Get("search") {
		t.Errorf("search box = %q, want the link's query %q", box.Search, want.Get("search"))
	}
	// The range is shown in the link's zone: Toronto is UTC-4 in August.
	// datetime-local drops ":00" seconds from its value.
	if (box.From != "2022-08-01T20:00" && box.From != "2022-08-01T20:00:00") || box.To != "2022-08-09T19:59:59" || box.TZ != "America/Toronto" {
		t.Errorf("range shown as %s…%s in %s, want 2022-08-01T20:00:00…2022-08-09T19:59:59 in America/Toronto", box.From, box.To, box.TZ)
	}
	wantRows := uuids(apiList(t, s, want.Get("search"), want.Get("fromTime"), want.Get("toTime"), 20))
	if len(wantRows) == 0 {
		t.Fatal("the API returns no events for the link; the test would prove nothing")
	}
	if rows := rowUUIDs(t, ctx); !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("the list shows %d events %v,\nthe API returns %d %v", len(rows), rows, len(wantRows), wantRows)
	}
}

func TestClickToFilter(t *testing.T) {
	s := sharedServer(t)
	ctx := browserCtx(t)
	link := seedLink(t, s, busyUser(t, s))
	s.signIn(t, ctx, link)
	waitRun(t, ctx, 0)
	before := location(t, ctx).Query().Get("search")

	// Click the event type of the last row, with Shift for the second case.
	for _, tc := range []struct {
		name   string
		mods   chromedp.Modifier
		clause string
	}{
		{"include", chromedp.ModifierNone, `eventType eq %q`},
		{"exclude", chromedp.ModifierShift, `not (eventType eq %q)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := runs(t, ctx)
			sel := `#rows tr.ev:last-of-type button.v[data-path="eventType"]`
			et := eval[string](t, ctx, `document.querySelector(`+jsString(sel)+`).textContent`)
			clickWith(t, ctx, sel, tc.mods)
			if !ranWithin(t, ctx, n, 5*time.Second) && location(t, ctx).Query().Get("search") == before {
				// The click started nothing and the query is unchanged:
				// on a loaded machine the row can move between reading
				// its position and the click (seen once in CI). Click
				// once more at its new position.
				clickWith(t, ctx, sel, tc.mods)
			}
			waitRun(t, ctx, n)
			q := location(t, ctx).Query()
			search := q.Get("search")
			clause := fmt.Sprintf(tc.clause, et)
			if !strings.HasSuffix(search, " and "+clause) || !strings.Contains(search, before) {
				t.Fatalf("after the click the URL's search is %q, want the old query and %s", search, clause)
			}
			before = search
			if box := eval[string](t, ctx, `search.value`); box != search {
				t.Errorf("search box %q differs from the URL's %q", box, search)
			}
			want := apiList(t, s, search, q.Get("fromTime"), q.Get("toTime"), 20)
			// The click scrolled the list, so the page may already have
			// followed the next link; the first page must match.
			got := rowUUIDs(t, ctx)
			got = got[:min(len(got), 20)]
			if !reflect.DeepEqual(got, uuids(want)) {
				t.Errorf("after the click the list shows %v, the API returns %v", got, uuids(want))
			}
			for _, e := range want {
				if (e.EventType == et) != (tc.mods == chromedp.ModifierNone) {
					t.Errorf("event %s of type %s is in the result of %s", e.UUID, e.EventType, clause)
				}
			}
		})
	}
}

func TestSyntaxErrorSendsNoRequest(t *testing.T) {
	s := sharedServer(t)
	ctx := browserCtx(t)
	s.signIn(t, ctx, s.URL+"/report/system_log_2")
	waitRun(t, ctx, 0)
	time.Sleep(500 * time.Millisecond) // let the counts and histogram settle
	for _, tc := range []struct {
		query string
		pos   int
		msg   string
	}{
		{"actor.id eqq \"x\"", 9, "Unrecognized attribute operator 'eqq'"},
		{"(eventType eq \"a\"\nor eventType eq b)", 34, "Unrecognized value 'b'"},
		{"actor.id eq \"x\" and", 19, "Missing expression after 'and'"},
		{"nosuchfield eq 1", 0, "field is not valid: nosuchfield"},
	} {
		calls := s.apiCalls.Load()
		do(t, ctx,
			chromedp.SetValue(chromedp.CSS("#search"), tc.query),
			chromedp.Focus(chromedp.CSS("#search")),
			pressEnter(),
			chromedp.WaitVisible(chromedp.CSS("#search-error")),
		)
		time.Sleep(300 * time.Millisecond)
		msg := eval[string](t, ctx, `document.getElementById("search-error").textContent`)
		pos := eval[string](t, ctx, `document.getElementById("search-error").dataset.pos || ""`)
		if !strings.Contains(msg, tc.msg) || pos != strconv.Itoa(tc.pos) {
			t.Errorf("%q: error %q at %s, want %q at %d", tc.query, msg, pos, tc.msg, tc.pos)
		}
		if n := s.apiCalls.Load() - calls; n != 0 {
			t.Errorf("%q: the page sent %d API requests for a query with a syntax error", tc.query, n)
		}
	}
}

func TestMapPanRestrictsResults(t *testing.T) {
	s := sharedServer(t)
	ctx := browserCtx(t)
	link := s.URL + "/report/system_log_2?search=&fromTime=2022-08-02T00%3A00%3A00Z&toTime=2022-08-09T23%3A59%3A59Z&locale=UTC&limit=50&view=map&topLeftLongitude=-130&topLeftLatitude=60&bottomRightLongitude=-60&bottomRightLatitude=20&mapZoom=3"
	s.signIn(t, ctx, link)
	waitRun(t, ctx, 0)
	check := func(label string) url.Values {
		q := location(t, ctx).Query()
		box := make([]float64, 4)
		for i, k := range []string{"topLeftLongitude", "topLeftLatitude", "bottomRightLongitude", "bottomRightLatitude"} {
			v, err := strconv.ParseFloat(q.Get(k), 64)
			if err != nil {
				t.Fatalf("%s: URL %s=%q", label, k, q.Get(k))
			}
			box[i] = v
		}
		want := apiList(t, s, "", q.Get("fromTime"), q.Get("toTime"), 1000)
		var in []string
		for _, e := range want {
			g := e.Client.GeographicalContext.Geolocation
			if g != nil && g.Lat <= box[1] && g.Lat >= box[3] && g.Lon >= box[0] && g.Lon <= box[2] {
				in = append(in, e.UUID)
			}
		}
		if len(in) > 50 {
			in = in[:50]
		}
		if len(in) == 0 {
			t.Fatalf("%s: no event in the box %v; the test would prove nothing", label, box)
		}
		// The page's own filter must give the same first page as filtering
		// the API's answer by the box here, so this also checks the
		// generated lat/lon clauses.
		if got := rowUUIDs(t, ctx); !reflect.DeepEqual(got, in) {
			t.Errorf("%s: the map view lists %d events, the box holds %d (first %v vs %v)", label, len(got), len(in), first(got), first(in))
		}
		return q
	}
	q0 := check("initial box")
	n := runs(t, ctx)
	// Drag the map 300 px to the left: the box moves east.
	do(t, ctx, chromedp.ScrollIntoView(chromedp.CSS("#map-svg")))
	rect := eval[[]float64](t, ctx, `(r => [r.left, r.top, r.width, r.height])(document.getElementById("map-svg").getBoundingClientRect())`)
	x, y := rect[0]+rect[2]/2, rect[1]+rect[3]/2
	err := chromedp.Do(ctx,
		chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, x-150, y, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, x-300, y, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseReleased, x-300, y, chromedp.ButtonLeft),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitRun(t, ctx, n)
	q1 := check("after panning")
	l0, _ := strconv.ParseFloat(q0.Get("topLeftLongitude"), 64)
	l1, _ := strconv.ParseFloat(q1.Get("topLeftLongitude"), 64)
	wantShift := 300 * 70 / rect[2]
	if math.Abs(l1-l0-wantShift) > 1 {
		t.Errorf("a 300 px drag on a %.0f px map moved the box from lon %v to %v; want about +%.1f°", rect[2], l0, l1, wantShift)
	}
}

func first(s []string) []string { return s[:min(3, len(s))] }

func TestCSVDownloadMatchesAPI(t *testing.T) {
	s := sharedServer(t)
	ctx := browserCtx(t)
	dir := t.TempDir()
	if err := allowDownloads(ctx, dir); err != nil {
		t.Fatal(err)
	}
	const filter = `eventType sw "user.authentication"`
	link := s.URL + "/report/system_log_2?search=" + url.QueryEscape(filter) + "&fromTime=2022-07-20T00%3A00%3A00Z&toTime=2022-08-09T00%3A00%3A00Z&locale=UTC&limit=20&view=list"
	s.signIn(t, ctx, link)
	waitRun(t, ctx, 0)
	do(t, ctx,
		chromedp.SetValue(chromedp.CSS("#dl-format"), "csv"),
		chromedp.Click(chromedp.CSS("#dl-start")),
		chromedp.WaitReady(chromedp.CSS(`#dl-status[data-done]`)),
	)
	recs := readCSV(t, dir)
	// Every page of the same query, read from the API directly.
	var want []apiEvent
	q := url.Values{"filter": {filter}, "since": {"2022-07-20T00:00:00Z"}, "until": {"2022-08-09T00:00:00Z"}, "limit": {"1000"}, "sortOrder": {"DESCENDING"}}
	next := "/api/v1/logs?" + q.Encode()
	pages := 0
	for next != "" {
		var page []apiEvent
		next = s.getAPI(t, next, nil, &page)
		if len(page) == 0 {
			break
		}
		want = append(want, page...)
		pages++
	}
	if pages < 2 {
		t.Fatalf("the query has %d page(s) of 1000; pick a wider one so the download must follow next links", pages)
	}
	head := recs[0]
	col := func(name string) int {
		i := slices.Index(head, name)
		if i < 0 {
			t.Fatalf("CSV header %v lacks %s", head, name)
		}
		return i
	}
	cu, cp, ct, co, ca := col("uuid"), col("published"), col("eventType"), col("outcome.result"), col("actor.id")
	compare := func(rows [][]string, want []apiEvent) {
		t.Helper()
		if len(rows) != len(want) {
			t.Fatalf("the CSV has %d rows, want %d events", len(rows), len(want))
		}
		for i, e := range want {
			r := rows[i]
			got := [5]string{r[cu], r[cp], r[ct], r[co], r[ca]}
			exp := [5]string{e.UUID, e.Published, e.EventType, e.Outcome.Result, e.Actor.ID}
			if got != exp {
				t.Fatalf("CSV row %d = %v, API event = %v", i, got, exp)
			}
		}
	}
	compare(recs[1:], want)

	// With the cap lowered below the result, the file stops at the cap and
	// the page says so.
	const capped = 1500
	dir2 := t.TempDir()
	if err := allowDownloads(ctx, dir2); err != nil {
		t.Fatal(err)
	}
	eval[bool](t, ctx, `(window.idlogDownloadCap = `+strconv.Itoa(capped)+`, delete document.getElementById("dl-status").dataset.done, true)`)
	do(t, ctx, chromedp.Click(chromedp.CSS("#dl-start")), chromedp.WaitReady(chromedp.CSS(`#dl-status[data-done]`)))
	if msg := eval[string](t, ctx, `document.getElementById("dl-status").textContent`); !strings.Contains(msg, "stop at 1,500") {
		t.Errorf("capped download says %q", msg)
	}
	recs = readCSV(t, dir2)
	compare(recs[1:], want[:capped])
}

// readCSV waits for the one CSV file Chromium writes into dir and parses it.
// Chromium may create the file before it has written it (seen in CI: the file
// was there and empty), so it waits until the file is non-empty, ends with a
// line break and keeps its size across two looks.
func readCSV(t *testing.T, dir string) [][]string {
	t.Helper()
	var (
		files []string
		last  = int64(-1)
	)
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(150 * time.Millisecond) {
		files, _ = filepath.Glob(filepath.Join(dir, "*.csv"))
		if len(files) != 1 {
			continue
		}
		b, err := os.ReadFile(files[0])
		if err != nil || len(b) == 0 || b[len(b)-1] != '\n' {
			continue
		}
		if int64(len(b)) != last {
			last = int64(len(b))
			continue
		}
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			t.Fatalf("%s has no rows, not even a header", files[0])
		}
		return recs
	}
	t.Fatalf("no complete CSV file appeared; files: %v (last size %d)", files, last)
	return nil
}

func TestSignInRequired(t *testing.T) {
	s := sharedServer(t)
	ctx := browserCtx(t)
	// Without a session: the page redirects, and the API refuses the
	// browser's fetches.
	const fetchStatus = `fetch("/api/v1/logs?limit=1").then(r => r.status)`
	do(t, ctx, chromedp.Navigate(s.URL+"/report/system_log_2?search=x"), chromedp.WaitVisible(chromedp.CSS("#token")))
	if status := eval[int](t, ctx, fetchStatus); status != 401 {
		t.Errorf("GET /api/v1/logs from the sign-in page without a session: %d, want 401", status)
	}
	// A wrong token stays on the sign-in page with a message.
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#token"), "not-a-token"),
		chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS(".error")),
	)
	if msg := eval[string](t, ctx, `document.querySelector(".error").textContent`); !strings.Contains(msg, "not valid") {
		t.Errorf("wrong token: message %q", msg)
	}
	// The right token returns to the page asked for, whose fetches now
	// work with the cookie alone.
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#token"), s.token),
		chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("#search")),
	)
	if status := eval[int](t, ctx, fetchStatus); status != 200 {
		t.Errorf("GET /api/v1/logs with the session cookie: %d, want 200", status)
	}
	if q := location(t, ctx).Query(); q.Get("search") != "x" {
		t.Errorf("after sign-in the page lost the link's state: %v", q)
	}
	// Sign out: the session is gone for the page and the API.
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#token")),
	)
	if status := eval[int](t, ctx, fetchStatus); status != 401 {
		t.Errorf("GET /api/v1/logs after sign-out: %d, want 401", status)
	}
}

// TestLoadMoreFollowsNext scrolls to the end of the list and checks that
// the rows appended are the API's next page, reached through its link.
func TestLoadMoreFollowsNext(t *testing.T) {
	s := sharedServer(t)
	ctx := browserCtx(t)
	link := s.URL + "/report/system_log_2?search=&fromTime=2022-08-01T00%3A00%3A00Z&toTime=2022-08-09T00%3A00%3A00Z&locale=UTC&limit=20&view=list&sortOrder=ASCENDING"
	s.signIn(t, ctx, link)
	waitRun(t, ctx, 0)
	eval[bool](t, ctx, `(document.getElementById("sentinel").scrollIntoView(), true)`)
	var got []string
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && len(got) < 40; time.Sleep(100 * time.Millisecond) {
		got = rowUUIDs(t, ctx)
	}
	var want []apiEvent
	q := url.Values{"since": {"2022-08-01T00:00:00Z"}, "until": {"2022-08-09T00:00:00Z"}, "limit": {"20"}, "sortOrder": {"ASCENDING"}}
	next := s.getAPI(t, "/api/v1/logs", q, &want)
	var page2 []apiEvent
	s.getAPI(t, next, nil, &page2)
	want = append(want, page2...)
	if len(got) < 40 || !reflect.DeepEqual(got[:40], uuids(want)) {
		t.Fatalf("after scrolling the list holds %d rows; the first 40 differ from the API's two pages:\n got %v\nwant %v", len(got), first(got), first(uuids(want)))
	}
	if times := eval[[]string](t, ctx, `[...document.querySelectorAll("#rows tr.ev time")].map(e => e.dateTime)`); !slices.IsSorted(times) {
		t.Errorf("oldest-first list is not in order: %v", times[:5])
	}
}

// TestPanelsAndHistogram covers the tools around the query box: attribute
// suggestions, the event type catalog, and dragging across the histogram.
func TestPanelsAndHistogram(t *testing.T) {
	s := sharedServer(t)
	ctx := browserCtx(t)
	link := s.URL + "/report/system_log_2?search=&fromTime=2022-08-01T00%3A00%3A00Z&toTime=2022-08-09T00%3A00%3A00Z&locale=UTC&limit=20&view=list"
	s.signIn(t, ctx, link)
	waitRun(t, ctx, 0)

	t.Run("suggestions", func(t *testing.T) {
		eval[bool](t, ctx, `(search.value = "", true)`)
		do(t, ctx, chromedp.SendKeys(chromedp.CSS("#search"), "actor.al"))
		opts := eval[[]string](t, ctx, `[...document.querySelectorAll("#suggest li")].map(l => l.textContent)`)
		if !slices.Contains(opts, "actor.alternateId") {
			t.Fatalf("typing actor.al suggests %v", opts)
		}
		do(t, ctx, chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.Tab))
		if v := eval[string](t, ctx, `search.value`); v != "actor.alternateId " {
			t.Errorf("after accepting the suggestion the box holds %q", v)
		}
		do(t, ctx, chromedp.SendKeys(chromedp.CSS("#search"), `eq "x" and eventType eq "user.session.st`))
		opts = eval[[]string](t, ctx, `[...document.querySelectorAll("#suggest li")].map(l => l.firstChild.textContent)`)
		if !slices.Equal(opts, []string{"user.session.start"}) {
			t.Errorf("inside an eventType string the suggestions are %v", opts)
		}
	})

	t.Run("event types", func(t *testing.T) {
		n := runs(t, ctx)
		eval[bool](t, ctx, `(document.getElementById("types-panel").open = true, true)`)
		do(t, ctx, chromedp.SendKeys(chromedp.CSS("#types-search"), "session.end"))
		names := eval[[]string](t, ctx, `[...document.querySelectorAll("#types button.type")].map(b => b.textContent)`)
		if !slices.Contains(names, "user.session.end") || slices.Contains(names, "user.session.start") {
			t.Fatalf("searching the catalog for session.end lists %v", names)
		}
		clickWith(t, ctx, `#types button.type`)
		waitRun(t, ctx, n)
		if q := location(t, ctx).Query().Get("search"); q != `eventType eq "`+names[0]+`"` {
			t.Errorf("clicking %s set the query to %q", names[0], q)
		}
	})

	t.Run("facet click", func(t *testing.T) {
		sel := `#facets button.v[data-path="outcome.result"]`
		for end := time.Now().Add(10 * time.Second); !eval[bool](t, ctx, `!!document.querySelector(`+jsString(sel)+`)`); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatal("no outcome counts shown")
			}
		}
		v := eval[string](t, ctx, `document.querySelector(`+jsString(sel)+`).textContent`)
		eval[bool](t, ctx, `(search.value = "", true)`)
		n := runs(t, ctx)
		do(t, ctx, chromedp.Focus(chromedp.CSS("#search")), pressEnter())
		waitRun(t, ctx, n)
		// The counts of this search come after its list; wait for them.
		eval[bool](t, ctx, `new Promise(r => setTimeout(() => r(true), 300))`)
		n = runs(t, ctx)
		for end := time.Now().Add(10 * time.Second); !eval[bool](t, ctx, `!!document.querySelector(`+jsString(sel)+`)`); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatal("no outcome counts shown after the search")
			}
		}
		clickWith(t, ctx, sel)
		waitRun(t, ctx, n)
		if q := location(t, ctx).Query().Get("search"); q != `outcome.result eq "`+v+`"` {
			t.Errorf("clicking the count of %s set the query to %q", v, q)
		}
	})

	t.Run("scenario", func(t *testing.T) {
		sc := scenario.All()
		i := slices.IndexFunc(sc, func(s scenario.Scenario) bool { return s.Param == scenario.ParamUser })
		if i < 0 {
			t.Skip("no user scenario in the catalog")
		}
		user := busyUser(t, s)
		want, err := sc[i].Expand(user)
		if err != nil {
			t.Fatal(err)
		}
		n := runs(t, ctx)
		eval[bool](t, ctx, `(document.getElementById("scenarios-panel").open = true, true)`)
		form := `#scenarios form:nth-of-type(` + strconv.Itoa(i+1) + `)`
		do(t, ctx, chromedp.SendKeys(chromedp.CSS(form+" input"), user))
		clickWith(t, ctx, form+" button")
		waitRun(t, ctx, n)
		q := location(t, ctx).Query()
		if q.Get("search") != want {
			t.Fatalf("scenario %s filled the query with\n%s\nwant\n%s", sc[i].Name, q.Get("search"), want)
		}
		got := rowUUIDs(t, ctx)
		api := uuids(apiList(t, s, want, q.Get("fromTime"), q.Get("toTime"), 20))
		if !reflect.DeepEqual(got[:min(len(got), 20)], api) {
			t.Errorf("scenario list %v, API %v", first(got), first(api))
		}
	})

	t.Run("drag to zoom", func(t *testing.T) {
		n := runs(t, ctx)
		do(t, ctx, chromedp.ScrollIntoView(chromedp.CSS("#hist-svg")))
		r := eval[[]float64](t, ctx, `(r => [r.left, r.top, r.width, r.height])(document.getElementById("hist-svg").getBoundingClientRect())`)
		y := r[1] + r[3]/2
		do(t, ctx,
			chromedp.MouseEvent(chromedp.MousePressed, r[0]+r[2]/4, y, chromedp.ButtonLeft),
			chromedp.MouseEvent(chromedp.MouseMoved, r[0]+r[2]/2, y, chromedp.ButtonLeft),
			chromedp.MouseEvent(chromedp.MouseReleased, r[0]+r[2]*3/4, y, chromedp.ButtonLeft),
		)
		waitRun(t, ctx, n)
		q := location(t, ctx).Query()
		from, err1 := time.Parse(time.RFC3339, q.Get("fromTime"))
		to, err2 := time.Parse(time.RFC3339, q.Get("toTime"))
		if err1 != nil || err2 != nil {
			t.Fatalf("range after the drag: %q…%q", q.Get("fromTime"), q.Get("toTime"))
		}
		// The 8-day range dragged from 1/4 to 3/4: days 2 to 6.
		wantFrom, wantTo := time.Date(2022, 8, 3, 0, 0, 0, 0, time.UTC), time.Date(2022, 8, 7, 0, 0, 0, 0, time.UTC)
		if d := from.Sub(wantFrom).Abs(); d > time.Hour {
			t.Errorf("from %v, want about %v", from, wantFrom)
		}
		if d := to.Sub(wantTo).Abs(); d > time.Hour {
			t.Errorf("to %v, want about %v", to, wantTo)
		}

		// From the keyboard: + halves the range about its middle.
		n = runs(t, ctx)
		eval[bool](t, ctx, `(document.getElementById("hist-svg").focus(), true)`)
		do(t, ctx, chromedp.KeyEvent("+"))
		waitRun(t, ctx, n)
		q = location(t, ctx).Query()
		from2, _ := time.Parse(time.RFC3339, q.Get("fromTime"))
		to2, _ := time.Parse(time.RFC3339, q.Get("toTime"))
		if d := to2.Sub(from2) - to.Sub(from)/2; d.Abs() > 2*time.Second || from2.Sub(from)-to.Sub(from)/4 > 2*time.Second {
			t.Errorf("after +: %v…%v, want the middle half of %v…%v", from2, to2, from, to)
		}
	})
}

// TestControlsAreLabelled checks that every form control has a label a
// screen reader can announce, and that a row opens from the keyboard.
func TestControlsAreLabelled(t *testing.T) {
	s := sharedServer(t)
	ctx := browserCtx(t)
	s.signIn(t, ctx, s.URL+"/report/system_log_2?search=&fromTime=2022-08-01T00%3A00%3A00Z&toTime=2022-08-09T00%3A00%3A00Z&locale=UTC&limit=20&view=list")
	waitRun(t, ctx, 0)
	eval[bool](t, ctx, `(document.querySelectorAll("details").forEach(d => d.open = true), true)`)
	unlabelled := eval[[]string](t, ctx, `[...document.querySelectorAll("input, select, textarea, button")]
		.filter(e => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !(e.textContent || "").trim() && e.type !== "hidden")
		.map(e => e.outerHTML.slice(0, 80))`)
	if len(unlabelled) > 0 {
		t.Errorf("controls without a label: %q", unlabelled)
	}
	// Focus the first row's expander and press Enter.
	eval[bool](t, ctx, `(document.querySelector("#rows tr.ev button.expand").focus(), true)`)
	do(t, ctx, chromedp.KeyEvent(kb.Enter))
	if !eval[bool](t, ctx, `!!document.querySelector("tr.detail ul.tree") && document.querySelector("#rows tr.ev button.expand").getAttribute("aria-expanded") === "true"`) {
		t.Error("Enter on a row's expander did not open the event")
	}
}
