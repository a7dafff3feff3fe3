package duckdb

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
)

// keywordTexts are the texts that together hold every value of an event, as
// allTextSQL lists them: the member texts as stored (markers and all), the
// kept whole event, and the typed values the markers stand for.
var keywordTexts = func() []string {
	parts := []string{"rest", "uuid", "strftime(published, '%Y-%m-%dT%H:%M:%S.%gZ')", "array_to_string(m_target_items, ',')", "array_to_string(target_ids, ',')"}
	for _, c := range columns {
		if substituted[c.name] {
			parts = append(parts, c.name)
		}
	}
	for _, m := range members {
		parts = append(parts, memberColumn(m))
	}
	return parts
}()

// keywordSQL is the q prefilter for one lower-cased keyword without bytes
// above 0x7f or backslashes (plainText): a superset of the events having
// the keyword as a token.
//
// A token is a piece of a value lower-cased by strings.ToLower, and a value
// lies whole inside one of keywordTexts, so "some text, lower-cased, contains
// the keyword" holds for every match whose values appear verbatim in the
// texts and whose lower-casing maps ASCII only from ASCII. Events that are
// not plain (kwplain false) are candidates only when that can fail: when the
// text has a backslash (a JSON escape) or a rune that strings.ToLower maps
// into ASCII (the Kelvin sign, the dotted capital I). Other non-ASCII runes
// lower to non-ASCII, so an ASCII keyword inside a lowered value is made of
// ASCII bytes of the value, and DuckDB's lower agrees with Go's on those.
//
// Testing each text on its own spares building one long string per row.
func keywordSQL(c *compiler, kw string) string {
	p := c.arg(kw)
	ors := make([]string, len(keywordTexts))
	for i, t := range keywordTexts {
		ors[i] = "coalesce(contains(lower(" + t + "), " + p + "), FALSE)"
	}
	return "((NOT kwplain AND regexp_matches(" + unsafeTextSQL + ", '" + unsafeRunesClass() + "')) OR " + strings.Join(ors, " OR ") + ")"
}

// unsafeTextSQL is the text in which keywordSQL looks for escapes: every
// text but with the markers taken out of the members (a marker is written
// as a \u0001 escape, and a member text never holds that escape otherwise:
// such an event is kept whole in rest, which is also looked at unchanged).
var unsafeTextSQL = "concat_ws(',', rest, replace(" + allTextSQL + ", '\\u0001', ''))"

// unsafeRunesClass is a regular expression class (RE2 syntax, ASCII text)
// of a backslash and every non-ASCII rune that strings.ToLower maps to ASCII.
var unsafeRunesClass = sync.OnceValue(func() string {
	var b strings.Builder
	b.WriteString(`[\\`)
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if unicode.ToLower(r) < 0x80 {
			fmt.Fprintf(&b, `\x{%X}`, r)
		}
	}
	b.WriteString("]")
	return b.String()
})
