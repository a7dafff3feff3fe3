package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/store"
)

// OktaHookPath is where Okta event hooks deliver: a one-time verification
// GET, then POSTs of batches of LogEvents.
const OktaHookPath = "/api/idlog/v1/hooks/okta"

// HookSecretPath is the file that keeps the SHA-256 of the event-hook
// secret, in the server's data directory.
func HookSecretPath(dataDir string) string { return filepath.Join(dataDir, "okta-hook-secret.sha256") }

// CreateHookSecret makes a new random secret, keeps only its hash in
// dataDir (replacing an older one) and returns the secret, to be pasted
// into Okta's event hook as the Authorization value.
func CreateHookSecret(dataDir string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	secret := "idlh_" + base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(secret))
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", err
	}
	path := HookSecretPath(dataDir)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(hex.EncodeToString(sum[:])+"\n"), 0o600); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", err
	}
	return secret, nil
}

// LoadHookSecret reads the hash CreateHookSecret kept; ok is false when
// there is none (the hook endpoint then stays off).
func LoadHookSecret(dataDir string) (hash [32]byte, ok bool, err error) {
	b, err := os.ReadFile(HookSecretPath(dataDir))
	if errors.Is(err, fs.ErrNotExist) {
		return hash, false, nil
	}
	if err != nil {
		return hash, false, err
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != len(hash) {
		return hash, false, fmt.Errorf("%s: not a SHA-256 in hex; make a new secret with 'idlog pull hook-secret'", HookSecretPath(dataDir))
	}
	copy(hash[:], raw)
	return hash, true, nil
}

// OktaHookOptions configure NewOktaHook.
type OktaHookOptions struct {
	// SecretHash is the SHA-256 of the Authorization value Okta sends.
	SecretHash [32]byte
	// Append stores checked events; ingest.Pipeline.Append fits.
	Append func(ctx context.Context, events []store.Event) (store.AppendResult, error)
	// MaxBody caps a delivery; default 16 MiB.
	MaxBody int64
	Logger  *slog.Logger
	// Stored, if set, is told what each delivery did (for metrics).
	Stored func(IngestResult)
}

// NewOktaHook returns the handler of OktaHookPath. It authenticates both
// the verification GET and the deliveries by the shared secret, compared as
// hashes in constant time. Deliveries come at least once and out of order:
// events are stored through the ingest checks and de-duplicated by uuid, so
// a retried delivery changes nothing.
func NewOktaHook(o OktaHookOptions) http.Handler {
	if o.MaxBody <= 0 {
		o.MaxBody = 16 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &oktaHook{o: o}
}

type oktaHook struct{ o OktaHookOptions }

func (h *oktaHook) authorized(r *http.Request) bool {
	got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
	return subtle.ConstantTimeCompare(got[:], h.o.SecretHash[:]) == 1
}

func (h *oktaHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		respondError(w, h.o.Logger, errInvalidToken)
		return
	}
	switch r.Method {
	case http.MethodGet:
		challenge := r.Header.Get("X-Okta-Verification-Challenge")
		if challenge == "" {
			respondError(w, h.o.Logger, validationError("x-okta-verification-challenge", "header missing: this GET is Okta's one-time verification of the hook."))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"verification": challenge})
	case http.MethodPost:
		h.deliver(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		respondError(w, h.o.Logger, errMethod)
	}
}

// deliver stores one batch. Okta waits 3 s and retries a 5xx once, so the
// answer is 200 as soon as the events are durable; events that fail the
// checks are logged and answered in the body, not retried (a retry would
// fail the same way).
func (h *oktaHook) deliver(w http.ResponseWriter, r *http.Request) {
	var d struct {
		EventType string `json:"eventType"`
		EventID   string `json:"eventId"`
		Data      struct {
			Events []json.RawMessage `json:"events"`
		} `json:"data"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.o.MaxBody))
	if err != nil {
		respondError(w, h.o.Logger, validationError("body", fmt.Sprintf("unreadable or larger than %d bytes: %v", h.o.MaxBody, err)))
		return
	}
	if err := json.Unmarshal(body, &d); err != nil {
		respondError(w, h.o.Logger, validationError("body", "not an event hook delivery: "+err.Error()))
		return
	}
	if d.EventType != "com.okta.event_hook" {
		respondError(w, h.o.Logger, validationError("eventType", fmt.Sprintf("is %q; an Okta event hook delivery has com.okta.event_hook.", d.EventType)))
		return
	}
	res := IngestResult{Rejected: []ingest.Rejection{}}
	events := make([]store.Event, 0, len(d.Data.Events))
	for i, raw := range d.Data.Events {
		e, err := ingest.ParseEvent(raw)
		if err != nil {
			res.RejectedCount++
			res.Rejected = append(res.Rejected, ingest.Rejection{Index: i, Error: err.Error()})
			h.o.Logger.Warn("event hook: event rejected", "delivery", d.EventID, "index", i, "err", err)
			continue
		}
		events = append(events, e)
	}
	ar, err := h.o.Append(r.Context(), events)
	if err != nil {
		respondError(w, h.o.Logger, storeError(r.Context(), err))
		return
	}
	res.Accepted, res.Duplicates = ar.Added, ar.Duplicates
	if h.o.Stored != nil {
		h.o.Stored(res)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(res)
}

// MountOktaHook mounts the event-hook endpoint on s when dataDir holds a
// hook secret, storing through p, and reports whether it did. The endpoint
// skips the API tokens (Okta sends the hook's own secret) but has the
// server's request log and metrics.
func MountOktaHook(s *Server, dataDir string, p *ingest.Pipeline) (bool, error) {
	hash, ok, err := LoadHookSecret(dataDir)
	if err != nil || !ok {
		return false, err
	}
	h := NewOktaHook(OktaHookOptions{SecretHash: hash, Append: p.Append, Logger: s.log,
		Stored: s.metrics.ingested})
	s.Handle("GET "+OktaHookPath, "", true, h)
	s.Handle("POST "+OktaHookPath, "", true, h)
	return true, nil
}
