package ui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idlog/idlog/internal/simulate"
)

// TestShareLinkOutsideHeldRange: the seed's share link has fixed dates in
// 2022; on a store of 2026 events the page says which range the store
// holds and moves there on a click.
func TestShareLinkOutsideHeldRange(t *testing.T) {
	ctx := browserCtx(t)
	end := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	s, err := newServer(simulate.Config{Users: 10, Days: 3, End: end, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	link := seedLink(t, s, "00u_nobody")
	s.signIn(t, ctx, link)
	waitRun(t, ctx, 0)
	var status string
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		status = eval[string](t, ctx, `document.getElementById("list-status").textContent`)
		if strings.Contains(status, "the store holds") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(status, "No events between 2022-08-02 00:00 UTC and 2022-08-09 23:59 UTC: the store holds events from 2026-03-07") {
		t.Fatalf("list status %q does not name the range the store holds", status)
	}
	n := runs(t, ctx)
	do(t, ctx, chromedp.Click(chromedp.CSS("#move-range")))
	waitRun(t, ctx, n)
	q := location(t, ctx).Query()
	if !strings.HasPrefix(q.Get("toTime"), "2026-03-") || !strings.HasPrefix(q.Get("fromTime"), "2026-03-") {
		t.Errorf("after the move the range is %s…%s", q.Get("fromTime"), q.Get("toTime"))
	}
	if q.Get("search") != linkQuery(t, link).Get("search") {
		t.Error("the move changed the search")
	}
	// The link's filter names a user who does not exist: still nothing,
	// but now because of the filter, and the page says only that.
	if st := eval[string](t, ctx, `document.getElementById("list-status").textContent`); st != "No events match." {
		t.Errorf("after the move: %q", st)
	}
	// With a filter that matches, the moved range shows events.
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#search"), `eventType eq "user.session.start"`),
		chromedp.Focus(chromedp.CSS("#search")), pressEnter())
	waitRun(t, ctx, n+1)
	if rows := rowUUIDs(t, ctx); len(rows) == 0 {
		t.Error("the moved range shows no sign-ins")
	}
}
