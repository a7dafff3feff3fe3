package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/idlog/idlog/internal/atomicfile"
)

// TokenPrefix starts every idlog API token, so a leaked one is easy to
// recognise (secret scanners, logs).
const TokenPrefix = "idl_"

// FileName is the tokens file inside the data directory.
const FileName = "tokens.json"

// Token is one API token as the tokens file keeps it: never the token
// itself, only its SHA-256 (see docs/decisions.md: the tokens are 192
// random bits, so a fast hash is as good as a slow one here).
type Token struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Role and Ingest are what the token may do. Files written before
	// roles have Scopes instead (logs.read, logs.write, admin); they are
	// read as the same role (see Grants).
	Role    Role      `json:"role,omitempty"`
	Ingest  bool      `json:"ingest,omitempty"`
	Scopes  []string  `json:"scopes,omitempty"`
	Hash    string    `json:"sha256"`
	Hint    string    `json:"hint"` // the first characters, to tell tokens apart
	Created time.Time `json:"created"`
}

type tokenFile struct {
	Tokens []Token `json:"tokens"`
}

// Tokens is the tokens file of a data directory. The CLI edits it; the
// server reads it and notices when it changes, so tokens can be created and
// revoked while the server runs.
type Tokens struct {
	path string

	mu      sync.Mutex
	checked time.Time // last time the file's stat was compared
	stamp   fileStamp
	byHash  map[string]*Principal
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// OpenTokens returns the tokens file of dir. The file need not exist yet.
func OpenTokens(dir string) *Tokens {
	return &Tokens{path: filepath.Join(dir, FileName)}
}

// Path is the tokens file's path.
func (t *Tokens) Path() string { return t.path }

func (t *Tokens) read() (tokenFile, error) {
	var f tokenFile
	b, err := os.ReadFile(t.path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("%s: %w", t.path, err)
	}
	return f, nil
}

func (t *Tokens) write(f tokenFile) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	// Atomic, so the server never reads a half-written file.
	return atomicfile.Write(t.path, append(b, '\n'))
}

// lock serialises the read-modify-write of the tokens file between
// processes (two 'idlog token create' at once must not lose one). It is a
// lock file made with O_EXCL, portable to every OS the store runs on; one
// left behind by a crash is broken after lockStale.
func (t *Tokens) lock() (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(t.path), 0o700); err != nil {
		return nil, err
	}
	path := t.path + ".lock"
	deadline := time.Now().Add(lockWait)
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) > lockStale {
			os.Remove(path)
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s is locked by another idlog token command (remove it if none is running)", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const (
	lockWait  = 5 * time.Second
	lockStale = 30 * time.Second
)

// Access returns what the token may do: its role and ingest permission,
// from Role/Ingest or, in files written before roles, from its scopes.
func (tok Token) Access() (Role, bool) {
	role, ingest := fromGrants(tok.Scopes)
	return Higher(role, tok.Role), ingest || tok.Ingest
}

// Create makes a new token and returns it; this is the only time the token
// itself is known. Names must be unique. grants are a role (the highest
// given counts) and/or RoleIngest; ScopeRead, ScopeWrite and ScopeAdmin
// are the same values under their old names.
func (t *Tokens) Create(name string, grants []Role) (secret string, tok Token, err error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", Token{}, errors.New("a token needs a name")
	}
	names := make([]string, len(grants))
	for i, g := range grants {
		names[i] = string(g)
	}
	role, ingest := fromGrants(names)
	if role == "" && !ingest {
		return "", Token{}, errors.New("a token needs a role (viewer, analyst or admin) or ingest")
	}
	unlock, err := t.lock()
	if err != nil {
		return "", Token{}, err
	}
	defer unlock()
	f, err := t.read()
	if err != nil {
		return "", Token{}, err
	}
	for _, old := range f.Tokens {
		if old.Name == name {
			return "", Token{}, fmt.Errorf("a token named %q exists already (id %s)", name, old.ID)
		}
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", Token{}, err
	}
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	var id [6]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", Token{}, err
	}
	tok = Token{
		ID:      "tok" + hex.EncodeToString(id[:]),
		Name:    name,
		Role:    role,
		Ingest:  ingest,
		Hash:    hashToken(secret),
		Hint:    secret[:len(TokenPrefix)+4],
		Created: time.Now().UTC().Truncate(time.Second),
	}
	f.Tokens = append(f.Tokens, tok)
	if err := t.write(f); err != nil {
		return "", Token{}, err
	}
	return secret, tok, nil
}

// List returns the tokens, oldest first.
func (t *Tokens) List() ([]Token, error) {
	f, err := t.read()
	return f.Tokens, err
}

// Revoke removes the token with this name or id.
func (t *Tokens) Revoke(nameOrID string) (Token, error) {
	unlock, err := t.lock()
	if err != nil {
		return Token{}, err
	}
	defer unlock()
	f, err := t.read()
	if err != nil {
		return Token{}, err
	}
	for i, tok := range f.Tokens {
		if tok.ID == nameOrID || tok.Name == nameOrID {
			f.Tokens = slices.Delete(f.Tokens, i, i+1)
			return tok, t.write(f)
		}
	}
	return Token{}, fmt.Errorf("no token named or with id %q", nameOrID)
}

// Lookup returns the principal of a token, or ErrInvalid.
func (t *Tokens) Lookup(secret string) (*Principal, error) {
	return t.LookupHash(HashToken(secret))
}

// LookupHash is Lookup by the token's hash (HashToken), for a session that
// keeps only the hash of the token it was opened with.
func (t *Tokens) LookupHash(hash string) (*Principal, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.refresh(); err != nil {
		return nil, err
	}
	if p := t.byHash[hash]; p != nil {
		c := *p // callers may not change the cached principal
		return &c, nil
	}
	return nil, ErrInvalid
}

// refresh rereads the file when its size or time changed; it looks at most
// once every 250 ms, so a revoked token stops working within that time.
func (t *Tokens) refresh() error {
	now := time.Now()
	if t.byHash != nil && now.Sub(t.checked) < 250*time.Millisecond {
		return nil
	}
	t.checked = now
	var st fileStamp
	if fi, err := os.Stat(t.path); err == nil {
		st = fileStamp{fi.ModTime(), fi.Size()}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if t.byHash != nil && st == t.stamp {
		return nil
	}
	f, err := t.read()
	if err != nil {
		return err
	}
	m := make(map[string]*Principal, len(f.Tokens))
	for _, tok := range f.Tokens {
		role, ingest := tok.Access()
		m[tok.Hash] = &Principal{ID: tok.ID, Name: tok.Name, Kind: "token", Role: role, Ingest: ingest}
	}
	t.byHash, t.stamp = m, st
	return nil
}

// Authenticate implements Authenticator for API tokens in the Authorization
// header.
func (t *Tokens) Authenticate(r *http.Request) (*Principal, error) {
	h := r.Header.Get("Authorization")
	secret, ok := BearerToken(h)
	if !ok {
		return nil, ErrInvalid
	}
	if secret == "" {
		return nil, ErrNoCredentials
	}
	return t.Lookup(secret)
}

// HashToken is how the tokens file keeps a token: its SHA-256, in hex.
func HashToken(secret string) string { return hashToken(secret) }

func hashToken(secret string) string {
	s := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(s[:])
}
