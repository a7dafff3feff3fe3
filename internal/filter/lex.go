package filter

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// itemType identifies the kind of a lexical item.
type itemType int

const (
	itemError    itemType = iota // a lexing error; val is the message
	itemEOF                      // end of input
	itemLParen                   // (
	itemRParen                   // )
	itemLBracket                 // [ (lexed only to refuse value paths clearly)
	itemRBracket                 // ]
	itemComma                    // , (between the values of an in list)
	itemWord                     // a name or dotted path: keyword, operator or attribute path
	itemString                   // a double-quoted JSON string; val is the decoded text
	itemNumber                   // a JSON number; val is the text
)

// item is one token. pos and end are byte offsets into the source, so every
// later error can point back at what the analyst typed.
type item struct {
	typ      itemType
	pos, end Pos
	val      string
}

// stateFn is a state of the lexer: it consumes some input and returns the
// next state, or nil when lexing is over.
type stateFn func(*lexer) stateFn

type lexer struct {
	src   string
	start int // start of the current item
	pos   int // current position
	items []item
}

const eof = -1

// lex splits src into items. Lexing stops at the first error, which is then
// the last item.
func lex(src string) []item {
	l := &lexer{src: src, items: make([]item, 0, 16)}
	for state := lexSpace; state != nil; {
		state = state(l)
	}
	return l.items
}

func (l *lexer) next() rune {
	if l.pos >= len(l.src) {
		l.pos = len(l.src) + 1 // so backup after eof is harmless
		return eof
	}
	r, w := utf8.DecodeRuneInString(l.src[l.pos:])
	l.pos += w
	return r
}

func (l *lexer) peek() rune {
	if l.pos >= len(l.src) {
		return eof
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	return r
}

func (l *lexer) emit(t itemType, val string) {
	end := min(l.pos, len(l.src))
	l.items = append(l.items, item{typ: t, pos: Pos(l.start), end: Pos(end), val: val})
	l.start = end
}

// errorf emits an error item covering [from, to) and stops the lexer.
func (l *lexer) errorf(from, to int, format string, args ...any) stateFn {
	to = min(max(to, from), len(l.src))
	from = min(from, len(l.src))
	l.items = append(l.items, item{typ: itemError, pos: Pos(from), end: Pos(to), val: fmt.Sprintf(format, args...)})
	return nil
}

func isSpace(r rune) bool { return r != eof && unicode.IsSpace(r) }

func isNameStart(r rune) bool {
	return r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
}

func isNameChar(r rune) bool { return isNameStart(r) || isDigit(r) }

func isDigit(r rune) bool { return '0' <= r && r <= '9' }

// maxIndexDigits bounds an array index in a path (target.0.id): no LogEvent
// array comes near a million elements.
const maxIndexDigits = 6

// lexSpace skips whitespace (any Unicode space, since queries are often
// pasted from web pages that use no-break spaces) and dispatches on the next
// character.
func lexSpace(l *lexer) stateFn {
	last := l.pos // end of the previous token
	for isSpace(l.peek()) {
		l.next()
	}
	l.start = l.pos
	r := l.next()
	switch {
	case r == eof:
		// The end sits right after the last token, not after trailing
		// whitespace, so "missing value" carets stay on the line that
		// needs the value.
		l.start, l.pos = last, last
		l.emit(itemEOF, "")
		return nil
	case r == '(':
		l.emit(itemLParen, "(")
	case r == ')':
		l.emit(itemRParen, ")")
	case r == '[':
		l.emit(itemLBracket, "[")
	case r == ']':
		l.emit(itemRBracket, "]")
	case r == ',':
		l.emit(itemComma, ",")
	case r == '"':
		return lexString
	case r == '-' || '0' <= r && r <= '9':
		return lexNumber
	case isNameStart(r):
		return lexWord
	case r == '\u201c' || r == '\u201d' || r == '\u201e' || r == '\u2018' || r == '\u2019':
		return l.errorf(l.start, l.pos, "Unexpected character %q (a typographic quote; strings need plain double quotes \")", r)
	case r == utf8.RuneError && l.pos-l.start == 1:
		return l.errorf(l.start, l.pos, "Invalid UTF-8 byte 0x%02x", l.src[l.start])
	default:
		return l.errorf(l.start, l.pos, "Unexpected character %q", r)
	}
	return lexSpace
}

// lexWord scans a name or a dotted path: name *("." name). Dots bind names
// with no space around them; the parser decides whether the word is a
// keyword, an operator or an attribute path.
func lexWord(l *lexer) stateFn {
	for {
		for isNameChar(l.peek()) {
			l.next()
		}
		if l.peek() != '.' {
			break
		}
		dot := l.pos
		l.next()
		if isDigit(l.peek()) {
			// An array index (target.0.displayName): digits only, so that
			// "0abc" is not taken for a name.
			at := l.pos
			for isDigit(l.peek()) {
				l.next()
			}
			if isNameStart(l.peek()) || l.pos-at > maxIndexDigits || l.pos-at > 1 && l.src[at] == '0' {
				for isNameChar(l.peek()) {
					l.next()
				}
				return l.errorf(at, l.pos, "Invalid array index '%s' (an index is a number from 0 to 999999 without leading zeros; names start with a letter or _)", l.src[at:l.pos])
			}
			continue
		}
		if !isNameStart(l.peek()) {
			return l.errorf(dot, dot+1, "Missing attribute name after '.' in '%s'", l.src[l.start:dot+1])
		}
	}
	if l.peek() == '-' {
		// event_type-like typos and hyphenated names: say so here rather than
		// lexing "-x" as a bad number.
		return l.errorf(l.pos, l.pos+1, "Unexpected character '-' after '%s' (attribute names hold letters, digits and _)", l.src[l.start:l.pos])
	}
	l.emit(itemWord, l.src[l.start:l.pos])
	return lexSpace
}

// lexNumber scans a JSON number; the leading '-' or digit is consumed.
// Anything JSON refuses (01, 1., .5, -, 1e, +1) is an error here rather than
// a surprise later.
func lexNumber(l *lexer) stateFn {
	bad := func() stateFn {
		for r := l.peek(); isNameChar(r) || r == '.' || r == '-' || r == '+'; r = l.peek() {
			l.next()
		}
		return l.errorf(l.start, l.pos, "Invalid number '%s'", l.src[l.start:min(l.pos, len(l.src))])
	}
	digits := func() int {
		n := 0
		for r := l.peek(); '0' <= r && r <= '9'; r = l.peek() {
			l.next()
			n++
		}
		return n
	}
	l.pos = l.start
	if l.peek() == '-' {
		l.next()
	}
	switch r := l.peek(); {
	case r == '0':
		l.next()
		if r := l.peek(); '0' <= r && r <= '9' {
			return bad()
		}
	case '1' <= r && r <= '9':
		digits()
	default:
		return bad()
	}
	if l.peek() == '.' {
		l.next()
		if digits() == 0 {
			return bad()
		}
	}
	if r := l.peek(); r == 'e' || r == 'E' {
		l.next()
		if r := l.peek(); r == '+' || r == '-' {
			l.next()
		}
		if digits() == 0 {
			return bad()
		}
	}
	if r := l.peek(); isNameChar(r) || r == '.' || r == '-' || r == '+' || r == '"' {
		return bad()
	}
	l.emit(itemNumber, l.src[l.start:l.pos])
	return lexSpace
}

// lexString scans a JSON string; the opening quote is consumed. The item's
// value is the decoded text.
func lexString(l *lexer) stateFn {
	var b strings.Builder
	plain := l.pos // start of the current run without escapes
	for {
		at := l.pos
		r := l.next()
		switch {
		case r == eof:
			return l.errorf(l.start, len(l.src), "Unterminated string")
		case r == '"':
			b.WriteString(l.src[plain:at])
			l.emit(itemString, b.String())
			return lexSpace
		case r < 0x20:
			return l.errorf(at, l.pos, "Control character %U in string (write it as an escape such as \\n or \\u%04x)", r, r)
		case r == utf8.RuneError && l.pos-at == 1:
			return l.errorf(at, l.pos, "Invalid UTF-8 byte 0x%02x in string", l.src[at])
		case r == '\\':
			b.WriteString(l.src[plain:at])
			e := l.next()
			switch e {
			case '"', '\\', '/':
				b.WriteRune(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				u, ok := l.hex4()
				if !ok {
					// Include the character that is not a hex digit.
					_, w := utf8.DecodeRuneInString(l.src[min(l.pos, len(l.src)):])
					to := min(l.pos+w, len(l.src))
					return l.errorf(at, to, "Invalid escape '%s' in string: \\u needs four hex digits", l.src[at:to])
				}
				switch {
				case 0xD800 <= u && u < 0xDC00:
					if !strings.HasPrefix(l.src[l.pos:], `\u`) {
						return l.errorf(at, l.pos, "Invalid escape '%s' in string: a high surrogate must be followed by a \\u low surrogate", l.src[at:l.pos])
					}
					l.pos += 2
					v, ok := l.hex4()
					if !ok || v < 0xDC00 || v > 0xDFFF {
						return l.errorf(at, l.pos, "Invalid escape '%s' in string: a high surrogate must be followed by a \\u low surrogate", l.src[at:min(l.pos, len(l.src))])
					}
					b.WriteRune(0x10000 + (u-0xD800)<<10 + (v - 0xDC00))
				case 0xDC00 <= u && u <= 0xDFFF:
					return l.errorf(at, l.pos, "Invalid escape '%s' in string: a low surrogate without a high surrogate", l.src[at:l.pos])
				default:
					b.WriteRune(u)
				}
			case eof:
				return l.errorf(l.start, len(l.src), "Unterminated string")
			default:
				return l.errorf(at, min(l.pos, len(l.src)), "Invalid escape '%s' in string", l.src[at:min(l.pos, len(l.src))])
			}
			plain = l.pos
		}
	}
}

// hex4 reads four hex digits. On failure it leaves pos after what it read.
func (l *lexer) hex4() (rune, bool) {
	var v rune
	for range 4 {
		if l.pos >= len(l.src) {
			return 0, false
		}
		c := l.src[l.pos]
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			v = v<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
		l.pos++
	}
	return v, true
}
