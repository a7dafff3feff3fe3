package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAuditCommand(t *testing.T) {
	dir := t.TempDir()
	if r := idlog(t, nil, "", "token", "create", "--data-dir", dir, "--name", "ci", "--role", "analyst"); r.code != 0 {
		t.Fatalf("create: %s", r.stderr)
	}
	if r := idlog(t, nil, "", "token", "revoke", "--data-dir", dir, "ci"); r.code != 0 {
		t.Fatalf("revoke: %s", r.stderr)
	}
	r := idlog(t, nil, "", "audit", "--data-dir", dir)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 2 {
		t.Fatalf("audit: %d %q %s", r.code, r.stdout, r.stderr)
	}
	var types []string
	for _, l := range lines {
		var ev struct {
			EventType string
			Actor     struct{ ID string }
			Target    []struct{ Type, AlternateID string }
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if !strings.HasPrefix(ev.Actor.ID, "os:") || len(ev.Target) != 1 || ev.Target[0].Type != "Token" || ev.Target[0].AlternateID != "ci" {
			t.Errorf("record %s", l)
		}
		types = append(types, ev.EventType)
	}
	if strings.Join(types, ",") != "idlog.token.create,idlog.token.revoke" {
		t.Fatalf("event types %v", types)
	}
	r = idlog(t, nil, "", "audit", "--data-dir", dir, "--filter", `eventType eq "idlog.token.revoke"`, "--table")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 1 || !strings.Contains(r.stdout, "idlog.token.revoke") {
		t.Fatalf("filtered table: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r := idlog(t, nil, "", "audit", "--data-dir", dir, "--filter", "eventType eq"); r.code != 2 {
		t.Fatalf("bad filter: %d %s", r.code, r.stderr)
	}
}
