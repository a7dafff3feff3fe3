package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/auth/oidctest"
)

// syncBuffer is a bytes.Buffer safe to read while serve writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs runServe with args in-process and returns its base URL
// and a stop function that waits for it to end.
func startServe(t *testing.T, vars map[string]string, args ...string) (string, *syncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, &env{stdin: strings.NewReader(""), stdout: out, stderr: errb,
			getenv: func(k string) string { return vars[k] }}, args)
	}()
	deadline := time.Now().Add(120 * time.Second)
	for {
		if s := out.String(); strings.Contains(s, "serving ") {
			u := strings.Fields(s[strings.Index(s, "serving ")+8:])[0]
			stop := func() error { cancel(); return <-done }
			t.Cleanup(func() { cancel() })
			return strings.TrimSuffix(u, "/"), out, stop
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v\n%s", err, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", errb.String())
		}
	}
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "SSWS "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeFlagsAndEnv(t *testing.T) {
	dir := t.TempDir()
	st := "duckdb:" + filepath.Join(dir, "events.duckdb")
	r := idlog(t, nil, "", "token", "create", "--data-dir", dir, "--name", "t", "--scope", "admin")
	tok := strings.TrimSpace(r.stdout)
	// Settings from IDLOG_* variables; the data dir defaults to the store's.
	base, _, stop := startServe(t, map[string]string{"IDLOG_STORE": st, "IDLOG_ADDR": "127.0.0.1:0", "IDLOG_RATE_LIMIT": "3"})
	if code, _ := get(t, base+"/healthz", ""); code != 200 {
		t.Fatalf("healthz %d", code)
	}
	for i := range 3 {
		if code, body := get(t, base+"/api/v1/logs", tok); code != 200 {
			t.Fatalf("request %d: %d %s", i, code, body)
		}
	}
	if code, _ := get(t, base+"/api/v1/logs", tok); code != 429 {
		t.Fatalf("IDLOG_RATE_LIMIT=3 not applied: %d", code)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cursor.key")); err != nil {
		t.Fatalf("the cursor key is not beside the store: %v", err)
	}

	for _, args := range [][]string{{"--tls-cert", "x.pem"}, {"extra"}, {"--body-limit", "lots"}, {"--nope"}} {
		if r := idlog(t, nil, "", append([]string{"serve"}, args...)...); r.code != 2 {
			t.Errorf("serve %v: code %d %s", args, r.code, r.stderr)
		}
	}
	if r := idlog(t, map[string]string{"IDLOG_QUERY_TIMEOUT": "soon"}, "", "serve"); r.code != 2 || !strings.Contains(r.stderr, "IDLOG_QUERY_TIMEOUT") {
		t.Errorf("bad env: %d %s", r.code, r.stderr)
	}
}

// TestServeOIDCFlags starts serve against a test provider and checks the
// flags' refusals.
func TestServeOIDCFlags(t *testing.T) {
	op := oidctest.New("idlog-cli", "cli-secret")
	defer op.Close()
	dir := t.TempDir()
	env := map[string]string{"OIDC_SECRET": "cli-secret"}
	base, out, stop := startServe(t, env, "--addr", "127.0.0.1:0", "--store", "duckdb:"+filepath.Join(dir, "events.duckdb"),
		"--oidc-issuer", op.Issuer(), "--oidc-client-id", "idlog-cli", "--oidc-client-secret-env", "OIDC_SECRET",
		"--oidc-role-map", "SecOps=analyst,IdentityAdmins=admin")
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), "/signin/callback") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "people sign in with") || !strings.Contains(out.String(), base+"/signin/callback") {
		t.Fatalf("serve output %q", out.String())
	}
	// The sign-in button goes to the provider with PKCE.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(base + "/signin/oidc")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != 303 || !strings.HasPrefix(loc, op.Issuer()+"/authorize?") || !strings.Contains(loc, "code_challenge_method=S256") {
		t.Fatalf("sign-in start: %d %q", resp.StatusCode, loc)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--oidc-issuer", op.Issuer(), "--oidc-client-id", "x"}, nil, "--oidc-role-map"},
		{[]string{"--oidc-issuer", op.Issuer(), "--oidc-role-map", "SecOps=analyst"}, nil, "--oidc-client-id"},
		{[]string{"--oidc-issuer", op.Issuer(), "--oidc-client-id", "x", "--oidc-role-map", "SecOps=root"}, nil, "unknown role"},
		{[]string{"--oidc-issuer", op.Issuer(), "--oidc-client-id", "x", "--oidc-role-map", "SecOps=analyst", "--oidc-client-secret-env", "NOPE"}, nil, "NOPE"},
		{[]string{"--oidc-issuer", "http://example.com", "--oidc-client-id", "x", "--oidc-role-map", "A=viewer"}, nil, "https"},
		{[]string{"--oidc-client-id", "x"}, nil, "--oidc-issuer"},
	} {
		if r := idlog(t, tc.env, "", append([]string{"serve", "--store", "duckdb::memory:"}, tc.args...)...); r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("serve %v: code %d %q, want 2 naming %s", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

func TestByteSizeFlag(t *testing.T) {
	for in, want := range map[string]int64{"256MiB": 256 << 20, "1GiB": 1 << 30, "500MB": 500e6, "1024": 1024, "4K": 4096} {
		var b byteSizeFlag
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("%s: %d %v", in, b, err)
		}
	}
	var b byteSizeFlag
	for _, in := range []string{"", "-1", "0", "1TB", "x"} {
		if b.Set(in) == nil {
			t.Errorf("%q accepted", in)
		}
	}
	var _ flag.Value = &b
}

// TestServeDemo runs the README's command on an empty store: a month of
// generated events, then the same read token again on a second run.
func TestServeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a month of events (about 15 s)")
	}
	dir := t.TempDir()
	args := []string{"--demo", "--addr", "127.0.0.1:0", "--store", "duckdb:" + filepath.Join(dir, "events.duckdb")}
	base, out, stop := startServe(t, nil, args...)
	tok := demoToken(t, out.String())
	code, body := get(t, base+"/api/idlog/v1/stats", tok)
	if code != 200 || strings.Contains(body, `"events":0`) {
		t.Fatalf("stats: %d %s", code, body)
	}
	if !strings.Contains(out.String(), base+"/report/system_log_2") {
		t.Fatalf("no UI URL in %q", out.String())
	}
	// The curl example it prints works.
	code, body = get(t, base+"/api/v1/logs?limit=2&filter=eventType+eq+%22user.session.start%22", tok)
	if code != 200 || strings.Count(body, `"eventType":"user.session.start"`) != 2 {
		t.Fatalf("the printed example: %d %.300s", code, body)
	}
	// A read token: it cannot write.
	req, _ := http.NewRequest("POST", base+"/api/v1/logs", strings.NewReader(""))
	req.Header.Set("Authorization", "SSWS "+tok)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
		t.Fatalf("demo token POST: %v %v", resp, err)
	}
	// The web page: sign in with the token, then the cookie reads the API.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	form := url.Values{"token": {tok}, "next": {"/report/system_log_2"}}
	req, _ = http.NewRequest("POST", base+"/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/report/system_log_2" {
		t.Fatalf("sign-in ended at %d %s", resp.StatusCode, resp.Request.URL)
	}
	resp, err = browser.Get(base + "/api/idlog/v1/count")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the session cookie does not reach the API: %d", resp.StatusCode)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	base2, out2, stop2 := startServe(t, nil, args...)
	if tok2 := demoToken(t, out2.String()); tok2 != tok {
		t.Fatalf("second run printed another token")
	}
	// The page session outlived the server: the same browser (cookies go
	// by host, not port) still reads the API after the restart.
	resp, err = browser.Get(base2 + "/api/idlog/v1/count")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the session did not survive a restart of serve: %d", resp.StatusCode)
	}
	if !strings.Contains(out2.String(), "already holds") {
		t.Fatalf("second run: %q", out2.String())
	}
	stop2()
	list, _ := auth.OpenTokens(dir).List()
	if len(list) != 1 || list[0].Name != "demo" {
		t.Fatalf("tokens %v", list)
	}
}

func demoToken(t *testing.T, out string) string {
	t.Helper()
	const label = "API token (viewer):"
	i := strings.Index(out, label)
	if i < 0 || !strings.Contains(out, "Sign in there with the demo token") {
		t.Fatalf("no token, or no word on how to sign in, in %q", out)
	}
	return strings.Fields(out[i+len(label):])[0]
}

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idlog test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	tok := strings.TrimSpace(idlog(t, nil, "", "token", "create", "--data-dir", dir, "--name", "t", "--scope", "logs.read").stdout)
	base, _, stop := startServe(t, nil, "--addr", "127.0.0.1:0", "--store", "duckdb:"+filepath.Join(dir, "events.duckdb"),
		"--tls-cert", cert, "--tls-key", key)
	defer stop()
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("base URL %q", base)
	}
	pool := x509.NewCertPool()
	b, _ := os.ReadFile(cert)
	pool.AppendCertsFromPEM(b)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest("GET", base+"/api/v1/logs", nil)
	req.Header.Set("Authorization", "SSWS "+tok)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Link"), "<https://") {
		t.Fatalf("%d, Link %q", resp.StatusCode, resp.Header.Get("Link"))
	}
}

// TestServeRetention starts a server with --retention over a store with
// old and new events; the old ones go at start.
func TestServeRetention(t *testing.T) {
	dir := t.TempDir()
	st := "duckdb:" + filepath.Join(dir, "events.duckdb")
	now := time.Now().UTC()
	var body strings.Builder
	for i, age := range []time.Duration{100 * 24 * time.Hour, 50 * 24 * time.Hour, time.Hour} {
		fmt.Fprintf(&body, `{"uuid":"ret-%d","published":%q,"eventType":"user.session.start"}`+"\n", i, now.Add(-age).Format(time.RFC3339Nano))
	}
	if r := idlog(t, nil, body.String(), "import", "--store", st, "-"); r.code != 0 {
		t.Fatalf("import: %s", r.stderr)
	}
	tok := strings.TrimSpace(idlog(t, nil, "", "token", "create", "--data-dir", dir, "--name", "t", "--scope", "logs.read").stdout)
	base, _, stop := startServe(t, nil, "--addr", "127.0.0.1:0", "--store", st, "--retention", "30d")
	defer stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := get(t, base+"/api/idlog/v1/count", tok)
		if body == "{\"count\":1}\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after --retention 30d: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The deletion is in the audit trail, as the server's own action.
	for {
		r := idlog(t, nil, "", "audit", "--data-dir", dir, "--filter", `eventType eq "idlog.log.retention"`)
		if strings.Contains(r.stdout, `"deleted":2`) && strings.Contains(r.stdout, `"type":"System"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no retention record in the audit trail: %q %s", r.stdout, r.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeMountsOktaHook: after 'idlog pull hook-secret', serve answers
// Okta's verification GET on the hook path with the secret, and refuses
// API tokens there.
func TestServeMountsOktaHook(t *testing.T) {
	dir := t.TempDir()
	r := idlog(t, nil, "", "pull", "hook-secret", "--data-dir", dir)
	if r.code != 0 {
		t.Fatalf("hook-secret: %s", r.stderr)
	}
	secret := strings.TrimSpace(r.stdout)
	base, _, stop := startServe(t, nil, "--addr", "127.0.0.1:0", "--store", "duckdb:"+filepath.Join(dir, "events.duckdb"))
	defer stop()
	req, _ := http.NewRequest("GET", base+"/api/idlog/v1/hooks/okta", nil)
	req.Header.Set("Authorization", secret)
	req.Header.Set("X-Okta-Verification-Challenge", "abc123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"verification":"abc123"`) {
		t.Fatalf("verification: %d %s", resp.StatusCode, b)
	}
	req.Header.Set("Authorization", "wrong")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Fatal("a wrong hook secret was accepted")
	}
}

// TestServeThrottleSurvivesRestart: failed sign-ins counted before a
// restart still count after it (the counts are in the data directory).
func TestServeThrottleSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--addr", "127.0.0.1:0", "--store", "duckdb:" + filepath.Join(dir, "events.duckdb"), "--data-dir", dir}
	signIn := func(base string) int {
		t.Helper()
		form := url.Values{"token": {"idl_not-a-token"}, "next": {"/"}}
		req, _ := http.NewRequest(http.MethodPost, base+"/signin", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	base, _, stop := startServe(t, nil, args...)
	for i := 0; i < 10; i++ {
		if code := signIn(base); code != http.StatusUnauthorized {
			t.Fatalf("bad sign-in %d: %d, want 401", i+1, code)
		}
	}
	if code := signIn(base); code != http.StatusTooManyRequests {
		t.Fatalf("the 11th bad sign-in: %d, want 429", code)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	base, _, stop = startServe(t, nil, args...)
	defer stop()
	if code := signIn(base); code != http.StatusTooManyRequests {
		t.Errorf("after a restart a bad sign-in from the same address: %d, want 429 (the counts were lost)", code)
	}
}

// TestServeBuildsFunnelIndexOnDemand: serve does not read every stored
// event into the funnel index when it starts (that costs memory that
// grows with the history, and the start's CPU); the first funnel asked
// starts the build, and the index is then ready.
func TestServeBuildsFunnelIndexOnDemand(t *testing.T) {
	dir := t.TempDir()
	st := "duckdb:" + filepath.Join(dir, "events.duckdb")
	now := time.Now().UTC()
	var body strings.Builder
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&body, `{"uuid":"fi-%d","published":%q,"eventType":"user.session.start","actor":{"id":"u%d","type":"User"},"outcome":{"result":"SUCCESS"}}`+"\n",
			i, now.Add(-time.Duration(20-i)*time.Minute).Format(time.RFC3339Nano), i%3)
	}
	if r := idlog(t, nil, body.String(), "import", "--store", st, "-"); r.code != 0 {
		t.Fatalf("import: %s", r.stderr)
	}
	tok := strings.TrimSpace(idlog(t, nil, "", "token", "create", "--data-dir", dir, "--name", "t", "--scope", "logs.read").stdout)
	base, _, stop := startServe(t, nil, "--addr", "127.0.0.1:0", "--store", st)
	defer stop()
	status := func() (ready, building bool) {
		t.Helper()
		code, b := get(t, base+"/api/idlog/v1/funnels/index", tok)
		if code != http.StatusOK {
			t.Fatalf("funnels/index: %d %s", code, b)
		}
		var s struct{ Ready, Building bool }
		if err := json.Unmarshal([]byte(b), &s); err != nil {
			t.Fatalf("funnels/index: %v: %s", err, b)
		}
		return s.Ready, s.Building
	}
	for _, step := range []struct {
		name string
		ask  bool // ask for a funnel first
		want bool // the index is built or being built afterwards
	}{
		{name: "after the start", ask: false, want: false},
		{name: "a while after the start", ask: false, want: false},
		{name: "after the first funnel", ask: true, want: true},
	} {
		if step.ask {
			q := "flow=signin&since=" + now.Add(-time.Hour).Format(time.RFC3339) + "&until=" + now.Add(time.Minute).Format(time.RFC3339)
			if code, b := get(t, base+"/api/idlog/v1/funnels?"+q, tok); code != http.StatusOK {
				t.Fatalf("%s: funnels: %d %s", step.name, code, b)
			}
		} else {
			time.Sleep(200 * time.Millisecond)
		}
		if !step.want {
			if ready, building := status(); ready || building {
				t.Fatalf("%s: the funnel index is ready=%v building=%v; serve must not build it before a funnel is asked", step.name, ready, building)
			}
			continue
		}
		deadline := time.Now().Add(30 * time.Second)
		for ready, _ := status(); !ready; ready, _ = status() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the funnel index is not ready 30 s after the first funnel", step.name)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
