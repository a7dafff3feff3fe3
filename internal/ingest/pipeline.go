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

	"github.com/idlog/idlog/internal/store"
)

// Options tune a Pipeline; zero values take the defaults.
type Options struct {
	BatchEvents   int // events per Append; default 5,000
	BatchBytes    int // raw bytes per Append; default 8 MiB
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

// New returns a pipeline writing to st.
func New(st store.Store, opt Options) *Pipeline {
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
// progress, if not nil, is called after each stored batch from a goroutine
// of the pipeline; calls do not overlap.
func (p *Pipeline) Ingest(ctx context.Context, r io.Reader, progress func(Progress)) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// One batch queued while one is being appended and one is being filled:
	// memory stays at about three batches whatever the input size.
	queue := make(chan batch, 1)
	type stored struct {
		added, dups int
		err         error
	}
	done := make(chan stored, 1)
	go func() {
		var s stored
		for b := range queue {
			if s.err != nil {
				continue // drain, so the decoder never blocks on a dead writer
			}
			ar, err := p.st.Append(ctx, b.events)
			if err != nil {
				s.err = fmt.Errorf("storing events %d and on: %w", b.snap.Events-len(b.events)-b.dups, err)
				cancel()
				continue
			}
			s.added += ar.Added
			s.dups += ar.Duplicates + b.dups
			if progress != nil {
				pr := b.snap
				pr.Accepted, pr.Duplicates = s.added, s.dups
				progress(pr)
			}
		}
		done <- s
	}()

	var res Result
	cr := &countingReader{r: r}
	var cur batch
	curBytes := 0
	seen := make(map[string]struct{}, p.opt.BatchEvents)
	events := 0
	flush := func() error {
		if len(cur.events) == 0 && cur.dups == 0 {
			return nil
		}
		cur.snap = Progress{Events: events, Bytes: cr.n, Rejected: res.RejectedCount}
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
	cur.events = make([]store.Event, 0, p.opt.BatchEvents)
	dec := Decoder{MaxEventBytes: p.opt.MaxEventBytes}
	derr := dec.Decode(cr, func(it Item) error {
		events++
		if it.Err != nil {
			res.RejectedCount++
			if len(res.Rejected) < p.opt.MaxRejections {
				res.Rejected = append(res.Rejected, Rejection{Index: it.Index, Line: it.Line, Error: it.Err.Error()})
			}
			return nil
		}
		// Repeats within a batch are dropped here; repeats across batches
		// are the store's to count, since by then the first copy is stored.
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
	if derr == nil || ctx.Err() == nil {
		// After a read error too: what was decoded before it is stored, and
		// the Result says so.
		if ferr := flush(); derr == nil {
			derr = ferr
		}
	}
	close(queue)
	s := <-done
	res.Accepted, res.Duplicates = s.added, s.dups
	if res.Rejected == nil {
		res.Rejected = []Rejection{}
	}
	switch {
	case s.err != nil:
		return res, s.err
	case derr != nil:
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		return res, fmt.Errorf("reading input: %w", derr)
	}
	return res, nil
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
