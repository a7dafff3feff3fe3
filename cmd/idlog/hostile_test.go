package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHostileClients: thousands of idle connections, clients that send
// their headers or bodies a byte at a time, and oversized headers, all at
// once. The server closes the slow ones at its timeouts, refuses the
// oversized headers with 431, and keeps answering a normal client within
// its normal latency. IDLOG_HOSTILE_CONNS sets the number of idle
// connections (default 2000).
func TestHostileClients(t *testing.T) {
	dir := t.TempDir()
	st := "duckdb:" + filepath.Join(dir, "events.duckdb")
	r := idlog(t, nil, "", "token", "create", "--data-dir", dir, "--name", "t", "--scope", "admin")
	token := strings.TrimSpace(r.stdout)
	if r := idlog(t, nil, string(simulated(t, 2)), "import", "--store", st, "-"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }},
			serveConfig{addr: "127.0.0.1:0", storeURL: st, dataDir: dir, bodyLimit: 64 << 20, queryTimeout: 30 * time.Second,
				shutdownTimeout: 2 * time.Second, headerTimeout: time.Second, bodyIdle: time.Second}, func(u string) { ready <- u })
	}()
	url := <-ready
	defer func() { cancel(); <-done }()
	addr := strings.TrimPrefix(url, "http://")

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	latencies := func(n int) []time.Duration {
		var out []time.Duration
		for range n {
			req, _ := http.NewRequest("GET", url+"/api/v1/logs?limit=5", nil)
			req.Header.Set("Authorization", "SSWS "+token)
			start := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("GET: %s", resp.Status)
			}
			out = append(out, time.Since(start))
		}
		slices.Sort(out)
		return out
	}
	pct := func(d []time.Duration, p float64) time.Duration { return d[int(float64(len(d)-1)*p)] }
	base := latencies(100)

	conns := 2000
	if v, err := strconv.Atoi(os.Getenv("IDLOG_HOSTILE_CONNS")); err == nil && v > 0 {
		conns = v
	}
	var open []net.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial after %d connections: %v", len(open), err)
		}
		open = append(open, c)
		return c
	}
	idle := make([]net.Conn, 0, conns)
	for range conns {
		idle = append(idle, dial())
	}
	// Slow headers: a byte every 100 ms, never finished.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	slowHeaders := make([]net.Conn, 50)
	for i := range slowHeaders {
		c := dial()
		slowHeaders[i] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := []byte("GET /api/v1/logs HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 1000))
			for _, b := range msg {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
				if _, err := c.Write([]byte{b}); err != nil {
					return // closed by the server: what it should do
				}
			}
		}()
	}
	// Slow bodies: whole headers, then a few bytes of a long body, then nothing.
	slowBodies := make([]net.Conn, 20)
	for i := range slowBodies {
		c := dial()
		slowBodies[i] = c
		fmt.Fprintf(c, "POST /api/v1/logs HTTP/1.1\r\nHost: x\r\nAuthorization: SSWS %s\r\nContent-Length: 100000\r\n\r\n{\"uuid\":", token)
	}
	// Oversized headers are refused at once.
	big, _ := http.NewRequest("GET", url+"/api/v1/logs", nil)
	big.Header.Set("Authorization", "SSWS "+token)
	big.Header.Set("X-Big", strings.Repeat("b", 256<<10))
	if resp, err := client.Do(big); err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a 256 KiB header: %v %v, want 431", resp, err)
	} else {
		resp.Body.Close()
	}

	under := latencies(100)
	t.Logf("GET /api/v1/logs?limit=5 alone: p50 %v p99 %v; beside %d idle, %d slow-header, %d slow-body connections: p50 %v p99 %v",
		pct(base, .5), pct(base, .99), conns, len(slowHeaders), len(slowBodies), pct(under, .5), pct(under, .99))
	if limit := max(10*pct(base, .99), 250*time.Millisecond); pct(under, .99) > limit {
		t.Errorf("p99 beside hostile clients %v is over %v", pct(under, .99), limit)
	}

	// The slow bodies are answered (400: the body stalled) after the idle
	// timeout; the slow headers and the idle connections are closed.
	for i, c := range slowBodies {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			if i == 0 {
				t.Logf("slow body: connection ended without an answer: %v", err)
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Errorf("slow body %d: still open after 10 s", i)
			}
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 400 || !bytes.Contains(b, []byte("could not be read")) {
			t.Errorf("slow body %d: %s %s", i, resp.Status, b)
		}
	}
	closedBy := func(cs []net.Conn, what string) {
		for i, c := range cs {
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err := c.Read(make([]byte, 512))
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Errorf("%s connection %d still open after 10 s", what, i)
				return
			}
		}
	}
	closedBy(slowHeaders, "slow-header")
	closedBy(idle[:100], "idle")
	close(stop)
	wg.Wait()
	// And the server still answers.
	if after := latencies(20); pct(after, .99) > max(10*pct(base, .99), 250*time.Millisecond) {
		t.Errorf("after the hostile clients p99 is %v", pct(after, .99))
	}
}
