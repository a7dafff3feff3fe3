package duckdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// verdict is what verify found.
type verdict struct {
	rows    int64 // table rows compared
	entries int64 // entries in the index
	missing int64 // entries a row needs that the index lacks
	wrong   int64 // entries that name a row which does not hold them
	stale   int64 // entries of rows that are gone (a prune cut short): harmless
}

// verify compares the index with the table in bounded memory. First each
// row (up to the marker) must have its entries: in the list of each of
// its values, or in the odd list, with its published time and event
// type, and its uuid. Then, if the index holds more entries than the rows
// matched, every entry is looked up in the table to name the extra ones.
// Writes wait meanwhile.
func (p *postings) verify(ctx context.Context, db querier) (verdict, error) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	var v verdict
	var matched int64
	upTo := p.upTo.Load()
	names := p.typeNames()
	get := func(k []byte) ([]byte, bool, error) {
		val, closer, err := p.db.Get(k)
		if errors.Is(err, pebble.ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		val = bytes.Clone(val)
		closer.Close()
		return val, true, nil
	}
	kb := make([]byte, 0, 128)
	err := tableRows(ctx, db, 0, upTo, false, func(r *posting) error {
		v.rows++
		ms := r.published.UnixMilli()
		typ, _ := r.cols[eventTypeCol].(string)
		var sfx [16]byte
		suffix(sfx[:0], ms, r.seq)
		entryOK := func(val []byte) bool {
			return len(val) == 2 && names[binary.BigEndian.Uint16(val)] == typ
		}
		val, ok, err := get(append(append(kb[:0], kOdd), sfx[:]...))
		if err != nil {
			return err
		}
		if ok {
			matched++
			if !r.odd || !entryOK(val) {
				v.wrong++
			}
		} else {
			plain := *r
			plain.odd = false
			err := plain.keys(kb, func(k []byte) error {
				val, ok, err := get(append(k, sfx[:]...))
				if err != nil {
					return err
				}
				if !ok {
					v.missing++
					return nil
				}
				matched++
				if !entryOK(val) {
					v.wrong++
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		val, ok, err = get(uuidKey(kb[:0], r.uuid))
		if err != nil {
			return err
		}
		if !ok {
			v.missing++
			return nil
		}
		matched++
		if len(val) != 16 || int64(binary.BigEndian.Uint64(val[8:])) != r.seq || int64(binary.BigEndian.Uint64(val)^1<<63) != ms {
			v.wrong++
		}
		return nil
	})
	if err != nil {
		return v, err
	}
	if v.entries, err = p.count(); err != nil {
		return v, err
	}
	if v.entries != matched {
		if err := p.extras(ctx, db, names, &v); err != nil {
			return v, err
		}
	}
	return v, nil
}

// typeNames is the event types by code (code 0, unknown, is "").
func (p *postings) typeNames() map[uint16]string {
	p.tmu.RLock()
	defer p.tmu.RUnlock()
	m := make(map[uint16]string, len(p.types))
	for n, c := range p.types {
		m[c] = n
	}
	return m
}

// count is how many entries (list, odd and uuid) the index holds.
func (p *postings) count() (int64, error) {
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: []byte{kOdd}, UpperBound: []byte{kUUID + 1}})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	var n int64
	for it.First(); it.Valid(); it.Next() {
		switch it.Key()[0] {
		case kOdd, kPosting, kUUID:
			n++
		}
	}
	return n, it.Error()
}

// entry is one index entry as extras reads it.
type entry struct {
	kind byte
	path int
	val  string // the value, or the uuid
	ms   int64
	seq  int64
	code uint16
}

func decodeEntry(k, v []byte) (entry, bool) {
	e := entry{kind: k[0]}
	switch e.kind {
	case kUUID:
		if len(v) != 16 {
			return e, false
		}
		e.val = string(k[1:])
		e.ms, e.seq = int64(binary.BigEndian.Uint64(v)^1<<63), int64(binary.BigEndian.Uint64(v[8:]))
		return e, true
	case kOdd, kPosting:
		if len(k) < 17 || len(v) != 2 {
			return e, false
		}
		e.ms, e.seq = readSuffix(k)
		e.code = binary.BigEndian.Uint16(v)
		if e.kind == kOdd {
			return e, len(k) == 17
		}
		body := k[1 : len(k)-16]
		if len(body) < 3 || body[len(body)-2] != 0 || body[len(body)-1] != 1 {
			return e, false
		}
		e.path = int(body[0])
		raw := body[1 : len(body)-2]
		val := make([]byte, 0, len(raw))
		for i := 0; i < len(raw); i++ {
			val = append(val, raw[i])
			if raw[i] == 0 {
				i++ // the 0xff after it
			}
		}
		e.val = string(val)
		return e, e.path < len(indexedColumns)
	}
	return e, false
}

// extrasBatch is how many entries extras looks up in the table at once.
const extrasBatch = 32768

// extras reads every entry and looks its row up in the table, counting
// entries of rows that are gone (stale) and entries the row does not
// hold (wrong).
func (p *postings) extras(ctx context.Context, db querier, names map[uint16]string, v *verdict) error {
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: []byte{kOdd}, UpperBound: []byte{kUUID + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	var batch []entry
	judge := func() error {
		seqs := make([]int64, 0, len(batch))
		for _, e := range batch {
			seqs = append(seqs, e.seq)
		}
		list, err := json.Marshal(seqs)
		if err != nil {
			return err
		}
		rows := map[int64]*posting{}
		err = tableRowsWhere(ctx, db, pastIndex("$1"), []any{string(list)}, func(r *posting) error {
			c := *r
			c.cols = append([]any(nil), r.cols...)
			rows[r.seq] = &c
			return nil
		})
		if err != nil {
			return err
		}
		kb := make([]byte, 0, 128)
		for _, e := range batch {
			r := rows[e.seq]
			if r == nil {
				v.stale++
				continue
			}
			typ, _ := r.cols[eventTypeCol].(string)
			ok := r.published.UnixMilli() == e.ms
			switch e.kind {
			case kUUID:
				ok = ok && r.uuid == e.val
			case kOdd:
				ok = ok && r.odd && names[e.code] == typ
			case kPosting:
				want := listPrefix(nil, e.path, e.val)
				held := false
				plain := *r
				plain.odd = false
				plain.keys(kb, func(k []byte) error {
					held = held || bytes.Equal(k, want)
					return nil
				})
				ok = ok && held && names[e.code] == typ
			}
			if !ok {
				v.wrong++
			}
		}
		batch = batch[:0]
		return nil
	}
	for it.First(); it.Valid(); it.Next() {
		e, ok := decodeEntry(it.Key(), it.Value())
		if !ok {
			if k := it.Key()[0]; k == kOdd || k == kPosting || k == kUUID {
				v.wrong++
			}
			continue
		}
		if batch = append(batch, e); len(batch) == extrasBatch {
			if err := judge(); err != nil {
				return err
			}
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return judge()
	}
	return nil
}

// describe says what v found, for a Finding.
func (v verdict) describe() string {
	s := ""
	if v.missing > 0 || v.wrong > 0 {
		s = fmt.Sprintf("%d entries missing and %d wrong, of %d entries for %d rows", v.missing, v.wrong, v.entries, v.rows)
	}
	if v.stale > 0 {
		if s != "" {
			s += "; "
		}
		s += fmt.Sprintf("%d entries name deleted rows (harmless: reads pass over them; --repair removes them)", v.stale)
	}
	return s
}
