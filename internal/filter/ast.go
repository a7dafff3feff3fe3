package filter

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Pos is a byte offset into the filter text.
type Pos int

// Expr is a node of a parsed filter. Every node knows the byte range it was
// parsed from, so errors found after parsing (an unsupported field, say) can
// still point at the text the analyst typed.
type Expr interface {
	// Pos is the offset of the node's first byte, End the offset just past it.
	Pos() Pos
	End() Pos
	// String prints the node in normal form: lower-case operators, single
	// spaces, parentheses only where precedence needs them. Parsing the
	// result gives back the same tree (positions aside).
	String() string
	expr()
}

// Op is a comparison operator. The values are the lower-case keywords.
type Op string

const (
	OpEq Op = "eq"
	OpNe Op = "ne"
	OpCo Op = "co"
	OpSw Op = "sw"
	OpEw Op = "ew"
	OpPr Op = "pr"
	OpGt Op = "gt"
	OpGe Op = "ge"
	OpLt Op = "lt"
	OpLe Op = "le"
)

// Ops lists every comparison operator in the order Okta's errors name them.
var Ops = []Op{OpEq, OpNe, OpCo, OpSw, OpEw, OpPr, OpGt, OpGe, OpLt, OpLe}

// ValueKind tells which field of a Value holds the literal.
type ValueKind int

const (
	String ValueKind = iota + 1
	Number
	Bool
	Null
)

// Value is a literal on the right of a comparison.
type Value struct {
	Kind ValueKind
	Str  string  // String: the decoded text (escapes resolved)
	Num  float64 // Number
	Text string  // Number: the literal as written, kept for printing
	Bool bool    // Bool
}

func (v Value) String() string {
	switch v.Kind {
	case String:
		return quote(v.Str)
	case Number:
		if v.Text != "" {
			return v.Text
		}
		return strconv.FormatFloat(v.Num, 'g', -1, 64)
	case Bool:
		return strconv.FormatBool(v.Bool)
	case Null:
		return "null"
	}
	return "?"
}

// Path is an attribute path such as debugContext.debugData.requestUri.
type Path []string

func (p Path) String() string { return strings.Join(p, ".") }

// Compare is `path op value`, or `path pr` (Value is then the zero Value).
type Compare struct {
	Path     Path
	Op       Op
	Value    Value
	From, To Pos
	// PathEnd is the offset just past the attribute path, OpPos where the
	// operator starts: errors about the field or operator point there.
	PathEnd, OpPos Pos
	// ValPos is where the literal starts (equal to To for pr).
	ValPos Pos
}

// Logical is `left and right` or `left or right`.
type Logical struct {
	And         bool
	Left, Right Expr
}

// Not is `not (x)`.
type Not struct {
	X    Expr
	From Pos
}

// Paren is a parenthesised expression. It is kept in the tree only so that
// positions cover the parentheses; String prints parentheses itself where
// precedence needs them.
type Paren struct {
	X        Expr
	From, To Pos
}

func (c *Compare) Pos() Pos { return c.From }
func (c *Compare) End() Pos { return c.To }
func (l *Logical) Pos() Pos { return l.Left.Pos() }
func (l *Logical) End() Pos { return l.Right.End() }
func (n *Not) Pos() Pos     { return n.From }
func (n *Not) End() Pos     { return n.X.End() }
func (p *Paren) Pos() Pos   { return p.From }
func (p *Paren) End() Pos   { return p.To }

func (*Compare) expr() {}
func (*Logical) expr() {}
func (*Not) expr()     {}
func (*Paren) expr()   {}

func (c *Compare) String() string {
	if c.Op == OpPr {
		return c.Path.String() + " pr"
	}
	return c.Path.String() + " " + string(c.Op) + " " + c.Value.String()
}

// precedence: or < and < not/compare.
func prec(e Expr) int {
	switch e := e.(type) {
	case *Logical:
		if e.And {
			return 2
		}
		return 1
	case *Paren:
		return prec(e.X)
	}
	return 3
}

func wrap(e Expr, min int) string {
	if prec(e) < min {
		return "(" + e.String() + ")"
	}
	return e.String()
}

func (l *Logical) String() string {
	if l.And {
		return wrap(l.Left, 2) + " and " + wrap(l.Right, 3)
	}
	return wrap(l.Left, 1) + " or " + wrap(l.Right, 2)
}

func (n *Not) String() string { return "not (" + Unparen(n.X).String() + ")" }

func (p *Paren) String() string { return p.X.String() }

// Unparen strips Paren nodes from the top of e.
func Unparen(e Expr) Expr {
	for {
		p, ok := e.(*Paren)
		if !ok {
			return e
		}
		e = p.X
	}
}

// quote writes s as a JSON string literal. strconv.Quote would not do: its
// \x and \U escapes are not JSON, so the printed filter would not reparse.
func quote(s string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			b.WriteString(`\ufffd`)
		} else {
			b.WriteString(s[i : i+w])
		}
		i += w
	}
	b.WriteByte('"')
	return b.String()
}
