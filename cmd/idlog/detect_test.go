package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/detect"
)

// TestDetectCommand: idlog detect over a store prints, as NDJSON, the
// alerts the engine raises on the same events in memory (so the store's
// prefilter drops nothing a rule needs), with the fields scripts rely on.
func TestDetectCommand(t *testing.T) {
	st, evs := simStore(t)
	rules, _ := detect.Builtin()
	eng := detect.NewEngine(rules)
	want := map[string]detect.Alert{}
	for _, raw := range evs {
		ev, err := detect.DecodeEvent(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range eng.Process(ev) {
			want[a.ID] = a
		}
	}
	if len(want) == 0 {
		t.Fatal("the simulated days raise no alert: the test says nothing")
	}
	window := []string{"--since", simEnd.AddDate(0, 0, -5).Format(time.RFC3339), "--until", simEnd.Format(time.RFC3339)}
	keysOf := func(rule string) []string {
		var ks []string
		for _, a := range want {
			if rule == "" || a.Rule == rule {
				ks = append(ks, fmt.Sprintf("%s|%s|%d|%s", a.Rule, a.Group, a.Count, a.First.Format(time.RFC3339Nano)))
			}
		}
		slices.Sort(ks)
		return ks
	}
	detectKeys := func(args ...string) []string {
		t.Helper()
		r := idlog(t, nil, "", append(append([]string{"detect", "--quiet"}, args...), window...)...)
		if r.code != 0 {
			t.Fatalf("detect %v: %d %s", args, r.code, r.stderr)
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			for _, k := range []string{"rule", "title", "severity", "group", "first", "last", "count", "uuids"} {
				if _, ok := m[k]; !ok {
					t.Errorf("alert without %s: %s", k, line)
				}
			}
			got = append(got, fmt.Sprintf("%s|%s|%v|%v", m["rule"], m["group"], m["count"], m["first"]))
		}
		slices.Sort(got)
		return got
	}
	if got := detectKeys("--store", st); !slices.Equal(got, keysOf("")) {
		t.Errorf("alerts differ\n got %q\nwant %q", got, keysOf(""))
	}
	// One rule that names its event types: the store is asked for those
	// only (detect.Prefilter), directly and through a server's API.
	var typed string
	for _, r := range rules {
		if detect.Prefilter([]*detect.Rule{r}) != nil && len(keysOf(r.ID)) > 0 {
			typed = r.ID
			break
		}
	}
	if typed == "" {
		t.Fatal("no alert of a rule that names its event types")
	}
	if got := detectKeys("--store", st, "--rule", typed); !slices.Equal(got, keysOf(typed)) {
		t.Errorf("--rule %s: alerts differ\n got %q\nwant %q", typed, got, keysOf(typed))
	}
	url, token, _ := testServer(t)
	if r := idlog(t, map[string]string{"IDLOG_SERVER": url, "IDLOG_TOKEN": token}, string(simulated(t, 2)), "import", "-"); r.code != 0 {
		t.Fatalf("import through the server: %d %s", r.code, r.stderr)
	}
	if got := detectKeys("--server", url, "--token", token, "--rule", typed); !slices.Equal(got, keysOf(typed)) {
		t.Errorf("--server --rule %s: alerts differ\n got %q\nwant %q", typed, got, keysOf(typed))
	}
	r := idlog(t, nil, "", append([]string{"detect", "--store", st, "--quiet", "--rule", "nope"}, window...)...)
	if r.code != 2 || !strings.Contains(r.stderr, `no rule "nope"`) {
		t.Errorf("unknown rule: %d %s", r.code, r.stderr)
	}
}

func TestRulesCommands(t *testing.T) {
	// Sigma correlation rules load with the rules they name.
	corr := filepath.Join("..", "..", "internal", "detect", "testdata", "sigma-correlation")
	if r := idlog(t, nil, "", "rules", "check", filepath.Join(corr, "good")); r.code != 0 || !strings.Contains(r.stdout, "6 rules can run, 0 cannot") {
		t.Errorf("check correlations: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := idlog(t, nil, "", "rules", "check", filepath.Join(corr, "bad")); r.code != 2 || !strings.Contains(r.stdout, "no_group.yml#2: cannot run: sigma correlation: group-by is required") {
		t.Errorf("check refused correlations: %d %q %q", r.code, r.stdout, r.stderr)
	}
	dir := t.TempDir()
	good := "id: t1\ntitle: Token\nseverity: low\nquery: eventType eq \"system.api_token.create\"\n"
	bad := "id: t2\ntitle: Bad\nquery: result eq \"FAILURE\"\n"
	os.WriteFile(filepath.Join(dir, "good.yml"), []byte(good), 0o644)
	r := idlog(t, nil, "", "rules", "check", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "1 rules can run, 0 cannot") {
		t.Errorf("check good: %d %q %q", r.code, r.stdout, r.stderr)
	}
	os.WriteFile(filepath.Join(dir, "bad.yml"), []byte(bad), 0o644)
	r = idlog(t, nil, "", "rules", "check", dir)
	if r.code != 2 || !strings.Contains(r.stdout, "bad.yml: cannot run: query: field is not valid: result") {
		t.Errorf("check bad: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = idlog(t, nil, "", "rules", "list", "--builtin=false", "--rules", dir, "--output", "json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || len(rows) != 1 || rows[0]["id"] != "t1" || rows[0]["kind"] != "filter" {
		t.Errorf("list json: %v %q %q", err, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "bad.yml") {
		t.Errorf("list does not name the refused file: %q", r.stderr)
	}
	r = idlog(t, nil, "", "rules", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "password-spray") || !strings.Contains(r.stdout, "okta-new-api-token-created") {
		t.Errorf("list: %d %q", r.code, r.stdout)
	}
}
