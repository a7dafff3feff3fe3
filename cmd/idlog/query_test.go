package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/scenario"
)

// simStore imports two simulated days into a fresh store and returns its
// URL and the events in file order (which is published order).
func simStore(t *testing.T) (string, []json.RawMessage) {
	t.Helper()
	data := simulated(t, 2)
	st := tempStore(t)
	if r := idlog(t, nil, string(data), "import", "--store", st, "-"); r.code != 0 {
		t.Fatalf("import: %d %s", r.code, r.stderr)
	}
	var evs []json.RawMessage
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		evs = append(evs, json.RawMessage(l))
	}
	return st, evs
}

// expected runs the reference evaluator over evs: the uuids a query must
// print, in order.
func expected(t *testing.T, evs []json.RawMessage, expr string, since, until time.Time, desc bool, limit int) []string {
	t.Helper()
	var x filter.Expr
	if expr != "" {
		var err error
		if x, err = filter.Parse(expr); err != nil {
			t.Fatal(err)
		}
	}
	var out []string
	for _, raw := range evs {
		var head struct {
			UUID      string    `json:"uuid"`
			Published time.Time `json:"published"`
		}
		json.Unmarshal(raw, &head)
		if head.Published.Before(since) || !head.Published.Before(until) {
			continue
		}
		doc, _ := filter.DecodeJSON(raw)
		if x == nil || filter.Match(x, doc) {
			out = append(out, head.UUID)
		}
	}
	if desc {
		slices.Reverse(out)
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

func uuidsOf(t *testing.T, ndjson string) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(ndjson), "\n") {
		if l == "" {
			continue
		}
		var head struct {
			UUID string `json:"uuid"`
		}
		if err := json.Unmarshal([]byte(l), &head); err != nil {
			t.Fatalf("output line %q: %v", l, err)
		}
		out = append(out, head.UUID)
	}
	return out
}

func TestQueryMatchesReferenceEvaluator(t *testing.T) {
	st, evs := simStore(t)
	var someUser string
	{
		doc, _ := filter.DecodeJSON(evs[len(evs)/2])
		for _, v := range filter.Resolve(doc, filter.Path{"actor", "id"}) {
			someUser = v.(string)
		}
	}
	userScenario, _ := scenario.Lookup("signin-events-user")
	userFilter, _ := userScenario.Expand(someUser)
	// The hour holding the last day's middle event: one the simulator
	// certainly filled, whatever its random stream.
	day := simEnd.Add(-24 * time.Hour)
	for i := len(evs) - 1; i >= 0; i-- {
		var head struct{ Published time.Time }
		json.Unmarshal(evs[i], &head)
		if head.Published.Before(simEnd.Add(-12 * time.Hour)) {
			day = head.Published.Truncate(time.Hour)
			break
		}
	}
	tests := []struct {
		name         string
		args         []string
		expr         string
		since, until time.Time
		desc         bool
		limit        int
	}{
		{name: "filter, all", args: []string{"--filter", `eventType eq "user.session.start"`, "--all"},
			expr: `eventType eq "user.session.start"`, limit: 0},
		{name: "default limit 100", args: []string{}, limit: 100},
		{name: "limit over a page", args: []string{"--limit", "1500"}, limit: 1500},
		{name: "descending", args: []string{"--sort", "DESCENDING", "--limit", "7"}, desc: true, limit: 7},
		{name: "narrow window", args: []string{"--since", day.Format(time.RFC3339), "--until", day.Add(time.Hour).Format(time.RFC3339), "--all"},
			since: day, until: day.Add(time.Hour)},
		{name: "failures", args: []string{"--filter", `outcome.result eq "FAILURE" and not (eventType sw "policy.")`, "--all"},
			expr: `outcome.result eq "FAILURE" and not (eventType sw "policy.")`},
		{name: "seed scenario", args: []string{"--scenario", "signin-events-user", "--user", someUser, "--all"}, expr: userFilter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			since, until := tt.since, tt.until
			if since.IsZero() {
				since, until = simEnd.Add(-72*time.Hour), simEnd
			}
			args := append([]string{"query", "--store", st}, tt.args...)
			if tt.since.IsZero() {
				args = append(args, "--since", "2026-03-07", "--until", "2026-03-10")
			}
			r := idlog(t, nil, "", args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			got := uuidsOf(t, r.stdout)
			want := expected(t, evs, tt.expr, since, until, tt.desc, tt.limit)
			if len(want) == 0 {
				t.Fatal("the reference matches nothing: the test would prove nothing")
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %d events, want %d (first got %v, want %v)", len(got), len(want), got[:min(3, len(got))], want[:min(3, len(want))])
			}
		})
	}
}

func TestQueryOutputs(t *testing.T) {
	st, evs := simStore(t)
	base := []string{"query", "--store", st, "--since", "2026-03-07", "--until", "2026-03-10", "--limit", "3"}
	want := expected(t, evs, "", simEnd.Add(-72*time.Hour), simEnd, false, 3)

	r := idlog(t, nil, "", append(base, "--output", "json")...)
	var arr []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &arr); err != nil || len(arr) != 3 || arr[0]["uuid"] != want[0] {
		t.Errorf("json output %q: %v", r.stdout, err)
	}
	r = idlog(t, nil, "", append(base, "--output", "csv")...)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(rows) != 4 || rows[0][0] != "uuid" || rows[1][0] != want[0] || rows[0][2] != "eventType" || rows[1][2] == "" {
		t.Errorf("csv output %q: %v", r.stdout, err)
	}
	r = idlog(t, nil, "", append(base, "--output", "table")...)
	tl := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(tl) != 4 || !strings.HasPrefix(tl[0], "PUBLISHED") || !strings.HasPrefix(tl[1], "2026-03-0") {
		t.Errorf("table output %q", r.stdout)
	}
	// An empty result is still a JSON array.
	r = idlog(t, nil, "", "query", "--store", st, "--since", "2020-01-01", "--until", "2020-01-02", "--output", "json")
	if strings.TrimSpace(r.stdout) != "[\n]" && strings.TrimSpace(r.stdout) != "[]" {
		if err := json.Unmarshal([]byte(r.stdout), &arr); err != nil || len(arr) != 0 {
			t.Errorf("empty json output %q", r.stdout)
		}
	}
}

func TestQueryErrors(t *testing.T) {
	st := tempStore(t)
	tests := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"--filter", `eventType eqq "x"`}, 2, []string{"idlog query: --filter: line 1, column 11:", "eventType eqq \"x\"\n          ^^^"}},
		{[]string{"--filter", "(eventType eq \"a\" or\n  actor.id eq )"}, 2, []string{"line 2, column"}},
		{[]string{"--q", strings.Repeat("x", 41)}, 2, []string{"longer than 40 characters", "^^^"}},
		{[]string{"--scenario", "nope", "--user", "u"}, 2, []string{`no scenario "nope"`, "signin-events-user"}},
		{[]string{"--scenario", "signin-events-user"}, 2, []string{"needs --user"}},
		{[]string{"--scenario", "signin-events-user", "--ip", "1.2.3.4"}, 2, []string{"takes --user, not --ip"}},
		{[]string{"--scenario", "signin-events-user", "--user", "u", "--filter", "x pr"}, 2, []string{"exclude each other"}},
		{[]string{"--user", "u"}, 2, []string{"go with --scenario"}},
		{[]string{"--since", "-1d", "--until", "-2d"}, 2, []string{"is not before --until"}},
		{[]string{"--since", "last week"}, 2, []string{`time "last week" not understood`}},
		{[]string{"--sort", "up"}, 2, []string{`--sort "up"`}},
		{[]string{"--output", "xml"}, 2, []string{`--output "xml"`}},
		{[]string{"--limit", "0"}, 2, []string{"--limit must be at least 1"}},
		{[]string{"stray"}, 2, []string{`unexpected argument "stray"`}},
	}
	for _, tt := range tests {
		r := idlog(t, nil, "", append([]string{"query", "--store", st}, tt.args...)...)
		if r.code != tt.code {
			t.Errorf("%q: exit %d, want %d (stderr %q)", tt.args, r.code, tt.code, r.stderr)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%q: stderr %q lacks %q", tt.args, r.stderr, w)
			}
		}
	}
	r := idlog(t, nil, "", "query", "-h")
	if r.code != 0 || !strings.Contains(r.stderr, "--scenario signin-events-user") || !strings.Contains(r.stderr, "last 7 days") {
		t.Errorf("query -h: %d %q", r.code, r.stderr)
	}
}
