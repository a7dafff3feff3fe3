// Package ingest is the one way events enter a store: the CLI's import, the
// API's push, the collector and event hooks all go through it, so they accept
// and reject exactly the same events.
//
// Input is NDJSON or a JSON array, decoded as a stream with a cap on each
// event; valid events are batched into store.Append while the next batch is
// decoded, with a bounded queue between the two so a slow store slows the
// reader instead of filling memory.
package ingest

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/idlog/idlog/internal/store"
)

// Options tune a Pipeline; zero values take the defaults.
type Options struct {
	BatchEvents   int // events per Append; default 5,000 (or the store's, see New)
	BatchBytes    int // raw bytes per Append; default 8 MiB (or the store's, see New)
	MaxEventBytes int // one event's limit; default DefaultMaxEventBytes
	MaxRejections int // rejections kept in Result.Rejected; default 1,000
}

func (o Options) withDefaults() Options {
	if o.BatchEvents <= 0 {
		o.BatchEvents = 5000
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = 8 << 20
	}
	if o.MaxEventBytes <= 0 {
		o.MaxEventBytes = DefaultMaxEventBytes
	}
	if o.MaxRejections <= 0 {
		o.MaxRejections = 1000
	}
	return o
}

// Pipeline validates, dedupes and batches events into one store.
type Pipeline struct {
	st  store.Store
	opt Options
}

// New returns a pipeline writing to st. When opt leaves both batch limits
// at zero and st is a store.BatchSizer, its preferred batch is used.
func New(st store.Store, opt Options) *Pipeline {
	if bs, ok := st.(store.BatchSizer); ok && opt.BatchEvents <= 0 && opt.BatchBytes <= 0 {
		opt.BatchEvents, opt.BatchBytes = bs.PreferredBatch()
	}
	return &Pipeline{st: st, opt: opt.withDefaults()}
}

// Rejection is one event that was not stored, and why.
type Rejection struct {
	Index int    `json:"index"`          // 0-based position among the input's events
	Line  int    `json:"line,omitempty"` // 1-based NDJSON line
	Error string `json:"error"`
}

// Result is what one input did to the store. It is also the API's answer to
// a push, field for field.
type Result struct {
	Accepted   int `json:"accepted"`   // newly stored
	Duplicates int `json:"duplicates"` // uuid already stored or repeated in the input
	// Rejected holds the first Options.MaxRejections rejections in input order.
	Rejected []Rejection `json:"rejected"`
	// RejectedCount counts every rejection, including those not kept.
	RejectedCount int `json:"rejectedCount"`
}

// Progress is reported after each stored batch.
type Progress struct {
	Events     int   // events decoded so far, valid or not
	Bytes      int64 // input bytes consumed
	Accepted   int
	Duplicates int
	Rejected   int
}

type batch struct {
	events []store.Event
	dups   int      // repeats inside the batch, already dropped
	snap   Progress // decoder-side counters when the batch was cut
}

// Ingest reads r to the end (or to the first store error or ctx's end) and
// stores every valid event. Rejected events are reported in the Result, not
// as an error: an error means the input could not be read or the store
// failed, and the Result then says what was stored before it.
//
// Ingest returns soon after ctx ends even while r is blocked in Read (a
// quiet pipe, a slow client): the read then ends in the background when r
// returns, and nothing more is stored.
//
// progress, if not nil, is called after each stored batch from the calling
// goroutine; calls do not overlap.
func (p *Pipeline) Ingest(ctx context.Context, r io.Reader, progress func(Progress)) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// One batch queued while one is being appended and one is being filled:
	// memory stays at about three batches whatever the input size. With a
	// store.AppendStarter the second batch under way takes the queued one's
	// place: the decoder waits with its full batch until one is stored
	// (decoding is several times faster than storing, so it keeps up).
	starter, _ := p.st.(store.AppendStarter)
	queue := make(chan batch, 1)
	if starter != nil {
		queue = make(chan batch)
	}
	rej := &rejections{max: p.opt.MaxRejections}
	decoded := make(chan error, 1)
	go func() { decoded <- p.decode(ctx, r, queue, rej) }()

	// Append here, in the caller's goroutine, so that returning never waits
	// for a read. A store that can start a batch before the one before is
	// stored (store.AppendStarter) gets up to inFlight at once: the rows of
	// the next batch are prepared while the engine commits the last.
	var res Result
	var werr error
	var pending []started
	// finish waits for the oldest batch started and counts it. After a
	// failure the batches behind it are still waited for and counted,
	// since they may be stored, but the error names the first.
	finish := func() {
		s := pending[0]
		pending = pending[1:]
		ar, err := s.wait()
		if err != nil {
			if werr == nil && ctx.Err() == nil {
				werr = fmt.Errorf("storing events %d and on: %w", s.b.snap.Events-len(s.b.events)-s.b.dups, err)
			}
			return
		}
		res.Accepted += ar.Added
		res.Duplicates += ar.Duplicates + s.b.dups
		if progress != nil && werr == nil {
			pr := s.b.snap
			pr.Accepted, pr.Duplicates = res.Accepted, res.Duplicates
			progress(pr)
		}
	}
loop:
	for werr == nil {
		select {
		case b, ok := <-queue:
			if !ok {
				break loop
			}
			if starter == nil {
				pending = append(pending, started{b: b, wait: func() (store.AppendResult, error) { return p.st.Append(ctx, b.events) }})
				finish()
				continue
			}
			wait, err := starter.StartAppend(ctx, b.events)
			if err != nil {
				pending = append(pending, started{b: b, wait: func() (store.AppendResult, error) { return store.AppendResult{}, err }})
			} else {
				pending = append(pending, started{b: b, wait: wait})
			}
			for len(pending) >= inFlight || err != nil && len(pending) > 0 {
				finish()
			}
		case <-ctx.Done():
			break loop
		}
	}
	for len(pending) > 0 {
		finish() // a started batch runs to its end
	}
	var derr error
	if werr == nil && ctx.Err() == nil {
		derr = <-decoded // the queue is closed: the decoder has finished
	}
	res.Rejected, res.RejectedCount = rej.snapshot()
	switch {
	case werr != nil:
		return res, werr
	case ctx.Err() != nil:
		return res, ctx.Err()
	case derr != nil:
		return res, fmt.Errorf("reading input: %w", derr)
	}
	return res, nil
}

// inFlight is how many batches Ingest keeps started on a store.AppendStarter:
// two, one being stored while the next is prepared.
const inFlight = 2

// started is a batch handed to the store, and how to wait for it.
type started struct {
	b    batch
	wait func() (store.AppendResult, error)
}

// rejections is shared by the decoder, which adds, and Ingest, which may
// take a snapshot while the decoder still runs (after ctx ends).
type rejections struct {
	mu    sync.Mutex
	max   int
	list  []Rejection
	count int
}

func (r *rejections) add(it Item) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count++
	if len(r.list) < r.max {
		r.list = append(r.list, Rejection{Index: it.Index, Line: it.Line, Error: it.Err.Error()})
	}
	return r.count
}

func (r *rejections) snapshot() ([]Rejection, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Rejection{}, r.list...), r.count
}

// decode reads r into batches on queue and closes it when done.
func (p *Pipeline) decode(ctx context.Context, r io.Reader, queue chan<- batch, rej *rejections) error {
	defer close(queue)
	cr := &countingReader{r: r}
	cur := batch{events: make([]store.Event, 0, p.opt.BatchEvents)}
	curBytes, events, rejected := 0, 0, 0
	// Repeats within a batch are dropped here; repeats across batches are
	// the store's to count, since by then the first copy is stored. Either
	// way the first copy wins and memory is bounded by the batch.
	seen := make(map[string]struct{}, p.opt.BatchEvents)
	flush := func() error {
		if len(cur.events) == 0 && cur.dups == 0 {
			return nil
		}
		cur.snap = Progress{Events: events, Bytes: cr.n, Rejected: rejected}
		select {
		case queue <- cur:
		case <-ctx.Done():
			return ctx.Err()
		}
		cur = batch{events: make([]store.Event, 0, p.opt.BatchEvents)}
		curBytes = 0
		clear(seen)
		return nil
	}
	dec := Decoder{MaxEventBytes: p.opt.MaxEventBytes}
	err := dec.Decode(cr, func(it Item) error {
		events++
		if it.Err != nil {
			rejected = rej.add(it)
			return nil
		}
		if _, dup := seen[it.Event.UUID]; dup {
			cur.dups++
			return nil
		}
		seen[it.Event.UUID] = struct{}{}
		cur.events = append(cur.events, it.Event)
		curBytes += len(it.Event.Raw)
		if len(cur.events) >= p.opt.BatchEvents || curBytes >= p.opt.BatchBytes {
			return flush()
		}
		return ctx.Err()
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// After a read error too: what was decoded before it is stored, and
	// the Result says so.
	if ferr := flush(); err == nil {
		err = ferr
	}
	return err
}

// Append stores events that were already checked (the collector's pages, a
// hook's batch), in batches of Options.BatchEvents.
func (p *Pipeline) Append(ctx context.Context, events []store.Event) (store.AppendResult, error) {
	var total store.AppendResult
	for len(events) > 0 {
		n := min(len(events), p.opt.BatchEvents)
		ar, err := p.st.Append(ctx, events[:n])
		if err != nil {
			return total, err
		}
		total.Added += ar.Added
		total.Duplicates += ar.Duplicates
		events = events[n:]
	}
	return total, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Decompress returns r's content, gunzipped when it starts with gzip's magic
// bytes; the CLI uses it so a .gz export imports as it is.
func Decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(2)
	if err != nil && err != io.EOF {
		return nil, err
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	}
	return br, nil
}
