package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/audit"
	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/cursor"
	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/saved"
	"github.com/idlog/idlog/internal/scenario"
	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store/duckdb"
	"github.com/idlog/idlog/internal/ui"
)

const chromiumPath = "/usr/bin/chromium"

// simEnd is where the simulated month ends: just after the range of the
// seed document's share link (2022-08-02 to 2022-08-09), so the link finds
// events without editing its times.
var simEnd = time.Date(2022, 8, 10, 0, 0, 0, 0, time.UTC)

// server is a real idlog API server over an in-memory DuckDB store filled
// by the simulator, with the UI mounted and the page's sessions in its
// authenticator chain, as `idlog serve` wires them.
type server struct {
	*httptest.Server
	token    string // logs.read
	apiCalls atomic.Int64
	events   int
}

var (
	sharedOnce sync.Once
	shared     *server
	sharedErr  error
)

// sharedServer starts one server for all browser tests: filling the store
// is the slow part.
func sharedServer(t testing.TB) *server {
	t.Helper()
	sharedOnce.Do(func() {
		shared, sharedErr = newServer(simulate.Config{Users: 60, Days: 30, End: simEnd, Seed: 7, Attacks: true})
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

func newServer(cfg simulate.Config) (*server, error) {
	ctx := context.Background()
	st, err := duckdb.Open("")
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		g := simulate.New(cfg)
		pw.CloseWithError(g.Run(func(raw []byte) error {
			if _, err := pw.Write(raw); err != nil {
				return err
			}
			_, err := pw.Write([]byte{'\n'})
			return err
		}))
	}()
	res, err := ingest.New(st, ingest.Options{}).Ingest(ctx, pr, nil)
	if err != nil {
		return nil, err
	}
	if res.RejectedCount > 0 {
		return nil, fmt.Errorf("simulator output rejected: %+v", res.Rejected)
	}
	dir, err := os.MkdirTemp("", "idlog-ui-test")
	if err != nil {
		return nil, err
	}
	tokens := auth.OpenTokens(dir)
	// An analyst: the browser tests download, which needs that role.
	secret, _, err := tokens.Create("ui-test", []auth.Role{auth.RoleAnalyst})
	if err != nil {
		return nil, err
	}
	codec, err := cursor.NewCodec([]byte(strings.Repeat("k", 32)), nil)
	if err != nil {
		return nil, err
	}
	sessions := auth.OpenSessions(dir, tokens)
	srv, err := api.New(st, api.Options{
		Authenticator: auth.Chain{tokens, sessions},
		Cursors:       codec,
		Scenarios:     testScenarios,
		Logger:        quietLogger(),
		Audit:         audit.Open(dir),
		Searches:      saved.Open(dir),
	})
	if err != nil {
		return nil, err
	}
	ui.New(sessions, quietLogger()).Mount(srv)
	s := &server{token: secret, events: res.Accepted}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			s.apiCalls.Add(1)
		}
		srv.ServeHTTP(w, r)
	}))
	return s, nil
}

// testScenarios are the catalog `idlog serve` offers.
var testScenarios = func() []api.Scenario {
	var out []api.Scenario
	for _, s := range scenario.All() {
		out = append(out, api.Scenario{Name: s.Name, Title: s.Title, Description: s.Description, Param: s.Param, Flow: s.Flow, Template: s.Template})
	}
	return out
}()

// getAPI calls the API with the read token and decodes the JSON answer;
// it returns the rel="next" link too.
func (s *server) getAPI(t testing.TB, path string, q url.Values, out any) (next string) {
	t.Helper()
	u := path
	if !strings.HasPrefix(u, "http") {
		u = s.URL + path
	}
	if q != nil {
		u += "?" + q.Encode()
	}
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "SSWS "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	for _, l := range resp.Header.Values("Link") {
		if strings.HasSuffix(l, `rel="next"`) {
			next = strings.TrimSuffix(strings.TrimPrefix(strings.Split(l, ">")[0], "<"), ">")
		}
	}
	return next
}

type apiEvent struct {
	UUID      string `json:"uuid"`
	Published string `json:"published"`
	EventType string `json:"eventType"`
	Actor     struct {
		ID string `json:"id"`
	} `json:"actor"`
	Outcome struct {
		Result string `json:"result"`
	} `json:"outcome"`
	Client struct {
		GeographicalContext struct {
			Geolocation *struct{ Lat, Lon float64 } `json:"geolocation"`
		} `json:"geographicalContext"`
	} `json:"client"`
	AuthenticationContext struct {
		ExternalSessionID string `json:"externalSessionId"`
	} `json:"authenticationContext"`
}

func uuids(evs []apiEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.UUID
	}
	return out
}

// browserCtx starts a headless Chromium with the flags CI uses, or skips.
func browserCtx(t testing.TB) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser tests need Chromium at %s (Debian: apt-get install chromium): %v", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// signIn opens target, which must land on the sign-in page, and signs in.
func (s *server) signIn(t testing.TB, ctx context.Context, target string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(target), chromedp.WaitVisible(chromedp.CSS("#token")))
	if loc := location(t, ctx); loc.Path != "/signin" || loc.Query().Get("next") == "" {
		t.Fatalf("opening %s without a session landed on %s, want the sign-in page", target, loc)
	}
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#token"), s.token),
		chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("#search")),
	)
}

// waitIdle waits until the page has painted its first page of results
// after run number > runs, and the list is not loading.
func waitRun(t testing.TB, ctx context.Context, after int) {
	t.Helper()
	if !ranWithin(t, ctx, after, 60*time.Second) {
		t.Fatalf("the page did not finish a search (runs > %d) in time", after)
	}
}

// ranWithin reports whether the page finished a search (runs > after)
// within d.
func ranWithin(t testing.TB, ctx context.Context, after int, d time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		st := eval[struct {
			Runs   int    `json:"runs"`
			Status string `json:"status"`
		}](t, ctx, `({runs: window.idlogPerf ? idlogPerf.runs : 0, status: document.getElementById("list-status").textContent})`)
		if st.Runs > after && st.Status != "Loading…" {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func runs(t testing.TB, ctx context.Context) int {
	return eval[int](t, ctx, `window.idlogPerf ? idlogPerf.runs : 0`)
}

func rowUUIDs(t testing.TB, ctx context.Context) []string {
	return eval[[]string](t, ctx, `[...document.querySelectorAll("#rows tr.ev")].map(r => r.dataset.uuid)`)
}

// eval evaluates JavaScript in the page (awaiting a promise) and decodes
// the result.
func eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// do runs browser actions and fails the test on error.
func do(t testing.TB, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func location(t testing.TB, ctx context.Context) *url.URL {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func allowDownloads(ctx context.Context, dir string) error {
	_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir})
	return err
}

// clickWith clicks the first element matching sel with modifier keys held.
func clickWith(t testing.TB, ctx context.Context, sel string, mods ...chromedp.Modifier) {
	t.Helper()
	do(t, ctx, chromedp.ScrollIntoView(chromedp.CSS(sel)))
	xy := eval[[]float64](t, ctx, `(r => [r.left + r.width / 2, r.top + r.height / 2])(document.querySelector(`+jsString(sel)+`).getBoundingClientRect())`)
	do(t, ctx, chromedp.MouseClickXY(xy[0], xy[1], chromedp.ButtonModifiers(mods...)))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// pressEnter sends Enter as a key press without the separate "char" event
// that chromedp.KeyEvent adds: the protocol inserts that character even when
// the page cancels the keydown, which a real keyboard does not.
func pressEnter() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}); err != nil {
				return err
			}
		}
		return nil
	})
}
