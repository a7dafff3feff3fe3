// Package store defines what every idlog storage backend does. Handlers,
// ingest and flow analysis see only this interface; the backends live in
// their own packages and are opened by URL in package storeurl.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/idlog/idlog/internal/event"
	"github.com/idlog/idlog/internal/filter"
)

// Event is one stored LogEvent: the fields the store orders and pages by,
// plus the event exactly as it was received.
type Event struct {
	// Seq is the ingest sequence, assigned by the store when the event is
	// first stored. It only grows, so a polling cursor built on it never
	// skips an event that arrives late with an old published time.
	Seq       int64
	UUID      string
	Published time.Time
	// Raw is the LogEvent JSON as received (compact).
	Raw json.RawMessage
	// Doc is Raw walked (internal/event): set by ingest, which reads each
	// event once, so that a store takes what it needs from the nodes
	// instead of parsing Raw again. Nil when the caller did not walk the
	// event; a store then walks Raw itself. Queries leave it nil.
	Doc *event.Doc
}

// Order is the order of a page.
type Order int

const (
	// ByPublished orders by (published, seq): Okta's bounded requests.
	ByPublished Order = iota
	// BySeq orders by the ingest sequence: Okta's polling requests.
	BySeq
)

// Position is a keyset position: the last event of the previous page.
// A query returns events strictly after it in the query's order.
type Position struct {
	Published time.Time
	Seq       int64
}

// Query selects events.
type Query struct {
	Filter   filter.Expr // nil: every event
	Keywords []string    // q: every keyword must match a whole token, case-insensitive
	// Since (inclusive) and Until (exclusive) bound published; zero means unbounded.
	Since, Until time.Time
	Order        Order
	Descending   bool
	After        *Position // nil: from the start
	Limit        int       // 0: no limit
}

// AppendResult says what Append did with a batch.
type AppendResult struct {
	Added      int // newly stored
	Duplicates int // uuid already stored (or repeated within the batch)
}

// Bucket is one histogram bar.
type Bucket struct {
	Start time.Time
	// Counts by outcome.result ("" when the event has none).
	Counts map[string]int64
}

// ValueCount is one row of a top-values answer.
type ValueCount struct {
	Value string
	Count int64
}

// Stats describes what a store holds.
type Stats struct {
	Events         int64
	Oldest, Newest time.Time // published
	MaxSeq         int64
	BytesOnDisk    int64
	// CacheHits and CacheMisses count the events a store with a cache of
	// events read found in it or had to read, since it was opened; zero
	// for a store without one.
	CacheHits, CacheMisses int64
	// IndexMisses counts the rows that a structure derived from the events
	// (an index, a key table) failed to return for a read that asked for
	// them, and that a read past that structure then found, since the
	// store was opened. Any value above zero means the structure is
	// damaged; the answers were still complete. Repairs counts the
	// rebuilds of such structures since the store was opened.
	IndexMisses, Repairs int64
}

// Checker is a store that keeps structures derived from its events
// (indexes, key tables, caches, counters) and can verify them against the
// events themselves, rebuilding what is wrong when asked to.
type Checker interface {
	Check(ctx context.Context, repair bool) (CheckReport, error)
}

// CheckReport is what Check found, one finding per structure.
type CheckReport struct {
	Findings []Finding `json:"findings"`
}

// Damaged reports whether any structure was found wrong.
func (r CheckReport) Damaged() bool {
	for _, f := range r.Findings {
		if f.Problems > 0 {
			return true
		}
	}
	return false
}

// Finding is the check of one structure.
type Finding struct {
	Structure string `json:"structure"` // e.g. "seq index"
	Checked   int64  `json:"checked"`   // rows or entries compared with the events
	Problems  int64  `json:"problems"`  // of those, how many were wrong
	Detail    string `json:"detail,omitempty"`
	Repaired  bool   `json:"repaired,omitempty"`
}

// CacheDropper is a store that keeps events it has read in memory.
// Benchmarks drop that cache before each timed read, so that they measure
// reads from storage rather than repetitions.
type CacheDropper interface {
	DropCache()
}

// BatchSizer is a store whose appends are cheaper in larger batches than the
// ingest pipeline cuts by default (ClickHouse: every insert makes new parts
// the server merges later, and every Append pays a few round trips). The
// pipeline asks it when its options leave the batch size at the default.
type BatchSizer interface {
	// PreferredBatch is the events and raw bytes of one Append the store
	// wants at most.
	PreferredBatch() (events, bytes int)
}

// ErrNotFound is returned by Get when no event has the uuid.
var ErrNotFound = errors.New("store: event not found")

// Store is implemented by every backend. All methods are safe for concurrent use.
type Store interface {
	// Append stores a batch atomically: after it returns nil, every event of
	// the batch is durable and visible. Events whose uuid is already stored
	// are counted as duplicates and left as they were. Events must have
	// UUID, Published and Raw set; Seq is assigned by the store.
	Append(ctx context.Context, events []Event) (AppendResult, error)
	// Query returns up to q.Limit events in the order q asks for.
	Query(ctx context.Context, q Query) ([]Event, error)
	// Count returns how many events match q (Limit, After and Order ignored).
	Count(ctx context.Context, q Query) (int64, error)
	// Histogram counts the events matching q in buckets of width step,
	// aligned to the Unix epoch, oldest first; empty buckets are omitted.
	Histogram(ctx context.Context, q Query, step time.Duration) ([]Bucket, error)
	// TopValues returns the n most frequent values of the attribute path
	// among events matching q, most frequent first. Arrays on the path fan
	// out (target.id counts every target).
	TopValues(ctx context.Context, q Query, path filter.Path, n int) ([]ValueCount, error)
	// Get returns the event with this uuid, or ErrNotFound.
	Get(ctx context.Context, uuid string) (Event, error)
	// DeleteBefore removes events published before t and says how many.
	DeleteBefore(ctx context.Context, t time.Time) (int64, error)
	Stats(ctx context.Context) (Stats, error)
	Close() error
}

// Projector is a store that can stream the events of a time range with only
// some of their top-level members, reading them in one pass rather than a
// page at a time. A replay of rules over history (idlog detect) reads every
// event of a long range but only the members its rules look at; rebuilding
// whole events page by page was nearly all of its time.
type Projector interface {
	// Project calls fn with every event matching q's Filter, Keywords,
	// Since and Until, in ascending (published, seq) order; q's Order,
	// Descending, After and Limit must be left zero. Each event has Seq,
	// UUID and Published set, and a Raw that is a JSON object holding,
	// of the event's top-level members, each one named in members, byte
	// for byte as Query returns it and in the same order. Raw may hold
	// other members too (an event the store keeps whole is handed over
	// whole), so a reader must look only at the members it named. Raw is
	// the caller's to keep. Every matching event is handed over, or
	// Project returns an error; an error from fn stops it and is returned.
	Project(ctx context.Context, q Query, members []string, fn func(Event) error) error
}

// Checkpointer is implemented by stores that can keep a small named value in
// the same transaction as a batch. The collector keeps Okta's next link this
// way, so a crash can never separate "these events are stored" from "this is
// where to resume".
type Checkpointer interface {
	// AppendCheckpoint is Append, plus setting key to value atomically with the batch.
	AppendCheckpoint(ctx context.Context, events []Event, key, value string) (AppendResult, error)
	// Checkpoint returns the value last set for key, or "" when none was.
	Checkpoint(ctx context.Context, key string) (string, error)
}

// AppendStarter is implemented by stores that can take the next batch
// while the one before is still being stored, so that a bulk import keeps
// both the preparation of rows and the engine busy (the ingest pipeline
// uses it when the store has it).
type AppendStarter interface {
	// StartAppend queues a batch behind the batches started before it and
	// returns without waiting for it; wait returns what Append would have.
	// Batches are stored in the order they were started, each atomically,
	// so a uuid repeated across them is stored from the first. Once
	// StartAppend returns nil, the batch runs to its end (wait says how)
	// even when ctx ends. wait must be called once.
	StartAppend(ctx context.Context, events []Event) (wait func() (AppendResult, error), err error)
}

// BackupInfo says what a backup holds.
type BackupInfo struct {
	// Seq is the highest ingest sequence in the backup: it holds every
	// batch committed up to it and nothing after.
	Seq    int64 `json:"seq"`
	Events int64 `json:"events"`
	// Format is the store format version of the copy.
	Format int `json:"format"`
}

// Backuper is implemented by stores that can copy themselves consistently
// while appends go on: the copy is the store as it was after one commit.
type Backuper interface {
	// Backup writes the copy to the new file dst and says what it holds.
	Backup(ctx context.Context, dst string) (BackupInfo, error)
}

// ErrDamaged is returned (wrapped) when the store's files are damaged
// (a block that fails its checksum, a cut file): the store must be
// restored from a backup.
var ErrDamaged = errors.New("store: damaged")

// ErrFormat is returned (wrapped) by Open when the store was written in a
// format this release does not read, such as a newer release's.
var ErrFormat = errors.New("store: unsupported store format")

// ErrLocked is returned (wrapped) by Open when another process holds the
// store; the caller should talk to that process's server instead.
var ErrLocked = errors.New("store: held by another process")

type loggerKey struct{}

// WithLogger returns ctx carrying the logger that stores opened with it
// report to (damage found and repaired, say).
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// Logger is the logger ctx carries, or slog's default.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return slog.Default()
}
