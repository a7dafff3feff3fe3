package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var nextLink = regexp.MustCompile(`^<([^>]+)>;\s*rel="next"$`)

// TestPlainClientPolling is a curl-style client: one request with since,
// then only the next links, never a parameter of its own. Meanwhile three
// writers POST events whose published times are older than ones already
// read. The reader must get every event exactly once.
func TestPlainClientPolling(t *testing.T) {
	e := newSimEnv(t, 20, 3)
	var initial int
	for _, l := range bytes.Split(simulated(t, 20, 3), []byte("\n")) {
		if len(l) > 0 {
			initial++
		}
	}
	late := genEvents(60, 600, simEnd.Add(-3*24*time.Hour), 3*24*time.Hour)

	// Three writers at once, so commits interleave: the polling cursor
	// must still see each event exactly once.
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() { post(t, e, late[w*len(late)/3:(w+1)*len(late)/3]) })
	}

	seen := map[string]int{}
	url := e.ts.URL + "/api/v1/logs?limit=250&since=" + simEnd.Add(-4*24*time.Hour).Format(time.RFC3339)
	want := initial + len(late)
	deadline := time.Now().Add(60 * time.Second)
	for len(seen) < want || !writerDone(&wg) {
		if time.Now().After(deadline) {
			t.Fatalf("saw %d of %d events before the deadline", len(seen), want)
		}
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "SSWS"+e.read) // Python SDK style
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var page []struct {
			UUID string `json:"uuid"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		for _, ev := range page {
			seen[ev.UUID]++
		}
		links := resp.Header.Values("Link")
		m := nextLink.FindStringSubmatch(links[len(links)-1]) // the last line, as Okta's Python SDK reads it
		if m == nil {
			t.Fatalf("no next link as the last Link line: %q", links)
		}
		if !strings.HasPrefix(m[1], e.ts.URL) {
			t.Fatalf("next link %q is not absolute", m[1])
		}
		url = m[1]
		if len(page) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if len(seen) != want {
		t.Fatalf("saw %d distinct events, want %d", len(seen), want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s seen %d times", id, n)
		}
	}
}

func writerDone(wg *sync.WaitGroup) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(time.Millisecond):
		return false
	}
}

// post sends events in batches of 50 through POST /api/v1/logs.
func post(t *testing.T, e *env, evs [][]byte) {
	for i := 0; i < len(evs); i += 50 {
		var body bytes.Buffer
		for _, raw := range evs[i:min(i+50, len(evs))] {
			body.Write(raw)
			body.WriteByte('\n')
		}
		req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/logs", &body)
		req.Header.Set("Authorization", "SSWS "+e.write)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("POST: %v %v", resp, err)
			return
		}
		resp.Body.Close()
		time.Sleep(5 * time.Millisecond)
	}
}
