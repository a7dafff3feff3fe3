// Package cursor turns the state of a paged System Log query into the
// opaque `after` value of a next link, and back.
//
// A cursor stands for the whole rest of the query (mode, filter, q, time
// bounds, order, page size and the keyset position), so a next link is only
// `?after=<cursor>&limit=N` however long the filter is. Cursors are signed
// with HMAC-SHA256 under a key kept in the data directory: an edited,
// forged or random cursor is refused, never answered with a wrong page.
//
// Layout, before base64url: one version byte, the payload (deflated when
// that makes it shorter, flagged in the version byte), then the first 16
// bytes of the HMAC of everything before it. Filters too long to keep the
// cursor short are stored once in the data directory under their SHA-256
// and the cursor carries only that hash (see Spill).
package cursor

import (
	"bytes"
	"compress/flate"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/idlog/idlog/internal/atomicfile"
)

// Mode is the kind of request a cursor continues.
type Mode uint8

const (
	// Bounded requests are ordered by published; the keyset is
	// (published, seq) and the last page has no next link.
	Bounded Mode = 1
	// Polling requests are ordered by the ingest sequence; the keyset is
	// seq, and there is always a next link.
	Polling Mode = 2
)

// Cursor is the state of a paged query.
type Cursor struct {
	Mode       Mode
	Filter     string // as the client sent it
	Q          string
	Since      time.Time // zero: none
	Until      time.Time // zero: none
	Descending bool
	Limit      int
	// The last event of the previous page; HasPos false means "from the
	// start" (an empty first polling page).
	HasPos    bool
	Published time.Time
	Seq       int64
}

// ErrInvalid is returned by Decode for anything that is not a cursor this
// server issued.
var ErrInvalid = errors.New("cursor: not a valid cursor")

const (
	version     = 1
	flagDeflate = 0x80
	macLen      = 16
	// inlineMax is the longest filter+q kept inside the cursor; longer ones
	// are spilled, so every cursor stays well under a few hundred
	// characters.
	inlineMax = 300
	// maxPayload bounds inflation, so a crafted cursor cannot blow up
	// memory (the MAC is checked first anyway).
	maxPayload = 1 << 20
)

// Codec encodes and decodes cursors under one key.
type Codec struct {
	key   []byte
	spill *Spill
}

// NewCodec returns a codec using key (at least 32 bytes) and spill for long
// queries (nil keeps everything inline).
func NewCodec(key []byte, spill *Spill) (*Codec, error) {
	if len(key) < 32 {
		return nil, errors.New("cursor: key shorter than 32 bytes")
	}
	return &Codec{key: key, spill: spill}, nil
}

// Open returns a codec whose key and spilled queries live in dir: the key
// in dir/cursor.key (created on first use, 0600), long queries under
// dir/cursors/. Cursors stay valid as long as that key file exists.
func Open(dir string) (*Codec, error) {
	key, err := LoadOrCreateKey(filepath.Join(dir, "cursor.key"))
	if err != nil {
		return nil, err
	}
	return NewCodec(key, &Spill{Dir: filepath.Join(dir, "cursors")})
}

// LoadOrCreateKey reads a 32-byte key from path, creating it with random
// bytes when it does not exist.
func LoadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) < 32 {
			return nil, fmt.Errorf("%s: key file is %d bytes, want 32 (delete it to make a new one; old cursors then stop working)", path, len(b))
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		// Another process made it first: use theirs.
		return LoadOrCreateKey(path)
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return key, nil
}

// Encode returns the cursor's opaque text.
func (c *Codec) Encode(cur Cursor) (string, error) {
	filterText, q, ref := cur.Filter, cur.Q, ""
	if len(filterText)+len(q) > inlineMax && c.spill != nil {
		h, err := c.spill.put(filterText, q)
		if err != nil {
			return "", err
		}
		filterText, q, ref = "", "", h
	}
	var p []byte
	p = append(p, byte(cur.Mode))
	var flags byte
	if cur.Descending {
		flags |= 1
	}
	if cur.HasPos {
		flags |= 2
	}
	p = append(p, flags)
	p = binary.AppendUvarint(p, uint64(cur.Limit))
	p = appendTime(p, cur.Since)
	p = appendTime(p, cur.Until)
	p = appendTime(p, cur.Published)
	p = binary.AppendVarint(p, cur.Seq)
	p = appendString(p, filterText)
	p = appendString(p, q)
	p = appendString(p, ref)

	head := byte(version)
	if d := deflate(p); len(d) < len(p) {
		p, head = d, head|flagDeflate
	}
	out := make([]byte, 0, 1+len(p)+macLen)
	out = append(out, head)
	out = append(out, p...)
	out = append(out, c.mac(out)...)
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// Decode checks and reads a cursor. Any failure is ErrInvalid (wrapped
// with a reason for logs); a spilled query that cannot be read is a
// different error, since the cursor itself was good.
func (c *Codec) Decode(s string) (Cursor, error) {
	var cur Cursor
	if len(s) > 8192 {
		return cur, fmt.Errorf("%w: too long", ErrInvalid)
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 1+macLen+1 {
		return cur, fmt.Errorf("%w: not base64url or too short", ErrInvalid)
	}
	body, sum := b[:len(b)-macLen], b[len(b)-macLen:]
	if !hmac.Equal(sum, c.mac(body)) {
		return cur, fmt.Errorf("%w: signature does not match", ErrInvalid)
	}
	head, p := body[0], body[1:]
	if head&^flagDeflate != version {
		return cur, fmt.Errorf("%w: unknown version %d", ErrInvalid, head&^flagDeflate)
	}
	if head&flagDeflate != 0 {
		if p, err = inflate(p); err != nil {
			return cur, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	r := reader{b: p}
	cur.Mode = Mode(r.byte())
	flags := r.byte()
	cur.Descending, cur.HasPos = flags&1 != 0, flags&2 != 0
	cur.Limit = int(r.uvarint())
	cur.Since, cur.Until, cur.Published = r.time(), r.time(), r.time()
	cur.Seq = r.varint()
	cur.Filter, cur.Q = r.string(), r.string()
	ref := r.string()
	if r.err != nil || len(r.b) != 0 || (cur.Mode != Bounded && cur.Mode != Polling) {
		return Cursor{}, fmt.Errorf("%w: malformed payload", ErrInvalid)
	}
	if ref != "" {
		if c.spill == nil {
			return Cursor{}, fmt.Errorf("%w: refers to a stored query but none are kept", ErrInvalid)
		}
		if cur.Filter, cur.Q, err = c.spill.get(ref); err != nil {
			return Cursor{}, err
		}
	}
	return cur, nil
}

func (c *Codec) mac(b []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(b)
	return m.Sum(nil)[:macLen]
}

// Spill keeps long filters on disk under their SHA-256, so that a cursor
// can name them in 32 bytes. Files are written once and never changed; the
// hash is checked again on read, so an edited file is refused too.
type Spill struct {
	Dir string
}

type spilled struct {
	Filter string `json:"filter"`
	Q      string `json:"q"`
}

func (s *Spill) put(filterText, q string) (string, error) {
	b, err := json.Marshal(spilled{filterText, q})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	name := hex.EncodeToString(sum[:])
	path := filepath.Join(s.Dir, name[:2], name+".json")
	if _, err := os.Stat(path); err == nil {
		return string(sum[:]), nil
	}
	if err := atomicfile.Write(path, b); err != nil {
		return "", err
	}
	return string(sum[:]), nil
}

func (s *Spill) get(ref string) (string, string, error) {
	name := hex.EncodeToString([]byte(ref))
	if len(ref) != sha256.Size {
		return "", "", fmt.Errorf("%w: bad query reference", ErrInvalid)
	}
	b, err := os.ReadFile(filepath.Join(s.Dir, name[:2], name+".json"))
	if err != nil {
		return "", "", fmt.Errorf("cursor: stored query %s: %w", name, err)
	}
	if sum := sha256.Sum256(b); string(sum[:]) != ref {
		return "", "", fmt.Errorf("cursor: stored query %s was changed on disk", name)
	}
	var q spilled
	if err := json.Unmarshal(b, &q); err != nil {
		return "", "", fmt.Errorf("cursor: stored query %s: %w", name, err)
	}
	return q.Filter, q.Q, nil
}

// appendTime writes a presence byte, then seconds and nanoseconds (so any
// year fits, not only those UnixNano can hold).
func appendTime(p []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(p, 0)
	}
	p = append(p, 1)
	p = binary.AppendVarint(p, t.Unix())
	return binary.AppendUvarint(p, uint64(t.Nanosecond()))
}

func appendString(p []byte, s string) []byte {
	p = binary.AppendUvarint(p, uint64(len(s)))
	return append(p, s...)
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errors.New("short")
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) time() time.Time {
	switch r.byte() {
	case 0:
		return time.Time{}
	case 1:
		sec, nsec := r.varint(), r.uvarint()
		if nsec >= 1e9 {
			r.fail()
			return time.Time{}
		}
		return time.Unix(sec, int64(nsec)).UTC()
	}
	r.fail()
	return time.Time{}
}

func (r *reader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// Compressors are large (about 800 KB of state each): keep them for reuse
// rather than making one per next link.
var (
	writers = sync.Pool{New: func() any {
		w, _ := flate.NewWriter(nil, flate.BestCompression)
		return w
	}}
	readers = sync.Pool{New: func() any { return flate.NewReader(bytes.NewReader(nil)) }}
)

func deflate(p []byte) []byte {
	var buf bytes.Buffer
	w := writers.Get().(*flate.Writer)
	w.Reset(&buf)
	w.Write(p)
	w.Close()
	writers.Put(w)
	return buf.Bytes()
}

func inflate(p []byte) ([]byte, error) {
	r := readers.Get().(io.ReadCloser)
	defer readers.Put(r)
	if err := r.(flate.Resetter).Reset(bytes.NewReader(p), nil); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(r, maxPayload+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxPayload {
		return nil, errors.New("payload too large")
	}
	return b, nil
}
