package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/client"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

// storeFlags are --store, --server and --token, shared by every command that
// reads or writes events. A command works either on the store directly or,
// when a server holds it (DuckDB allows one process per file), through that
// server's API, with the same output either way.
type storeFlags struct {
	store, server, token string
	fs                   *flag.FlagSet
	// mustExist refuses to create a store: set by commands that only read
	// (or prune) one, where a mistyped path would otherwise answer "nothing".
	mustExist bool
}

// storeFlagsHelp is the paragraph each command's usage prints about them.
const storeFlagsHelp = `Where the events are: --store URL (default: IDLOG_STORE, else ` + storeurl.Default + `),
or, when 'idlog serve' has the store open, --server URL --token TOKEN
(IDLOG_SERVER, IDLOG_TOKEN) to go through its API instead.
`

// addStoreFlags defines the flags on fs. withServer false leaves out
// --server and --token, for commands that must own the store (serve).
func addStoreFlags(fs *flag.FlagSet, withServer bool) *storeFlags {
	sf := &storeFlags{fs: fs}
	fs.StringVar(&sf.store, "store", "", "the store `URL` ("+strings.Join(storeurl.Schemes(), " or ")+"); default IDLOG_STORE, else "+storeurl.Default)
	if withServer {
		fs.StringVar(&sf.server, "server", "", "work through a running idlog server at this `URL` (e.g. http://127.0.0.1:8080); default IDLOG_SERVER")
		fs.StringVar(&sf.token, "token", "", "API `token` for --server (sent as SSWS); default IDLOG_TOKEN")
	}
	return sf
}

// resolve fills what the command line left out from the environment. An
// explicit flag beats any variable, so --store works while IDLOG_SERVER is
// exported.
func (sf *storeFlags) resolve(e *env) error {
	set := map[string]bool{}
	sf.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["store"] && set["server"] {
		return &exitError{code: 2, msg: "--store and --server exclude each other: use the store directly, or the server that holds it"}
	}
	if !set["store"] && !set["server"] {
		if sf.server = e.getenv("IDLOG_SERVER"); sf.server == "" {
			sf.store = e.getenv("IDLOG_STORE")
		}
	}
	if sf.store == "" && sf.server == "" {
		sf.store = storeurl.Default
	}
	if sf.server != "" && sf.token == "" {
		sf.token = e.getenv("IDLOG_TOKEN")
	}
	if sf.server != "" && sf.token == "" {
		return &exitError{code: 2, msg: "--server needs an API token: --token TOKEN or IDLOG_TOKEN (create one with 'idlog token create')"}
	}
	return nil
}

// lockedError explains a store held by another process in one line, with
// the way around it.
func lockedError(url string) error {
	return &exitError{code: 1, msg: fmt.Sprintf(
		"the store %s is in use by another idlog process (an 'idlog serve'?); run this through it: --server http://HOST:PORT --token TOKEN (or IDLOG_SERVER, IDLOG_TOKEN)", url)}
}

// openStore opens the store itself (never a server).
func (sf *storeFlags) openStore(ctx context.Context) (store.Store, error) {
	if sf.mustExist {
		ok, err := storeurl.Exists(ctx, sf.store)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &exitError{code: 1, msg: fmt.Sprintf("there is no store at %s: import events first ('idlog import FILE --store %s'), or name the right one with --store or IDLOG_STORE", sf.store, sf.store)}
		}
	}
	st, err := storeurl.Open(ctx, sf.store)
	if errors.Is(err, store.ErrLocked) {
		return nil, lockedError(sf.store)
	}
	return st, err
}

// backend is a store or a server, with what the event commands need.
type backend struct {
	st     store.Store    // the store; for a server, a store whose Append pushes
	cl     *client.Client // nil for a store
	remote bool
	// batch is the events per stored batch; 0 leaves it to the store
	// (ingest.New: 5,000 events, or the store's preferred size).
	batch int
}

// open returns the backend the flags name. Call resolve first.
func (sf *storeFlags) open(ctx context.Context) (*backend, error) {
	if sf.server != "" {
		cl, err := client.New(sf.server, sf.token)
		if err != nil {
			return nil, &exitError{code: 2, msg: err.Error()}
		}
		return &backend{st: pushStore{cl: cl}, cl: cl, remote: true}, nil
	}
	st, err := sf.openStore(ctx)
	if err != nil {
		return nil, err
	}
	return &backend{st: st}, nil
}

func (b *backend) Close() error {
	if b.remote {
		return nil
	}
	return b.st.Close()
}

// ingest runs one input through the pipeline. For a server the events are
// checked here and pushed in batches, so rejections carry this input's line
// numbers and no request is larger than a batch.
func (b *backend) ingest(ctx context.Context, r io.Reader, progress func(ingest.Progress)) (ingest.Result, error) {
	opt := ingest.Options{BatchEvents: b.batch}
	if b.remote {
		opt.BatchBytes = 4 << 20 // well under any server's --body-limit
	}
	return ingest.New(b.st, opt).Ingest(ctx, r, progress)
}

// pushStore is the store.Store face of a server, for the ingest pipeline:
// Append is a POST of the batch. Nothing else is called on it.
type pushStore struct {
	store.Store
	cl *client.Client
}

func (p pushStore) Append(ctx context.Context, events []store.Event) (store.AppendResult, error) {
	res, err := p.cl.PushEvents(ctx, events)
	if err != nil {
		return store.AppendResult{}, err
	}
	if res.RejectedCount > 0 {
		// The events passed the same checks here; a server that refuses
		// them runs another version of idlog.
		return store.AppendResult{Added: res.Accepted, Duplicates: res.Duplicates},
			fmt.Errorf("the server rejected %d events that passed the checks here (first: %s); is it another idlog version?", res.RejectedCount, res.Rejected[0].Error)
	}
	return store.AppendResult{Added: res.Accepted, Duplicates: res.Duplicates}, nil
}

// eventQuery is what idlog query asks, already checked.
type eventQuery struct {
	filterText string      // as the server gets it
	expr       filter.Expr // as the store gets it; nil for every event
	q          string
	keywords   []string
	since      time.Time
	until      time.Time
	descending bool
	limit      int // 0: every event
}

// queryPage is how many events a store query returns at a time.
const queryPage = 1000

// query calls fn with each matching event, in published order.
func (b *backend) query(ctx context.Context, q eventQuery, fn func(raw json.RawMessage) error) error {
	if b.remote {
		return b.cl.Logs(ctx, client.LogsQuery{Since: q.since, Until: q.until, Filter: q.filterText, Q: q.q,
			Descending: q.descending, Limit: q.limit}, fn)
	}
	sq := store.Query{Filter: q.expr, Keywords: q.keywords, Since: q.since, Until: q.until,
		Order: store.ByPublished, Descending: q.descending}
	got := 0
	for {
		sq.Limit = queryPage
		if q.limit > 0 {
			sq.Limit = min(queryPage, q.limit-got)
		}
		events, err := b.st.Query(ctx, sq)
		if err != nil {
			return err
		}
		for _, ev := range events {
			if err := fn(ev.Raw); err != nil {
				return err
			}
		}
		got += len(events)
		if len(events) < sq.Limit || q.limit > 0 && got >= q.limit {
			return nil
		}
		last := events[len(events)-1]
		sq.After = &store.Position{Published: last.Published, Seq: last.Seq}
	}
}

func (b *backend) stats(ctx context.Context) (store.Stats, error) {
	if b.remote {
		return b.cl.Stats(ctx)
	}
	return b.st.Stats(ctx)
}

func (b *backend) prune(ctx context.Context, before time.Time) (int64, error) {
	if b.remote {
		return b.cl.Prune(ctx, before)
	}
	return b.st.DeleteBefore(ctx, before)
}

// parseFlags parses args into fs. Flags may come after arguments too
// (idlog import a.ndjson --store …), up to a "--". help is true after -h,
// which has printed the usage; a stray argument is a usage error unless
// allowArgs.
func parseFlags(fs *flag.FlagSet, e *env, args []string, allowArgs bool) (rest []string, help bool, err error) {
	for {
		if err := parseQuiet(fs, e, args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, true, nil
			}
			return nil, false, errUsage
		}
		left := fs.Args()
		if used := len(args) - len(left); used > 0 && args[used-1] == "--" {
			rest = append(rest, left...)
			break
		}
		if len(left) == 0 {
			break
		}
		rest = append(rest, left[0])
		args = left[1:]
	}
	if !allowArgs && len(rest) > 0 {
		fmt.Fprintf(e.stderr, "idlog %s: unexpected argument %q\n", fs.Name(), rest[0])
		return nil, false, errUsage
	}
	return rest, false, nil
}

// parseQuiet is fs.Parse with one line for a mistake instead of the whole
// usage: a typo in a flag should not scroll the error off the screen. -h
// still prints the usage (and returns flag.ErrHelp).
func parseQuiet(fs *flag.FlagSet, e *env, args []string) error {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage()
	case err != nil:
		fmt.Fprintf(e.stderr, "idlog %s: %v (run 'idlog %s -h' for its flags and examples)\n", fs.Name(), err, fs.Name())
	}
	return err
}
