package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/ingest"
)

type ingestAnswer struct {
	Accepted   int                `json:"accepted"`
	Duplicates int                `json:"duplicates"`
	Rejected   []ingest.Rejection `json:"rejected"`
}

func TestPostStoresGoodLinesAndReportsBadOnes(t *testing.T) {
	e := newEnv(t, api.Options{})
	evs := genEvents(20, 4, t0, time.Hour)
	body := strings.Join([]string{
		string(evs[0]),
		`{"uuid":"no-published"}`,
		string(evs[1]),
		`not json`,
		string(evs[0]), // a repeat
		string(evs[2]),
		`{"uuid":"x","published":"yesterday","eventType":"a"}`,
		string(evs[3]),
	}, "\n") + "\n"
	for _, gz := range []bool{false, true} {
		var r io.Reader = strings.NewReader(body)
		h := http.Header{}
		if gz {
			var buf bytes.Buffer
			w := gzip.NewWriter(&buf)
			io.WriteString(w, body)
			w.Close()
			r = &buf
			h.Set("Content-Encoding", "gzip")
		}
		resp, b := e.do("POST", e.write, "/api/v1/logs", r, h)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		var a ingestAnswer
		if err := json.Unmarshal(b, &a); err != nil {
			t.Fatal(err)
		}
		wantAccepted, wantDups := 4, 1
		if gz { // the second time every good event is already stored
			wantAccepted, wantDups = 0, 5
		}
		if a.Accepted != wantAccepted || a.Duplicates != wantDups || len(a.Rejected) != 3 {
			t.Fatalf("gzip %v: %s", gz, b)
		}
		for i, want := range []struct{ index, line int }{{1, 2}, {3, 4}, {6, 7}} {
			if got := a.Rejected[i]; got.Index != want.index || got.Line != want.line || got.Error == "" {
				t.Errorf("rejection %d: %+v, want index %d line %d", i, got, want.index, want.line)
			}
		}
	}
	for _, raw := range evs {
		var u uuidOnly
		json.Unmarshal(raw, &u)
		got, err := e.st.Get(context.Background(), u.UUID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Raw, raw) {
			t.Fatalf("stored %s, sent %s", got.Raw, raw)
		}
	}
}

// endless produces NDJSON events until n bytes have been read, counting
// what the server actually consumed.
type endless struct {
	n, read int64
	buf     []byte
	i       int
}

func (g *endless) Read(p []byte) (int, error) {
	if atomic.LoadInt64(&g.read) >= g.n {
		return 0, io.EOF
	}
	if len(g.buf) == 0 {
		g.i++
		g.buf = fmt.Appendf(nil, `{"uuid":"big-%d","published":"2026-11-01T00:00:00.000Z","eventType":"user.session.start","pad":"%s"}`+"\n", g.i, strings.Repeat("x", 900))
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	atomic.AddInt64(&g.read, int64(n))
	return n, nil
}

func heapPeak(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				out <- peak
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return out
}

// A 2 GB body is refused with 413 after the limit, without reading it all
// and without memory growth: streamed (chunked), declared, and gzipped.
func TestBodyLimit(t *testing.T) {
	const limit = 4 << 20
	e := newEnv(t, api.Options{BodyLimit: limit})
	const twoGB = 2 << 30

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.HeapInuse
	stop := make(chan struct{})
	peak := heapPeak(stop)

	gen := &endless{n: twoGB}
	req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/logs", io.NopCloser(gen)) // no length: chunked
	req.Header.Set("Authorization", "SSWS "+e.write)
	resp, err := http.DefaultClient.Do(req)
	close(stop)
	if err != nil {
		t.Fatalf("the client saw %v instead of a 413", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	er := wantError(t, resp, b, 413, "E0000001")
	if !strings.Contains(er.ErrorSummary, "4 MiB") {
		t.Errorf("summary %q does not say the limit", er.ErrorSummary)
	}
	if read := atomic.LoadInt64(&gen.read); read > 64<<20 {
		t.Errorf("the server read %d MiB of a body limited to 4 MiB", read>>20)
	}
	if grew := int64(<-peak) - int64(before); grew > 96<<20 {
		t.Errorf("heap grew by %d MiB while refusing the body", grew>>20)
	}

	// Declared too large: refused before reading.
	gen = &endless{n: twoGB}
	req, _ = http.NewRequest("POST", e.ts.URL+"/api/v1/logs", io.NopCloser(gen))
	req.ContentLength = twoGB
	req.Header.Set("Authorization", "SSWS "+e.write)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	wantError(t, resp, b, 413, "E0000001")

	// A small gzip body that inflates past the limit.
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	io.Copy(w, &endless{n: 64 << 20})
	w.Close()
	if buf.Len() > limit {
		t.Fatalf("compressed test body is %d bytes", buf.Len())
	}
	resp, b = e.do("POST", e.write, "/api/v1/logs", &buf, http.Header{"Content-Encoding": {"gzip"}})
	wantError(t, resp, b, 413, "E0000001")

	// And the server still takes a body under the limit.
	resp, b = e.do("POST", e.write, "/api/v1/logs", &endless{n: 100 << 10}, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("small body after the refusals: %d %s", resp.StatusCode, b)
	}
}

func TestBadContentEncoding(t *testing.T) {
	e := newEnv(t, api.Options{})
	resp, b := e.do("POST", e.write, "/api/v1/logs", strings.NewReader("x"), http.Header{"Content-Encoding": {"br"}})
	wantError(t, resp, b, 400, "E0000001")
	resp, b = e.do("POST", e.write, "/api/v1/logs", strings.NewReader("not gzip"), http.Header{"Content-Encoding": {"gzip"}})
	wantError(t, resp, b, 400, "E0000001")
}

// WaitIngests lets an ingest that is still receiving its body finish, and
// refuses new ones meanwhile.
func TestShutdownFinishesIngests(t *testing.T) {
	e := newEnv(t, api.Options{})
	pr, pw := io.Pipe()
	evs := genEvents(21, 3, t0, time.Hour)
	done := make(chan ingestAnswer, 1)
	go func() {
		req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/logs", pr)
		req.Header.Set("Authorization", "SSWS "+e.write)
		resp, err := http.DefaultClient.Do(req)
		var a ingestAnswer
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&a)
			resp.Body.Close()
		}
		done <- a
	}()
	pw.Write(append(evs[0], '\n'))
	time.Sleep(100 * time.Millisecond) // the handler is now running
	waited := make(chan error, 1)
	go func() { waited <- e.srv.WaitIngests(context.Background()) }()
	select {
	case <-waited:
		t.Fatal("WaitIngests returned while an ingest was running")
	case <-time.After(200 * time.Millisecond):
	}
	resp, b := e.do("POST", e.write, "/api/v1/logs", strings.NewReader(string(evs[2])), nil)
	wantError(t, resp, b, 503, "E0000010")
	pw.Write(append(evs[1], '\n'))
	pw.Close()
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	if a := <-done; a.Accepted != 2 {
		t.Fatalf("the in-flight ingest stored %d, want 2", a.Accepted)
	}
}

// A gzip body cut short is the client's problem: 400 with what was stored,
// not a 500.
func TestTruncatedGzipBody(t *testing.T) {
	e := newEnv(t, api.Options{})
	evs := genEvents(22, 3000, t0, time.Second)
	var plain strings.Builder
	for _, ev := range evs {
		plain.Write(ev)
		plain.WriteByte('\n')
	}
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	io.WriteString(w, plain.String())
	w.Close()
	cut := buf.Bytes()[:buf.Len()*2/3]
	resp, b := e.do("POST", e.write, "/api/v1/logs", bytes.NewReader(cut), http.Header{"Content-Encoding": {"gzip"}})
	wantError(t, resp, b, 400, "E0000001")
	if !strings.Contains(string(b), "could not be read to the end") || !strings.Contains(string(b), "events before the break were stored") {
		t.Errorf("answer does not explain the break: %s", b)
	}
	// The whole body again stores the rest: nothing lost, nothing twice.
	var full bytes.Buffer
	w = gzip.NewWriter(&full)
	io.WriteString(w, plain.String())
	w.Close()
	resp, b = e.do("POST", e.write, "/api/v1/logs", &full, http.Header{"Content-Encoding": {"gzip"}})
	var a ingestAnswer
	if resp.StatusCode != 200 || json.Unmarshal(b, &a) != nil || a.Accepted+a.Duplicates != len(evs) || a.Duplicates == 0 {
		t.Fatalf("resend: %d %s", resp.StatusCode, b)
	}
}
