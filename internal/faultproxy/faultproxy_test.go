package faultproxy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// TestScript checks each scripted fault reaches the client as it should.
func TestScript(t *testing.T) {
	n := 0
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		w.Header().Add("Link", `<http://up/api/v1/logs?after=`+strconv.Itoa(n)+`>; rel="next"`)
		fmt.Fprintf(w, `[{"uuid":"%d-a"},{"uuid":"%d-b"}]`, n, n)
	}))
	defer up.Close()
	p := New(up.URL, Faults{Delay: 300 * time.Millisecond,
		Script: []Fault{None, Repeat, Cut, TooMany, Error, Slow}}, 1)
	ps := httptest.NewServer(p)
	defer ps.Close()

	get := func() (*http.Response, []byte, time.Duration, error) {
		start := time.Now()
		resp, err := http.Get(ps.URL + "/api/v1/logs")
		if err != nil {
			return nil, nil, 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, time.Since(start), err
	}
	uuids := func(b []byte) []string {
		var evs []struct{ UUID string }
		if err := json.Unmarshal(b, &evs); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		var out []string
		for _, e := range evs {
			out = append(out, e.UUID)
		}
		return out
	}

	resp, b, _, err := get()
	if err != nil || resp.StatusCode != 200 || fmt.Sprint(uuids(b)) != "[1-a 1-b]" || resp.Header.Get("Link") == "" {
		t.Fatalf("plain: %v %s", err, b)
	}
	_, b, _, err = get()
	if err != nil || fmt.Sprint(uuids(b)) != "[1-a 1-b 2-a 2-b]" {
		t.Errorf("repeat: %v %s", err, b)
	}
	_, _, _, err = get()
	if err == nil {
		t.Errorf("cut: the body read whole")
	}
	resp, b, _, err = get()
	if err != nil || resp.StatusCode != 429 || resp.Header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Errorf("429: %v %v %s", err, resp.Status, b)
	} else if reset, _ := strconv.ParseInt(resp.Header.Get("X-Rate-Limit-Reset"), 10, 64); reset <= time.Now().Unix() {
		t.Errorf("429 reset %d is not in the future", reset)
	}
	resp, _, _, err = get()
	if err != nil || resp.StatusCode != 500 {
		t.Errorf("500: %v %v", err, resp)
	}
	resp, _, took, err := get()
	if err != nil || resp.StatusCode != 200 || took < 300*time.Millisecond {
		t.Errorf("slow: %v, took %s", err, took)
	}
	if p.Requests.Load() != 6 || p.CutBodies.Load() != 1 || p.Repeated.Load() != 1 || p.Injected429.Load() != 1 ||
		p.Injected500.Load() != 1 || p.Slowed.Load() != 1 {
		t.Errorf("counters: %d requests, %d cut, %d repeated, %d 429, %d 500, %d slow", p.Requests.Load(), p.CutBodies.Load(),
			p.Repeated.Load(), p.Injected429.Load(), p.Injected500.Load(), p.Slowed.Load())
	}
	if st := p.Statuses(); st[200] != 4 {
		t.Errorf("upstream statuses %v", st)
	}
}
