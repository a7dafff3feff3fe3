package detect

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
)

// Prefilter is a filter that every event some rule can match satisfies:
// the or of the event types the rules can match. A replay asks the store
// for it, so the store reads only those events (on DuckDB eventType is a
// typed column, cheap to filter on, where the rules' own filters are JSON
// paths evaluated per row). It is nil when some rule can match any event
// type: the whole range must be read then.
func Prefilter(rules []*Rule) filter.Expr {
	var exact, prefixes []string
	for _, r := range rules {
		e, p, ok := ruleTypes(r)
		if !ok {
			return nil
		}
		exact, prefixes = append(exact, e...), append(prefixes, p...)
	}
	slices.Sort(exact)
	exact = slices.Compact(exact)
	slices.Sort(prefixes)
	prefixes = slices.Compact(prefixes)
	var out filter.Expr
	or := func(op filter.Op, s string) {
		var c filter.Expr = &filter.Compare{Path: filter.Path{"eventType"}, Op: op, Value: filter.Value{Kind: filter.String, Str: s}}
		if out != nil {
			c = &filter.Logical{Left: out, Right: c}
		}
		out = c
	}
	for _, p := range prefixes {
		or(filter.OpSw, p)
	}
	for _, e := range exact {
		if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(e, p) }) {
			or(filter.OpEq, e)
		}
	}
	return out
}

// ReplayProgress is called now and then during a replay with the events
// seen so far, the alerts so far and the published time of the last event.
type ReplayProgress func(events, alerts int, at time.Time)

// Replay runs the engine over the events read calls its function with (in
// published order) and returns the alerts raised, by id, and the number of
// events. read's events are decoded and run on a second goroutine while
// read goes on to fetch the next ones, so a store read and the rules share
// two cores rather than take turns. An event that does not decode stops the
// replay with its error.
func Replay(ctx context.Context, eng *Engine, read func(fn func(raw []byte) error) error, progress ReplayProgress) (map[string]Alert, int, error) {
	const batchSize = 256
	alerts := map[string]Alert{}
	n := 0
	batches := make(chan [][]byte, 8)
	done := make(chan struct{})
	var evalErr error
	go func() {
		defer close(done)
		last := time.Now()
		for batch := range batches {
			for _, raw := range batch {
				ev, err := eng.Decode(raw)
				if err != nil {
					evalErr = err
					return
				}
				n++
				for _, a := range eng.Process(ev) {
					alerts[a.ID] = a
				}
				if progress != nil && n%1024 == 0 && time.Since(last) > 2*time.Second {
					last = time.Now()
					progress(n, len(alerts), ev.Published)
				}
			}
		}
	}()
	batch := make([][]byte, 0, batchSize)
	send := func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		select {
		case batches <- batch:
		case <-done: // the rules stopped on an error
			return evalErr
		case <-ctx.Done():
			return ctx.Err()
		}
		batch = make([][]byte, 0, batchSize)
		return nil
	}
	err := read(func(raw []byte) error {
		// A copy: the reader may reuse its buffer for the next event.
		batch = append(batch, slices.Clone(raw))
		if len(batch) == batchSize {
			return send()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = send()
	}
	close(batches)
	<-done
	if err == nil {
		err = evalErr
	}
	if err != nil {
		return nil, n, err
	}
	return alerts, n, nil
}

// ProjectedReader returns a read function for Replay that streams the
// events of q (a range, optionally filtered) out of st with only the
// top-level members eng's rules read (Engine.Members), when st can
// (store.Projector). ok is false when it cannot, or when some rule reads
// anywhere: the caller then reads whole events with st's Query. Reading
// whole events page by page was nearly all of a replay's time (see
// docs/benchmarks.md, "Replay over history"); the rules decide the same on
// the projected events, since Decode keeps only those members anyway.
func ProjectedReader(ctx context.Context, st store.Store, q store.Query, eng *Engine) (read func(fn func(raw []byte) error) error, ok bool) {
	pj, ok := st.(store.Projector)
	if !ok {
		return nil, false
	}
	members, ok := eng.Members()
	if !ok {
		return nil, false
	}
	return func(fn func(raw []byte) error) error {
		return pj.Project(ctx, q, members, func(e store.Event) error { return fn(e.Raw) })
	}, true
}
