package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeLogs serves n numbered events in pages, with Okta's separate Link
// lines (self first, next last), and records the requests.
func fakeLogs(t *testing.T, n int, token string) (*httptest.Server, *[]string) {
	var reqs []string
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs = append(reqs, r.Method+" "+r.URL.RequestURI())
		if r.Header.Get("Authorization") != "SSWS "+token {
			w.WriteHeader(401)
			io.WriteString(w, `{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorLink":"E0000011","errorId":"x","errorCauses":[]}`)
			return
		}
		q := r.URL.Query()
		limit, _ := strconv.Atoi(q.Get("limit"))
		after, _ := strconv.Atoi(q.Get("after"))
		end := min(after+limit, n)
		var page []string
		for i := after; i < end; i++ {
			page = append(page, fmt.Sprintf(`{"uuid":"%d"}`, i))
		}
		w.Header().Add("Link", "<"+srv.URL+r.URL.RequestURI()+`>; rel="self"`)
		if end < n {
			q.Set("after", strconv.Itoa(end))
			w.Header().Add("Link", "<"+srv.URL+"/api/v1/logs?"+q.Encode()+`>; rel="next"`)
		}
		io.WriteString(w, "["+strings.Join(page, ",")+"]")
	}))
	t.Cleanup(srv.Close)
	return srv, &reqs
}

func TestLogsFollowsNext(t *testing.T) {
	tests := []struct {
		n, limit, want, requests int
	}{
		{n: 2500, limit: 0, want: 2500, requests: 3},
		{n: 2500, limit: 1200, want: 1200, requests: 2},
		{n: 10, limit: 3, want: 3, requests: 1},
		{n: 0, limit: 0, want: 0, requests: 1},
	}
	for _, tt := range tests {
		srv, reqs := fakeLogs(t, tt.n, "tok")
		c, err := New(srv.URL, "tok")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		err = c.Logs(context.Background(), LogsQuery{Limit: tt.limit, Filter: `eventType eq "x"`,
			Since: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}, func(raw json.RawMessage) error {
			got = append(got, string(raw))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.want || len(*reqs) != tt.requests {
			t.Errorf("n=%d limit=%d: got %d events in %d requests, want %d in %d: %v", tt.n, tt.limit, len(got), len(*reqs), tt.want, tt.requests, *reqs)
		}
		for i, g := range got {
			if g != fmt.Sprintf(`{"uuid":"%d"}`, i) {
				t.Fatalf("event %d = %s", i, g)
			}
		}
		if first := (*reqs)[0]; !strings.Contains(first, "filter=eventType+eq+%22x%22") || !strings.Contains(first, "since=2026-03-01T00%3A00%3A00Z") || !strings.Contains(first, "sortOrder=ASCENDING") {
			t.Errorf("first request %s lacks the parameters", first)
		}
	}
}

func TestLogsStopsOnEmptyPageWithNext(t *testing.T) {
	// A polling query's next link never ends; an empty page does.
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Add("Link", `<`+"http://"+r.Host+`/api/v1/logs?after=x>; rel="next"`)
		if calls == 1 {
			io.WriteString(w, `[{"uuid":"a"}]`)
			return
		}
		io.WriteString(w, `[]`)
	}))
	defer srv.Close()
	c, _ := New(srv.URL, "t")
	n := 0
	if err := c.Logs(context.Background(), LogsQuery{}, func(json.RawMessage) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 1 || calls != 2 {
		t.Errorf("%d events in %d calls, want 1 in 2", n, calls)
	}
}

func TestLogsRefusesForeignNext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Link", `<https://elsewhere.example/api/v1/logs?after=1>; rel="next"`)
		io.WriteString(w, `[{"uuid":"a"}]`)
	}))
	defer srv.Close()
	c, _ := New(srv.URL, "t")
	err := c.Logs(context.Background(), LogsQuery{}, func(json.RawMessage) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "not following it") {
		t.Fatalf("err = %v, want a refusal", err)
	}
}

func TestAPIError(t *testing.T) {
	srv, _ := fakeLogs(t, 1, "right")
	c, _ := New(srv.URL, "wrong")
	err := c.Logs(context.Background(), LogsQuery{}, func(json.RawMessage) error { return nil })
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 401 || ae.Code != "E0000011" {
		t.Fatalf("err = %#v", err)
	}
	if want := "server: Invalid token provided (HTTP 401, E0000011)"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

func TestParseLinks(t *testing.T) {
	tests := []struct {
		in   string
		want string // urls with next marked by *
	}{
		{`<https://a/x?y=1>; rel="next"`, "https://a/x?y=1*"},
		{`<https://a/s>; rel="self", <https://a/n>; rel="next"`, "https://a/s https://a/n*"},
		{`<https://a/n>;rel=next`, "https://a/n*"},
		{`<https://a/n>; rel="prev next"`, "https://a/n*"},
		{`garbage`, ""},
	}
	for _, tt := range tests {
		var parts []string
		for _, l := range parseLinks(tt.in) {
			s := l.url
			if l.next {
				s += "*"
			}
			parts = append(parts, s)
		}
		if got := strings.Join(parts, " "); got != tt.want {
			t.Errorf("parseLinks(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPushStatsPrune(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Content-Type")+" "+string(body))
		switch r.URL.Path {
		case "/api/v1/logs":
			io.WriteString(w, `{"accepted":1,"duplicates":2,"rejected":[{"index":3,"line":4,"error":"missing uuid"}]}`)
		case "/api/idlog/v1/stats":
			io.WriteString(w, `{"events":5,"oldest":"2026-03-01T00:00:00Z","newest":"2026-03-02T00:00:00.5Z","maxSeq":9,"bytesOnDisk":1024}`)
		case "/api/idlog/v1/prune":
			io.WriteString(w, `{"deleted":7}`)
		}
	}))
	defer srv.Close()
	c, _ := New(srv.URL+"/", "t")
	ctx := context.Background()
	res, err := c.Push(ctx, strings.NewReader("{}\n"), "")
	if err != nil || res.Accepted != 1 || res.Duplicates != 2 || res.RejectedCount != 1 || res.Rejected[0].Line != 4 {
		t.Errorf("Push = %+v, %v", res, err)
	}
	st, err := c.Stats(ctx)
	if err != nil || st.Events != 5 || st.MaxSeq != 9 || st.BytesOnDisk != 1024 || st.Newest.Nanosecond() != 5e8 || st.Oldest.Day() != 1 {
		t.Errorf("Stats = %+v, %v", st, err)
	}
	n, err := c.Prune(ctx, time.Date(2026, 3, 1, 0, 0, 0, 0, time.FixedZone("x", 3600)))
	if err != nil || n != 7 {
		t.Errorf("Prune = %d, %v", n, err)
	}
	want := []string{
		"POST /api/v1/logs application/x-ndjson {}\n",
		"GET /api/idlog/v1/stats  ",
		"POST /api/idlog/v1/prune?before=2026-02-28T23%3A00%3A00Z  ",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("requests\n%q\nwant\n%q", got, want)
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "localhost:8080", "ftp://x", "http://"} {
		if _, err := New(u, "t"); err == nil {
			t.Errorf("New(%q) succeeded", u)
		}
	}
}

func TestUnreachableServerSaysWhere(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close() // nothing listens there now
	c, err := New("http://"+addr, "tok")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Stats(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot reach the idlog server at "+addr) || strings.Contains(err.Error(), "/api/") {
		t.Fatalf("error %v: want the address and the cause, not the request URL", err)
	}
}
