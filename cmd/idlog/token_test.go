package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idlog/idlog/internal/auth"
)

func TestTokenCommands(t *testing.T) {
	dir := t.TempDir()
	r := idlog(t, nil, "", "token", "create", "--data-dir", dir, "--name", "splunk", "--scope", "logs.read,logs.write")
	if r.code != 0 {
		t.Fatalf("create: %d %s", r.code, r.stderr)
	}
	secret := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(secret, auth.TokenPrefix) || strings.Contains(secret, "\n") || !strings.Contains(r.stderr, "only time") {
		t.Fatalf("stdout %q stderr %q", r.stdout, r.stderr)
	}
	p, err := auth.OpenTokens(dir).Lookup(secret)
	if err != nil || !p.Has(auth.ScopeWrite) || p.Has(auth.ScopeAdmin) {
		t.Fatalf("the printed token: %+v %v", p, err)
	}
	// IDLOG_DATA_DIR instead of the flag.
	r = idlog(t, map[string]string{"IDLOG_DATA_DIR": dir}, "", "token", "create", "--name", "ops", "--scope", "admin")
	if r.code != 0 {
		t.Fatalf("create via env: %s", r.stderr)
	}
	r = idlog(t, nil, "", "token", "list", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "splunk") || !strings.Contains(r.stdout, "viewer+ingest") ||
		!strings.Contains(r.stdout, "ops") || strings.Contains(r.stdout, secret) {
		t.Fatalf("list: %d %q", r.code, r.stdout)
	}
	r = idlog(t, nil, "", "token", "revoke", "--data-dir", dir, "splunk")
	if r.code != 0 {
		t.Fatalf("revoke: %s", r.stderr)
	}
	if _, err := auth.OpenTokens(dir).Lookup(secret); err == nil {
		t.Fatal("revoked token still valid")
	}
	b, _ := os.ReadFile(filepath.Join(dir, auth.FileName))
	if strings.Contains(string(b), secret) {
		t.Fatal("tokens file holds a token in the clear")
	}

	bad := []struct {
		args []string
		code int
	}{
		{[]string{"token"}, 2},
		{[]string{"token", "create", "--data-dir", dir}, 2},
		{[]string{"token", "create", "--data-dir", dir, "--name", "x", "--scope", "root"}, 2},
		{[]string{"token", "create", "--data-dir", dir, "--name", "ops"}, 1}, // name taken
		{[]string{"token", "revoke", "--data-dir", dir}, 2},
		{[]string{"token", "revoke", "--data-dir", dir, "nobody"}, 1},
		{[]string{"token", "frobnicate"}, 2},
	}
	for _, tc := range bad {
		if r := idlog(t, nil, "", tc.args...); r.code != tc.code || r.stderr == "" {
			t.Errorf("%v: code %d, want %d; stderr %q", tc.args, r.code, tc.code, r.stderr)
		}
	}
}
