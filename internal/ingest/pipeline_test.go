package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/store"
)

// memStore is the least of a store that Ingest needs: Append with the
// interface's duplicate rule. The real backends run the storetest suite.
type memStore struct {
	store.Store // nil: any other method panics, which would be a bug here
	mu          sync.Mutex
	byUUID      map[string]store.Event
	batches     []int
	fail        error // returned by Append when set
}

func newMemStore() *memStore { return &memStore{byUUID: map[string]store.Event{}} }

func (m *memStore) Append(ctx context.Context, events []store.Event) (store.AppendResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return store.AppendResult{}, m.fail
	}
	var r store.AppendResult
	for _, e := range events {
		if _, ok := m.byUUID[e.UUID]; ok {
			r.Duplicates++
			continue
		}
		e.Seq = int64(len(m.byUUID) + 1)
		m.byUUID[e.UUID] = e
		r.Added++
	}
	m.batches = append(m.batches, len(events))
	return r, nil
}

func TestIngest(t *testing.T) {
	in := strings.Join([]string{
		ev("a"), ev("b"), `{"uuid":"c","eventType":"x"}`, ev("a"), "", "not json", ev("d"), ev("b"),
	}, "\n")
	st := newMemStore()
	res, err := New(st, Options{BatchEvents: 2}).Ingest(context.Background(), strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Accepted: 3, Duplicates: 2, RejectedCount: 2, Rejected: []Rejection{
		{Index: 2, Line: 3, Error: "missing published"},
		{Index: 4, Line: 6, Error: "invalid JSON at column 1 of the event: \"not\" is not a JSON value"},
	}}
	if fmt.Sprint(res) != fmt.Sprint(want) {
		t.Errorf("result\n got %+v\nwant %+v", res, want)
	}
	if len(st.byUUID) != 3 {
		t.Errorf("stored %d events, want 3", len(st.byUUID))
	}
	for _, n := range st.batches {
		if n > 2 {
			t.Errorf("batch of %d events, over BatchEvents 2", n)
		}
	}
	js, _ := json.Marshal(res)
	if !strings.HasPrefix(string(js), `{"accepted":3,"duplicates":2,"rejected":[{"index":2,"line":3,"error":"missing published"}`) {
		t.Errorf("JSON = %s", js)
	}
}

func TestIngestArrayHasNoLines(t *testing.T) {
	res, err := New(newMemStore(), Options{}).Ingest(context.Background(), strings.NewReader("["+ev("a")+`,{"uuid":"b"}]`), nil)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(res)
	if want := `{"accepted":1,"duplicates":0,"rejected":[{"index":1,"error":"missing published and eventType"}],"rejectedCount":1}`; string(js) != want {
		t.Errorf("JSON = %s\nwant   %s", js, want)
	}
}

func TestIngestEmptyRejectedIsAnArray(t *testing.T) {
	res, err := New(newMemStore(), Options{}).Ingest(context.Background(), strings.NewReader(""), nil)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(res)
	if want := `{"accepted":0,"duplicates":0,"rejected":[],"rejectedCount":0}`; string(js) != want {
		t.Errorf("JSON = %s, want %s", js, want)
	}
}

func TestIngestKeepsBoundedRejections(t *testing.T) {
	in := strings.Repeat("x\n", 50) + ev("a")
	res, err := New(newMemStore(), Options{MaxRejections: 10}).Ingest(context.Background(), strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) != 10 || res.RejectedCount != 50 || res.Accepted != 1 {
		t.Errorf("kept %d of %d rejections, accepted %d; want 10 of 50, 1", len(res.Rejected), res.RejectedCount, res.Accepted)
	}
	if res.Rejected[9].Line != 10 {
		t.Errorf("10th kept rejection is line %d, want 10", res.Rejected[9].Line)
	}
}

func TestIngestStoreFailure(t *testing.T) {
	st := newMemStore()
	st.fail = errors.New("disk full")
	var in strings.Builder
	for i := range 100 {
		in.WriteString(ev(fmt.Sprint(i)) + "\n")
	}
	_, err := New(st, Options{BatchEvents: 10}).Ingest(context.Background(), strings.NewReader(in.String()), nil)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the store's error", err)
	}
}

// slowStore makes Append wait so the test can see the decoder held back.
type slowStore struct {
	*memStore
	release chan struct{}
}

func (s *slowStore) Append(ctx context.Context, events []store.Event) (store.AppendResult, error) {
	<-s.release
	return s.memStore.Append(ctx, events)
}

func TestIngestBackPressure(t *testing.T) {
	st := &slowStore{memStore: newMemStore(), release: make(chan struct{})}
	const n = 5000
	var in strings.Builder
	for i := range n {
		in.WriteString(ev(fmt.Sprint(i)) + "\n")
	}
	cr := &lockedCounter{r: strings.NewReader(in.String())}
	done := make(chan Result)
	go func() {
		res, err := New(st, Options{BatchEvents: 10}).Ingest(context.Background(), struct{ io.Reader }{cr}, nil)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	time.Sleep(50 * time.Millisecond)
	// With Append stuck, the decoder fills one batch in Append, one in the
	// queue and one in hand, then waits: it must not run on to the end.
	if consumed := cr.bytes(); consumed >= int64(in.Len()) {
		t.Errorf("the decoder read all %d bytes while the store was blocked", consumed)
	}
	if len(st.byUUID) != 0 {
		t.Fatalf("stored %d events while Append was blocked", len(st.byUUID))
	}
	close(st.release)
	res := <-done
	if res.Accepted != n {
		t.Fatalf("accepted %d, want %d", res.Accepted, n)
	}
}

// lockedCounter counts bytes read, readable from another goroutine.
type lockedCounter struct {
	mu sync.Mutex
	r  io.Reader
	n  int64
}

func (c *lockedCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.mu.Lock()
	c.n += int64(n)
	c.mu.Unlock()
	return n, err
}

func (c *lockedCounter) bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func TestIngestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New(newMemStore(), Options{}).Ingest(ctx, strings.NewReader(ev("a")+"\n"+ev("b")), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestIngestProgress(t *testing.T) {
	var in strings.Builder
	for i := range 25 {
		in.WriteString(ev(fmt.Sprint(i)) + "\n")
	}
	in.WriteString("bad\n")
	var got []Progress
	res, err := New(newMemStore(), Options{BatchEvents: 10}).Ingest(context.Background(), strings.NewReader(in.String()), func(p Progress) {
		got = append(got, p)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d progress reports, want 3 (batches of 10, 10, 5): %+v", len(got), got)
	}
	last := got[len(got)-1]
	if last.Accepted != res.Accepted || last.Events != 26 || last.Rejected != 1 || last.Bytes != int64(in.Len()) {
		t.Errorf("last progress %+v, result %+v, input %d bytes", last, res, in.Len())
	}
	if got[0].Accepted != 10 || got[0].Events != 10 {
		t.Errorf("first progress %+v", got[0])
	}
}

func TestAppendBatches(t *testing.T) {
	st := newMemStore()
	var evs []store.Event
	for i := range 7 {
		e, err := ParseEvent([]byte(ev(fmt.Sprint(i % 5))))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	ar, err := New(st, Options{BatchEvents: 3}).Append(context.Background(), evs)
	if err != nil {
		t.Fatal(err)
	}
	if ar.Added != 5 || ar.Duplicates != 2 || fmt.Sprint(st.batches) != "[3 3 1]" {
		t.Errorf("Append = %+v in batches %v, want 5 added, 2 duplicates in [3 3 1]", ar, st.batches)
	}
}

func TestDecompress(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(ev("a")))
	zw.Close()
	for name, in := range map[string][]byte{"gzip": gz.Bytes(), "plain": []byte(ev("a")), "empty": nil} {
		r, err := Decompress(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name != "empty" && string(out) != ev("a") {
			t.Errorf("%s: got %q", name, out)
		}
	}
}

// blockingReader yields data, then blocks in Read until released.
type blockingReader struct {
	data    io.Reader
	release chan struct{}
}

func (b *blockingReader) Read(p []byte) (int, error) {
	n, err := b.data.Read(p)
	if err == io.EOF {
		<-b.release
	}
	return n, err
}

func TestIngestCancelWhileReadBlocks(t *testing.T) {
	var in strings.Builder
	for i := range 25 {
		in.WriteString(ev(fmt.Sprint(i)) + "\n")
	}
	r := &blockingReader{data: strings.NewReader(in.String()), release: make(chan struct{})}
	defer close(r.release)
	ctx, cancel := context.WithCancel(context.Background())
	st := newMemStore()
	type out struct {
		res Result
		err error
	}
	done := make(chan out)
	go func() {
		res, err := New(st, Options{BatchEvents: 10}).Ingest(ctx, r, func(Progress) {})
		done <- out{res, err}
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case o := <-done:
		if !errors.Is(o.err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", o.err)
		}
		// Two whole batches were stored before the read blocked; the five
		// events in hand were not.
		if o.res.Accepted != 20 || len(st.byUUID) != 20 {
			t.Errorf("accepted %d, stored %d; want 20", o.res.Accepted, len(st.byUUID))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ingest did not return while its reader was blocked")
	}
}

// startStore is a store.AppendStarter: each batch is stored on its own
// goroutine, in the order started, and failBatch (0-based) fails.
type startStore struct {
	*memStore
	failBatch int
	mu        sync.Mutex
	started   int
	open      int // started and not waited for yet
	maxOpen   int
	prev      chan struct{}
}

func (s *startStore) StartAppend(ctx context.Context, events []store.Event) (func() (store.AppendResult, error), error) {
	s.mu.Lock()
	k := s.started
	s.started++
	s.open++
	s.maxOpen = max(s.maxOpen, s.open)
	prev, done := s.prev, make(chan struct{})
	s.prev = done
	s.mu.Unlock()
	type outcome struct {
		r   store.AppendResult
		err error
	}
	out := make(chan outcome, 1)
	go func() {
		defer close(done)
		if prev != nil {
			<-prev
		}
		if k == s.failBatch {
			out <- outcome{err: errors.New("disk full")}
			return
		}
		r, err := s.memStore.Append(ctx, events)
		out <- outcome{r, err}
	}()
	return func() (store.AppendResult, error) {
		o := <-out
		s.mu.Lock()
		s.open--
		s.mu.Unlock()
		return o.r, o.err
	}, nil
}

// TestIngestStartsBatchesAhead: with a store.AppendStarter, Ingest keeps
// two batches started, stores them in input order (the first copy of a
// uuid wins), and its Result counts exactly what was stored, also when a
// batch fails while the next one is under way.
func TestIngestStartsBatchesAhead(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failBatch int
		wantErr   string
	}{
		{"all stored", -1, ""},
		{"fourth batch fails", 3, "storing events 30 and on: disk full"},
		{"last batch fails", 9, "storing events 90 and on: disk full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in strings.Builder
			for i := range 100 {
				// uuids 0-89, then 0-9 again: duplicates across batches.
				in.WriteString(strings.Replace(ev(fmt.Sprint(i%90)), `"actor"`, fmt.Sprintf(`"n":%d,"actor"`, i), 1) + "\n")
			}
			st := &startStore{memStore: newMemStore(), failBatch: tc.failBatch}
			res, err := New(st, Options{BatchEvents: 10}).Ingest(context.Background(), strings.NewReader(in.String()), nil)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if res.Accepted != len(st.byUUID) {
				t.Errorf("Accepted %d, but %d events are stored", res.Accepted, len(st.byUUID))
			}
			if st.maxOpen != 2 {
				t.Errorf("at most %d batches under way, want 2: one stored while the next is prepared", st.maxOpen)
			}
			for u, e := range st.byUUID {
				if !strings.Contains(string(e.Raw), `"n":`+u+`,`) {
					t.Errorf("uuid %s stored from %s, not its first copy", u, e.Raw)
				}
			}
			if tc.failBatch < 0 && (res.Accepted != 90 || res.Duplicates != 10) {
				t.Errorf("accepted %d, duplicates %d; want 90 and 10", res.Accepted, res.Duplicates)
			}
		})
	}
}

// sizedStore is a memStore that prefers batches of its own size.
type sizedStore struct {
	*memStore
	events, bytes int
}

func (s sizedStore) PreferredBatch() (int, int) { return s.events, s.bytes }

// TestStorePreferredBatch: a store.BatchSizer sets the batch size when the
// options leave it at the default, and not otherwise.
func TestStorePreferredBatch(t *testing.T) {
	var in strings.Builder
	for i := range 10 {
		in.WriteString(ev(fmt.Sprint(i)) + "\n")
	}
	for _, c := range []struct {
		name   string
		prefer [2]int // events, bytes
		opt    Options
		want   string
	}{
		{"store's event limit", [2]int{4, 1 << 20}, Options{}, "[4 4 2]"},
		{"store's byte limit", [2]int{100, 1}, Options{}, "[1 1 1 1 1 1 1 1 1 1]"},
		{"options win", [2]int{4, 1 << 20}, Options{BatchEvents: 3}, "[3 3 3 1]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := sizedStore{newMemStore(), c.prefer[0], c.prefer[1]}
			if _, err := New(st, c.opt).Ingest(context.Background(), strings.NewReader(in.String()), nil); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(st.batches); got != c.want {
				t.Errorf("batches %s, want %s", got, c.want)
			}
		})
	}
}
