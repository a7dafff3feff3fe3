package event

import (
	"fmt"
	"unicode/utf8"
)

// The walker is the one reader of a LogEvent's bytes on the write path. One
// pass checks the text (RFC 8259: exactly what encoding/json accepts),
// optionally writes it without the white space outside strings (what
// json.Compact does), and records every value as a Node: where its text and
// its key lie, what kind it is, where its subtree ends. Ingest walks each
// event once and hands the Doc down with the event; the stores read the
// uuid, the typed columns, the member layout and the target elements from
// the nodes, never parsing the text again.

// Kind is the kind of a JSON value.
type Kind uint8

// The kinds of JSON values.
const (
	KindObject Kind = iota + 1
	KindArray
	KindString
	KindNumber
	KindTrue
	KindFalse
	KindNull
)

// Node flags.
const (
	// FlagDecode: the string value has escapes or bytes that are not
	// valid UTF-8, so its value is not its text between the quotes.
	FlagDecode uint8 = 1 << iota
	// FlagKeyDecode: the same for the member's key.
	FlagKeyDecode
	// FlagShadowed: a later member of the same object has the same key
	// (decoded). encoding/json, and every tree built from it, keeps the
	// last, so readers with tree semantics skip shadowed members.
	FlagShadowed
)

// Node is one value of a walked document, in document order: an object's
// members and an array's elements follow it, up to Next.
type Node struct {
	Start, End int32 // the value's text, Doc.Raw[Start:End]
	// KeyStart and KeyEnd delimit a member's quoted key in Doc.Raw; both
	// are 0 for a value that is not an object member.
	KeyStart, KeyEnd int32
	Next             int32 // index of the first node after this value's subtree
	Kind             Kind
	Flags            uint8
}

// Doc is a walked JSON value.
type Doc struct {
	// Raw is the text the node offsets refer to: the compact copy that
	// Compactor wrote, or the input of Walk.
	Raw   []byte
	Nodes []Node // Nodes[0] is the root
	// Dup: some object repeats a key. Keys are compared as written unless
	// one has an escape, in which case decoded.
	Dup bool
	// Plain: the text is ASCII without a backslash, so every string's
	// value is its text between quotes and ASCII lower-casing agrees with
	// strings.ToLower.
	Plain bool
	text  string
}

// WalkError is text that is not JSON, or not the JSON asked for.
type WalkError struct {
	Col int // 1-based byte column in the input; 0 for input cut short
	Msg string
}

func (e *WalkError) Error() string {
	if e.Col == 0 {
		return "invalid JSON: " + e.Msg
	}
	return fmt.Sprintf("invalid JSON at column %d of the event: %s", e.Col, e.Msg)
}

// MaxDepthJSON is encoding/json's nesting limit, which Walk keeps.
const MaxDepthJSON = 10000

// Walk checks src as one JSON value with encoding/json's grammar and limits
// (strings may hold bytes that are not UTF-8; they decode to U+FFFD) and
// returns its nodes. The Doc's Raw is src itself, not a copy.
func Walk(src []byte) (*Doc, error) {
	w := walker{in: src, maxDepth: MaxDepthJSON, nodes: make([]Node, 0, 32+len(src)/16)}
	if err := w.run(); err != nil {
		return nil, err
	}
	return &Doc{Raw: src, Nodes: w.nodes, Dup: w.dup, Plain: w.plain}, nil
}

// Compactor walks events into compact copies, reusing its buffers from
// event to event.
type Compactor struct {
	w     walker
	nodes []Node
}

// Compact checks src as one JSON value in valid UTF-8, nested at most
// maxDepth deep, and appends its compact form to dst. The nodes refer to
// out[len(dst):] and are valid until the next call; Keep copies them.
func (c *Compactor) Compact(dst, src []byte, maxDepth int) (out []byte, nodes []Node, dup, plain bool, err error) {
	out, nodes, dup, plain, err = c.CompactTo(dst, c.nodes[:0], src, maxDepth)
	if cap(nodes) > cap(c.nodes) {
		c.nodes = nodes[:0]
	}
	return out, nodes, dup, plain, err
}

// CompactTo is Compact with the nodes appended to nodes, which must be
// empty: a caller carving events out of slabs passes the slab's spare
// capacity, so the nodes need no copy. (A compact event has at most
// len(src)/2+1 nodes.)
func (c *Compactor) CompactTo(dst []byte, nodes []Node, src []byte, maxDepth int) (out []byte, nodesOut []Node, dup, plain bool, err error) {
	w := &c.w
	*w = walker{in: src, out: dst, base: len(dst), compact: true, strict: true, maxDepth: maxDepth,
		nodes: nodes[:0], keys: w.keys[:0]}
	if !utf8.Valid(src) {
		for i := 0; i < len(src); {
			r, n := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && n == 1 {
				return w.out, nil, false, false, &WalkError{i + 1, "the event is not valid UTF-8"}
			}
			i += n
		}
	}
	err = w.run()
	return w.out, w.nodes, w.dup, w.plain, err
}

type walker struct {
	in, out  []byte
	base     int // len(out) when the walk began
	i, mark  int
	compact  bool // write out; otherwise offsets are in's
	strict   bool // in is known to be valid UTF-8
	depth    int
	maxDepth int
	nodes    []Node
	keys     []keyRef // members of the objects being walked
	dup      bool
	plain    bool
	nonPlain bool
}

func (w *walker) run() error {
	w.space()
	if err := w.value(); err != nil {
		return err
	}
	w.space()
	if w.i < len(w.in) {
		return w.errorf("unexpected %s after the end of the event", quoteByte(w.in[w.i]))
	}
	if w.compact {
		w.out = append(w.out, w.in[w.mark:]...)
	}
	w.plain = !w.nonPlain
	return nil
}

func (w *walker) errorf(format string, args ...any) error {
	return &WalkError{w.i + 1, fmt.Sprintf(format, args...)}
}

func (w *walker) eof() error {
	return &WalkError{0, fmt.Sprintf("the event ends early, after %d bytes", len(w.in))}
}

// pos is the offset in the walked text (out past base, or in) that in[w.i]
// has.
func (w *walker) pos() int32 {
	if w.compact {
		return int32(len(w.out) - w.base + w.i - w.mark)
	}
	return int32(w.i)
}

func isWS(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// space skips white space; a compacting walk copies the run before it to
// out, so a compact event is one memmove.
func (w *walker) space() {
	if w.i >= len(w.in) || !isWS(w.in[w.i]) {
		return
	}
	if w.compact {
		w.out = append(w.out, w.in[w.mark:w.i]...)
	}
	for w.i < len(w.in) && isWS(w.in[w.i]) {
		w.i++
	}
	w.mark = w.i
}

func (w *walker) value() error {
	if w.i >= len(w.in) {
		return w.eof()
	}
	n := len(w.nodes)
	w.nodes = append(w.nodes, Node{Start: w.pos()})
	var err error
	var k Kind
	switch b := w.in[w.i]; {
	case b == '{':
		k, err = KindObject, w.object()
	case b == '[':
		k, err = KindArray, w.array()
	case b == '"':
		k = KindString
		var decode bool
		decode, err = w.str()
		if decode {
			w.nodes[n].Flags |= FlagDecode
		}
	case b == '-' || b >= '0' && b <= '9':
		k, err = KindNumber, w.number()
	case b == 't':
		k, err = KindTrue, w.literal("true")
	case b == 'f':
		k, err = KindFalse, w.literal("false")
	case b == 'n':
		k, err = KindNull, w.literal("null")
	default:
		return w.errorf("unexpected %s where a value should start", quoteByte(b))
	}
	if err != nil {
		return err
	}
	nd := &w.nodes[n]
	nd.Kind, nd.End, nd.Next = k, w.pos(), int32(len(w.nodes))
	return nil
}

func (w *walker) literal(word string) error {
	start := w.i
	for k := 0; k < len(word); k++ {
		if w.i >= len(w.in) {
			return w.eof()
		}
		if w.in[w.i] != word[k] {
			end := w.i
			for end < len(w.in) && end-start < 20 && (w.in[end] >= 'a' && w.in[end] <= 'z' || w.in[end] >= 'A' && w.in[end] <= 'Z') {
				end++
			}
			w.i = start
			return w.errorf("%q is not a JSON value", w.in[start:end])
		}
		w.i++
	}
	return nil
}

func (w *walker) object() error {
	if w.depth++; w.depth > w.maxDepth {
		return w.errorf("nested deeper than %d levels", w.maxDepth)
	}
	w.i++ // '{'
	w.space()
	if w.i < len(w.in) && w.in[w.i] == '}' {
		w.i++
		w.depth--
		return nil
	}
	keys0 := len(w.keys)
	for {
		if w.i >= len(w.in) {
			return w.eof()
		}
		if w.in[w.i] != '"' {
			return w.errorf("unexpected %s where a key should start", quoteByte(w.in[w.i]))
		}
		kstart, kin := w.pos(), w.i
		kdecode, err := w.str()
		if err != nil {
			return err
		}
		kend, kinEnd := w.pos(), w.i
		w.space()
		if w.i >= len(w.in) {
			return w.eof()
		}
		if w.in[w.i] != ':' {
			return w.errorf("unexpected %s after a key, expected ':'", quoteByte(w.in[w.i]))
		}
		w.i++
		w.space()
		n := len(w.nodes)
		if err := w.value(); err != nil {
			return err
		}
		nd := &w.nodes[n]
		nd.KeyStart, nd.KeyEnd = kstart, kend
		if kdecode {
			nd.Flags |= FlagKeyDecode
		}
		w.keys = append(w.keys, keyRef{int32(n), int32(kin + 1), int32(kinEnd - 1)})
		w.space()
		if w.i >= len(w.in) {
			return w.eof()
		}
		switch w.in[w.i] {
		case ',':
			w.i++
			w.space()
		case '}':
			w.i++
			w.depth--
			w.repeats(w.keys[keys0:])
			w.keys = w.keys[:keys0]
			return nil
		default:
			return w.errorf("unexpected %s in an object, expected ',' or '}'", quoteByte(w.in[w.i]))
		}
	}
}

// keyRef is a member being walked: its node and its key's text between the
// quotes in the input (a key holds no white space, so the input's bytes
// are the output's).
type keyRef struct{ node, start, end int32 }

// repeats marks the shadowed members of one object and notes a repeated key
// in w.dup.
func (w *walker) repeats(mem []keyRef) {
	if len(mem) < 2 {
		return
	}
	if len(mem) > 32 {
		// Pairwise is quadratic: a hostile object of many keys gets maps.
		seen := make(map[string]struct{}, len(mem))
		written := make(map[string]struct{}, len(mem))
		for a := len(mem) - 1; a >= 0; a-- {
			k := w.in[mem[a].start:mem[a].end]
			d := string(k)
			if w.nodes[mem[a].node].Flags&FlagKeyDecode != 0 {
				d = unquote(k)
			}
			if _, ok := seen[d]; ok {
				w.nodes[mem[a].node].Flags |= FlagShadowed
			}
			seen[d] = struct{}{}
			dk := dupKey(k)
			if _, ok := written[dk]; ok {
				w.dup = true
			}
			written[dk] = struct{}{}
		}
		return
	}
	for a := len(mem) - 2; a >= 0; a-- {
		na := &w.nodes[mem[a].node]
		ka := w.in[mem[a].start:mem[a].end]
		for b := a + 1; b < len(mem); b++ {
			kb := w.in[mem[b].start:mem[b].end]
			if (na.Flags|w.nodes[mem[b].node].Flags)&FlagKeyDecode == 0 {
				if string(ka) == string(kb) {
					na.Flags |= FlagShadowed
					w.dup = true
					break
				}
				continue
			}
			// An escape or a byte that is not UTF-8: the keys are the same
			// to encoding/json's map when they decode alike. Dup compares
			// keys as written unless escaped, as the stores always have
			// (bad UTF-8 alone does not make two keys the same).
			if na.Flags&FlagShadowed == 0 && unquote(ka) == unquote(kb) {
				na.Flags |= FlagShadowed
			}
			if !w.dup && dupKey(ka) == dupKey(kb) {
				w.dup = true
			}
			if na.Flags&FlagShadowed != 0 && w.dup {
				break
			}
		}
	}
}

// dupKey is a key as Dup compares it: decoded when it has an escape.
func dupKey(k []byte) string {
	if hasBackslash(k) {
		return unquote(k)
	}
	return string(k)
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

func (w *walker) array() error {
	if w.depth++; w.depth > w.maxDepth {
		return w.errorf("nested deeper than %d levels", w.maxDepth)
	}
	w.i++ // '['
	w.space()
	if w.i < len(w.in) && w.in[w.i] == ']' {
		w.i++
		w.depth--
		return nil
	}
	for {
		if err := w.value(); err != nil {
			return err
		}
		w.space()
		if w.i >= len(w.in) {
			return w.eof()
		}
		switch w.in[w.i] {
		case ',':
			w.i++
			w.space()
		case ']':
			w.i++
			w.depth--
			return nil
		default:
			return w.errorf("unexpected %s in an array, expected ',' or ']'", quoteByte(w.in[w.i]))
		}
	}
}

// plainByte marks the string bytes that need no attention: not a quote, a
// backslash, a control character or a byte past ASCII.
var plainByte = func() (t [256]bool) {
	for b := 0x20; b < 0x80; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// str reads a string; decode reports that its value differs from its text
// between the quotes (an escape, or bytes that are not UTF-8).
func (w *walker) str() (decode bool, err error) {
	start := w.i
	w.i++ // '"'
	in := w.in
	nonASCII := false
	for {
		i := w.i
		for i < len(in) && plainByte[in[i]] {
			i++
		}
		w.i = i
		if i >= len(in) {
			return false, w.eof()
		}
		switch b := in[i]; {
		case b == '"':
			w.i++
			if nonASCII {
				w.nonPlain = true
				if !decode && !w.strict && !utf8.Valid(in[start+1:i]) {
					decode = true
				}
			}
			return decode, nil
		case b >= 0x80:
			nonASCII = true
			w.i++
		case b == '\\':
			decode = true
			w.nonPlain = true
			if i+1 >= len(in) {
				w.i = len(in)
				return false, w.eof()
			}
			switch in[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				w.i = i + 2
			case 'u':
				for k := i + 2; k < i+6; k++ {
					if k >= len(in) {
						w.i = len(in)
						return false, w.eof()
					}
					if !isHex(in[k]) {
						w.i = k
						return false, w.errorf("unexpected %s in a \\u escape", quoteByte(in[k]))
					}
				}
				w.i = i + 6
			default:
				w.i = i + 1
				return false, w.errorf("unknown escape \\%s", string(rune(in[i+1])))
			}
		default:
			return false, w.errorf("control character %s in a string", quoteByte(b))
		}
	}
}

func (w *walker) digits() int {
	n := 0
	for w.i < len(w.in) && w.in[w.i] >= '0' && w.in[w.i] <= '9' {
		w.i++
		n++
	}
	return n
}

func (w *walker) number() error {
	if w.in[w.i] == '-' {
		w.i++
	}
	if w.i >= len(w.in) {
		return w.eof()
	}
	switch {
	case w.in[w.i] == '0':
		w.i++
	case w.in[w.i] >= '1' && w.in[w.i] <= '9':
		w.digits()
	default:
		return w.errorf("unexpected %s in a number", quoteByte(w.in[w.i]))
	}
	if w.i < len(w.in) && w.in[w.i] == '.' {
		w.i++
		if w.digits() == 0 {
			return w.numberEnd()
		}
	}
	if w.i < len(w.in) && (w.in[w.i] == 'e' || w.in[w.i] == 'E') {
		w.i++
		if w.i < len(w.in) && (w.in[w.i] == '+' || w.in[w.i] == '-') {
			w.i++
		}
		if w.digits() == 0 {
			return w.numberEnd()
		}
	}
	return nil
}

func (w *walker) numberEnd() error {
	if w.i >= len(w.in) {
		return w.eof()
	}
	return w.errorf("unexpected %s in a number, expected a digit", quoteByte(w.in[w.i]))
}

func quoteByte(b byte) string {
	if b >= 0x20 && b < 0x7f {
		return fmt.Sprintf("%q", rune(b))
	}
	return fmt.Sprintf("byte 0x%02x", b)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
