package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

// damage is one way a store file gets damaged.
type damage struct {
	name string
	// must: the damage always touches blocks in use, so every command
	// must refuse; otherwise a command may also answer in full.
	must bool
	fn   func(t *testing.T, path string)
}

func flipAt(t *testing.T, path string, offs ...int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, off := range offs {
		b := make([]byte, 64)
		if _, err := f.ReadAt(b, off); err != nil {
			t.Fatal(err)
		}
		for i := range b {
			b[i] ^= 0xff
		}
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// DuckDB's file: three 4 KiB headers, then 256 KiB blocks, each starting
// with its checksum.
const duckHeaders, duckBlock = 3 * 4096, 256 << 10

var damages = []damage{
	{"truncated to half", true, func(t *testing.T, p string) {
		if err := os.Truncate(p, fileSize(t, p)/2); err != nil {
			t.Fatal(err)
		}
	}},
	{"bytes flipped in the middle", false, func(t *testing.T, p string) { flipAt(t, p, fileSize(t, p)/2) }},
	{"bytes flipped in every block", true, func(t *testing.T, p string) {
		var offs []int64
		for off := int64(duckHeaders + 4096); off+64 < fileSize(t, p); off += duckBlock {
			offs = append(offs, off)
		}
		flipAt(t, p, offs...)
	}},
	{"random bytes", true, func(t *testing.T, p string) {
		b := bytes.Repeat([]byte("not a database "), int(fileSize(t, p)/15))
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}},
}

// TestDamagedStore damages a store file each way and runs the commands
// and serve on it: each refuses with a message that names the file and
// says to restore from a backup, or (for damage in space not in use)
// answers in full. Never a panic, never a shorter answer with success.
func TestDamagedStore(t *testing.T) {
	data := simulated(t, 20)
	n := lines(data)
	good := filepath.Join(t.TempDir(), "good", "events.duckdb")
	if r := idlog(t, nil, string(data), "import", "--store", "duckdb:"+good, "-"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if fileSize(t, good) < 4*duckBlock {
		t.Fatalf("test premise: the store file has only %d bytes", fileSize(t, good))
	}
	orig, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	refusals := 0
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "events.duckdb")
			if err := os.WriteFile(path, orig, 0o600); err != nil {
				t.Fatal(err)
			}
			d.fn(t, path)
			st := "duckdb:" + path
			check := func(what string, code int, out, stderr string, full func() bool) {
				t.Helper()
				if code == 0 {
					if d.must || !full() {
						t.Errorf("%s succeeded on a damaged file: %q %q", what, out, stderr)
					}
					return
				}
				refusals++
				if !strings.Contains(stderr, path) || !strings.Contains(stderr, "is damaged") || !strings.Contains(stderr, "restore the store from a backup") {
					t.Errorf("%s: exit %d, message %q does not name the file and the way out", what, code, stderr)
				}
				if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
					t.Errorf("%s panicked: %s", what, stderr)
				}
			}
			r := idlog(t, nil, "", "stats", "--store", st)
			check("stats", r.code, r.stdout, r.stderr, func() bool { return strings.Contains(r.stdout, thousands(int64(n))) })
			r = idlog(t, nil, "", "query", "--store", st, "--since", "2000-01-01", "--all")
			check("query", r.code, r.stdout, r.stderr, func() bool { return lines([]byte(r.stdout)) == n })
			r = idlog(t, nil, "", "flows", "--store", st, "--ip", "203.0.113.9", "--since", "2000-01-01", "--until", "2030-01-01")
			check("flows", r.code, r.stdout, r.stderr, func() bool { return true })
			r = idlog(t, nil, "", "backup", "--store", st, "--to", filepath.Join(dir, "backup"))
			check("backup", r.code, r.stdout, r.stderr, func() bool { return strings.Contains(r.stdout, strconv.Itoa(n)+" events up to") })

			// serve: refuses to start, or starts and answers.
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var errb bytes.Buffer
			started := make(chan string, 1)
			done := make(chan error, 1)
			go func() {
				done <- serve(ctx, &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &errb, getenv: func(string) string { return "" }},
					serveConfig{addr: "127.0.0.1:0", storeURL: st, dataDir: dir, bodyLimit: 1 << 20, queryTimeout: 10 * time.Second, shutdownTimeout: time.Second},
					func(u string) { started <- u })
			}()
			select {
			case err := <-done:
				msg := "idlog: " + err.Error()
				check("serve", 1, "", msg, nil)
				if !errors.Is(err, store.ErrDamaged) {
					t.Errorf("serve's error does not wrap store.ErrDamaged: %v", err)
				}
			case <-started:
				t.Log("serve started: the damage is in space not in use")
				if d.must {
					t.Error("serve started on a store that cannot be read")
				}
				cancel()
				<-done
			}
			// Opening it directly says the same.
			if s, err := storeurl.Open(context.Background(), st); err == nil {
				s.Close()
			} else if !errors.Is(err, store.ErrDamaged) {
				t.Errorf("open: %v does not wrap store.ErrDamaged", err)
			}
		})
	}
	if refusals == 0 {
		t.Error("no command refused any damaged file")
	}
}

// TestCutWAL copies a store as a crash would leave it (the file and its
// WAL, while the store is open) and cuts the WAL short. DuckDB replays
// the WAL's whole transactions and drops the cut one, so the store opens
// holding whole batches only: a prefix of the batches by seq, every event
// intact, counts agreeing. Or, if DuckDB refuses the WAL, the refusal names
// the file and the way out.
func TestCutWAL(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "events.duckdb")
	s, err := storeurl.Open(ctx, "duckdb:"+src)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	data := bytes.Split(bytes.TrimSpace(simulated(t, 10)), []byte("\n"))
	const batches = 8
	per := len(data) / batches
	var sent [][]string // uuids of each batch
	for b := range batches {
		var evs []store.Event
		var ids []string
		for _, l := range data[b*per : (b+1)*per] {
			e, err := ingestParse(l)
			if err != nil {
				t.Fatal(err)
			}
			evs = append(evs, e)
			ids = append(ids, e.UUID)
		}
		if _, err := s.Append(ctx, evs); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, ids)
	}
	wal, err := os.ReadFile(src + ".wal")
	if err != nil || len(wal) == 0 {
		t.Fatalf("test premise: no WAL beside the open store: %v", err)
	}
	main, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{len(wal) / 2, len(wal) - 100, 16} {
		dir := t.TempDir()
		path := filepath.Join(dir, "events.duckdb")
		os.WriteFile(path, main, 0o600)
		os.WriteFile(path+".wal", wal[:cut], 0o600)
		c, err := storeurl.Open(ctx, "duckdb:"+path)
		if err != nil {
			if !errors.Is(err, store.ErrDamaged) || !strings.Contains(err.Error(), path) {
				t.Errorf("WAL cut at %d of %d: %v", cut, len(wal), err)
			}
			t.Logf("WAL cut at %d of %d bytes: refused: %v", cut, len(wal), err)
			continue
		}
		c.Close()
		got := storedEvents(t, "duckdb:"+path) // counts agree, each decodes, none twice
		whole := 0
		for _, ids := range sent {
			in := 0
			for _, id := range ids {
				if _, ok := got[id]; ok {
					in++
				}
			}
			if in != 0 && in != len(ids) {
				t.Fatalf("WAL cut at %d: batch %d is partly stored (%d of %d)", cut, whole, in, len(ids))
			}
			if in == 0 {
				break
			}
			whole++
		}
		if len(got) != whole*per {
			t.Errorf("WAL cut at %d: %d events stored, not the first %d whole batches", cut, len(got), whole)
		}
		t.Logf("WAL cut at %d of %d bytes: opens with the first %d of %d batches", cut, len(wal), whole, batches)
	}
}

func ingestParse(l []byte) (store.Event, error) {
	e, err := ingest.ParseEvent(l)
	if err != nil {
		return store.Event{}, err
	}
	return store.Event{UUID: e.UUID, Published: e.Published, Raw: e.Raw}, nil
}
