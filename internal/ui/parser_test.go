package ui_test

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/ui"
)

var errorMarker = regexp.MustCompile(`\s*/\* ERROR "(?:[^"\\]|\\.)*" \*/`)

// parserCases collects filter texts from the filter package's test data:
// the seed's queries (all valid) and the error files (mostly invalid), with
// their ERROR markers removed.
func parserCases(t *testing.T) []string {
	var out []string
	seeds, _ := filepath.Glob("../filter/testdata/seed/*.txt")
	for _, f := range seeds {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	errs, _ := filepath.Glob("../filter/testdata/errors/*.txt")
	for _, f := range errs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range strings.Split(string(b), "\n----\n") {
			out = append(out, strings.TrimSuffix(errorMarker.ReplaceAllString(c, ""), "\n"))
		}
	}
	if len(seeds) == 0 || len(errs) == 0 {
		t.Fatal("no filter test data found in ../filter/testdata")
	}
	return append(out,
		`actor.id eq "x" and (eventType eq "a" or eventType eq "b")`,
		"(actor.id eq \"a\"\nor target.id eq \"b\")",
		`not not actor.id pr`, `NOT (severity GE "INFO")`, `published gt "2026-03-02T00:00:00Z"`,
		`actor.id eq`, `actor.id`, `(`, `()`, `actor.id eq "x")`, `target[type eq "User"]`, `x eq 1`,
		// The extensions Okta's detections use: in lists and array indexes.
		`eventType in ["a", "b"] and target.0.displayName eq "x"`, `eventType IN ["a"]`, `uuid in []`, `uuid in "a"`,
		`uuid in ["a" "b"]`, `uuid in ["a",]`, `uuid in ["a"`, `uuid in [a]`, `uuid eq ["x"]`, `uuid eq "a", uuid pr`,
		`target.01.id pr`, `target.1d pr`, `target.1234567.id pr`, `published in ["x"]`, `foo in ["a"]`,
		`not (target.1.id in ["a", 2, true, null])`,
	)
}

// TestParserMatchesServer checks that the page's JavaScript parser accepts
// exactly what internal/filter accepts, and reports an error at the same
// place with the same message, so the page never refuses a query the
// server would run, nor sends one the server will refuse.
func TestParserMatchesServer(t *testing.T) {
	cases := parserCases(t)
	// The parser module needs no API: serve the assets alone.
	hs := httptest.NewServer(ui.New(auth.OpenSessions(t.TempDir(), nil), quietLogger()))
	defer hs.Close()
	ctx := browserCtx(t)
	do(t, ctx, chromedp.Navigate(hs.URL+"/assets/style.css"))
	type result struct {
		OK       bool   `json:"ok"`
		Pos      int    `json:"pos"`
		Msg      string `json:"msg"`
		Expected string `json:"expected"`
	}
	got := eval[[]result](t, ctx, `import("/assets/filter.js").then(m => `+jsValue(cases)+`.map(src => {
		try { m.parse(src); return {ok: true, pos: 0, msg: "", expected: ""}; }
		catch (e) { return {ok: false, pos: e.pos, msg: e.message, expected: e.expected || ""}; }
	}))`)
	valid := 0
	for i, src := range cases {
		_, err := filter.Parse(src)
		g := got[i]
		if err == nil {
			valid++
			if !g.OK {
				t.Errorf("%q: the server accepts it, the page refuses it: %s at %d", src, g.Msg, g.Pos)
			}
			continue
		}
		var fe *filter.Error
		if !errors.As(err, &fe) {
			t.Fatalf("%q: %v is not a *filter.Error", src, err)
		}
		if g.OK {
			t.Errorf("%q: the server refuses it (%s), the page accepts it", src, fe.Msg)
			continue
		}
		// Positions compare only for ASCII text: the server counts bytes,
		// the page UTF-16 units.
		ascii := len([]rune(src)) == len(src)
		if ascii && g.Pos != int(fe.Pos) {
			t.Errorf("%q: error at %d on the server, %d on the page (%s)", src, fe.Pos, g.Pos, g.Msg)
		}
		if !strings.HasPrefix(fe.Msg, g.Msg) && !strings.HasPrefix(g.Msg, fe.Msg) {
			t.Errorf("%q: messages differ:\n server %s\n page   %s", src, fe.Msg, g.Msg)
		}
		if g.Expected != fe.Expected {
			t.Errorf("%q: expected lists differ: server %q, page %q", src, fe.Expected, g.Expected)
		}
	}
	if valid < 5 || valid == len(cases) {
		t.Fatalf("%d of %d cases are valid; the table should mix both", valid, len(cases))
	}
	t.Logf("%d cases, %d valid", len(cases), valid)
}

func jsValue(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
