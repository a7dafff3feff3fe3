package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func evAt(uuid string, t time.Time) string {
	return fmt.Sprintf(`{"uuid":%q,"published":%q,"eventType":"user.session.start","displayMessage":"User login to Okta"}`, uuid, t.UTC().Format(time.RFC3339Nano))
}

// TestQueryDefaultsToTheLastWeek checks Okta's defaults: until now, since
// seven days before it.
func TestQueryDefaultsToTheLastWeek(t *testing.T) {
	st := tempStore(t)
	now := time.Now()
	in := strings.Join([]string{evAt("old", now.Add(-8*24*time.Hour)), evAt("recent", now.Add(-time.Hour)),
		evAt("week", now.Add(-6*24*time.Hour)), evAt("future", now.Add(time.Hour))}, "\n")
	if r := idlog(t, nil, in, "import", "--store", st, "-"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := idlog(t, nil, "", "query", "--store", st)
	if got := strings.Join(uuidsOf(t, r.stdout), " "); r.code != 0 || got != "week recent" {
		t.Errorf("default query printed %q (exit %d, %s), want week recent", got, r.code, r.stderr)
	}
	r = idlog(t, map[string]string{"IDLOG_STORE": st}, "", "query", "--since", "-2h", "--until", "+2h", "--sort", "descending")
	if got := strings.Join(uuidsOf(t, r.stdout), " "); r.code != 0 || got != "future recent" {
		t.Errorf("relative query printed %q (exit %d, %s), want future recent", got, r.code, r.stderr)
	}
	r = idlog(t, nil, "", "query", "--store", st, "--q", "LOGIN okta", "--since", "-30d", "--until", "+1d")
	if got := len(uuidsOf(t, r.stdout)); r.code != 0 || got != 4 {
		t.Errorf("--q matched %d, want 4 (%s)", got, r.stderr)
	}
	r = idlog(t, nil, "", "query", "--store", st, "--q", "logout", "--since", "-30d", "--until", "+1d")
	if got := len(uuidsOf(t, r.stdout)); r.code != 0 || got != 0 {
		t.Errorf("--q logout matched %d, want 0 (%s)", got, r.stderr)
	}
}

func TestStatsAndPrune(t *testing.T) {
	st := tempStore(t)
	// A store that is not there is reported, not created: a typo in --store
	// must not look like an empty store.
	r := idlog(t, nil, "", "stats", "--store", st)
	if r.code != 1 || !strings.Contains(r.stderr, "there is no store at "+st) {
		t.Fatalf("stats of a missing store: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(strings.TrimPrefix(st, "duckdb:")); !os.IsNotExist(err) {
		t.Fatalf("stats created the store: %v", err)
	}
	if r := idlog(t, nil, "", "import", "--store", st, "-"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r = idlog(t, nil, "", "stats", "--store", st)
	if r.code != 0 || !regexp.MustCompile(`(?m)^events\s+0$`).MatchString(r.stdout) || !strings.Contains(r.stdout, "bytes/event    -") {
		t.Fatalf("empty stats: %d %q %q", r.code, r.stdout, r.stderr)
	}
	d := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var in []string
	for i := range 10 {
		in = append(in, evAt(fmt.Sprint(i), d.Add(time.Duration(i)*24*time.Hour+90*time.Minute)))
	}
	if r := idlog(t, nil, strings.Join(in, "\n"), "import", "--store", st, "-"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r = idlog(t, nil, "", "stats", "--store", st)
	for _, re := range []string{
		`(?m)^events\s+10$`, `(?m)^oldest\s+2026-03-01T01:30:00Z$`, `(?m)^newest\s+2026-03-10T01:30:00Z$`,
		`(?m)^time span\s+9d 0h 0m$`, `(?m)^bytes on disk\s+[\d,]+ \(`, `(?m)^bytes/event\s+[\d,]+$`, `(?m)^max seq\s+10$`,
	} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("stats lacks %s:\n%s", re, r.stdout)
		}
	}
	r = idlog(t, nil, "", "stats", "--store", st, "--json")
	var js struct {
		Events, MaxSeq int64
		Oldest         string
	}
	if err := json.Unmarshal([]byte(r.stdout), &js); err != nil || js.Events != 10 || js.MaxSeq != 10 || js.Oldest != "2026-03-01T01:30:00Z" {
		t.Errorf("stats --json %q: %v", r.stdout, err)
	}

	r = idlog(t, nil, "", "prune", "--store", st, "--before", "2026-03-04")
	if r.code != 0 || r.stdout != "removed 3 events published before 2026-03-04T00:00:00Z\n" {
		t.Fatalf("prune: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = idlog(t, nil, "", "prune", "--store", st, "--before", "2026-03-04")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "removed 0 events") {
		t.Errorf("second prune: %d %q", r.code, r.stdout)
	}
	r = idlog(t, nil, "", "stats", "--store", st)
	if !regexp.MustCompile(`(?m)^events\s+7$`).MatchString(r.stdout) || !regexp.MustCompile(`(?m)^oldest\s+2026-03-04T01:30:00Z$`).MatchString(r.stdout) {
		t.Errorf("stats after prune:\n%s", r.stdout)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"prune", "--store", st}, "--before is required"},
		{[]string{"prune", "--store", st, "--before", "soon"}, `time "soon" not understood`},
		{[]string{"stats", "--store", st, "extra"}, `unexpected argument "extra"`},
		{[]string{"prune", "--store", st, "--before", "2099-01-01"}, "is in the future and would delete every event"},
	} {
		if r := idlog(t, nil, "", tt.args...); r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%q: %d %q, want exit 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
	r = idlog(t, nil, "", "prune", "--store", st, "--before", "+1d", "--force")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "removed 7 events") {
		t.Errorf("forced future prune: %d %q %q", r.code, r.stdout, r.stderr)
	}
}

func TestSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 1500 * time.Millisecond: "1.5s", 5 * time.Minute: "5m", 90 * time.Minute: "1h 30m",
		49*time.Hour + 59*time.Second: "2d 1h 1m",
	} {
		if got := span(d); got != want {
			t.Errorf("span(%v) = %q, want %q", d, got, want)
		}
	}
}
