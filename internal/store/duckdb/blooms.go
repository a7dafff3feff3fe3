package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"time"

	duck "github.com/duckdb/duckdb-go/v2"

	"github.com/idlog/idlog/internal/store"
)

// A q keyword matches an event only if it is one of the event's tokens
// (filter.Tokens), so a q query needs to look only at events that hold
// every keyword as a token. The blooms table keeps, for each block of up to
// bloomRows consecutive seqs, a bloom filter of the hashes of the block's
// tokens (tokens.go), written in the transaction that stores the rows. A q
// query reads the filters of its time window, keeps the blocks that may
// hold every keyword, and runs its exact SQL (keywordSQL) and Go check on
// those blocks' rows only: the answer is the same, the rows read fewer.
//
// A block's filter is cut into parts by token hash, one table row each, so
// a query for one keyword reads one part of each block (1/bloomParts of
// the filter bits) rather than all of them.
//
// Rows stored before the table existed (a file of format 2 or older) are
// not covered: seqs below bloomsFrom are always candidates.

const (
	// bloomRows is the most rows one filter covers: DuckDB's vector size,
	// the smallest span of rows its scans skip by their min/max.
	bloomRows = 2048
	// bloomBitsPerToken and bloomProbes give a false positive rate of
	// about 0.8% per block and keyword.
	bloomBitsPerToken = 10
	bloomProbes       = 7
	// bloomParts is the most parts a block's filter is cut into; a small
	// block (a small append) is cut into fewer, so that each part has a
	// few hundred tokens.
	bloomParts      = 64
	bloomPartTokens = 256
	// bloomRangesLimit is the most seq ranges one query's SQL names.
	bloomRangesLimit = 256
)

// bloomDDL creates the table of the filters.
var bloomDDL = []string{
	`CREATE TABLE IF NOT EXISTS blooms (
	lo BIGINT NOT NULL,      -- the block's first seq
	hi BIGINT NOT NULL,      -- its last seq
	pmin TIMESTAMP NOT NULL, -- the earliest published of its rows
	pmax TIMESTAMP NOT NULL, -- the latest
	parts UTINYINT NOT NULL, -- how many parts its filter is cut into
	part UTINYINT NOT NULL,  -- which part this row holds
	bits BLOB NOT NULL       -- the part's filter, little-endian 64-bit words
)`,
	`CREATE TABLE IF NOT EXISTS blooms_from (seq BIGINT NOT NULL)`,
}

// bloomPartOf is the part of a token hash in a filter cut into n parts (a
// power of two). It takes other bits of the hash than bloomProbePositions.
func bloomPartOf(h uint64, n int) int {
	return int((h*0x9E3779B97F4A7C15)>>58) & (n - 1)
}

// fmix64 is MurmurHash3's finalizer: FNV-1a's bits mixed for the probes.
func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// bloomProbe returns the i-th bit position of hash h in a filter of m bits.
func bloomProbe(x uint64, i int, m uint64) uint64 {
	h1, h2 := uint32(x), uint32(x>>32)|1
	v := h1 + uint32(i)*h2
	hi, _ := bits.Mul64(uint64(v)<<32, m)
	return hi
}

// bloomBlock is the filter being built for a block of rows.
type bloomBlock struct {
	lo, hi     int64
	pmin, pmax time.Time
	hashes     map[uint64]struct{}
}

func (b *bloomBlock) add(seq int64, published time.Time, hashes []uint64) {
	if b.hashes == nil {
		b.lo, b.pmin, b.pmax = seq, published, published
		b.hashes = make(map[uint64]struct{}, 4096)
	}
	b.hi = seq
	if published.Before(b.pmin) {
		b.pmin = published
	}
	if published.After(b.pmax) {
		b.pmax = published
	}
	for _, h := range hashes {
		b.hashes[h] = struct{}{}
	}
}

// parts cuts the block's tokens into filters: the number of parts and the
// bits of each (nil for a part without tokens).
func (b *bloomBlock) parts() (int, [][]uint64) {
	n := 1
	for n < bloomParts && len(b.hashes)/(2*n) >= bloomPartTokens {
		n *= 2
	}
	counts := make([]int, n)
	for h := range b.hashes {
		counts[bloomPartOf(h, n)]++
	}
	out := make([][]uint64, n)
	for p, c := range counts {
		if c > 0 {
			out[p] = make([]uint64, (c*bloomBitsPerToken+63)/64)
		}
	}
	for h := range b.hashes {
		words := out[bloomPartOf(h, n)]
		m := uint64(len(words)) * 64
		x := fmix64(h)
		for i := range bloomProbes {
			pos := bloomProbe(x, i, m)
			words[pos/64] |= 1 << (pos % 64)
		}
	}
	return n, out
}

// bloomHas reports whether the filter bits (as stored) may hold hash h.
func bloomHas(bitsBlob []byte, h uint64) bool {
	m := uint64(len(bitsBlob)/8) * 64
	if m == 0 {
		return false
	}
	x := fmix64(h)
	for i := range bloomProbes {
		pos := bloomProbe(x, i, m)
		w := binary.LittleEndian.Uint64(bitsBlob[pos/64*8:])
		if w&(1<<(pos%64)) == 0 {
			return false
		}
	}
	return true
}

// bloomBatch gathers the blocks of one transaction's rows, whose seqs are
// consecutive.
type bloomBatch struct {
	blocks []*bloomBlock
}

// add takes one stored row.
func (bb *bloomBatch) add(seq int64, r *row) {
	if len(bb.blocks) == 0 || bb.blocks[len(bb.blocks)-1].hi-bb.blocks[len(bb.blocks)-1].lo+1 >= bloomRows {
		bb.blocks = append(bb.blocks, &bloomBlock{})
	}
	bb.blocks[len(bb.blocks)-1].add(seq, r.published, r.tokens)
}

// write appends the filters of the batch's blocks, inside the writer's
// transaction.
func (bb *bloomBatch) write(c *sql.Conn) error {
	if len(bb.blocks) == 0 {
		return nil
	}
	return c.Raw(func(dc any) error {
		app, err := duck.NewAppenderFromConn(dc.(driver.Conn), "", "blooms")
		if err != nil {
			return err
		}
		for _, b := range bb.blocks {
			n, parts := b.parts()
			for p, words := range parts {
				if words == nil {
					continue
				}
				blob := make([]byte, 8*len(words))
				for i, w := range words {
					binary.LittleEndian.PutUint64(blob[8*i:], w)
				}
				if err := app.AppendRow(b.lo, b.hi, b.pmin, b.pmax, uint8(n), uint8(p), blob); err != nil {
					app.Close()
					return err
				}
			}
		}
		return app.Close()
	})
}

// bloomTail is the run of small blocks (appends of fewer than bloomSmall
// rows each) at the end of the table, which the writer merges into larger
// blocks once there are enough of them: a feed of small appends would
// otherwise leave a filter per append. Blocks of bigger appends are left
// as they are: merging them re-reads too many rows (measured: appends of
// 1,000 rows spent a fifth of their time merging).
type bloomTail struct {
	lo     int64 // the first seq of the run; 0 when there is none
	rows   int64
	blocks int
}

// Merge the tail once it has this many rows or blocks; at most
// bloomTailBlocks*bloomSmall rows are read again.
const (
	bloomSmall      = 128
	bloomTailRows   = 1024
	bloomTailBlocks = 32
)

// next is the tail after a batch's blocks are written.
func (t bloomTail) next(bb *bloomBatch) bloomTail {
	for _, b := range bb.blocks {
		n := b.hi - b.lo + 1
		switch {
		case n >= bloomSmall:
			t = bloomTail{}
		case t.lo == 0:
			t = bloomTail{lo: b.lo, rows: n, blocks: 1}
		default:
			t.rows += n
			t.blocks++
		}
	}
	return t
}

// mergeTail rebuilds the filters of the rows from the tail's first seq to
// hi from the rows themselves, in the writer's transaction, in place of
// the tail's small ones.
func mergeTail(ctx context.Context, c *sql.Conn, t bloomTail, hi int64) error {
	// "IS TRUE": not through the seq index, which may have lost entries.
	rows, err := c.QueryContext(ctx, `SELECT seq, `+rawColumns+` FROM events WHERE ((seq >= $1 AND seq <= $2) IS TRUE) ORDER BY seq`, t.lo, hi)
	if err != nil {
		return err
	}
	bb := &bloomBatch{}
	rc := newRawScan()
	var hashes []uint64
	for rows.Next() {
		var seq int64
		if err := rows.Scan(append([]any{&seq}, rc.ptrs...)...); err != nil {
			rows.Close()
			return err
		}
		e, err := rc.event(seq)
		if err != nil {
			rows.Close()
			return err
		}
		hashes = appendTokenHashes(hashes[:0], e.Raw)
		r := row{published: e.Published, tokens: hashes}
		bb.add(seq, &r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if _, err := c.ExecContext(ctx, `DELETE FROM blooms WHERE lo >= $1 AND lo <= $2`, t.lo, hi); err != nil {
		return err
	}
	return bb.write(c)
}

// seqRange is a range [lo, hi] of seqs.
type seqRange struct{ lo, hi int64 }

// bloomCand is a block that may hold every keyword.
type bloomCand struct {
	seqRange
	pmin, pmax time.Time
}

// bloomCandidates returns the blocks in q's time window that may hold all
// of q's keywords, in seq order, the first seq the filters cover (rows
// below it are always candidates), and how many blocks it looked at.
func (s *Store) bloomCandidates(ctx context.Context, q store.Query) ([]bloomCand, int64, int, error) {
	from := s.bloomsFrom
	hashes := make([]uint64, len(q.Keywords))
	for i, kw := range q.Keywords {
		hashes[i] = tokenHash([]byte(strings.ToLower(kw)))
	}
	// Every part a keyword may fall in, whatever the block's number of parts.
	var conds []string
	var args []any
	for n := 1; n <= bloomParts; n *= 2 {
		seen := map[int]bool{}
		for _, h := range hashes {
			p := bloomPartOf(h, n)
			if !seen[p] {
				seen[p] = true
				args = append(args, n, p)
				conds = append(conds, fmt.Sprintf("(parts = $%d AND part = $%d)", len(args)-1, len(args)))
			}
		}
	}
	where := "(" + strings.Join(conds, " OR ") + ")"
	if !q.Since.IsZero() {
		args = append(args, ms(q.Since))
		where += fmt.Sprintf(" AND pmax >= $%d", len(args))
	}
	if !q.Until.IsZero() {
		args = append(args, ms(q.Until))
		where += fmt.Sprintf(" AND pmin < $%d", len(args))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT lo, hi, pmin, pmax, parts, part, bits FROM blooms WHERE `+where, args...)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("duckdb: blooms: %w", err)
	}
	defer rows.Close()
	// A block is a candidate when every keyword passes its part's filter;
	// a part not stored holds no token.
	type state struct {
		bloomCand
		passed uint64 // bit i: keyword i passed
	}
	blocks := map[int64]*state{}
	all := uint64(1)<<len(hashes) - 1
	for rows.Next() {
		var lo, hi int64
		var pmin, pmax time.Time
		var n, part uint8
		var blob []byte
		if err := rows.Scan(&lo, &hi, &pmin, &pmax, &n, &part, &blob); err != nil {
			return nil, 0, 0, fmt.Errorf("duckdb: blooms: %w", err)
		}
		st := blocks[lo]
		if st == nil {
			st = &state{bloomCand: bloomCand{seqRange{lo, hi}, pmin.UTC(), pmax.UTC()}}
			blocks[lo] = st
		}
		for i, h := range hashes {
			if bloomPartOf(h, int(n)) == int(part) && bloomHas(blob, h) {
				st.passed |= 1 << i
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, 0, fmt.Errorf("duckdb: blooms: %w", err)
	}
	var out []bloomCand
	for _, st := range blocks {
		if st.passed == all {
			out = append(out, st.bloomCand)
		}
	}
	slices.SortFunc(out, func(a, b bloomCand) int { return compareInt(a.lo, b.lo) })
	return out, from, len(blocks), nil
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// seqRanges merges the candidates' seq ranges (and all seqs below from)
// into at most bloomRangesLimit ranges, joining the ones closest together
// first: a superset of the candidates.
func seqRanges(cands []bloomCand, from int64) []seqRange {
	var out []seqRange
	if from > 1 {
		out = append(out, seqRange{lo: -1 << 63, hi: from - 1})
	}
	for _, c := range cands {
		if n := len(out); n > 0 && c.lo <= out[n-1].hi+1 {
			out[n-1].hi = max(out[n-1].hi, c.hi)
			continue
		}
		out = append(out, c.seqRange)
	}
	if len(out) <= bloomRangesLimit {
		return out
	}
	gaps := make([]int64, len(out)-1)
	for i := range gaps {
		gaps[i] = out[i+1].lo - out[i].hi
	}
	sorted := slices.Clone(gaps)
	slices.Sort(sorted)
	limit := sorted[len(out)-bloomRangesLimit-1] // the gaps up to this one go
	merged := out[:1]
	joined := 0
	for i, g := range gaps {
		if g <= limit && joined < len(out)-bloomRangesLimit {
			merged[len(merged)-1].hi = out[i+1].hi
			joined++
			continue
		}
		merged = append(merged, out[i+1])
	}
	return merged
}

// seqRangesSQL is the condition "seq lies in one of the ranges". "IS
// TRUE" keeps DuckDB from answering it from the seq index, which would
// return nothing past a lost entry (integrity.go, and keyset in query.go).
func seqRangesSQL(c *compiler, rs []seqRange) string {
	if len(rs) == 0 {
		return sqlFalse
	}
	ors := make([]string, len(rs))
	for i, r := range rs {
		if r.lo == -1<<63 {
			ors[i] = "seq <= " + c.arg(r.hi)
		} else {
			ors[i] = "seq BETWEEN " + c.arg(r.lo) + " AND " + c.arg(r.hi)
		}
	}
	return "((" + strings.Join(ors, " OR ") + ") IS TRUE)"
}

// bloomCuts are times to cut a page's range at, in the page's order, so
// that its first span takes in the couple of candidate blocks nearest its
// near end, each next one four times as many: a page whose matches lie in
// the nearest blocks reads those blocks rather than a day of rows.
func bloomCuts(cands []bloomCand, desc bool) []time.Time {
	var edges []time.Time
	for _, c := range cands {
		if desc {
			edges = append(edges, c.pmin)
		} else {
			edges = append(edges, c.pmax.Add(time.Millisecond))
		}
	}
	slices.SortFunc(edges, func(a, b time.Time) int {
		if desc {
			return b.Compare(a)
		}
		return a.Compare(b)
	})
	var out []time.Time
	for i, n := 1, 2; i < len(edges); n, i = n*4, i+n*4 {
		out = append(out, edges[i])
	}
	return out
}

// cutSpans cuts [lo, hi) (a zero end is open) at the cuts that lie inside
// it, into spans in the page's order. With blooms (cands not nil) a span
// no candidate block reaches into is left out, unless rows the blooms do
// not cover (seqs below from) may lie anywhere.
func cutSpans(cuts []time.Time, lo, hi time.Time, desc bool, cands []bloomCand, from int64) []span {
	slices.SortFunc(cuts, func(a, b time.Time) int {
		if desc {
			return b.Compare(a)
		}
		return a.Compare(b)
	})
	cuts = slices.Compact(cuts)
	var out []span
	cur := hi
	if !desc {
		cur = lo
	}
	for _, c := range cuts {
		if (!lo.IsZero() && !c.After(lo)) || (!hi.IsZero() && !c.Before(hi)) {
			continue
		}
		if desc {
			out = append(out, span{from: c, to: cur})
		} else {
			out = append(out, span{from: cur, to: c})
		}
		cur = c
	}
	if desc {
		out = append(out, span{from: lo, to: cur})
	} else {
		out = append(out, span{from: cur, to: hi})
	}
	if cands == nil || from > 1 {
		return out
	}
	return slices.DeleteFunc(out, func(sp span) bool {
		return !slices.ContainsFunc(cands, func(c bloomCand) bool {
			return (sp.from.IsZero() || !c.pmax.Before(sp.from)) && (sp.to.IsZero() || c.pmin.Before(sp.to))
		})
	})
}
