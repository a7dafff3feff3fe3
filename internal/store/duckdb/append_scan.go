package duckdb

import (
	"bytes"
	"encoding/json"
	"strings"
)

// A small scanner over JSON text that filter.DecodeJSON has already
// validated: the write path only needs where values start and end, and
// encoding/json's Decoder (Token, RawMessage) spent most of the append CPU
// finding that out again. Each function returns -1 on text it does not
// expect, and the callers then keep the event whole, as before.

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '"':
			return j + 1
		case '\\':
			j++
		}
	}
	return -1
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = skipString(b, j)
				if j < 0 {
					return -1
				}
				j--
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default:
		j := i
		for j < len(b) {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				if j == i {
					return -1
				}
				return j
			}
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}

// objectMembers calls fn with each key (decoded) and value text (exact
// bytes) of the object b, stopping when fn returns false. It reports false
// for text that is not an object or when fn stopped it.
//
// The key is valid only during the call (it may be a slice of b).
func objectMembers(b []byte, fn func(key []byte, val []byte) bool) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return true
	}
	for i < len(b) {
		if b[i] != '"' {
			return false
		}
		end := skipString(b, i)
		if end < 0 {
			return false
		}
		key, ok := jsonKey(b[i:end])
		if !ok {
			return false
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		vend := skipValue(b, i)
		if vend < 0 {
			return false
		}
		if !fn(key, b[i:vend]) {
			return false
		}
		i = skipSpace(b, vend)
		if i >= len(b) {
			return false
		}
		if b[i] == '}' {
			return true
		}
		if b[i] != ',' {
			return false
		}
		i = skipSpace(b, i+1)
	}
	return false
}

// jsonKey decodes a quoted key; keys without escapes are the common case,
// and come back as a slice of q.
func jsonKey(q []byte) ([]byte, bool) {
	for _, c := range q[1 : len(q)-1] {
		if c == '\\' || c >= 0x80 {
			var s string
			err := json.Unmarshal(q, &s)
			return []byte(s), err == nil
		}
	}
	return q[1 : len(q)-1], true
}

// substText replaces, in a member's text, each string "val" of vals (one per
// sub, skipped unless plainValue) by the sub's marker, and reports whether it
// replaced any. It gives what replacing each in turn with strings.ReplaceAll
// gives, in one pass over the string tokens: in a text without an escaped
// quote, a quoted run holding neither ':' nor ',' can only be a whole string
// token (between two tokens JSON puts a ':' or ','). Other texts take the
// ReplaceAll way.
func substText(v string, subs []subst, vals []string) (string, bool) {
	tokenwise := !strings.Contains(v, `\"`)
	any := false
	for n, val := range vals {
		if !plainValue(val) {
			vals[n] = ""
			continue
		}
		any = true
		if strings.ContainsAny(val, ":,") {
			tokenwise = false
		}
	}
	if !any {
		return v, false
	}
	if !tokenwise {
		text := v
		for n, s := range subs {
			if vals[n] != "" {
				text = strings.ReplaceAll(text, `"`+vals[n]+`"`, s.marker)
			}
		}
		return text, text != v
	}
	var out []byte
	last := 0 // v[:last] is in out already
	for i := 0; i < len(v); {
		q := strings.IndexByte(v[i:], '"')
		if q < 0 {
			break
		}
		open := i + q
		e := strings.IndexByte(v[open+1:], '"')
		if e < 0 {
			break
		}
		end := open + 1 + e // the closing quote
		tok := v[open+1 : end]
		for n, val := range vals {
			if val != "" && val == tok {
				if out == nil {
					out = make([]byte, 0, len(v))
				}
				out = append(out, v[last:open]...)
				out = append(out, subs[n].marker...)
				last = end + 1
				break
			}
		}
		i = end + 1
	}
	if out == nil {
		return v, false
	}
	out = append(out, v[last:]...)
	return string(out), true
}

// idIs is the quick yes of substTargets' test that a target element's id is
// id: one key spelled exactly "id", no other key that encoding/json could
// take for it (any case, any non-ASCII key), and the value id in quotes.
// False means "ask encoding/json", not no.
func idIs(el, id string) bool {
	if !plainValue(id) {
		return false
	}
	n := 0
	ok := objectMembers([]byte(el), func(k []byte, v []byte) bool {
		if string(k) == "id" {
			n++
			return len(v) == len(id)+2 && string(v[1:len(v)-1]) == id && v[0] == '"'
		}
		for i := 0; i < len(k); i++ {
			if k[i] >= 0x80 {
				return false
			}
		}
		return !bytes.EqualFold(k, []byte("id"))
	})
	return ok && n == 1
}
