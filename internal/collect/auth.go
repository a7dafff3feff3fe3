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
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Authorizer sets the Authorization header of a request to the org.
type Authorizer interface {
	Authorize(ctx context.Context, r *http.Request) error
	// Invalidate drops a cached credential after the org refused it (401),
	// so the next Authorize fetches a fresh one.
	Invalidate()
}

// APIToken authorizes with an Okta API token ("SSWS <token>"). The token
// carries its admin's permissions; a read-only administrator's token is
// enough for the System Log.
type APIToken string

// Authorize implements Authorizer.
func (t APIToken) Authorize(_ context.Context, r *http.Request) error {
	r.Header.Set("Authorization", "SSWS "+string(t))
	return nil
}

// Invalidate implements Authorizer; an API token cannot be refreshed.
func (APIToken) Invalidate() {}

// OAuth authorizes as an Okta API service app: a client-credentials grant
// whose client authenticates with a JWT signed by its private key
// (private_key_jwt), for the scope okta.logs.read. The access token is
// reused until shortly before it expires.
type OAuth struct {
	// TokenURL is the org's token endpoint, https://ORG/oauth2/v1/token.
	TokenURL string
	ClientID string
	Key      *rsa.PrivateKey
	// KeyID is the kid of the key registered with the app; optional when
	// the app has one key.
	KeyID  string
	Scopes []string // default okta.logs.read
	Client *http.Client
	Now    func() time.Time

	mu        sync.Mutex
	token     string
	tokenType string // "Bearer", or "DPoP" for a token bound to dpopKey
	expires   time.Time
	// DPoP (RFC 9449): Okta's new API service apps require it by default.
	// It is switched on when the token endpoint asks for it, with a key
	// made for this process; the nonces are the latest the org sent.
	dpop          bool
	dpopKey       *ecdsa.PrivateKey
	tokenNonce    string
	resourceNonce string
}

// Authorize implements Authorizer.
func (o *OAuth) Authorize(ctx context.Context, r *http.Request) error {
	tok, err := o.accessToken(ctx)
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.tokenType != "DPoP" {
		r.Header.Set("Authorization", "Bearer "+tok)
		return nil
	}
	ath := sha256.Sum256([]byte(tok))
	proof, err := o.proof(r.Method, htu(r.URL), base64.RawURLEncoding.EncodeToString(ath[:]), o.resourceNonce)
	if err != nil {
		return err
	}
	r.Header.Set("Authorization", "DPoP "+tok)
	r.Header.Set("DPoP", proof)
	return nil
}

// Observe implements the collector's answer hook: a resource server that
// wants a DPoP nonce says so in a 401 with a DPoP-Nonce header, and the
// request is worth repeating at once with it.
func (o *OAuth) Observe(resp *http.Response) (retry bool) {
	n := resp.Header.Get("DPoP-Nonce")
	if n == "" {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.resourceNonce = n
	return o.tokenType == "DPoP" && resp.StatusCode == http.StatusUnauthorized &&
		strings.Contains(resp.Header.Get("WWW-Authenticate"), "use_dpop_nonce")
}

// htu is the request's URL without query and fragment, as a proof names it.
func htu(u *url.URL) string {
	c := *u
	c.RawQuery, c.Fragment, c.RawFragment = "", "", ""
	return c.String()
}

// Invalidate implements Authorizer.
func (o *OAuth) Invalidate() {
	o.mu.Lock()
	o.token = ""
	o.mu.Unlock()
}

func (o *OAuth) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// TokenError is the token endpoint's refusal, kept whole so the message
// names Okta's error code (invalid_client, invalid_scope, …).
type TokenError struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
	nonce       string // a DPoP-Nonce header that came with it
}

func (e *TokenError) Error() string {
	return fmt.Sprintf("oauth token endpoint: HTTP %d %s: %s", e.Status, e.Code, e.Description)
}

// Permanent reports a refusal that retrying cannot fix (a 4xx).
func (e *TokenError) Permanent() bool { return e.Status >= 400 && e.Status < 500 && e.Status != 429 }

func (o *OAuth) accessToken(ctx context.Context) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	// A minute's margin: a token that expires in flight fails the request.
	if o.token != "" && o.now().Before(o.expires.Add(-time.Minute)) {
		return o.token, nil
	}
	// At most: one plain try, one with a DPoP proof, one with its nonce.
	var err error
	for range 3 {
		if err = o.requestToken(ctx); err == nil {
			return o.token, nil
		}
		var te *TokenError
		if !errors.As(err, &te) {
			return "", err
		}
		switch {
		case te.Code == "invalid_dpop_proof" && !o.dpop:
			// The app requires DPoP ("Require Demonstrating Proof of
			// Possession" is on): prove a key of our own from now on.
			k, kerr := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if kerr != nil {
				return "", kerr
			}
			o.dpop, o.dpopKey = true, k
		case te.Code == "use_dpop_nonce" && te.nonce != "":
			o.tokenNonce = te.nonce
		default:
			return "", err
		}
	}
	return "", err
}

// requestToken asks the token endpoint for a token and keeps it.
func (o *OAuth) requestToken(ctx context.Context) error {
	assertion, err := o.assertion()
	if err != nil {
		return err
	}
	scopes := o.Scopes
	if len(scopes) == 0 {
		scopes = []string{"okta.logs.read"}
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {strings.Join(scopes, " ")},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if o.dpop {
		proof, err := o.proof(http.MethodPost, o.TokenURL, "", o.tokenNonce)
		if err != nil {
			return err
		}
		req.Header.Set("DPoP", proof)
	}
	c := o.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("oauth token endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("oauth token endpoint: %w", err)
	}
	if n := resp.Header.Get("DPoP-Nonce"); n != "" {
		o.tokenNonce = n
	}
	if resp.StatusCode != http.StatusOK {
		te := &TokenError{Status: resp.StatusCode, nonce: resp.Header.Get("DPoP-Nonce")}
		json.Unmarshal(body, te)
		return te
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return fmt.Errorf("oauth token endpoint: answer without an access_token (%.200s)", body)
	}
	switch {
	case strings.EqualFold(tr.TokenType, "Bearer"):
		o.tokenType = "Bearer"
	case strings.EqualFold(tr.TokenType, "DPoP") && o.dpop:
		o.tokenType = "DPoP"
	default:
		return &TokenError{Status: resp.StatusCode, Code: "unsupported_token_type",
			Description: fmt.Sprintf("token type %q", tr.TokenType)}
	}
	if tr.ExpiresIn <= 0 {
		tr.ExpiresIn = 3600
	}
	o.token, o.expires = tr.AccessToken, o.now().Add(time.Duration(tr.ExpiresIn)*time.Second)
	return nil
}

// proof is a DPoP proof JWT (RFC 9449 section 4): ES256 over the request's
// method and URL, with the public key in the header; ath binds it to an
// access token on resource requests.
func (o *OAuth) proof(method, target, ath, nonce string) (string, error) {
	pub, err := o.dpopKey.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	hdr := map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": map[string]string{
		"kty": "EC", "crv": "P-256", "x": enc.EncodeToString(pub[1:33]), "y": enc.EncodeToString(pub[33:65]),
	}}
	var jti [16]byte
	rand.Read(jti[:])
	claims := map[string]any{"htm": method, "htu": target, "iat": o.now().Unix(), "jti": hex.EncodeToString(jti[:])}
	if ath != "" {
		claims["ath"] = ath
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	h, _ := json.Marshal(hdr)
	c, _ := json.Marshal(claims)
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sum := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, o.dpopKey, sum[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64) // JWS wants r and s as fixed 32-byte halves
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signing + "." + enc.EncodeToString(sig), nil
}

// assertion is the client's signed JWT (RFC 7523): issuer and subject the
// client id, audience the token endpoint, valid five minutes, with a unique
// jti because Okta refuses a replayed assertion.
func (o *OAuth) assertion() (string, error) {
	if o.Key == nil {
		return "", errors.New("oauth: no private key")
	}
	hdr := map[string]string{"alg": "RS256", "typ": "JWT"}
	if o.KeyID != "" {
		hdr["kid"] = o.KeyID
	}
	var jti [16]byte
	rand.Read(jti[:])
	now := o.now()
	claims := map[string]any{
		"iss": o.ClientID, "sub": o.ClientID, "aud": o.TokenURL,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"jti": hex.EncodeToString(jti[:]),
	}
	h, _ := json.Marshal(hdr)
	c, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, o.Key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("oauth: signing the client assertion: %w", err)
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// ParsePrivateKey reads an RSA private key as Okta's admin console hands it
// out: PEM (PKCS#8 or PKCS#1) or a JWK (JSON). For a JWK the second result
// is its kid.
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, string, error) {
	if trimmed := strings.TrimSpace(string(data)); strings.HasPrefix(trimmed, "{") {
		return parseJWK([]byte(trimmed))
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, "", errors.New("private key: neither PEM nor a JWK")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, "", fmt.Errorf("private key: %T, not RSA (Okta signs client assertions with RS256 here)", k)
		}
		return rk, "", nil
	}
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return nil, "", fmt.Errorf("private key: PEM block %q is neither PKCS#8 nor PKCS#1: %w", block.Type, err)
	}
	return k, "", nil
}

func parseJWK(data []byte) (*rsa.PrivateKey, string, error) {
	var j struct {
		Kty, Kid                  string
		N, E, D, P, Q, Dp, Dq, Qi string
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, "", fmt.Errorf("private key JWK: %w", err)
	}
	if j.Kty != "RSA" {
		return nil, "", fmt.Errorf("private key JWK: kty %q, want RSA", j.Kty)
	}
	num := func(name, s string) (*big.Int, error) {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("private key JWK: member %q missing or not base64url", name)
		}
		return new(big.Int).SetBytes(b), nil
	}
	var err error
	vals := map[string]*big.Int{}
	for _, f := range []struct{ name, v string }{{"n", j.N}, {"e", j.E}, {"d", j.D}, {"p", j.P}, {"q", j.Q}} {
		if vals[f.name], err = num(f.name, f.v); err != nil {
			return nil, "", err
		}
	}
	k := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: vals["n"], E: int(vals["e"].Int64())},
		D:         vals["d"],
		Primes:    []*big.Int{vals["p"], vals["q"]},
	}
	if err := k.Validate(); err != nil {
		return nil, "", fmt.Errorf("private key JWK: %w", err)
	}
	k.Precompute()
	return k, j.Kid, nil
}
