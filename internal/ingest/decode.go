package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/idlog/idlog/internal/store"
)

// DefaultMaxEventBytes caps one event. Okta's events are a few kilobytes;
// anything near a mebibyte is a broken producer, and the cap is what keeps a
// single runaway line from taking the process's memory with it.
const DefaultMaxEventBytes = 1 << 20

// Item is one event of the input, valid or not.
type Item struct {
	// Index is the event's 0-based position among the input's events
	// (blank NDJSON lines are not events).
	Index int
	// Line is the 1-based line of an NDJSON event; 0 inside a JSON array.
	Line int
	// Offset and End delimit the event's bytes in the input. For a
	// *SyntaxError that stopped a JSON array, the rest of the input from
	// Offset on is unread and rejected with it.
	Offset, End int64
	// Event is set when Err is nil: UUID, Published and the compacted Raw.
	Event store.Event
	// Err says why the event was rejected.
	Err error
}

// SyntaxError ends the decoding of a JSON array: past a structural error there
// is no telling where the next event starts. (An NDJSON line with bad JSON is
// an ordinary rejection: the next line is still an event.)
type SyntaxError struct {
	Offset int64 // of the offending byte, or of the end of the input
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("JSON array syntax error at byte %d: %s; the rest of the input was not read", e.Offset, e.Msg)
}

// Decoder reads events from NDJSON or from one JSON array (the body of an
// Okta /api/v1/logs page), telling them apart by the first byte that is not
// white space. It reads in bounded chunks, never the whole input.
type Decoder struct {
	// MaxEventBytes caps one event; 0 means DefaultMaxEventBytes.
	MaxEventBytes int
}

// Decode reads r with the default limits and calls fn for every event in
// input order. It stops at the first error fn returns and returns it; it
// returns a read error of r, but never a rejection: rejected events reach fn
// with Item.Err set.
func Decode(r io.Reader, fn func(Item) error) error {
	return Decoder{}.Decode(r, fn)
}

// Decode is the package-level Decode with d's limits.
func (d Decoder) Decode(r io.Reader, fn func(Item) error) error {
	max := d.MaxEventBytes
	if max <= 0 {
		max = DefaultMaxEventBytes
	}
	s := &scanner{br: bufio.NewReaderSize(r, 64<<10), max: max, fn: fn}
	return s.run()
}

type scanner struct {
	br   *bufio.Reader
	max  int
	fn   func(Item) error
	off  int64 // input offset of the next unread byte
	idx  int   // index of the next event
	v    validator
	elem []byte // the current array element, at most max bytes
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// readErr turns io.EOF into nil: the end of the input is not a failure.
func readErr(err error) error {
	if err == io.EOF {
		return nil
	}
	return err
}

func (s *scanner) run() error {
	// Skip a UTF-8 byte order mark and leading white space to find the format.
	if b, err := s.br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		s.br.Discard(3)
		s.off = 3
	}
	line := 1
	for {
		c, err := s.br.ReadByte()
		if err != nil {
			return readErr(err)
		}
		if !isSpace(c) {
			s.br.UnreadByte()
			break
		}
		s.off++
		if c == '\n' {
			line++
		}
	}
	if c, _ := s.br.Peek(1); c[0] == '[' {
		return s.array()
	}
	return s.ndjson(line)
}

// ndjson reads one event per line. A line too long or not valid is rejected
// on its own; the next line is read as usual.
func (s *scanner) ndjson(line int) error {
	var long []byte // a line longer than the bufio buffer, while under the limit
	for {
		start := s.off
		chunk, err := s.br.ReadSlice('\n')
		n := len(chunk)
		body := chunk
		tooBig := false
		if err == bufio.ErrBufferFull {
			long = append(long[:0], chunk...)
			for err == bufio.ErrBufferFull {
				chunk, err = s.br.ReadSlice('\n')
				n += len(chunk)
				if !tooBig && len(long)+len(chunk) <= s.max+2 {
					long = append(long, chunk...)
				} else {
					tooBig = true
				}
			}
			body = long
		}
		if err != nil && err != io.EOF {
			return err
		}
		if n == 0 {
			return nil
		}
		s.off += int64(n)
		size := n // the line without its newline
		if err == nil {
			size--
		}
		if !tooBig {
			body = body[:size]
			if len(body) > 0 && body[len(body)-1] == '\r' {
				body = body[:len(body)-1]
			}
		}
		if tooBig || len(bytes.Trim(body, " \t\r")) > 0 {
			it := Item{Index: s.idx, Line: line, Offset: start, End: start + int64(size)}
			if tooBig || len(body) > s.max {
				it.Err = fmt.Errorf("event is %d bytes, over the %s limit", size, byteSize(s.max))
			} else {
				it.Event, it.Err = s.v.parse(body)
			}
			s.idx++
			if ferr := s.fn(it); ferr != nil {
				return ferr
			}
		}
		line++
		if err == io.EOF {
			return nil
		}
	}
}

// array reads the elements of one JSON array. It finds each element's end
// by tracking strings and nesting only; the element itself is then checked
// by the JSON parser, so a broken element is rejected alone while a broken
// array stops the decoding with a *SyntaxError.
func (s *scanner) array() error {
	s.br.ReadByte() // '['
	s.off++
	first := true
	for {
		c, ok, err := s.skipSpace()
		if err != nil {
			return err
		}
		if !ok {
			return s.stop(s.off, "unexpected end of input: the array is not closed")
		}
		if c == ']' && first {
			s.br.ReadByte()
			s.off++
			return s.trailer()
		}
		if c == ']' || c == ',' {
			return s.stop(s.off, fmt.Sprintf("expected an event, found %q", c))
		}
		first = false
		start := s.off
		size, msg, err := s.element()
		if err != nil {
			return err
		}
		if msg != "" {
			return s.stopAt(start, s.off, msg)
		}
		it := Item{Index: s.idx, Offset: start, End: s.off}
		if size > s.max {
			it.Err = fmt.Errorf("event is %d bytes, over the %s limit", size, byteSize(s.max))
		} else {
			it.Event, it.Err = s.v.parse(s.elem)
		}
		s.idx++
		if err := s.fn(it); err != nil {
			return err
		}
		c, ok, err = s.skipSpace()
		if err != nil {
			return err
		}
		switch {
		case !ok:
			return s.stop(s.off, "unexpected end of input: expected ',' or ']' after an event")
		case c == ',':
			s.br.ReadByte()
			s.off++
		case c == ']':
			s.br.ReadByte()
			s.off++
			return s.trailer()
		default:
			return s.stop(s.off, fmt.Sprintf("expected ',' or ']' after an event, found %q", c))
		}
	}
}

// trailer accepts only white space after the closing bracket.
func (s *scanner) trailer() error {
	c, ok, err := s.skipSpace()
	if err != nil || !ok {
		return err
	}
	return s.stop(s.off, fmt.Sprintf("unexpected %q after the end of the array", c))
}

// skipSpace consumes white space and peeks at the next byte; ok is false at
// the end of the input.
func (s *scanner) skipSpace() (c byte, ok bool, err error) {
	for {
		b, err := s.br.ReadByte()
		if err != nil {
			return 0, false, readErr(err)
		}
		if !isSpace(b) {
			s.br.UnreadByte()
			return b, true, nil
		}
		s.off++
	}
}

// stop reports a syntax error that ends the array, as a rejection of the
// event that would come next.
func (s *scanner) stop(at int64, msg string) error { return s.stopAt(at, at, msg) }

func (s *scanner) stopAt(start, at int64, msg string) error {
	it := Item{Index: s.idx, Offset: start, End: -1, Err: &SyntaxError{Offset: at, Msg: msg}}
	s.idx++
	return s.fn(it)
}

// element consumes one array element into s.elem (up to s.max bytes) and
// returns its full size. msg is non-empty when the element is structurally
// broken; s.off is then the offending position.
func (s *scanner) element() (size int, msg string, err error) {
	s.elem = s.elem[:0]
	var stack []byte // the closers still expected
	inStr, esc, scalar := false, false, false
	c, _ := s.br.ReadByte() // skipSpace has peeked it
	switch c {
	case '{':
		stack = append(stack, '}')
	case '[':
		stack = append(stack, ']')
	case '"':
		inStr = true
	default:
		scalar = true
	}
	s.elem = append(s.elem, c)
	size = 1
	s.off++
	for {
		buf, err := s.br.Peek(1)
		if len(buf) == 0 {
			if err != io.EOF {
				return 0, "", err
			}
			if scalar {
				return size, "", nil
			}
			return size, "unexpected end of input inside an event", nil
		}
		buf, _ = s.br.Peek(s.br.Buffered())
		i, done := 0, false
	scan:
		for ; i < len(buf); i++ {
			c := buf[i]
			switch {
			case scalar:
				if isSpace(c) || c == ',' || c == ']' {
					done = true
					break scan
				}
			case inStr:
				if !esc {
					// Most of an event is string bytes: jump to the next quote
					// or backslash with the vectorised IndexByte.
					rest := buf[i:]
					j := bytes.IndexByte(rest, '"')
					if j >= 0 {
						rest = rest[:j]
					}
					if k := bytes.IndexByte(rest, '\\'); k >= 0 {
						i += k
					} else if j >= 0 {
						i += j
					} else {
						i = len(buf)
						break scan
					}
					c = buf[i]
				}
				if esc {
					esc = false
				} else if c == '\\' {
					esc = true
				} else if c == '"' {
					inStr = false
					if len(stack) == 0 {
						i++
						done = true
						break scan
					}
				}
			case c == '"':
				inStr = true
			case c == '{':
				stack = append(stack, '}')
			case c == '[':
				stack = append(stack, ']')
			case c == '}' || c == ']':
				if want := stack[len(stack)-1]; c != want {
					s.take(buf[:i], size)
					s.off += int64(i)
					s.br.Discard(i)
					return size + i, fmt.Sprintf("%q does not close %q", c, opener(want)), nil
				}
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					i++
					done = true
					break scan
				}
			}
		}
		s.take(buf[:i], size)
		size += i
		s.off += int64(i)
		s.br.Discard(i)
		if done {
			return size, "", nil
		}
	}
}

// take keeps the element's bytes while they fit under the limit.
func (s *scanner) take(b []byte, size int) {
	if size+len(b) <= s.max {
		s.elem = append(s.elem, b...)
	}
}

func opener(closer byte) byte {
	if closer == '}' {
		return '{'
	}
	return '['
}

func byteSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d-byte", n)
}

// IsSyntaxError reports whether err stopped the decoding of a JSON array.
func IsSyntaxError(err error) bool {
	var se *SyntaxError
	return errors.As(err, &se)
}
