package duckdb

import (
	"cmp"
	"context"
	"database/sql"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
)

// postings is an in-memory inverted index from the values of the paths
// that every seed scenario selects on (actor.id, target.id,
// client.ipAddress, authenticationContext.externalSessionId) to the rows
// that hold them, with each row's published time and event type.
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
// value depends on who reads them) are in odd, a list every lookup
// includes and SQL always checks. They are rebuilt from the table when the
// store opens (about 2 s per million events) and cost about 12 bytes per
// indexed value, some 50 MB per million events.
type postings struct {
	mu   sync.RWMutex
	upTo int64 // every row with seq <= upTo is indexed
	// lists holds pointers so that adding to a list never assigns to the
	// map: Go stores the key again on every assignment to a string key,
	// and the key of a row being added is a view into its whole JSON text,
	// which the map would then keep alive (measured: 234 MB of event texts
	// held after importing 1M events, the growing part of a 10M import's
	// 10 GB).
	lists map[pkey]*[]pent
	odd   []pent
	types map[string]uint16 // event type → code; code 0 is "unknown"
	// off: a seq beyond uint32 or a time before 1970 (or after the year
	// 10000) was stored; the postings are then not used.
	off bool
}

// pkey is an indexed value: which path (an index into indexedColumns) and
// the value.
type pkey struct {
	path uint8
	val  string
}

// pent is one row of a list: its seq, published time (milliseconds since
// the epoch, 48 bits) and event type code (16 bits), in 12 bytes, so a
// million events cost about 50 MB of postings.
type pent struct {
	seq uint32
	lo  uint32 // published, low 32 bits
	hi  uint32 // published, high 16 bits; event type code, low 16 bits
}

func (e pent) ms() int64   { return int64(e.hi>>16)<<32 | int64(e.lo) }
func (e pent) typ() uint16 { return uint16(e.hi) }

// maxMS is the first published time (in ms) a pent cannot hold.
const maxMS = 1 << 48

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

func newPostings() *postings {
	return &postings{lists: map[pkey]*[]pent{}, types: map[string]uint16{}}
}

// posting is what add needs of a stored row.
type posting struct {
	seq       int64
	published time.Time
	cols      []any // the row's typed column values
	odd       bool  // some indexed path is not held exactly
}

// add indexes rows stored with seqs up to upTo, in seq order.
func (p *postings) add(rows []posting, upTo int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range rows {
		if p.off {
			break
		}
		if r.seq <= p.upTo {
			continue // indexed already, by a catch-up (sync)
		}
		ms := r.published.UnixMilli()
		if r.seq > math.MaxUint32 || ms < 0 || ms >= maxMS {
			// Four billion events in one file, or a time the entries
			// cannot hold: the postings stop here and every query
			// scans, as before they existed.
			p.off = true
			p.lists, p.odd = nil, nil
			break
		}
		e := pent{seq: uint32(r.seq), lo: uint32(ms), hi: uint32(ms>>32)<<16 | uint32(p.typeCode(r.cols[eventTypeCol]))}
		if r.odd {
			p.odd = insert(p.odd, e)
			continue
		}
		for i, c := range indexedColumns {
			switch v := r.cols[c].(type) {
			case string:
				p.push(pkey{uint8(i), v}, e)
			case []string:
				for k, s := range v {
					if !slices.Contains(v[:k], s) {
						p.push(pkey{uint8(i), s}, e)
					}
				}
			}
		}
	}
	p.upTo = max(p.upTo, upTo)
}

func (p *postings) push(k pkey, e pent) {
	l := p.lists[k]
	if l == nil {
		k.val = strings.Clone(k.val) // not a view into the event's text
		l = new([]pent)
		p.lists[k] = l
	}
	*l = insert(*l, e)
}

// byPublished is the lists' order: published, then seq.
func byPublished(a, b pent) int {
	return cmp.Or(cmp.Compare(a.ms(), b.ms()), cmp.Compare(a.seq, b.seq))
}

// insert adds e to the list l, kept in published order so that a page
// takes its range by binary search and its first rows without sorting.
// Rows come in seq order, mostly in published order too; one published
// earlier than the list's last is moved into place.
func insert(l []pent, e pent) []pent {
	if len(l) == 0 || byPublished(e, l[len(l)-1]) >= 0 {
		return append(l, e)
	}
	i, _ := slices.BinarySearchFunc(l, e, byPublished)
	return slices.Insert(l, i, e)
}

func (p *postings) typeCode(v any) uint16 {
	s, ok := v.(string)
	if !ok {
		return 0
	}
	c, ok := p.types[s]
	if !ok && len(p.types) < math.MaxUint16-1 {
		c = uint16(len(p.types) + 1)
		p.types[strings.Clone(s)] = c
	}
	return c
}

// prune drops the entries of rows published before t, the rows
// DeleteBefore removed.
func (p *postings) prune(t time.Time) {
	cut := ms(t).UnixMilli()
	gone := func(e pent) bool { return e.ms() < cut }
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, l := range p.lists {
		*l = slices.Clip(slices.DeleteFunc(*l, gone))
		if len(*l) == 0 {
			delete(p.lists, k)
		}
	}
	p.odd = slices.DeleteFunc(p.odd, gone)
}

// maxCandidates bounds the rows a page takes from the postings; a value
// with more (a busy NAT address, say) is found faster by DuckDB's scan.
const maxCandidates = 50000

// cand is a row the postings name for a page. sure: the postings alone
// say that it matches (the filter is only indexed values and event types,
// and the row's values are held exactly); else SQL decides.
type cand struct {
	pent
	sure bool
}

// candidates returns, in q's order, the rows that may match q according to
// the postings, or ok false when the postings cannot narrow q (no
// conjunct of the filter names an indexed value, or too many rows hold
// it). The range and the position after which the page starts are applied
// here: the postings know each row's exact published time and seq.
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
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.off {
		return nil, false, false
	}
	n := len(p.odd)
	for _, k := range keys {
		if l := p.lists[k]; l != nil {
			n += len(*l)
		}
	}
	if n > maxCandidates {
		return nil, false, false
	}
	if q.Order == store.BySeq || !answered {
		// The lists are in published order; and where SQL decides,
		// the first candidates may not make a page.
		first = 0
	}
	// Event types the filter allows, by code; 0 (no string type, or too
	// many types) is always allowed, and never sure. A slice, not a map:
	// it is looked up once per entry of a busy user's lists.
	var allow []bool
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
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.Since.IsZero() {
		lo = ms(q.Since).UnixMilli()
	}
	if !q.Until.IsZero() {
		hi = ms(q.Until).UnixMilli() // exclusive
	}
	var aMS, aSeq int64
	if a := q.After; a != nil {
		aMS, aSeq = ms(a.Published).UnixMilli(), a.Seq
	}
	// after: the row comes after the page's start position.
	after := func(e pent) bool {
		a := q.After
		if a == nil {
			return true
		}
		c := cmp.Compare(int64(e.seq), aSeq)
		if q.Order != store.BySeq {
			c = cmp.Or(cmp.Compare(e.ms(), aMS), c)
		}
		if q.Descending {
			return c < 0
		}
		return c > 0
	}
	order := func(a, b cand) int { return byPublished(a.pent, b.pent) }
	if q.Order == store.BySeq {
		order = func(a, b cand) int { return cmp.Compare(a.seq, b.seq) }
	}
	// Each list gives a run in the page's order, its range found by binary
	// search; the runs are merged, not sorted again. In seq order a run is
	// sorted first, mostly in order already.
	buf := make([]cand, 0, n)
	var runs [][]cand
	take := func(l []pent, odd bool) {
		from, _ := slices.BinarySearchFunc(l, lo, func(e pent, t int64) int { return cmp.Compare(e.ms(), t) })
		to, _ := slices.BinarySearchFunc(l, hi, func(e pent, t int64) int { return cmp.Compare(e.ms(), t) })
		l = l[from:to]
		start := len(buf)
		keep := func(e pent) bool {
			if allow != nil && (int(e.typ()) >= len(allow) || !allow[e.typ()]) || !after(e) {
				return false
			}
			sure := answered && !odd && (allow == nil || e.typ() != 0)
			buf = append(buf, cand{e, sure})
			return first > 0 && len(buf)-start > first
		}
		if q.Descending && first > 0 {
			for i := len(l) - 1; i >= 0; i-- {
				if keep(l[i]) {
					more = true
					break
				}
			}
			slices.Reverse(buf[start:])
		} else {
			for _, e := range l {
				if keep(e) {
					more = true
					break
				}
			}
		}
		if len(buf) > start {
			run := buf[start:len(buf):len(buf)]
			if q.Order == store.BySeq {
				run = sortRuns(run, order)
			}
			runs = append(runs, run)
		}
	}
	take(p.odd, true)
	for _, k := range keys {
		if l := p.lists[k]; l != nil {
			take(*l, false)
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

// loadPostings indexes the rows already in the file.
func loadPostings(ctx context.Context, conn *sql.Conn) (*postings, error) {
	p := newPostings()
	return p, p.load(ctx, conn, 0)
}

// querier is a *sql.DB or a *sql.Conn.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// load indexes the stored rows with a seq above from. A row that is odd
// for any reason is taken as odd for the postings: the table does not say
// which paths made it so.
func (p *postings) load(ctx context.Context, db querier, from int64) error {
	rows, err := db.QueryContext(ctx, `SELECT seq, published, odd, event_type, actor_id, target_ids, client_ip, external_session_id FROM events WHERE (seq > $1) IS TRUE ORDER BY seq`, from) // not from the seq index: integrity.go
	if err != nil {
		return err
	}
	defer rows.Close()
	var batch []posting
	var last int64
	for rows.Next() {
		var r posting
		var et, actor, ip, session sql.NullString
		var targets any
		r.cols = make([]any, len(columns))
		if err := rows.Scan(&r.seq, &r.published, &r.odd, &et, &actor, &targets, &ip, &session); err != nil {
			return err
		}
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
		batch = append(batch, r)
		last = r.seq
		if len(batch) == 4096 {
			p.add(batch, last)
			batch = batch[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	p.add(batch, last)
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
	p.mu.RLock()
	upTo := p.upTo
	p.mu.RUnlock()
	if last <= upTo {
		return nil
	}
	return p.load(ctx, db, upTo)
}

// diff counts the entries in which p and fresh (loaded from the table)
// disagree. They need not be equal: a row that is odd for a path the
// postings do not index is in its keys' lists when added by an append,
// but in the odd list when loaded (the table does not say which path made
// it odd), and the odd list stands for every key. So an entry one has in
// a key's list must be in the other's list for that key or in its odd
// list, with the same published time and event type.
func (p *postings) diff(fresh *postings) int64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.off != fresh.off {
		return 1
	}
	type entry struct {
		ms  int64
		typ string
	}
	type side struct {
		lists map[pkey]map[uint32]entry
		odd   map[uint32]entry
	}
	read := func(q *postings) side {
		names := make(map[uint16]string, len(q.types))
		for n, c := range q.types {
			names[c] = n
		}
		conv := func(e pent) entry { return entry{e.ms(), names[e.typ()]} }
		sd := side{lists: map[pkey]map[uint32]entry{}, odd: map[uint32]entry{}}
		for _, e := range q.odd {
			sd.odd[e.seq] = conv(e)
		}
		for k, l := range q.lists {
			m := make(map[uint32]entry, len(*l))
			for _, e := range *l {
				m[e.seq] = conv(e)
			}
			sd.lists[k] = m
		}
		return sd
	}
	a, b := read(p), read(fresh)
	var n int64
	covered := func(e entry, seq uint32, list map[uint32]entry, other side) bool {
		if o, ok := list[seq]; ok {
			return o == e
		}
		o, ok := other.odd[seq]
		return ok && o == e
	}
	for _, pair := range [][2]side{{a, b}, {b, a}} {
		x, y := pair[0], pair[1]
		for k, l := range x.lists {
			for seq, e := range l {
				if !covered(e, seq, y.lists[k], y) {
					n++
				}
			}
		}
	}
	// A row p holds as odd is odd in the table. (The converse need not
	// hold: a row odd for an unindexed path and without indexed values is
	// in no list of p, and no key's page can want it.)
	for seq, e := range a.odd {
		if o, ok := b.odd[seq]; !ok || o != e {
			n++
		}
	}
	return n
}

// entries is how many entries the postings hold.
func (p *postings) entries() int64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	n := int64(len(p.odd))
	for _, l := range p.lists {
		n += int64(len(*l))
	}
	return n
}

// replace takes fresh's contents, for Check's repair.
func (p *postings) replace(fresh *postings) {
	fresh.mu.Lock()
	defer fresh.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.upTo, p.lists, p.odd, p.types, p.off = fresh.upTo, fresh.lists, fresh.odd, fresh.types, fresh.off
}
