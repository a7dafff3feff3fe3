package duckdb

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
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
	var buf []byte
	// Containers open around the current position: true for an object.
	var stack []bool
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
					buf = append(buf[:0], raw[i+1:min(j, len(raw))]...)
					for k, b := range buf {
						if 'A' <= b && b <= 'Z' {
							buf[k] = b + 'a' - 'A'
						}
					}
					out = appendValueTokenHashes(out, buf)
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

func isJSONDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ':', ' ', '\t', '\n', '\r', '"', '{', '[':
		return true
	}
	return false
}

// appendValueTokenHashes appends the hashes of the tokens of one
// lower-cased value, as filter's appendValueTokens cuts them: the whole
// value, its words (runs of letters, digits and . @ _ - :), and the parts
// of each word at '-'.
func appendValueTokenHashes(out []uint64, s []byte) []uint64 {
	if len(s) == 0 {
		return out
	}
	out = append(out, tokenHash(s))
	for i := 0; i < len(s); {
		for i < len(s) {
			w, ok := wordByte(s, i)
			if ok {
				break
			}
			i += w
		}
		start := i
		hyphen := false
		for i < len(s) {
			w, ok := wordByte(s, i)
			if !ok {
				break
			}
			hyphen = hyphen || s[i] == '-'
			i += w
		}
		if start == i {
			continue
		}
		word := s[start:i]
		if start > 0 || i < len(s) {
			out = append(out, tokenHash(word))
		}
		if hyphen {
			p := 0
			for k := 0; k <= len(word); k++ {
				if k == len(word) || word[k] == '-' {
					if k > p {
						out = append(out, tokenHash(word[p:k]))
					}
					p = k + 1
				}
			}
		}
	}
	return out
}

// wordASCII marks the ASCII bytes that belong to words.
var wordASCII = func() (t [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		t[c] = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' ||
			c == '.' || c == '@' || c == '_' || c == '-' || c == ':'
	}
	return t
}()

// wordByte reports the width of the character at s[i] and whether it
// belongs to a word.
func wordByte(s []byte, i int) (int, bool) {
	if c := s[i]; c < utf8.RuneSelf {
		return 1, wordASCII[c]
	}
	r, w := utf8.DecodeRune(s[i:])
	return w, unicode.IsLetter(r) || unicode.IsDigit(r)
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
