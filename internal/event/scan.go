package event

import (
	"encoding/json"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// A small validating JSON reader over a byte slice. encoding/json would need
// a map[string]json.RawMessage per object level and a second pass per
// member; reading in place is several times faster and lets a member whose
// value does not fit its typed field be re-read as raw JSON (see codec.go).
// It accepts exactly what encoding/json accepts, which FuzzDecode checks.

// SyntaxError is input that is not JSON.
type SyntaxError struct {
	Offset int // byte offset of the problem
	Msg    string
}

func (e *SyntaxError) Error() string {
	return "invalid JSON at byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

const maxDepth = 10000 // as encoding/json

type decoder struct {
	b     []byte
	i     int
	depth int
}

func (d *decoder) fail(msg string) error { return &SyntaxError{Offset: d.i, Msg: msg} }

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (d *decoder) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > maxDepth {
		return d.fail("nested too deeply")
	}
	return nil
}

// object reads an object, calling member with each key; member must read the
// value. The caller has checked that the next byte is '{'.
func (d *decoder) object(member func(key string) error) error {
	if err := d.enter(); err != nil {
		return err
	}
	d.i++ // '{'
	if d.peek() == '}' {
		d.i++
		d.depth--
		return nil
	}
	for {
		if d.peek() != '"' {
			return d.fail("want a member name")
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		if d.peek() != ':' {
			return d.fail("want ':' after a member name")
		}
		d.i++
		d.ws()
		if err := member(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			d.depth--
			return nil
		default:
			return d.fail("want ',' or '}' in an object")
		}
	}
}

// array reads an array, calling elem for each element (which must read it).
// The caller has checked that the next byte is '['. elem may return
// errMismatch to stop early.
func (d *decoder) array(elem func() error) error {
	if err := d.enter(); err != nil {
		return err
	}
	d.i++ // '['
	if d.peek() == ']' {
		d.i++
		d.depth--
		return nil
	}
	for {
		d.ws()
		if err := elem(); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			d.depth--
			return nil
		default:
			return d.fail("want ',' or ']' in an array")
		}
	}
}

// skip reads any value and returns its bytes.
func (d *decoder) skip() ([]byte, error) {
	d.ws()
	start := d.i
	var err error
	switch d.peekByte() {
	case '{':
		err = d.object(func(string) error { _, err := d.skip(); return err })
	case '[':
		err = d.array(func() error { _, err := d.skip(); return err })
	case '"':
		_, _, err = d.strEnd()
	case 't':
		err = d.lit("true")
	case 'f':
		err = d.lit("false")
	case 'n':
		err = d.lit("null")
	default:
		_, err = d.number()
	}
	if err != nil {
		return nil, err
	}
	return d.b[start:d.i], nil
}

func (d *decoder) peekByte() byte {
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *decoder) lit(s string) error {
	if len(d.b)-d.i < len(s) || string(d.b[d.i:d.i+len(s)]) != s {
		return d.fail("want a value")
	}
	d.i += len(s)
	return nil
}

// number reads a JSON number and returns its text.
func (d *decoder) number() ([]byte, error) {
	start := d.i
	if d.peekByte() == '-' {
		d.i++
	}
	switch c := d.peekByte(); {
	case c == '0':
		d.i++
	case c >= '1' && c <= '9':
		d.digits()
	default:
		return nil, d.fail("want a value")
	}
	if d.peekByte() == '.' {
		d.i++
		if !isDigit(d.peekByte()) {
			return nil, d.fail("want a digit after '.'")
		}
		d.digits()
	}
	if c := d.peekByte(); c == 'e' || c == 'E' {
		d.i++
		if c := d.peekByte(); c == '+' || c == '-' {
			d.i++
		}
		if !isDigit(d.peekByte()) {
			return nil, d.fail("want a digit in the exponent")
		}
		d.digits()
	}
	return d.b[start:d.i], nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (d *decoder) digits() {
	for d.i < len(d.b) && isDigit(d.b[d.i]) {
		d.i++
	}
}

// strEnd reads a string and reports whether it has escapes and whether it
// is all ASCII.
func (d *decoder) strEnd() (escaped, ascii bool, err error) {
	d.i++ // '"'
	ascii = true
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return escaped, ascii, nil
		case c == '\\':
			escaped = true
			d.i++
			switch d.peekByte() {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.i++
			case 'u':
				d.i++
				for k := 0; k < 4; k++ {
					if !isHex(d.peekByte()) {
						return false, false, d.fail("want four hex digits after \\u")
					}
					d.i++
				}
			default:
				return false, false, d.fail("invalid escape in a string")
			}
		case c < 0x20:
			return false, false, d.fail("control character in a string")
		default:
			if c >= 0x80 {
				ascii = false
			}
			d.i++
		}
	}
	return false, false, d.fail("unterminated string")
}

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// str reads a string and returns its value.
func (d *decoder) str() (string, error) {
	start := d.i
	escaped, ascii, err := d.strEnd()
	if err != nil {
		return "", err
	}
	body := d.b[start+1 : d.i-1]
	if !escaped && (ascii || utf8.Valid(body)) {
		return string(body), nil
	}
	return unquote(body), nil
}

// unquote decodes a string body already checked by strEnd, the way
// encoding/json does: bad UTF-8 bytes and lone surrogates become U+FFFD.
func unquote(s []byte) string {
	b := make([]byte, 0, len(s)+8)
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			switch s[r+1] {
			case 'u':
				rr := getu4(s[r:])
				r += 6
				if utf16.IsSurrogate(rr) {
					if r+6 <= len(s) && s[r] == '\\' && s[r+1] == 'u' {
						if dec := utf16.DecodeRune(rr, getu4(s[r:])); dec != unicode.ReplacementChar {
							r += 6
							b = utf8.AppendRune(b, dec)
							break
						}
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
			default:
				b = append(b, unescape(s[r+1]))
				r += 2
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			r += size
			b = utf8.AppendRune(b, rr) // RuneError for a bad byte
		}
	}
	return string(b)
}

func unescape(c byte) byte {
	switch c {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return c // '"', '\\', '/'
}

func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	n, err := strconv.ParseUint(string(s[2:6]), 16, 32)
	if err != nil {
		return -1
	}
	return rune(n)
}

// anyValue reads any value as encoding/json would into an interface with
// UseNumber: map[string]any, []any, string, json.Number, bool or nil.
func (d *decoder) anyValue() (any, error) {
	d.ws()
	switch d.peekByte() {
	case '{':
		return d.anyObject()
	case '[':
		var a []any
		err := d.array(func() error {
			v, err := d.anyValue()
			a = append(a, v)
			return err
		})
		if a == nil && err == nil {
			a = []any{}
		}
		return a, err
	case '"':
		return d.str()
	case 't':
		return true, d.lit("true")
	case 'f':
		return false, d.lit("false")
	case 'n':
		return nil, d.lit("null")
	}
	n, err := d.number()
	return json.Number(n), err
}

func (d *decoder) anyObject() (map[string]any, error) {
	m := map[string]any{}
	err := d.object(func(k string) error {
		v, err := d.anyValue()
		m[k] = v
		return err
	})
	return m, err
}
