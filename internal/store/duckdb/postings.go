package duckdb

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
)

// postings is an inverted index from the values of the paths that every
// seed scenario selects on (actor.id, target.id, client.ipAddress,
// authenticationContext.externalSessionId) to the rows that hold them,
// with each row's published time and event type; it also maps each
// stored uuid to its row, for dedupe.
//
// DuckDB has no cheap way to find one user's rows: a filter on actor_id is
// pushed into the scan and is fast, but `actor.id eq X or target.id eq X`
// must read the target_ids list of every row in the range, 20-30 ms per
// page at 1M events and ten times that at 10M. With the postings, a page
// looks only at the rows of the values it names, in the page's order, and
// reads just the rows it returns (by seq, through the seq index).
//
// For a filter made only of indexed values and event types (every seed
// scenario), the postings answer alone. Otherwise they narrow: SQL checks
// the candidates. They must never miss a row: rows whose indexed paths the
// typed columns cannot hold exactly (and rows with repeated keys, whose
// value depends on who reads them) are in the odd list, which every lookup
// includes and SQL always checks.
//
// The postings live on disk, in a Pebble database beside the DuckDB file
// (<file>.idx/), read through Pebble's block cache: nothing in memory
// grows with the number of events (docs/decisions.md, "Postings on
// disk"). DuckDB is the truth: entries are written after the rows'
// transaction commits, in one Pebble batch with the marker upTo (every
// row with seq <= upTo is indexed), so whatever a crash leaves is a
// prefix of the batches whose marker is true; an open indexes the rows
// past the marker from the table. A file without the directory (written
// by an earlier release, or restored from a backup) gets it built on its
// first open.
//
// Keys (seq and times big-endian, so that bytes sort as numbers):
//
//	'm'                                    → upTo (8 bytes), file id (8 bytes)
//	't' event type                         → code (2 bytes)
//	'p' path esc(value) 0x00 0x01 ^ms ^seq → event type code
//	'o' ^ms ^seq                           → event type code (the odd list)
//	'u' uuid                               → ms, seq
//
// ^ms and ^seq are inverted, so a key's entries come newest first and a
// page seeks straight to its time bound or start position; esc doubles
// 0x00 as 0x00 0xff so that no value's prefix is another's.
type postings struct {
	db  *pebble.DB
	log *slog.Logger
	// wmu serialises writes: appends, catch-ups, prunes and rebuilds.
	wmu  sync.Mutex
	upTo atomic.Int64 // every row with seq <= upTo is indexed
	// committed is the highest seq a writer has committed to the table;
	// while it is above upTo (the writer is indexing, or indexing failed)
	// readers catch up from the table first (Store.behind).
	committed atomic.Int64
	id        int64 // the file id the index was built for

	tmu   sync.RWMutex
	types map[string]uint16 // event type → code; code 0 is "unknown"
}

// pent is one entry of a list: a row's seq, published time (milliseconds
// since the epoch) and event type code.
type pent struct {
	seq  int64
	at   int64
	code uint16
}

func (e pent) ms() int64   { return e.at }
func (e pent) typ() uint16 { return e.code }

// Key prefixes.
const (
	kMeta    = 'm'
	kType    = 't'
	kPosting = 'p'
	kOdd     = 'o'
	kUUID    = 'u'
)

// indexedColumns are the typed columns whose values have postings.
var indexedColumns = []int{colIndex("actor_id"), colIndex("target_ids"), colIndex("client_ip"), colIndex("external_session_id")}

// indexedMask has the bits of indexedColumns, as project reports odd columns.
var indexedMask = func() uint64 {
	var m uint64
	for _, c := range indexedColumns {
		m |= 1 << c
	}
	return m
}()

var eventTypeCol = colIndex("event_type")

// IndexCache is the default size of the postings' block cache.
const DefaultIndexCache = 64 << 20

// pebbleLog passes Pebble's errors to the store's log and drops its chatter.
type pebbleLog struct{ log *slog.Logger }

func (l pebbleLog) Infof(string, ...any) {}
func (l pebbleLog) Errorf(format string, args ...any) {
	l.log.Error("store: postings: " + fmt.Sprintf(format, args...))
}
func (l pebbleLog) Fatalf(format string, args ...any) {
	panic("store: postings: " + fmt.Sprintf(format, args...))
}

// openPostings opens (creating) the postings in dir, or in memory when
// dir is "". cache is the block cache's size in bytes.
func openPostings(dir string, cache int64, log *slog.Logger) (*postings, error) {
	if log == nil {
		log = slog.Default()
	}
	c := pebble.NewCache(max(cache, 1<<20))
	defer c.Unref() // the database holds its own reference
	o := &pebble.Options{
		Cache:  c,
		Logger: pebbleLog{log},
		// Memtables are the memory the writes take before they reach
		// sstables: two of 16 MiB at most.
		MemTableSize:                16 << 20,
		MemTableStopWritesThreshold: 4,
		FormatMajorVersion:          pebble.FormatNewest,
		// No WAL: the table is the log. A crash loses what the memtables
		// held, a suffix of the batches, and the marker with them; the
		// next open indexes those rows again from the table. (With the
		// WAL each entry was written twice, and recycled logs took 20 MB
		// of the directory at 300k events.)
		DisableWAL: true,
	}
	// Most entries end in the last levels: zstd there (measured
	// against Snappy everywhere in docs/decisions.md).
	o.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionGood })
	// Dedupe asks for uuids that are mostly absent: bloom filters answer
	// those without reading blocks.
	o.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	if dir == "" {
		o.FS = vfs.NewMem()
	}
	// Pebble would start paying an import's compaction debt inside Open,
	// and wait for it there (compactgate.go).
	gate := newCompactGate()
	o.Experimental.CompactionScheduler = gate
	db, err := pebble.Open(dir, o)
	if err != nil {
		return nil, fmt.Errorf("opening the postings: %w", err)
	}
	p := &postings{db: db, log: log, types: map[string]uint16{}}
	if err := p.readMeta(); err != nil {
		db.Close()
		return nil, err
	}
	gate.openAfter(compactionDelay)
	return p, nil
}

// newPostings is an empty in-memory index, for tests.
func newPostings() *postings {
	p, err := openPostings("", 1<<20, nil)
	if err != nil {
		panic(err)
	}
	return p
}

func (p *postings) readMeta() error {
	v, closer, err := p.db.Get([]byte{kMeta})
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		p.upTo.Store(0)
		p.id = 0
	case err != nil:
		return fmt.Errorf("reading the postings: %w", err)
	default:
		if len(v) != 16 {
			closer.Close()
			return fmt.Errorf("reading the postings: a marker of %d bytes", len(v))
		}
		p.upTo.Store(int64(binary.BigEndian.Uint64(v)))
		p.id = int64(binary.BigEndian.Uint64(v[8:]))
		closer.Close()
	}
	p.tmu.Lock()
	defer p.tmu.Unlock()
	p.types = map[string]uint16{}
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: []byte{kType}, UpperBound: []byte{kType + 1}})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		p.types[string(it.Key()[1:])] = binary.BigEndian.Uint16(it.Value())
	}
	return it.Close()
}

func (p *postings) close() error {
	// Without a flush, what the memtable holds is read again from the
	// table at the next open: correct, but slower.
	p.db.Flush()
	return p.db.Close()
}

// setMeta puts the marker into b.
func (p *postings) setMeta(b *pebble.Batch, upTo int64) {
	var v [16]byte
	binary.BigEndian.PutUint64(v[:], uint64(upTo))
	binary.BigEndian.PutUint64(v[8:], uint64(p.id))
	b.Set([]byte{kMeta}, v[:], nil)
}

// order maps an int64 to a uint64 of the same order.
func order(v int64) uint64 { return uint64(v) ^ 1<<63 }

// suffix is the end of an entry's key: newest first, then highest seq.
func suffix(dst []byte, ms, seq int64) []byte {
	dst = binary.BigEndian.AppendUint64(dst, ^order(ms))
	return binary.BigEndian.AppendUint64(dst, ^uint64(seq))
}

// readSuffix is suffix's inverse, of a whole key.
func readSuffix(key []byte) (ms, seq int64) {
	s := key[len(key)-16:]
	ms = int64(^binary.BigEndian.Uint64(s) ^ 1<<63)
	seq = int64(^binary.BigEndian.Uint64(s[8:]))
	return ms, seq
}

// listPrefix is the prefix of the entries of value val of indexed path i.
func listPrefix(dst []byte, i int, val string) []byte {
	dst = append(dst, kPosting, byte(i))
	for j := 0; j < len(val); j++ {
		dst = append(dst, val[j])
		if val[j] == 0 {
			dst = append(dst, 0xff)
		}
	}
	return append(dst, 0, 1)
}

func uuidKey(dst []byte, uuid string) []byte { return append(append(dst, kUUID), uuid...) }

// posting is what add needs of a stored row.
type posting struct {
	seq       int64
	uuid      string
	published time.Time
	cols      []any // the row's typed column values
	odd       bool  // some indexed path is not held exactly
}

// keys calls fn with the list prefix of each indexed value of r (each
// once); none for an odd row, which is in the odd list.
func (r *posting) keys(buf []byte, fn func(key []byte) error) error {
	if r.odd {
		return fn(append(buf[:0], kOdd))
	}
	for i, c := range indexedColumns {
		switch v := r.cols[c].(type) {
		case string:
			if err := fn(listPrefix(buf[:0], i, v)); err != nil {
				return err
			}
		case []string:
			for k, s := range v {
				if !slices.Contains(v[:k], s) {
					if err := fn(listPrefix(buf[:0], i, s)); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// typeCode is the code of an event type, given one if new (put into b).
func (p *postings) typeCode(b *pebble.Batch, v any) uint16 {
	s, ok := v.(string)
	if !ok {
		return 0
	}
	p.tmu.RLock()
	c, ok := p.types[s]
	n := len(p.types)
	p.tmu.RUnlock()
	if ok || n >= math.MaxUint16-1 {
		return c
	}
	p.tmu.Lock()
	defer p.tmu.Unlock()
	if c, ok := p.types[s]; ok {
		return c
	}
	c = uint16(len(p.types) + 1)
	p.types[string([]byte(s))] = c // not a view into the event's text
	b.Set(append([]byte{kType}, s...), binary.BigEndian.AppendUint16(nil, c), nil)
	return c
}

// put adds the entries of r to b.
func (p *postings) put(b *pebble.Batch, r *posting, buf []byte) error {
	ms := r.published.UnixMilli()
	val := binary.BigEndian.AppendUint16(nil, p.typeCode(b, r.cols[eventTypeCol]))
	var sfx [16]byte
	suffix(sfx[:0], ms, r.seq)
	err := r.keys(buf, func(k []byte) error { return b.Set(append(k, sfx[:]...), val, nil) })
	if err != nil {
		return err
	}
	if r.uuid != "" {
		var v [16]byte
		binary.BigEndian.PutUint64(v[:], order(ms))
		binary.BigEndian.PutUint64(v[8:], uint64(r.seq))
		return b.Set(uuidKey(buf[:0], r.uuid), v[:], nil)
	}
	return nil
}

// add indexes rows the writer committed, with seqs from from+1 to upTo,
// in seq order. When the index is behind from (another Store of the file
// committed rows it has not indexed), it catches up from the table
// instead, which holds these rows too.
func (p *postings) add(ctx context.Context, db querier, rows []posting, from, upTo int64) error {
	for c := p.committed.Load(); c < upTo && !p.committed.CompareAndSwap(c, upTo); c = p.committed.Load() {
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	cur := p.upTo.Load()
	if from > cur {
		return p.loadLocked(ctx, db, cur)
	}
	if upTo <= cur {
		return nil
	}
	b := p.db.NewBatch()
	defer b.Close()
	buf := make([]byte, 0, 128)
	for i := range rows {
		if rows[i].seq <= cur {
			continue // indexed already, by a catch-up
		}
		if err := p.put(b, &rows[i], buf); err != nil {
			return err
		}
	}
	p.setMeta(b, upTo)
	if err := b.Commit(pebble.NoSync); err != nil {
		return err
	}
	p.upTo.Store(upTo)
	return nil
}

// seqOf returns the seq stored for uuid, or 0 when none is.
func (p *postings) seqOf(uuid string, buf []byte) (int64, error) {
	v, closer, err := p.db.Get(uuidKey(buf[:0], uuid))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	if len(v) != 16 {
		return 0, fmt.Errorf("postings: uuid %q: a value of %d bytes", uuid, len(v))
	}
	return int64(binary.BigEndian.Uint64(v[8:])), nil
}

// prune drops the entries of rows published before t with seqs up to
// maxSeq: the rows DeleteBefore removed. It reads the whole index, a batch
// of deletions at a time; entries it has not reached yet (or that a crash
// left) name rows that are gone, which readers pass over and dedupe
// confirms with the table.
func (p *postings) prune(t time.Time, maxSeq int64) error {
	cut := ms(t).UnixMilli()
	p.wmu.Lock()
	defer p.wmu.Unlock()
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: []byte{kOdd}, UpperBound: []byte{kUUID + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	b := p.db.NewBatch()
	defer func() { b.Close() }()
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		var at, seq int64
		switch k[0] {
		case kOdd, kPosting:
			at, seq = readSuffix(k)
		case kUUID:
			v := it.Value()
			if len(v) != 16 {
				continue
			}
			at, seq = int64(binary.BigEndian.Uint64(v)^1<<63), int64(binary.BigEndian.Uint64(v[8:]))
		default:
			continue
		}
		if at >= cut || seq > maxSeq {
			continue
		}
		if err := b.Delete(k, nil); err != nil {
			return err
		}
		if b.Count() >= 1<<16 {
			if err := b.Commit(pebble.NoSync); err != nil {
				return err
			}
			b.Close()
			b = p.db.NewBatch()
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	return b.Commit(pebble.NoSync)
}

// maxCandidates bounds the entries a page reads from the postings; a
// value with more in the page's range (a busy NAT address, say) is found
// faster by DuckDB's scan.
const maxCandidates = 50000

// cand is a row the postings name for a page. sure: the postings alone
// say that it matches (the filter is only indexed values and event types,
// and the row's values are held exactly); else SQL decides.
type cand struct {
	pent
	sure bool
}

// byPublished is the pages' order by published: published, then seq.
func byPublished(a, b pent) int {
	return cmp.Or(cmp.Compare(a.ms(), b.ms()), cmp.Compare(a.seq, b.seq))
}

// errOverBudget ends a scan that read more than maxCandidates entries.
var errOverBudget = errors.New("postings: more entries than a page reads")

// scan calls fn for the entries under pre with published in [lo, hi),
// newest first when desc, else oldest first; with pos, only those after
// it in that order (by published, then seq). fn returns false to stop.
func (p *postings) scan(pre []byte, lo, hi int64, pos *pent, desc bool, fn func(pent) bool) error {
	if hi <= lo {
		return nil
	}
	lower := slices.Clone(pre)
	if hi != math.MaxInt64 {
		lower = binary.BigEndian.AppendUint64(lower, ^order(hi-1))
	}
	var upper []byte
	if lo != math.MinInt64 {
		upper = binary.BigEndian.AppendUint64(slices.Clone(pre), ^order(lo)+1)
	} else {
		upper = prefixEnd(pre)
	}
	if pos != nil {
		k := suffix(slices.Clone(pre), pos.at, pos.seq)
		if desc {
			if k = append(k, 0); bytes.Compare(k, lower) > 0 {
				lower = k
			}
		} else if bytes.Compare(k, upper) < 0 {
			upper = k
		}
	}
	if bytes.Compare(lower, upper) >= 0 {
		return nil
	}
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	step := it.Next
	ok := it.First()
	if !desc {
		step, ok = it.Prev, it.Last()
	}
	for ; ok; ok = step() {
		k, v := it.Key(), it.Value()
		if len(k) < len(pre)+16 || len(v) != 2 {
			return fmt.Errorf("postings: an entry of %d bytes", len(k))
		}
		at, seq := readSuffix(k)
		if !fn(pent{seq: seq, at: at, code: binary.BigEndian.Uint16(v)}) {
			break
		}
	}
	return it.Error()
}

// prefixEnd is the first key after every key that starts with pre.
func prefixEnd(pre []byte) []byte {
	end := slices.Clone(pre)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i]++; end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil // pre is all 0xff: no end
}

// candidates returns, in q's order, the rows that may match q according to
// the postings, or ok false when the postings cannot narrow q (no
// conjunct of the filter names an indexed value, or too many entries hold
// it, or the index could not be read). The range and the position after
// which the page starts are applied here: the postings know each row's
// exact published time and seq.
//
// With first > 0, a page in published order takes only its first
// candidates, about first of them; more says that there were others. A
// busy user has thousands of rows and the page wants a hundred.
func (p *postings) candidates(q store.Query, first int) (out []cand, more, ok bool) {
	if q.Filter == nil {
		return nil, false, false
	}
	var conj []filter.Expr
	conjuncts(q.Filter, &conj)
	var keys []pkey
	var typeSets [][]string
	others := 0 // conjuncts that are neither keys nor types
	for _, e := range conj {
		if ks, ok := keyAlternatives(e); ok {
			if keys != nil {
				others++ // the larger of two key conjuncts is left to SQL
			}
			if keys == nil || len(ks) < len(keys) {
				keys = ks
			}
			continue
		}
		if ts, ok := typeAlternatives(e); ok {
			typeSets = append(typeSets, ts)
			continue
		}
		others++
	}
	if keys == nil {
		return nil, false, false
	}
	answered := others == 0 && len(q.Keywords) == 0
	if q.Order == store.BySeq || !answered {
		// The lists are in published order; and where SQL decides,
		// the first candidates may not make a page.
		first = 0
	}
	// Event types the filter allows, by code; 0 (no string type, or too
	// many types) is always allowed, and never sure. A slice, not a map:
	// it is looked up once per entry of a busy user's lists.
	var allow []bool
	p.tmu.RLock()
	for _, ts := range typeSets {
		m := make([]bool, len(p.types)+1)
		m[0] = true
		for _, t := range ts {
			if c, ok := p.types[t]; ok && (allow == nil || allow[c]) {
				m[c] = true
			}
		}
		allow = m
	}
	p.tmu.RUnlock()
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.Since.IsZero() {
		lo = ms(q.Since).UnixMilli()
	}
	if !q.Until.IsZero() {
		hi = ms(q.Until).UnixMilli() // exclusive
	}
	var pos *pent
	var aMS, aSeq int64
	if a := q.After; a != nil {
		aMS, aSeq = ms(a.Published).UnixMilli(), a.Seq
		if q.Order != store.BySeq {
			pos = &pent{seq: aSeq, at: aMS}
		}
	}
	// after: the row comes after the page's start position (in seq
	// order; in published order scan seeks past it).
	after := func(e pent) bool {
		if q.After == nil || pos != nil {
			return true
		}
		if q.Descending {
			return e.seq < aSeq
		}
		return e.seq > aSeq
	}
	order := func(a, b cand) int { return byPublished(a.pent, b.pent) }
	if q.Order == store.BySeq {
		order = func(a, b cand) int { return cmp.Compare(a.seq, b.seq) }
	}
	// Each list gives a run in published order, its range found by a
	// seek; the runs are merged, not sorted again. In seq order a run is
	// sorted first, mostly in order already.
	var buf []cand
	var runs [][]cand
	budget := maxCandidates
	take := func(pre []byte, odd bool) error {
		start := len(buf)
		err := p.scan(pre, lo, hi, pos, q.Descending, func(e pent) bool {
			if budget--; budget < 0 {
				return false
			}
			if allow != nil && (int(e.typ()) >= len(allow) || !allow[e.typ()]) || !after(e) {
				return true
			}
			sure := answered && !odd && (allow == nil || e.typ() != 0)
			buf = append(buf, cand{e, sure})
			if first > 0 && len(buf)-start > first {
				more = true
				return false
			}
			return true
		})
		if err != nil {
			return err
		}
		if budget < 0 {
			return errOverBudget
		}
		if len(buf) > start {
			run := buf[start:len(buf):len(buf)]
			if q.Descending {
				slices.Reverse(run)
			}
			if q.Order == store.BySeq {
				run = sortRuns(run, order)
			}
			runs = append(runs, run)
		}
		return nil
	}
	if err := take([]byte{kOdd}, true); err != nil {
		return p.declined(err)
	}
	kb := make([]byte, 0, 64)
	for _, k := range keys {
		if err := take(listPrefix(kb[:0], int(k.path), k.val), false); err != nil {
			return p.declined(err)
		}
	}
	for len(runs) > 1 {
		runs = append(runs[2:], merge(runs[0], runs[1], order))
	}
	out = buf[:0]
	if len(runs) == 1 {
		out = runs[0]
	}
	// A row in several lists (actor and target, say) once.
	out = slices.CompactFunc(out, func(a, b cand) bool { return a.seq == b.seq })
	if q.Descending {
		slices.Reverse(out)
	}
	if first > 0 && len(out) > first {
		// A run's first+1st row told that there are more; the page
		// wants first at most.
		out, more = out[:first], true
	}
	return out, more, true
}

// declined is candidates' answer when the postings cannot serve a page:
// the page is found by SQL alone, so an error reading the index costs
// time, never rows.
func (p *postings) declined(err error) ([]cand, bool, bool) {
	if !errors.Is(err, errOverBudget) {
		p.log.Error("store: reading the postings failed; the page is read from the table", "err", err)
	}
	return nil, false, false
}

// sortRuns sorts s, which is mostly in order already: a run of a list
// (in published order) put in seq order differs only by the events that
// arrived late. The sorted prefix stays; only the rest is sorted, then
// merged in.
func sortRuns(s []cand, cmp func(a, b cand) int) []cand {
	i := 1
	for i < len(s) && cmp(s[i-1], s[i]) <= 0 {
		i++
	}
	if i >= len(s) {
		return s
	}
	rest := s[i:]
	slices.SortFunc(rest, cmp)
	return merge(s[:i], rest, cmp)
}

// merge returns the sorted runs a and b as one.
func merge(a, b []cand, cmp func(a, b cand) int) []cand {
	if len(b) == 0 || len(a) > 0 && cmp(a[len(a)-1], b[0]) <= 0 {
		return append(a[:len(a):len(a)], b...)
	}
	out := make([]cand, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if cmp(a[0], b[0]) <= 0 {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	out = append(out, a...)
	return append(out, b...)
}

// pkey is an indexed value: which path (an index into indexedColumns) and
// the value.
type pkey struct {
	path uint8
	val  string
}

// conjuncts flattens the top-level ands of e.
func conjuncts(e filter.Expr, out *[]filter.Expr) {
	switch x := e.(type) {
	case *filter.Paren:
		conjuncts(x.X, out)
	case *filter.Logical:
		if x.And {
			conjuncts(x.Left, out)
			conjuncts(x.Right, out)
			return
		}
		*out = append(*out, e)
	default:
		*out = append(*out, e)
	}
}

// alternatives: when e is a comparison that leaf accepts, or an or of
// such, the values leaf gives for each.
func alternatives[T any](e filter.Expr, acc []T, leaf func(*filter.Compare) (T, bool)) ([]T, bool) {
	switch x := e.(type) {
	case *filter.Paren:
		return alternatives(x.X, acc, leaf)
	case *filter.Logical:
		if x.And {
			return nil, false
		}
		acc, ok := alternatives(x.Left, acc, leaf)
		if !ok {
			return nil, false
		}
		return alternatives(x.Right, acc, leaf)
	case *filter.Compare:
		if v, ok := leaf(x); ok {
			return append(acc, v), true
		}
	}
	return nil, false
}

// keyAlternatives: when e is an indexed path eq a string, or an or of such,
// the values one of which a matching row must hold.
func keyAlternatives(e filter.Expr) ([]pkey, bool) {
	return alternatives(e, nil, func(x *filter.Compare) (pkey, bool) {
		if x.Op != filter.OpEq || x.Value.Kind != filter.String {
			return pkey{}, false
		}
		col := columnByPath[x.Path.String()]
		for i, c := range indexedColumns {
			if col != nil && &columns[c] == col {
				return pkey{uint8(i), x.Value.Str}, true
			}
		}
		return pkey{}, false
	})
}

// typeAlternatives: when e is eventType eq a string, or an or of such, the
// event types a matching row may have.
func typeAlternatives(e filter.Expr) ([]string, bool) {
	return alternatives(e, nil, func(x *filter.Compare) (string, bool) {
		ok := x.Op == filter.OpEq && x.Value.Kind == filter.String && len(x.Path) == 1 && x.Path[0] == "eventType"
		return x.Value.Str, ok
	})
}

// querier is a *sql.DB or a *sql.Conn.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// tableRows reads the rows with a seq above from (and at most to, when
// to > 0) as postings, in seq order when ordered, and calls fn with each
// (the posting is reused). A row that is odd for any reason is taken as
// odd for the postings: the table does not say which paths made it so.
// The seq conditions are in the form DuckDB does not answer from the seq
// index (integrity.go).
func tableRows(ctx context.Context, db querier, from, to int64, ordered bool, fn func(*posting) error) error {
	cond := `(seq > $1) IS TRUE AND (seq <= $2) IS TRUE`
	if ordered {
		cond += ` ORDER BY seq`
	}
	if to <= 0 {
		to = math.MaxInt64
	}
	return tableRowsWhere(ctx, db, cond, []any{from, to}, fn)
}

// tableRowsWhere is tableRows for the rows that satisfy cond.
func tableRowsWhere(ctx context.Context, db querier, cond string, args []any, fn func(*posting) error) error {
	rows, err := db.QueryContext(ctx, `SELECT seq, uuid, published, odd, event_type, actor_id, target_ids, client_ip, external_session_id FROM events WHERE `+cond, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	r := posting{cols: make([]any, len(columns))}
	var et, actor, ip, session sql.NullString
	var targets any
	for rows.Next() {
		if err := rows.Scan(&r.seq, &r.uuid, &r.published, &r.odd, &et, &actor, &targets, &ip, &session); err != nil {
			return err
		}
		clear(r.cols)
		set := func(col int, v sql.NullString) {
			if v.Valid {
				r.cols[col] = v.String
			}
		}
		set(eventTypeCol, et)
		set(indexedColumns[0], actor)
		set(indexedColumns[2], ip)
		set(indexedColumns[3], session)
		if l, ok := targets.([]any); ok {
			ss := make([]string, 0, len(l))
			for _, v := range l {
				if s, ok := v.(string); ok {
					ss = append(ss, s)
				}
			}
			r.cols[indexedColumns[1]] = ss
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// load indexes the stored rows with a seq above from.
func (p *postings) load(ctx context.Context, db querier, from int64) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	return p.loadLocked(ctx, db, from)
}

// loadBatch is how many rows a catch-up indexes per Pebble batch.
const loadBatch = 4096

func (p *postings) loadLocked(ctx context.Context, db querier, from int64) error {
	from = max(from, p.upTo.Load())
	b := p.db.NewBatch()
	defer func() { b.Close() }()
	buf := make([]byte, 0, 128)
	n, last := 0, from
	start := time.Now()
	logged := start
	flush := func() error {
		p.setMeta(b, last)
		if err := b.Commit(pebble.NoSync); err != nil {
			return err
		}
		p.upTo.Store(last)
		b.Close()
		b = p.db.NewBatch()
		return nil
	}
	err := tableRows(ctx, db, from, 0, true, func(r *posting) error {
		if err := p.put(b, r, buf); err != nil {
			return err
		}
		n++
		last = r.seq
		if n%loadBatch == 0 {
			if err := flush(); err != nil {
				return err
			}
			if time.Since(logged) > 5*time.Second {
				logged = time.Now()
				p.log.Info("store: indexing stored events", "events", n, "seq", last, "elapsed", time.Since(start).Round(time.Second))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if last > p.upTo.Load() {
		return flush()
	}
	return nil
}

// sync indexes rows that another Store on the same database (DuckDB
// shares one database among the opens of a file in a process) has
// committed: the state row says how far the table goes.
func (p *postings) sync(ctx context.Context, db *sql.DB) error {
	var last int64
	if err := db.QueryRowContext(ctx, `SELECT last_seq FROM state WHERE id = 1`).Scan(&last); err != nil {
		return err
	}
	if last <= p.upTo.Load() {
		return nil
	}
	return p.load(ctx, db, 0)
}

// reset empties the index, for a rebuild: it then holds no rows, of the
// file with the given id.
func (p *postings) reset(id int64) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	return p.resetLocked(id)
}

func (p *postings) resetLocked(id int64) error {
	if err := p.db.DeleteRange([]byte{0}, []byte{0xff}, pebble.NoSync); err != nil {
		return err
	}
	p.tmu.Lock()
	p.types = map[string]uint16{}
	p.tmu.Unlock()
	p.id = id
	b := p.db.NewBatch()
	defer b.Close()
	p.setMeta(b, 0)
	if err := b.Commit(pebble.NoSync); err != nil {
		return err
	}
	p.upTo.Store(0)
	return nil
}

// rebuild builds the index again from the table.
func (p *postings) rebuild(ctx context.Context, db querier) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if err := p.resetLocked(p.id); err != nil {
		return err
	}
	return p.loadLocked(ctx, db, 0)
}
