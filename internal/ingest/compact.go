package ingest

import (
	"fmt"
	"unicode/utf8"
)

// maxDepth bounds nesting; LogEvents nest about five deep, and the bound
// keeps a hostile "[[[[…" from costing more than an error.
const maxDepth = 512

// compactor checks one JSON value (RFC 8259, UTF-8) and writes it without
// the white space outside strings, in one pass. It does the work of
// json.Compact at several times its speed, which is most of the cost of
// ingest, and it notes where the top-level uuid, published and eventType
// values lie so they need no second walk.
//
// Bytes are copied in runs: out gets in[mark:i] only when white space is
// dropped or at the end, so a compact line is one memmove.
type compactor struct {
	in, out []byte
	i, mark int
	depth   int
	fields  [3][2]int // out offsets [start, end) of the required fields; start -1 if absent
	dupe    int       // a required field seen twice, or -1
}

// compactError is a position in the event and what is wrong there.
type compactError struct {
	col int // 1-based byte column; 0 for an event cut short
	msg string
}

func (e *compactError) Error() string {
	if e.col == 0 {
		return "invalid JSON: " + e.msg
	}
	return fmt.Sprintf("invalid JSON at column %d of the event: %s", e.col, e.msg)
}

// compact appends src's compact form to dst.
func (c *compactor) compact(dst, src []byte) ([]byte, error) {
	*c = compactor{in: src, out: dst, dupe: -1}
	for k := range c.fields {
		c.fields[k][0] = -1
	}
	if !utf8.Valid(src) {
		for i := 0; i < len(src); {
			r, n := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && n == 1 {
				return c.out, &compactError{i + 1, "the event is not valid UTF-8"}
			}
			i += n
		}
	}
	c.space()
	if err := c.value(); err != nil {
		return c.out, err
	}
	c.space()
	if c.i < len(c.in) {
		return c.out, c.errorf("unexpected %s after the end of the event", quoteByte(c.in[c.i]))
	}
	c.out = append(c.out, c.in[c.mark:]...)
	return c.out, nil
}

func (c *compactor) errorf(format string, args ...any) error {
	return &compactError{c.i + 1, fmt.Sprintf(format, args...)}
}

func (c *compactor) eof() error {
	return &compactError{0, fmt.Sprintf("the event ends early, after %d bytes", len(c.in))}
}

// pos is the out offset that in[c.i] will have.
func (c *compactor) pos() int { return len(c.out) + c.i - c.mark }

func isWS(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

func (c *compactor) space() {
	if c.i >= len(c.in) || !isWS(c.in[c.i]) {
		return
	}
	c.out = append(c.out, c.in[c.mark:c.i]...)
	for c.i < len(c.in) && isWS(c.in[c.i]) {
		c.i++
	}
	c.mark = c.i
}

func (c *compactor) value() error {
	if c.i >= len(c.in) {
		return c.eof()
	}
	switch b := c.in[c.i]; {
	case b == '{':
		return c.object()
	case b == '[':
		return c.array()
	case b == '"':
		return c.str()
	case b == '-' || b >= '0' && b <= '9':
		return c.number()
	case b == 't':
		return c.literal("true")
	case b == 'f':
		return c.literal("false")
	case b == 'n':
		return c.literal("null")
	default:
		return c.errorf("unexpected %s where a value should start", quoteByte(b))
	}
}

func (c *compactor) literal(word string) error {
	start := c.i
	for k := 0; k < len(word); k++ {
		if c.i >= len(c.in) {
			return c.eof()
		}
		if c.in[c.i] != word[k] {
			end := c.i
			for end < len(c.in) && end-start < 20 && (c.in[end] >= 'a' && c.in[end] <= 'z' || c.in[end] >= 'A' && c.in[end] <= 'Z') {
				end++
			}
			c.i = start
			return c.errorf("%q is not a JSON value", c.in[start:end])
		}
		c.i++
	}
	return nil
}

func (c *compactor) object() error {
	if c.depth++; c.depth > maxDepth {
		return c.errorf("nested deeper than %d levels", maxDepth)
	}
	top := c.depth == 1
	c.i++ // '{'
	c.space()
	if c.i < len(c.in) && c.in[c.i] == '}' {
		c.i++
		c.depth--
		return nil
	}
	for {
		if c.i >= len(c.in) {
			return c.eof()
		}
		if c.in[c.i] != '"' {
			return c.errorf("unexpected %s where a key should start", quoteByte(c.in[c.i]))
		}
		kstart := c.i
		if err := c.str(); err != nil {
			return err
		}
		slot := -1
		if top {
			key := c.in[kstart+1 : c.i-1]
			slot = fieldSlot(key, c.in[kstart:c.i])
		}
		c.space()
		if c.i >= len(c.in) {
			return c.eof()
		}
		if c.in[c.i] != ':' {
			return c.errorf("unexpected %s after a key, expected ':'", quoteByte(c.in[c.i]))
		}
		c.i++
		c.space()
		vstart := c.pos()
		if err := c.value(); err != nil {
			return err
		}
		if slot >= 0 {
			if c.fields[slot][0] >= 0 && c.dupe < 0 {
				c.dupe = slot
			}
			c.fields[slot] = [2]int{vstart, c.pos()}
		}
		c.space()
		if c.i >= len(c.in) {
			return c.eof()
		}
		switch c.in[c.i] {
		case ',':
			c.i++
			c.space()
		case '}':
			c.i++
			c.depth--
			return nil
		default:
			return c.errorf("unexpected %s in an object, expected ',' or '}'", quoteByte(c.in[c.i]))
		}
	}
}

func (c *compactor) array() error {
	if c.depth++; c.depth > maxDepth {
		return c.errorf("nested deeper than %d levels", maxDepth)
	}
	c.i++ // '['
	c.space()
	if c.i < len(c.in) && c.in[c.i] == ']' {
		c.i++
		c.depth--
		return nil
	}
	for {
		if err := c.value(); err != nil {
			return err
		}
		c.space()
		if c.i >= len(c.in) {
			return c.eof()
		}
		switch c.in[c.i] {
		case ',':
			c.i++
			c.space()
		case ']':
			c.i++
			c.depth--
			return nil
		default:
			return c.errorf("unexpected %s in an array, expected ',' or ']'", quoteByte(c.in[c.i]))
		}
	}
}

// plain marks the string bytes that need no attention.
var plain = func() (t [256]bool) {
	for b := 0x20; b < 256; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

func (c *compactor) str() error {
	c.i++ // '"'
	in := c.in
	for {
		i := c.i
		for i < len(in) && plain[in[i]] {
			i++
		}
		c.i = i
		if i >= len(in) {
			return c.eof()
		}
		switch b := in[i]; {
		case b == '"':
			c.i++
			return nil
		case b == '\\':
			if i+1 >= len(in) {
				c.i = len(in)
				return c.eof()
			}
			switch in[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				c.i = i + 2
			case 'u':
				for k := i + 2; k < i+6; k++ {
					if k >= len(in) {
						c.i = len(in)
						return c.eof()
					}
					if !isHex(in[k]) {
						c.i = k
						return c.errorf("unexpected %s in a \\u escape", quoteByte(in[k]))
					}
				}
				c.i = i + 6
			default:
				c.i = i + 1
				return c.errorf("unknown escape \\%s", string(rune(in[i+1])))
			}
		default:
			return c.errorf("control character %s in a string", quoteByte(b))
		}
	}
}

func isHex(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F'
}

func (c *compactor) digits() int {
	n := 0
	for c.i < len(c.in) && c.in[c.i] >= '0' && c.in[c.i] <= '9' {
		c.i++
		n++
	}
	return n
}

func (c *compactor) number() error {
	if c.in[c.i] == '-' {
		c.i++
	}
	if c.i >= len(c.in) {
		return c.eof()
	}
	switch {
	case c.in[c.i] == '0':
		c.i++
	case c.in[c.i] >= '1' && c.in[c.i] <= '9':
		c.digits()
	default:
		return c.errorf("unexpected %s in a number", quoteByte(c.in[c.i]))
	}
	if c.i < len(c.in) && c.in[c.i] == '.' {
		c.i++
		if c.digits() == 0 {
			return c.numberEnd()
		}
	}
	if c.i < len(c.in) && (c.in[c.i] == 'e' || c.in[c.i] == 'E') {
		c.i++
		if c.i < len(c.in) && (c.in[c.i] == '+' || c.in[c.i] == '-') {
			c.i++
		}
		if c.digits() == 0 {
			return c.numberEnd()
		}
	}
	return nil
}

func (c *compactor) numberEnd() error {
	if c.i >= len(c.in) {
		return c.eof()
	}
	return c.errorf("unexpected %s in a number, expected a digit", quoteByte(c.in[c.i]))
}

func quoteByte(b byte) string {
	if b >= 0x20 && b < 0x7f {
		return fmt.Sprintf("%q", rune(b))
	}
	return fmt.Sprintf("byte 0x%02x", b)
}
