package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/duckdb/duckdbtest"
)

// crashedMirror copies the store damaged by crashes and returns its store
// URL.
func crashedMirror(t *testing.T) string { return "duckdb:" + duckdbtest.CrashedMirror(t) }

// TestCheckCrashedMirror: 'idlog check' reports the damage of the store as
// found and changes nothing; --repair mends it; then it is clean.
func TestCheckCrashedMirror(t *testing.T) {
	st := crashedMirror(t)
	for i := 0; i < 2; i++ { // twice: the first check must not have repaired it
		r := idlog(t, nil, "", "check", "--store", st)
		if r.code != 1 || !strings.Contains(r.stdout, "seq index  DAMAGED  4000 of 4000 rows are not found") ||
			!strings.Contains(r.stderr, "idlog check --repair") {
			t.Fatalf("check %d: exit %d\n%s%s", i, r.code, r.stdout, r.stderr)
		}
	}
	r := idlog(t, nil, "", "check", "--repair", "--store", st)
	if r.code != 0 || !strings.Contains(r.stdout, "REPAIRED") {
		t.Fatalf("check --repair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = idlog(t, nil, "", "check", "--store", st, "--json")
	var rep store.CheckReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || rep.Damaged() || len(rep.Findings) != 4 {
		t.Fatalf("check after repair: exit %d (%v)\n%s%s", r.code, err, r.stdout, r.stderr)
	}
}

// TestQueryCrashedMirror: the damaged store answers every event on its
// first open, as whole pages of any size.
func TestQueryCrashedMirror(t *testing.T) {
	st := crashedMirror(t)
	r := idlog(t, nil, "", "query", "--store", st, "--since", "2000-01-01T00:00:00Z", "--until", "2030-01-01T00:00:00Z", "--all", "--output", "ndjson")
	if r.code != 0 {
		t.Fatalf("query --all: exit %d: %s", r.code, r.stderr)
	}
	if n := strings.Count(r.stdout, "\n"); n != 4000 {
		t.Fatalf("query --all printed %d events, want 4000", n)
	}
	for _, limit := range []string{"14", "15", "1000"} {
		r := idlog(t, nil, "", "query", "--store", st, "--since", "2000-01-01T00:00:00Z", "--until", "2030-01-01T00:00:00Z", "--limit", limit, "--output", "ndjson")
		if got := strings.Count(r.stdout, "\n"); strconv.Itoa(got) != limit {
			t.Errorf("--limit %s printed %d events", limit, got)
		}
	}
}

// TestAPICrashedMirror: a server on the damaged store answers all of it
// through API paging, at any page size, in both modes.
func TestAPICrashedMirror(t *testing.T) {
	bin := buildIdlog(t)
	st := crashedMirror(t)
	dataDir := filepath.Dir(strings.TrimPrefix(st, "duckdb:"))
	out, err := exec.Command(bin, "token", "create", "--data-dir", dataDir, "--name", "t", "--role", "viewer").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	token := strings.TrimSpace(string(out))
	srv := startCrashServer(t, bin, st, dataDir)
	defer srv.kill()
	base := srv.url + "/api/v1/logs?since=2000-01-01T00:00:00Z"
	for _, tc := range []struct{ query string }{
		{"&until=2026-12-08T00:00:00Z&limit=1000"},
		{"&until=2026-12-08T00:00:00Z&limit=5"},
		{"&until=2026-12-08T00:00:00Z&limit=15&sortOrder=DESCENDING"},
		{"&limit=7"},    // polling
		{"&limit=1000"}, // polling
	} {
		got := follow(t, base+tc.query, token)
		seen := map[string]bool{}
		for _, id := range got {
			seen[id] = true
		}
		if len(got) != 4000 || len(seen) != 4000 {
			t.Errorf("%s: %d events (%d distinct), want 4000", tc.query, len(got), len(seen))
		}
	}
}
