// Package faultproxy stands between a System Log client and a server that
// answers like Okta, and misbehaves the way a real org and network do: 429s
// with a reset time, 500s, slow answers, connections cut in the middle of a
// body, and pages that repeat the end of the previous page. It is for tests
// on the loopback interface only.
package faultproxy

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Faults are the chances (0 to 1) of each misbehaviour per request.
type Faults struct {
	TooMany float64       // answer 429 E0000047 without forwarding
	Reset   time.Duration // how far ahead the 429's X-Rate-Limit-Reset is; default 1 s
	Error   float64       // answer 500 without forwarding
	Slow    float64       // delay the answer by Delay
	Delay   time.Duration
	Cut     float64 // send half the body, then drop the connection
	Repeat  float64 // put the previous page's last events before this page's
	// Script forces faults on the first requests, one per request, before
	// chance takes over, so a short test sees each kind at least once.
	Script []Fault
}

// Fault is one kind of misbehaviour, for Faults.Script.
type Fault int

const (
	None Fault = iota
	TooMany
	Error
	Slow
	Cut
	Repeat
)

// Proxy forwards to Target with faults. Its counters are safe to read while
// it serves.
type Proxy struct {
	Target string // scheme://host of the upstream
	Faults Faults

	client *http.Client

	mu       sync.Mutex
	rng      *rand.Rand
	tail     []json.RawMessage // end of the last page forwarded
	statuses map[int]int       // of forwarded answers

	Requests    atomic.Int64
	Injected429 atomic.Int64
	Injected500 atomic.Int64
	Slowed      atomic.Int64
	CutBodies   atomic.Int64
	Repeated    atomic.Int64
	// EmptyPages counts 200 answers with no events; LastEmpty is when the
	// last one was sent (unix nanoseconds), so a test can tell the client
	// has caught up.
	EmptyPages atomic.Int64
	LastEmpty  atomic.Int64
}

// New returns a proxy to target whose random choices follow seed.
func New(target string, f Faults, seed uint64) *Proxy {
	if f.Reset <= 0 {
		f.Reset = time.Second
	}
	return &Proxy{Target: target, Faults: f, client: &http.Client{Timeout: time.Minute},
		rng: rand.New(rand.NewPCG(seed, 0xfa017))}
}

func (p *Proxy) roll(chance float64) bool {
	if chance <= 0 {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rng.Float64() < chance
}

// scripted returns the forced fault of request n (1-based), if any.
func (p *Proxy) scripted(n int64) Fault {
	if n <= int64(len(p.Faults.Script)) {
		return p.Faults.Script[n-1]
	}
	return None
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	forced := p.scripted(p.Requests.Add(1))
	f := p.Faults
	if forced != None {
		f = Faults{Reset: f.Reset, Delay: f.Delay}
		switch forced {
		case TooMany:
			f.TooMany = 1
		case Error:
			f.Error = 1
		case Slow:
			f.Slow = 1
		case Cut:
			f.Cut = 1
		case Repeat:
			f.Repeat = 1
		}
	}
	switch {
	case p.roll(f.TooMany):
		p.Injected429.Add(1)
		reset := time.Now().Add(f.Reset)
		h := w.Header()
		h.Set("X-Rate-Limit-Limit", "600")
		h.Set("X-Rate-Limit-Remaining", "0")
		// Rounded up, as a server would: the window ends at a whole second.
		h.Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Add(time.Second-1).Unix(), 10))
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorLink":"E0000047","errorId":"faultproxy","errorCauses":[]}`)
		return
	case p.roll(f.Error):
		p.Injected500.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"errorCode":"E0000009","errorSummary":"Internal Server Error","errorLink":"E0000009","errorId":"faultproxy","errorCauses":[]}`)
		return
	}

	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.Target+r.URL.RequestURI(), nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := p.client.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	p.mu.Lock()
	if p.statuses == nil {
		p.statuses = map[int]int{}
	}
	p.statuses[resp.StatusCode]++
	p.mu.Unlock()
	if resp.StatusCode == http.StatusOK {
		body = p.page(body, f.Repeat)
	}
	for _, k := range []string{"Content-Type", "Link", "X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset", "Date"} {
		for _, v := range resp.Header.Values(k) {
			w.Header().Add(k, v)
		}
	}
	if p.roll(f.Slow) {
		p.Slowed.Add(1)
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	if len(body) > 2 && p.roll(f.Cut) {
		p.CutBodies.Add(1)
		w.Write(body[:len(body)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		// Drops the connection without finishing the response.
		panic(http.ErrAbortHandler)
	}
	w.Write(body)
}

// Statuses counts the upstream's answers by HTTP status (injected faults
// not included), for a test's failure message.
func (p *Proxy) Statuses() map[int]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[int]int, len(p.statuses))
	for k, v := range p.statuses {
		out[k] = v
	}
	return out
}

// page notes what a page holds and, by chance, puts the end of the previous
// page before it, as a server that re-sends events at page boundaries would.
func (p *Proxy) page(body []byte, repeat float64) []byte {
	var events []json.RawMessage
	if err := json.Unmarshal(body, &events); err != nil {
		return body
	}
	if len(events) == 0 {
		p.EmptyPages.Add(1)
		p.LastEmpty.Store(time.Now().UnixNano())
	}
	p.mu.Lock()
	prev := p.tail
	if len(events) > 0 {
		p.tail = append([]json.RawMessage(nil), events[max(0, len(events)-3):]...)
	}
	p.mu.Unlock()
	if len(prev) == 0 || !p.roll(repeat) {
		return body
	}
	p.Repeated.Add(1)
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range append(append([]json.RawMessage(nil), prev...), events...) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(e)
	}
	b.WriteByte(']')
	return b.Bytes()
}
