package main

import (
	"strings"
	"testing"
)

// Events carry attacker-chosen text (user agents, login names of failed
// sign-ins): exports must not turn it into spreadsheet formulas or terminal
// escape sequences.
func TestQueryOutputIsSafe(t *testing.T) {
	st := tempStore(t)
	hostile := `{"uuid":"h1","published":"2026-03-02T10:00:00.000Z","eventType":"user.session.start",` +
		`"actor":{"id":"00u1","alternateId":"=HYPERLINK(\"http://evil\",\"x\")"},` +
		`"client":{"ipAddress":"@SUM(1+1)","geographicalContext":{"geolocation":{"lat":43.6,"lon":-79.34}}},` +
		`"displayMessage":"red \u001b[31m title \u001b]0;pwned\u0007 end"}`
	if r := idlog(t, nil, hostile+"\n", "import", "--store", st, "-"); r.code != 0 {
		t.Fatalf("import: %d %s %s", r.code, r.stdout, r.stderr)
	}
	base := []string{"query", "--store", st, "--since", "2026-03-01", "--until", "2026-03-03"}

	r := idlog(t, nil, "", append(base, "--output", "csv")...)
	if r.code != 0 {
		t.Fatalf("csv: %d %s", r.code, r.stderr)
	}
	for _, cell := range strings.Split(strings.ReplaceAll(r.stdout, "\n", ","), ",") {
		c := strings.TrimPrefix(cell, `"`)
		if c != "" && strings.ContainsRune("=@+", rune(c[0])) {
			t.Errorf("csv cell %q starts a formula:\n%s", cell, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, `'=HYPERLINK`) || !strings.Contains(r.stdout, `'@SUM(1+1)`) {
		t.Errorf("csv lost the values instead of neutralising them:\n%s", r.stdout)
	}

	r = idlog(t, nil, "", append(base, "--output", "table")...)
	if r.code != 0 || strings.ContainsAny(r.stdout, "\x1b\x07") {
		t.Errorf("table passes control characters: %q", r.stdout)
	}
	if !strings.Contains(r.stdout, "title") {
		t.Errorf("table lost the message: %q", r.stdout)
	}
}

func TestQuerySaysWhenItStopsAtTheLimit(t *testing.T) {
	st := tempStore(t)
	if r := idlog(t, nil, ev("a")+"\n"+ev("b")+"\n", "import", "--store", st, "-"); r.code != 0 {
		t.Fatalf("import: %s", r.stderr)
	}
	base := []string{"query", "--store", st, "--since", "2026-03-01", "--until", "2026-03-03"}
	if r := idlog(t, nil, "", append(base, "--limit", "1")...); r.code != 0 || !strings.Contains(r.stderr, "stopped at --limit 1") {
		t.Errorf("limit 1 of 2: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := idlog(t, nil, "", append(base, "--limit", "5")...); r.code != 0 || r.stderr != "" {
		t.Errorf("limit 5 of 2: exit %d, stderr %q", r.code, r.stderr)
	}
}
