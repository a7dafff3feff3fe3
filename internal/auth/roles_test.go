package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOldTokensFile reads a tokens.json written before roles (scopes only)
// and checks each token's role.
func TestOldTokensFile(t *testing.T) {
	dir := t.TempDir()
	old := `{
  "tokens": [
    {"id": "tok1", "name": "reader", "scopes": ["logs.read"], "sha256": "` + hashToken("idl_reader") + `", "hint": "idl_read", "created": "2026-01-01T00:00:00Z"},
    {"id": "tok2", "name": "collector", "scopes": ["logs.read", "logs.write"], "sha256": "` + hashToken("idl_collector") + `", "hint": "idl_coll", "created": "2026-01-01T00:00:00Z"},
    {"id": "tok3", "name": "pusher", "scopes": ["logs.write"], "sha256": "` + hashToken("idl_pusher") + `", "hint": "idl_push", "created": "2026-01-01T00:00:00Z"},
    {"id": "tok4", "name": "root", "scopes": ["admin"], "sha256": "` + hashToken("idl_root") + `", "hint": "idl_root", "created": "2026-01-01T00:00:00Z"}
  ]
}`
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	tk := OpenTokens(dir)
	for _, tc := range []struct {
		secret string
		role   Role
		ingest bool
	}{
		{"idl_reader", RoleViewer, false},
		{"idl_collector", RoleViewer, true},
		{"idl_pusher", "", true},
		{"idl_root", RoleAdmin, false},
	} {
		p, err := tk.Lookup(tc.secret)
		if err != nil || p.Role != tc.role || p.Ingest != tc.ingest || p.Kind != "token" {
			t.Errorf("%s: %+v %v, want role %q ingest %v", tc.secret, p, err, tc.role, tc.ingest)
		}
	}
	// A new token next to them is written with a role, and the old ones
	// keep their scopes.
	if _, _, err := tk.Create("analyst", []Role{RoleAnalyst}); err != nil {
		t.Fatal(err)
	}
	list, _ := tk.List()
	if len(list) != 5 || list[0].Scopes[0] != "logs.read" || list[4].Role != RoleAnalyst || list[4].Scopes != nil {
		t.Fatalf("after adding a token: %+v", list)
	}
}

func TestParseRoleMap(t *testing.T) {
	m, err := ParseRoleMap(" SecOps=analyst, IdentityAdmins=admin,Help Desk=viewer ")
	if err != nil || len(m) != 3 || m["Help Desk"] != RoleViewer {
		t.Fatalf("%v %v", m, err)
	}
	if r := m.RoleOf([]string{"Everyone", "Help Desk", "SecOps"}); r != RoleAnalyst {
		t.Errorf("highest role: %q", r)
	}
	if r := m.RoleOf([]string{"secops"}); r != "" {
		t.Errorf("group names are case-sensitive: %q", r)
	}
	for _, bad := range []string{"", "SecOps", "=admin", "SecOps=root", "A=viewer,A=admin"} {
		if _, err := ParseRoleMap(bad); err == nil {
			t.Errorf("ParseRoleMap(%q) accepted", bad)
		}
	}
}

func TestThrottle(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := NewThrottle(3, time.Minute)
	th.SetClock(func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if b, _ := th.Blocked("a"); b {
			t.Fatalf("blocked after %d failures", i)
		}
		th.Fail("a", "acct")
	}
	if b, until := th.Blocked("a"); !b || !until.Equal(now.Add(time.Minute)) {
		t.Fatalf("after 3 failures: %v %v", b, until)
	}
	if b, _ := th.Blocked("b", "acct"); !b {
		t.Fatal("the account is not blocked from another address")
	}
	if b, _ := th.Blocked("b"); b {
		t.Fatal("another address is blocked")
	}
	now = now.Add(61 * time.Second)
	if b, _ := th.Blocked("a", "acct"); b {
		t.Fatal("still blocked after the window")
	}
}

// TestThrottlePersists: a restart (a new Throttle on the same file) keeps
// the counts, drops those whose window has passed, and a damaged file is
// an error rather than a silent fresh start.
func TestThrottlePersists(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	path := filepath.Join(t.TempDir(), ThrottleFile)
	th := NewThrottle(3, time.Minute)
	th.SetClock(clock)
	if err := th.Persist(path); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		th.Fail("addr:a", "acct:x")
	}
	now = now.Add(30 * time.Second)
	th.Fail("addr:b")
	if err := th.Flush(); err != nil {
		t.Fatal(err)
	}

	restarted := NewThrottle(3, time.Minute)
	restarted.SetClock(clock)
	if err := restarted.Persist(path); err != nil {
		t.Fatal(err)
	}
	if b, until := restarted.Blocked("addr:a"); !b || !until.Equal(now.Add(30*time.Second)) {
		t.Errorf("after a restart addr:a: blocked %v until %v, want blocked until the first failure's window ends", b, until)
	}
	// addr:b has one failure; two more block it.
	restarted.Fail("addr:b")
	restarted.Fail("addr:b")
	if b, _ := restarted.Blocked("addr:b"); !b {
		t.Error("addr:b's failure before the restart was not counted")
	}

	// Past the first window: addr:a's entry is not loaded again.
	now = now.Add(45 * time.Second)
	if err := restarted.Flush(); err != nil {
		t.Fatal(err)
	}
	later := NewThrottle(3, time.Minute)
	later.SetClock(clock)
	if err := later.Persist(path); err != nil {
		t.Fatal(err)
	}
	if b, _ := later.Blocked("addr:a", "acct:x"); b {
		t.Error("a count whose window has passed came back")
	}
	if n := len(later.keys); n != 1 {
		t.Errorf("%d keys loaded, want only addr:b's", n)
	}

	// The write after a failure happens by itself.
	auto := filepath.Join(t.TempDir(), ThrottleFile)
	th2 := NewThrottle(3, time.Minute)
	if err := th2.Persist(auto); err != nil {
		t.Fatal(err)
	}
	th2.Fail("addr:c")
	deadline := time.Now().Add(5 * flushDelay)
	for {
		if b, err := os.ReadFile(auto); err == nil && strings.Contains(string(b), "addr:c") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no write after a failure")
		}
		time.Sleep(20 * time.Millisecond)
	}

	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := NewThrottle(3, time.Minute).Persist(path); err == nil {
		t.Error("a damaged throttle file was accepted")
	}
}
