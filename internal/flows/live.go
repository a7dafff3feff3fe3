package flows

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idlog/idlog/internal/store"
)

// Live keeps an Index of a whole store and brings it up to date before each
// funnel by reading only the events stored since (by ingest sequence), so a
// funnel over millions of events costs a scan of compact instances instead
// of reading every event again. Instances still open (their flow may go on)
// are counted as they stand, without closing them.
//
// Events must arrive roughly in published order, as collection and import
// deliver them: an event older than the newest one by more than the longest
// MaxGap could belong to an instance already closed, so it makes the index
// rebuild from scratch. A store that shrinks (pruned) does too.
type Live struct {
	st store.Store

	mu      sync.Mutex
	x       *Index
	lastSeq int64
	events  int64 // events read into x
	ready   bool
	running bool
	err     error

	// read and total are the progress of the build that runs, for Status.
	read, total atomic.Int64
}

// LiveStatus is how far the index is: Ready, or Read of Total events
// read by the build that runs.
type LiveStatus struct {
	Ready    bool   `json:"ready"`
	Building bool   `json:"building"`
	Read     int64  `json:"read"`
	Total    int64  `json:"total"`
	Error    string `json:"error,omitempty"`
}

// Status says whether the index is ready and how far a build has come.
func (l *Live) Status() LiveStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := LiveStatus{Ready: l.ready, Building: l.running, Read: l.read.Load(), Total: l.total.Load()}
	if l.err != nil {
		s.Error = l.err.Error()
	}
	return s
}

// Start builds the index in the background unless it is built or being
// built: a server calls it when it starts, so that the first funnel is
// answered from the index instead of from every event in its range.
func (l *Live) Start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ready || l.running {
		return
	}
	l.running = true
	go l.Build(context.Background())
}

// NewLive returns a Live over st; nothing is read until Build or Funnel.
func NewLive(st store.Store) *Live { return &Live{st: st} }

// ErrNotReady is returned by Funnel while the first build runs.
var ErrNotReady = errors.New("flows: the funnel index is still being built")

// Build reads the store into a fresh index. It is what Funnel starts in
// the background the first time; call it directly to build up front.
func (l *Live) Build(ctx context.Context) error {
	x := NewIndex()
	var n int64
	// Events stored after this point are left to the next update, which
	// reads by sequence: each event is read exactly once.
	st, err := l.st.Stats(ctx)
	if err == nil {
		l.read.Store(0)
		l.total.Store(st.Events)
		err = stream(ctx, l.st, store.Query{}, func(e Event, seq int64) error {
			l.read.Add(1)
			if seq <= st.MaxSeq {
				x.Add(e)
				n++
			}
			return nil
		})
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.running = false
	if err != nil {
		l.err = err
		return err
	}
	l.x, l.lastSeq, l.events, l.ready, l.err = x, st.MaxSeq, n, true, nil
	return nil
}

// update reads the events stored since the last build or update. It
// reports false when they cannot be added in order (rebuild needed).
func (l *Live) update(ctx context.Context) (bool, error) {
	st, err := l.st.Stats(ctx)
	if err != nil {
		return false, err
	}
	if st.Events < l.events {
		return false, nil // pruned
	}
	if st.MaxSeq <= l.lastSeq {
		return true, nil
	}
	var fresh []Event
	q := store.Query{Order: store.BySeq, Limit: pageSize, After: &store.Position{Seq: l.lastSeq}}
	for {
		page, err := l.st.Query(ctx, q)
		if err != nil {
			return false, err
		}
		for i := range page {
			e, err := FromRaw(page[i].Raw)
			if err != nil {
				return false, err
			}
			fresh = append(fresh, e)
		}
		if len(page) > 0 {
			l.lastSeq = page[len(page)-1].Seq
			q.After = &store.Position{Seq: l.lastSeq}
		}
		if len(page) < pageSize {
			break
		}
	}
	slices.SortStableFunc(fresh, func(a, b Event) int { return cmpInt(a.Published, b.Published) })
	r := l.x.r
	if len(fresh) > 0 && fresh[0].Published < r.now-r.maxGap {
		return false, nil
	}
	for i := range fresh {
		l.x.Add(fresh[i])
	}
	l.events += int64(len(fresh))
	return true, nil
}

// Funnel is Index.Funnel over the whole store as it is now. The first call
// starts building the index in the background and returns ErrNotReady;
// callers answer from the store meanwhile (FunnelFromStore).
func (l *Live) Funnel(ctx context.Context, kind string, since, until time.Time, split string) (*Funnel, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.ready {
		if err := l.err; err != nil && !l.running {
			l.err = nil // the next call tries again
			return nil, err
		}
		if !l.running {
			l.running = true
			go l.Build(context.Background())
		}
		return nil, ErrNotReady
	}
	ok, err := l.update(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		l.ready, l.running = false, true
		go l.Build(context.Background())
		return nil, ErrNotReady
	}
	return l.x.funnelOpen(kind, since, until, split)
}

// funnelOpen is Funnel counting the instances still open as well.
func (x *Index) funnelOpen(kind string, since, until time.Time, split string) (*Funnel, error) {
	n := len(x.recs)
	x.r.Peek(x.AddInstance)
	defer func() { x.recs = x.recs[:n] }()
	return x.Funnel(kind, since, until, split)
}

// Peek passes the instances still open to fn as they would be if they
// ended now, without closing them: the open groups, and each event held
// back for the order tolerance as the instance it would begin.
func (r *Reconstructor) Peek(fn func(*Instance)) {
	for _, g := range r.openGroups() {
		fn(r.finish(g))
	}
	for i := range r.queue {
		q := &r.queue[i]
		if h, _, ok := q.heldFor(); ok {
			open, closed := r.begin(nil, q.ks, h)
			fn(r.finish(append(open, closed...)[0]))
		}
	}
}
