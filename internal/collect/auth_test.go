package collect

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTokenEndpoint checks client assertions the way Okta's
// /oauth2/v1/token does for a private_key_jwt service app.
type fakeTokenEndpoint struct {
	t        *testing.T
	pub      *rsa.PublicKey
	clientID string
	url      string
	refuse   bool

	// dpop makes the app require DPoP proofs with the nonce "n-1", as a
	// new Okta API service app does.
	dpop bool

	mu     sync.Mutex
	issued int
	jtis   map[string]bool
	boundX string // the DPoP key the last token is bound to
}

// verifyProof checks a DPoP proof's signature against the key in its own
// header and returns its claims and that key's x coordinate.
func verifyProof(proof string) (map[string]any, string, error) {
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		return nil, "", errors.New("DPoP proof is not a JWT")
	}
	var hdr struct {
		Typ, Alg string
		JWK      struct{ Kty, Crv, X, Y string }
	}
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(hb, &hdr); err != nil || hdr.Typ != "dpop+jwt" || hdr.Alg != "ES256" || hdr.JWK.Crv != "P-256" {
		return nil, "", fmt.Errorf("DPoP header %s", hb)
	}
	x, _ := base64.RawURLEncoding.DecodeString(hdr.JWK.X)
	y, _ := base64.RawURLEncoding.DecodeString(hdr.JWK.Y)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		return nil, "", err
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(pub, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return nil, "", errors.New("DPoP proof signature does not verify")
	}
	var claims map[string]any
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(cb, &claims); err != nil {
		return nil, "", err
	}
	return claims, hdr.JWK.X, nil
}

func (f *fakeTokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(code, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":%q,"error_description":%q}`, code, desc)
	}
	if f.refuse {
		fail("invalid_client", "The client_assertion signature is invalid.")
		return
	}
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		fail("invalid_request", "bad form")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("scope") != "okta.logs.read" ||
		r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		fail("invalid_request", "form "+r.PostForm.Encode())
		return
	}
	parts := strings.Split(r.PostForm.Get("client_assertion"), ".")
	if len(parts) != 3 {
		fail("invalid_client", "not a JWT")
		return
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(f.pub, crypto.SHA256, sum[:], sig); err != nil {
		fail("invalid_client", "signature: "+err.Error())
		return
	}
	var hdr struct{ Alg, Kid string }
	var cl struct {
		Iss, Sub, Aud, Jti string
		Iat, Exp           int64
	}
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &cl) != nil {
		fail("invalid_client", "undecodable JWT")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	tokenType, boundX := "Bearer", ""
	if f.dpop {
		proof := r.Header.Get("DPoP")
		if proof == "" {
			fail("invalid_dpop_proof", "The DPoP proof JWT header is missing.")
			return
		}
		claims, x, err := verifyProof(proof)
		if err != nil || claims["htm"] != "POST" || claims["htu"] != f.url {
			fail("invalid_dpop_proof", fmt.Sprintf("%v %v", err, claims))
			return
		}
		if claims["nonce"] != "n-1" {
			w.Header().Set("DPoP-Nonce", "n-1")
			fail("use_dpop_nonce", "Authorization server requires nonce in DPoP proof.")
			return
		}
		tokenType, boundX = "DPoP", x
	}
	switch {
	case hdr.Alg != "RS256" || hdr.Kid != "kid-1":
		fail("invalid_client", fmt.Sprintf("header %+v", hdr))
	case cl.Iss != f.clientID || cl.Sub != f.clientID || cl.Aud != f.url:
		fail("invalid_client", fmt.Sprintf("claims %+v", cl))
	case cl.Exp <= cl.Iat || cl.Exp-cl.Iat > 3600:
		fail("invalid_client", "lifetime")
	case cl.Jti == "" || f.jtis[cl.Jti]:
		fail("invalid_client", "jti replayed")
	default:
		f.jtis[cl.Jti] = true
		f.issued++
		f.boundX = boundX
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"token_type":%q,"expires_in":3600,"access_token":"at-%d","scope":"okta.logs.read"}`, tokenType, f.issued)
	}
}

func TestOAuth(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	fe := &fakeTokenEndpoint{t: t, pub: &key.PublicKey, clientID: "0oa1client", jtis: map[string]bool{}}
	ts := httptest.NewServer(fe)
	defer ts.Close()
	fe.url = ts.URL + "/oauth2/v1/token"
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	o := &OAuth{TokenURL: fe.url, ClientID: fe.clientID, Key: key, KeyID: "kid-1", Now: func() time.Time { return now }}

	bearer := func() string {
		t.Helper()
		r, _ := http.NewRequest("GET", "https://x/api/v1/logs", nil)
		if err := o.Authorize(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		return r.Header.Get("Authorization")
	}
	if got := bearer(); got != "Bearer at-1" {
		t.Fatalf("first: %q", got)
	}
	now = now.Add(50 * time.Minute)
	if got := bearer(); got != "Bearer at-1" {
		t.Errorf("within the hour the token is reused; got %q", got)
	}
	now = now.Add(9*time.Minute + 30*time.Second) // within a minute of expiry
	if got := bearer(); got != "Bearer at-2" {
		t.Errorf("near expiry a new token is fetched; got %q", got)
	}
	o.Invalidate()
	if got := bearer(); got != "Bearer at-3" {
		t.Errorf("after Invalidate a new token is fetched; got %q", got)
	}

	fe.refuse = true
	o.Invalidate()
	r, _ := http.NewRequest("GET", "https://x/", nil)
	err = o.Authorize(context.Background(), r)
	var te *TokenError
	if !errors.As(err, &te) || !te.Permanent() || te.Code != "invalid_client" {
		t.Errorf("refusal: %v", err)
	}
}

// TestOAuthCollector: a collector with the OAuth authorizer pulls a page
// from a resource server that accepts only the issued token, as a Bearer
// token or, for an app that requires DPoP, with a proof of the bound key.
func TestOAuthCollector(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, dpop := range []bool{false, true} {
		t.Run(fmt.Sprintf("dpop=%v", dpop), func(t *testing.T) { testOAuthCollector(t, key, dpop) })
	}
}

func testOAuthCollector(t *testing.T, key *rsa.PrivateKey, dpop bool) {
	fe := &fakeTokenEndpoint{t: t, pub: &key.PublicKey, clientID: "0oa1client", jtis: map[string]bool{}, dpop: dpop}
	mux := http.NewServeMux()
	mux.Handle("POST /oauth2/v1/token", fe)
	served := 0
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mux.HandleFunc("GET /api/v1/logs", func(w http.ResponseWriter, r *http.Request) {
		ok := r.Header.Get("Authorization") == "Bearer at-1"
		if dpop {
			claims, x, err := verifyProof(r.Header.Get("DPoP"))
			ath := sha256.Sum256([]byte("at-1"))
			ok = err == nil && r.Header.Get("Authorization") == "DPoP at-1" && x == fe.boundX &&
				claims["htm"] == "GET" && claims["htu"] == "http://"+r.Host+"/api/v1/logs" &&
				claims["ath"] == base64.RawURLEncoding.EncodeToString(ath[:])
			if !ok {
				t.Errorf("resource request: %v, %v, %q", err, claims, r.Header.Get("Authorization"))
			}
		}
		if !ok {
			w.WriteHeader(401)
			io.WriteString(w, `{"errorCode":"E0000011","errorSummary":"Invalid token provided"}`)
			return
		}
		if r.URL.Query().Get("after") == "1" {
			cancel() // the first page is stored: enough
			w.WriteHeader(503)
			return
		}
		served++
		w.Header().Add("Link", `<http://`+r.Host+`/api/v1/logs?after=1>; rel="next"`)
		io.WriteString(w, `[{"uuid":"u1","published":"2026-03-01T00:00:00Z","eventType":"user.session.start"}]`)
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	fe.url = ts.URL + "/oauth2/v1/token"
	st := openMem(t)
	c, err := New(Config{Org: ts.URL, Store: st, Logger: discard(), PollInterval: 10 * time.Millisecond,
		Auth: &OAuth{TokenURL: fe.url, ClientID: fe.clientID, Key: key, KeyID: "kid-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if served != 1 || fe.issued != 1 {
		t.Errorf("served %d pages, issued %d tokens", served, fe.issued)
	}
	if s := c.State(); s.Events != 1 || s.Next != "/api/v1/logs?after=1" {
		t.Errorf("state %+v", s)
	}
}

func TestParsePrivateKey(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p8, _ := x509.MarshalPKCS8PrivateKey(key)
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	jwk := fmt.Sprintf(`{"kty":"RSA","kid":"k9","alg":"RS256","n":%q,"e":%q,"d":%q,"p":%q,"q":%q}`,
		b64(key.N.Bytes()), b64(big.NewInt(int64(key.E)).Bytes()), b64(key.D.Bytes()), b64(key.Primes[0].Bytes()), b64(key.Primes[1].Bytes()))
	tests := []struct {
		name, in, kid string
		ok            bool
	}{
		{"PKCS#8 PEM", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})), "", true},
		{"PKCS#1 PEM", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})), "", true},
		{"JWK", jwk, "k9", true},
		{"JWK of another type", `{"kty":"EC","crv":"P-256"}`, "", false},
		{"garbage", "not a key", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, kid, err := ParsePrivateKey([]byte(tc.in))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v", err)
			}
			if tc.ok && (!k.Equal(key) || kid != tc.kid) {
				t.Errorf("different key or kid %q", kid)
			}
		})
	}
}
