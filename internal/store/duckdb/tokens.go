package duckdb

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/idlog/idlog/internal/event"
	"github.com/idlog/idlog/internal/filter"
)

// appendTokenHashes appends to out the hash (tokenHash) of every q token of
// the JSON text raw: every token filter.Tokens finds in the decoded event,
// and possibly more (the values of a repeated key, which the decoded event
// keeps only the last of), never fewer. The bloom filters (blooms.go) are
// built from these hashes, and a superset only costs false candidates.
// Duplicates are left in. It reads raw once, without decoding it into Go
// values: a value without escapes or non-ASCII bytes, nearly all of them, is
// lower-cased and cut into tokens in place.
func appendTokenHashes(out []uint64, raw []byte) []uint64 {
	// Both stay on the stack for all but the deepest events.
	buf := make([]byte, 0, 64)
	// Containers open around the current position: true for an object.
	stack := make([]bool, 0, 32)
	key := false // the next string is an object key
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '{':
			stack = append(stack, true)
			key = true
			i++
		case c == '[':
			stack = append(stack, false)
			key = false
			i++
		case c == '}' || c == ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			i++
		case c == ',':
			key = len(stack) > 0 && stack[len(stack)-1]
			i++
		case c == ':':
			key = false
			i++
		case c == '"':
			j, plain := i+1, true
			for j < len(raw) && raw[j] != '"' {
				if raw[j] == '\\' {
					plain = false
					j++
				} else if raw[j] >= utf8.RuneSelf {
					plain = false
				}
				j++
			}
			end := min(j+1, len(raw))
			if !key {
				if plain {
					out = appendASCIITokenHashes(out, raw[i+1:min(j, len(raw))])
				} else {
					var s string
					if json.Unmarshal(raw[i:end], &s) == nil {
						out = appendValueTokenHashes(out, []byte(strings.ToLower(s)))
					}
				}
			}
			i = end
		case c == '-' || '0' <= c && c <= '9' || c == 't' || c == 'f' || c == 'n':
			// A number (its text, lower-cased, as json.Number keeps it)
			// or a literal: true and false are one token each, null none.
			j := i
			for j < len(raw) && !isJSONDelim(raw[j]) {
				j++
			}
			switch lit := raw[i:j]; {
			case string(lit) == "true" || string(lit) == "false":
				out = append(out, tokenHash(lit))
			case string(lit) == "null":
			default:
				buf = append(buf[:0], lit...)
				for k, b := range buf {
					if b == 'E' {
						buf[k] = 'e'
					}
				}
				out = appendValueTokenHashes(out, buf)
			}
			i = max(j, i+1)
		default: // white space
			i++
		}
	}
	return out
}

// appendDocTokenHashes is appendTokenHashes of a walked event. For a plain
// text (ASCII without escapes: nearly every event) the values are taken
// from the walk's nodes, shadowed ones too, instead of scanning the text
// once more for its strings (that scan was half of the hashing's time).
func appendDocTokenHashes(out []uint64, d *event.Doc) []uint64 {
	if !d.Plain {
		return appendTokenHashes(out, d.Raw)
	}
	for i := range d.Nodes {
		n := &d.Nodes[i]
		switch n.Kind {
		case event.KindString:
			out = appendASCIITokenHashes(out, d.Raw[n.Start+1:n.End-1])
		case event.KindNumber:
			// Lower-casing a number's text only turns E into e.
			out = appendASCIITokenHashes(out, d.Raw[n.Start:n.End])
		case event.KindTrue, event.KindFalse:
			out = append(out, tokenHash(d.Raw[n.Start:n.End]))
		}
	}
	return out
}

func isJSONDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ':', ' ', '\t', '\n', '\r', '"', '{', '[':
		return true
	}
	return false
}

// appendValueTokenHashes appends the hashes of the tokens of one
// lower-cased value, cut by filter.EachValueToken as q's matching cuts them.
func appendValueTokenHashes(out []uint64, s []byte) []uint64 {
	filter.EachValueToken(s, func(tok []byte) { out = append(out, tokenHash(tok)) })
	return out
}

// appendASCIITokenHashes is appendValueTokenHashes of s lower-cased, for
// an s of ASCII bytes only (the text of nearly every value), in one pass:
// the whole value's hash, its words' and their parts' are summed up side by
// side as the bytes go by, without a copy. (Cutting the copy first and
// hashing each token again took about a tenth of an import's CPU.) The
// hashes are the same; the order differs, which the blooms do not see.
func appendASCIITokenHashes(out []uint64, s []byte) []uint64 {
	if len(s) == 0 {
		return out
	}
	const offset, prime = 14695981039346656037, 1099511628211
	whole, word, part := uint64(offset), uint64(offset), uint64(offset)
	inWord, hyphen := false, false
	start, partLen := 0, 0
	endWord := func(end int) {
		if start > 0 || end < len(s) {
			out = append(out, word) // a word that is not the whole value
		}
		if hyphen && partLen > 0 {
			out = append(out, part)
		}
	}
	for i, c := range s {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		whole = (whole ^ uint64(c)) * prime
		if !filter.IsWordASCII(c) {
			if inWord {
				endWord(i)
				inWord = false
			}
			continue
		}
		if !inWord {
			inWord, hyphen, start = true, false, i
			word, part, partLen = offset, offset, 0
		}
		word = (word ^ uint64(c)) * prime
		if c == '-' {
			if partLen > 0 {
				out = append(out, part)
			}
			hyphen, part, partLen = true, offset, 0
			continue
		}
		part = (part ^ uint64(c)) * prime
		partLen++
	}
	if inWord {
		endWord(len(s))
	}
	return append(out, whole)
}

// tokenHash is the 64-bit FNV-1a hash of a token. It is kept in the file
// (blooms.go), so it must never change for a format.
func tokenHash(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
