package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header, token string
		ok            bool
	}{
		{"", "", true},
		{"SSWS idl_abc", "idl_abc", true},
		{"SSWSidl_abc", "idl_abc", true}, // Okta's Python SDK
		{"ssws   idl_abc  ", "idl_abc", true},
		{"Bearer idl_abc", "idl_abc", true},
		{"bearer idl_abc", "idl_abc", true},
		{"Bearer\tidl_abc", "idl_abc", true},
		{"Beareridl_abc", "", false},
		{"SSWS", "", false},
		{"SSWS ", "", false},
		{"Basic dXNlcjpwYXNz", "", false},
		{"idl_abc", "", false},
		{"SSWS a b", "", false},
	}
	for _, tc := range tests {
		tok, ok := BearerToken(tc.header)
		if tok != tc.token || ok != tc.ok {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tc.header, tok, ok, tc.token, tc.ok)
		}
	}
}

func TestTokensFile(t *testing.T) {
	dir := t.TempDir()
	tk := OpenTokens(dir)
	secret, tok, err := tk.Create("collector", []Scope{ScopeRead, ScopeWrite})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) < len(TokenPrefix)+32 {
		t.Fatalf("token %q is not an idl_ token with ≥128 random bits", secret)
	}
	b, _ := os.ReadFile(tk.Path())
	if strings.Contains(string(b), secret) || strings.Contains(string(b), secret[len(TokenPrefix)+4:]) {
		t.Fatal("the tokens file holds the token in the clear")
	}
	var f tokenFile
	if err := json.Unmarshal(b, &f); err != nil || len(f.Tokens) != 1 || f.Tokens[0].Hash != hashToken(secret) {
		t.Fatalf("file %s: %v", b, err)
	}
	if _, _, err := tk.Create("collector", []Scope{ScopeRead}); err == nil {
		t.Fatal("a duplicate name was accepted")
	}
	if _, _, err := tk.Create(" ", []Scope{ScopeRead}); err == nil {
		t.Fatal("an empty name was accepted")
	}
	p, err := tk.Lookup(secret)
	if err != nil || p.ID != tok.ID || !p.Has(ScopeWrite) || p.Has(ScopeAdmin) {
		t.Fatalf("lookup: %+v %v", p, err)
	}
	if _, err := tk.Lookup(secret + "x"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("wrong token: %v", err)
	}
	// Another process (the CLI) creates a token: the running reader sees it.
	other := OpenTokens(dir)
	s2, _, err := other.Create("admin", []Scope{ScopeAdmin})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if p, err := tk.Lookup(s2); err != nil || !p.Has(ScopeRead) || !p.Has(ScopeWrite) {
		t.Fatalf("admin token from another writer: %+v %v (admin implies every scope)", p, err)
	}
	list, _ := tk.List()
	if len(list) != 2 {
		t.Fatalf("list: %v", list)
	}
	if _, err := other.Revoke("collector"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := tk.Lookup(secret); !errors.Is(err, ErrInvalid) {
		t.Fatalf("revoked token: %v", err)
	}
	if _, err := tk.Revoke("nope"); err == nil {
		t.Fatal("revoking an unknown token succeeded")
	}
	if _, err := ParseScope("logs.delete"); err == nil {
		t.Fatal("unknown scope accepted")
	}
}

type fixed struct {
	p   *Principal
	err error
}

func (f fixed) Authenticate(*http.Request) (*Principal, error) { return f.p, f.err }

func TestChain(t *testing.T) {
	cookie := &Principal{ID: "session"}
	r, _ := http.NewRequest("GET", "/", nil)
	tests := []struct {
		chain Chain
		want  *Principal
		err   error
	}{
		{Chain{}, nil, ErrNoCredentials},
		{Chain{fixed{nil, ErrNoCredentials}, fixed{cookie, nil}}, cookie, nil},
		{Chain{fixed{nil, ErrInvalid}, fixed{cookie, nil}}, nil, ErrInvalid},
		{Chain{fixed{nil, ErrNoCredentials}, fixed{nil, ErrNoCredentials}}, nil, ErrNoCredentials},
	}
	for i, tc := range tests {
		p, err := tc.chain.Authenticate(r)
		if p != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("case %d: %v %v", i, p, err)
		}
	}
}

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 10, 0, 30, 0, time.UTC)
	l := NewLimiter(3)
	l.now = func() time.Time { return now }
	for i := range 3 {
		d := l.Allow("a")
		if !d.OK || d.Remaining != 2-i || d.Limit != 3 || !d.Reset.Equal(time.Date(2026, 1, 1, 10, 1, 0, 0, time.UTC)) {
			t.Fatalf("request %d: %+v", i, d)
		}
	}
	if d := l.Allow("a"); d.OK || d.Remaining != 0 {
		t.Fatalf("4th request: %+v", d)
	}
	if d := l.Allow("b"); !d.OK {
		t.Fatal("another caller is limited")
	}
	now = now.Add(31 * time.Second)
	if d := l.Allow("a"); !d.OK || d.Remaining != 2 {
		t.Fatalf("next minute: %+v", d)
	}
	if d := NewLimiter(0).Allow("a"); !d.OK {
		t.Fatal("limit 0 limits")
	}
}

// Concurrent creators (separate Tokens values, as separate processes
// would be) must not lose each other's tokens.
func TestConcurrentCreate(t *testing.T) {
	dir := t.TempDir()
	const n = 20
	var wg sync.WaitGroup
	secrets := make([]string, n)
	for i := range n {
		wg.Go(func() {
			s, _, err := OpenTokens(dir).Create(fmt.Sprintf("t%d", i), []Scope{ScopeRead})
			if err != nil {
				t.Error(err)
			}
			secrets[i] = s
		})
	}
	wg.Wait()
	tk := OpenTokens(dir)
	for i, s := range secrets {
		if _, err := tk.Lookup(s); err != nil {
			t.Fatalf("token %d was lost: %v", i, err)
		}
	}
	if _, err := os.Stat(tk.Path() + ".lock"); !os.IsNotExist(err) {
		t.Fatalf("lock file left behind: %v", err)
	}
}
