package filter

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Okta error codes carried by Error.Code.
const (
	CodeInvalidFilter = "E0000053" // malformed filter, or a field that is not valid
	CodeUnsupported   = "E0000031" // an operator that the field or the value does not support
	CodeValidation    = "E0000001" // API validation failed (the q parameter)
)

// Error is a refused filter or q parameter. Pos and End delimit the offending
// text in Src (byte offsets; Pos == End == len(Src) for a premature end).
type Error struct {
	Src      string
	Pos, End Pos
	Msg      string
	Code     string
	// Expected lists what would have been accepted at Pos, comma-separated
	// as Okta prints it ("eq,ne,co,…"); empty when there is nothing useful
	// to say.
	Expected string
	// summary marks errors whose Okta summary is the message alone
	// ("field is not valid: x"), without the "Invalid filter" frame.
	summary bool
}

// Error returns the text Okta puts in errorSummary.
func (e *Error) Error() string {
	if e.summary {
		return e.Msg
	}
	var b strings.Builder
	b.WriteString("Invalid filter '")
	b.WriteString(e.Src)
	b.WriteString("': ")
	b.WriteString(e.Msg)
	b.WriteString(" at position ")
	b.WriteString(strconv.Itoa(int(e.Pos)))
	if e.Expected != "" {
		b.WriteString(". Expected: ")
		b.WriteString(e.Expected)
	}
	return b.String()
}

// Caret returns the source line holding Pos and, under it, a line that marks
// the offending text with carets, for terminals:
//
//	actor.id eqq "x"
//	         ^^^
func (e *Error) Caret() string {
	pos := min(max(int(e.Pos), 0), len(e.Src))
	end := min(max(int(e.End), pos), len(e.Src))
	start := strings.LastIndexByte(e.Src[:pos], '\n') + 1
	stop := len(e.Src)
	if i := strings.IndexByte(e.Src[pos:], '\n'); i >= 0 {
		stop = pos + i
	}
	end = min(end, stop)
	line := strings.TrimSuffix(e.Src[start:stop], "\r")
	var b strings.Builder
	b.WriteString(line)
	b.WriteByte('\n')
	// Keep tabs so the caret lines up under tab-indented text.
	for _, r := range e.Src[start:pos] {
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	n := max(utf8.RuneCountInString(e.Src[pos:end]), 1)
	b.WriteString(strings.Repeat("^", n))
	return b.String()
}

func (p *parser) errAt(from, to Pos, expected, msg string) *Error {
	return &Error{Src: p.src, Pos: from, End: to, Msg: msg, Code: CodeInvalidFilter, Expected: expected}
}
