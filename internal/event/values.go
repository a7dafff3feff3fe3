package event

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Reading values out of a walked document the way encoding/json decodes
// them: Decode and the typed model's codec (codec.go) read from the nodes
// that Walk made, not from the text.

// SyntaxError is input that is not JSON, as Decode reports it.
type SyntaxError struct {
	Offset int // byte offset of the problem
	Msg    string
}

func (e *SyntaxError) Error() string {
	return "invalid JSON at byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// syntaxError turns a walk's error over n bytes into a *SyntaxError.
func syntaxError(err error, n int) error {
	var we *WalkError
	if !errors.As(err, &we) {
		return err
	}
	off := we.Col - 1
	if we.Col == 0 {
		off = n
	}
	return &SyntaxError{Offset: off, Msg: we.Msg}
}

// validNumber reports whether s is exactly one JSON number.
func validNumber(s string) bool {
	if s == "" || s[0] != '-' && (s[0] < '0' || s[0] > '9') {
		return false
	}
	w := walker{in: []byte(s)}
	return w.number() == nil && w.i == len(s)
}

// anyValue is node i as encoding/json decodes it into an interface with
// UseNumber: map[string]any (the last of repeated keys), []any, string,
// json.Number, bool or nil. Nothing aliases Raw.
func (d *Doc) anyValue(i int) any {
	n := &d.Nodes[i]
	switch n.Kind {
	case KindObject:
		m := map[string]any{}
		for c, end := i+1, int(n.Next); c < end; c = int(d.Nodes[c].Next) {
			m[d.Key(c)] = d.anyValue(c)
		}
		return m
	case KindArray:
		a := []any{}
		for c, end := i+1, int(n.Next); c < end; c = int(d.Nodes[c].Next) {
			a = append(a, d.anyValue(c))
		}
		return a
	case KindString:
		return d.Str(i)
	case KindNumber:
		return json.Number(d.Text()[n.Start:n.End])
	case KindTrue:
		return true
	case KindFalse:
		return false
	}
	return nil
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
