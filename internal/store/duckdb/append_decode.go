package duckdb

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/idlog/idlog/internal/filter"
)

// decodeEvent gives the same tree as filter.DecodeJSON (maps, slices,
// json.Number, strings, bools, nil; the last of repeated keys wins) about
// three times faster: a strict recursive parser for the common case. Text it
// does not take (anything invalid, and strings with escapes or non-ASCII
// bytes, which it hands to encoding/json one string at a time) never gets a
// different answer: on any doubt the whole text goes to filter.DecodeJSON,
// which also gives the error.
//
// text is raw as a string: plain strings of the tree are slices of it rather
// than copies. dup reports whether some object repeats a key (compared
// decoded, as dupKeys does), odd whether some key is one oddKeys reports; on
// the slow way they are those functions' answers.
func decodeEvent(raw []byte, text string) (doc any, dup, odd bool, err error) {
	d := fastDec{b: raw, s: text}
	d.ws()
	v, ok := d.value(0)
	if ok {
		d.ws()
		if d.i == len(d.b) {
			// The map saw a repeat; invalid UTF-8 can make two keys
			// decode alike where dupKeys compares the raw text.
			return v, d.dup && dupKeys(raw), d.odd, nil
		}
	}
	doc, err = filter.DecodeJSON(raw)
	if err != nil {
		return nil, false, false, err
	}
	return doc, dupKeys(raw), oddKeys(doc), nil
}

// resolveInto appends to out the values p leads to in v, as filter.Resolve
// gives them, without its allocations for the common one-value answer.
func resolveInto(v any, p filter.Path, out []any) []any {
	switch x := v.(type) {
	case nil:
		return out
	case []any:
		for _, el := range x {
			out = resolveInto(el, p, out)
		}
		return out
	}
	if len(p) == 0 {
		return append(out, v)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return out
	}
	next, ok := m[p[0]]
	if !ok {
		return out
	}
	return resolveInto(next, p[1:], out)
}

type fastDec struct {
	b   []byte
	s   string // b as a string
	i   int
	dup bool
	odd bool
}

// maxDepth keeps the recursion bounded; encoding/json allows 10,000 levels,
// deeper events go to it.
const maxDepth = 200

func (d *fastDec) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDec) value(depth int) (any, bool) {
	if d.i >= len(d.b) || depth > maxDepth {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		d.i++
		m := map[string]any{}
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == '}' {
			d.i++
			return m, true
		}
		for {
			if d.i >= len(d.b) || d.b[d.i] != '"' {
				return nil, false
			}
			k, ok := d.str()
			if !ok {
				return nil, false
			}
			if !d.odd && oddKey(k) {
				d.odd = true
			}
			d.ws()
			if d.i >= len(d.b) || d.b[d.i] != ':' {
				return nil, false
			}
			d.i++
			d.ws()
			v, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			if !d.dup {
				if _, seen := m[k]; seen {
					d.dup = true
				}
			}
			m[k] = v
			d.ws()
			if d.i >= len(d.b) {
				return nil, false
			}
			switch d.b[d.i] {
			case ',':
				d.i++
				d.ws()
			case '}':
				d.i++
				return m, true
			default:
				return nil, false
			}
		}
	case c == '[':
		d.i++
		a := []any{}
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == ']' {
			d.i++
			return a, true
		}
		for {
			d.ws()
			v, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			a = append(a, v)
			d.ws()
			if d.i >= len(d.b) {
				return nil, false
			}
			switch d.b[d.i] {
			case ',':
				d.i++
			case ']':
				d.i++
				return a, true
			default:
				return nil, false
			}
		}
	case c == '"':
		return d.str()
	case c == 't':
		return true, d.lit("true")
	case c == 'f':
		return false, d.lit("false")
	case c == 'n':
		return nil, d.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		return d.num()
	}
	return nil, false
}

func (d *fastDec) lit(s string) bool {
	if len(d.b)-d.i >= len(s) && string(d.b[d.i:d.i+len(s)]) == s {
		d.i += len(s)
		return true
	}
	return false
}

// str reads a string at d.b[d.i] == '"'.
func (d *fastDec) str() (string, bool) {
	start := d.i
	plain := true
	for j := start + 1; j < len(d.b); j++ {
		c := d.b[j]
		switch {
		case c == '"':
			d.i = j + 1
			if plain {
				return d.s[start+1 : j], true
			}
			var s string
			if json.Unmarshal(d.b[start:j+1], &s) != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			plain = false
			j++
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	return "", false
}

// num reads a number with JSON's grammar, kept as its text.
func (d *fastDec) num() (any, bool) {
	b, i := d.b, d.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	d.i = i
	return json.Number(b[start:i]), true
}
