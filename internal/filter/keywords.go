package filter

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the q parameter, as Okta sets them.
const (
	MaxKeywords   = 10
	MaxKeywordLen = 40 // characters (runes), before URL encoding
)

// ParseKeywords splits q at whitespace into lower-cased keywords. An empty q
// gives no keywords. Errors are *Error with Code E0000001, positioned at the
// offending keyword.
func ParseKeywords(q string) ([]string, error) {
	var kws []string
	n := 0
	for i := 0; i < len(q); {
		r, w := utf8.DecodeRuneInString(q[i:])
		if unicode.IsSpace(r) {
			i += w
			continue
		}
		start := i
		for i < len(q) {
			r, w := utf8.DecodeRuneInString(q[i:])
			if unicode.IsSpace(r) {
				break
			}
			i += w
		}
		kw := q[start:i]
		n++
		if n > MaxKeywords {
			return nil, &Error{Src: q, Pos: Pos(start), End: Pos(i), Code: CodeValidation, summary: true,
				Msg: fmt.Sprintf("Api validation failed: 'q': Freeform search cannot contain more than %d items", MaxKeywords)}
		}
		if utf8.RuneCountInString(kw) > MaxKeywordLen {
			return nil, &Error{Src: q, Pos: Pos(start), End: Pos(i), Code: CodeValidation, summary: true,
				Msg: fmt.Sprintf("Api validation failed: 'q': Freeform search cannot contain items longer than %d characters", MaxKeywordLen)}
		}
		kws = append(kws, strings.ToLower(kw))
	}
	return kws, nil
}

// Tokens returns the search tokens of an event (as from DecodeJSON), sorted
// and without duplicates. It is the one definition of what q matches:
// backends that index tokens call it at ingest. From every string, number
// (its JSON text) and boolean at any depth (object keys excluded), lower-cased:
// the whole value; its words, split at every character that is not a letter,
// a digit or one of . @ _ - :; and the parts of each word split at '-'.
func Tokens(doc any) []string {
	// A slice sorted and compacted once is cheaper than a map here: an
	// event has a few hundred tokens with few duplicates.
	out := make([]string, 0, 256)
	out = appendTokens(out, doc)
	slices.Sort(out)
	return slices.Compact(out)
}

// MatchKeywords reports whether every keyword, lower-cased, is a token of
// doc. No keywords match every event.
func MatchKeywords(kw []string, doc any) bool {
	if len(kw) == 0 {
		return true
	}
	toks := Tokens(doc)
	for _, k := range kw {
		if _, ok := slices.BinarySearch(toks, strings.ToLower(k)); !ok {
			return false
		}
	}
	return true
}

func appendTokens(out []string, v any) []string {
	switch x := v.(type) {
	case map[string]any:
		for _, el := range x {
			out = appendTokens(out, el)
		}
	case []any:
		for _, el := range x {
			out = appendTokens(out, el)
		}
	case string:
		out = appendValueTokens(out, strings.ToLower(x))
	case json.Number:
		out = appendValueTokens(out, strings.ToLower(string(x)))
	case float64:
		out = appendValueTokens(out, strconv.FormatFloat(x, 'g', -1, 64))
	case bool:
		out = append(out, strconv.FormatBool(x))
	}
	return out
}

// appendValueTokens appends the tokens of one lower-cased value.
func appendValueTokens(out []string, s string) []string {
	EachValueToken(s, func(tok string) { out = append(out, tok) })
	return out
}

// EachValueToken calls fn with each token of one lower-cased value, in
// order: the whole value, then each word (a run of letters, digits and
// . @ _ - :) that is not the whole value, then the parts of a word with a
// '-' in it, cut at each '-'. A token may come more than once. It is the
// one cutter of tokens: q's matching here and the embedded store's bloom
// filters (which hash what it hands over) must cut the same tokens.
func EachValueToken[T ~string | ~[]byte](s T, fn func(T)) {
	if len(s) == 0 {
		return
	}
	fn(s)
	for i := 0; i < len(s); {
		// Skip separators.
		for i < len(s) {
			w, ok := wordChar(s, i)
			if ok {
				break
			}
			i += w
		}
		start := i
		hyphen := false
		for i < len(s) {
			w, ok := wordChar(s, i)
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
			fn(word) // else it is the whole value, already handed over
		}
		if hyphen {
			p := 0
			for k := 0; k <= len(word); k++ {
				if k == len(word) || word[k] == '-' {
					if k > p {
						fn(word[p:k])
					}
					p = k + 1
				}
			}
		}
	}
}

// asciiWord marks the ASCII characters that belong to words.
var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		t[c] = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' ||
			c == '.' || c == '@' || c == '_' || c == '-' || c == ':'
	}
	return t
}()

// wordChar reports the width of the character at s[i] and whether it
// belongs to a word.
func wordChar[T ~string | ~[]byte](s T, i int) (int, bool) {
	if c := s[i]; c < utf8.RuneSelf {
		return 1, asciiWord[c]
	}
	// At most UTFMax bytes converted: a small copy on the stack for []byte.
	r, w := utf8.DecodeRuneInString(string(s[i:min(len(s), i+utf8.UTFMax)]))
	return w, unicode.IsLetter(r) || unicode.IsDigit(r)
}

// IsWordASCII reports whether the ASCII byte c belongs to a word.
func IsWordASCII(c byte) bool { return c < utf8.RuneSelf && asciiWord[c] }
