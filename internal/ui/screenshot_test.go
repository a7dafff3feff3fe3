package ui_test

import (
	"bytes"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

var update = flag.Bool("update", false, "rewrite the screenshots in docs/screenshots")

// TestScreenshots drives the page through its four views at 1280×800, and
// the list in a 480 px window. It
// always checks that each view renders (a PNG of the right size with the
// view's element present); with -update it also writes the images that the
// README shows.
func TestScreenshots(t *testing.T) {
	s := sharedServer(t)
	ctx := browserCtx(t)
	link := seedLink(t, s, busyUser(t, s))
	s.signIn(t, ctx, link)
	waitRun(t, ctx, 0)
	do(t, ctx, chromedp.EmulateViewport(1280, 800))

	shots := []struct {
		name  string
		setup func(t *testing.T)
		check string // an element the view must show
	}{
		{"list", func(t *testing.T) {}, "#rows tr.ev"},
		{"detail", func(t *testing.T) {
			do(t, ctx, chromedp.Click(chromedp.CSS("#rows tr.ev button.expand")), chromedp.WaitVisible(chromedp.CSS("tr.detail ul.tree")))
			eval[bool](t, ctx, `(document.querySelector("tr.detail").previousElementSibling.scrollIntoView({block: "start"}), true)`)
		}, "tr.detail ul.tree"},
		{"map", func(t *testing.T) {
			n := runs(t, ctx)
			do(t, ctx, chromedp.Click(chromedp.CSS(`input[name="view"][value="map"]`)))
			waitRun(t, ctx, n)
			eval[bool](t, ctx, `new Promise(r => setTimeout(() => r(true), 500))`) // pins come from their own request
			eval[bool](t, ctx, `(window.scrollTo(0, 0), true)`)
		}, "#map-svg .pins ellipse"},
		{"scenarios", func(t *testing.T) {
			n := runs(t, ctx)
			do(t, ctx, chromedp.Click(chromedp.CSS(`input[name="view"][value="list"]`)))
			waitRun(t, ctx, n)
			n = runs(t, ctx)
			eval[bool](t, ctx, `(document.getElementById("scenarios-panel").open = true, true)`)
			do(t, ctx,
				chromedp.WaitVisible(chromedp.CSS(`#scenarios form input[name="user"]`)),
				chromedp.SendKeys(chromedp.CSS(`#scenarios form input[name="user"]`), busyUser(t, s)),
				chromedp.Click(chromedp.CSS(`#scenarios form:has(input[name="user"]) button`)),
			)
			waitRun(t, ctx, n)
			eval[bool](t, ctx, `(window.scrollTo(0, 0), true)`)
		}, "#scenarios form"},
		{"narrow", func(t *testing.T) {
			do(t, ctx, chromedp.EmulateViewport(480, 900))
			eval[bool](t, ctx, `new Promise(r => setTimeout(() => r(true), 300))`)
			if w := eval[[]int](t, ctx, `[document.documentElement.scrollWidth, innerWidth]`); w[0] > w[1] {
				t.Errorf("at 480 px the page is %d px wide: it scrolls sideways", w[0])
			}
		}, "#rows tr.ev td[data-label]"},
	}
	for _, sh := range shots {
		t.Run(sh.name, func(t *testing.T) {
			sh.setup(t)
			if !eval[bool](t, ctx, `!!document.querySelector(`+jsString(sh.check)+`)`) {
				t.Fatalf("the %s view shows no %s", sh.name, sh.check)
			}
			buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(buf))
			if err != nil {
				t.Fatal(err)
			}
			wantW, wantH := 1280, 800
			if sh.name == "narrow" {
				wantW, wantH = 480, 900
			}
			if b := img.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
				t.Errorf("%s screenshot is %v, want %d×%d", sh.name, b, wantW, wantH)
			}
			if *update {
				p := filepath.Join("..", "..", "docs", "screenshots", "system-log-"+sh.name+".png")
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, buf, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
