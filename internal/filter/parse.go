package filter

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// opList is what Okta calls the Expected list after an unknown operator.
var opList = func() string {
	s := make([]string, len(Ops))
	for i, op := range Ops {
		s[i] = string(op)
	}
	return strings.Join(s, ",")
}()

// msgValuePath refuses SCIM value paths such as emails[type eq "work"]:
// Okta's System Log does not have them either.
const msgValuePath = `Value paths with '[' are not supported (filter on the sub-attribute instead, e.g. target.type eq "User")`

const (
	expectValue = `a "string", a number, true, false, null`
	expectStart = "an attribute path, not, ("
	expectJoin  = "and, or, ), end of filter"
	expectClose = "and, or, )"
	expectEnd   = "and, or, end of filter"
)

// topLevel is the set of LogEvent top-level fields a path may start with.
var topLevel = map[string]bool{
	"uuid": true, "published": true, "eventType": true, "version": true,
	"severity": true, "legacyEventType": true, "displayMessage": true,
	"actor": true, "client": true, "device": true, "outcome": true,
	"target": true, "transaction": true, "debugContext": true,
	"authenticationContext": true, "securityContext": true, "request": true,
}

// TopLevelFields returns the LogEvent top-level fields a path may start
// with, sorted.
func TopLevelFields() []string {
	fs := make([]string, 0, len(topLevel))
	for f := range topLevel {
		fs = append(fs, f)
	}
	slices.Sort(fs)
	return fs
}

// Parse parses and validates a filter. Any error is an *Error.
func Parse(src string) (Expr, error) {
	p := &parser{src: src, items: lex(src)}
	e, err := p.parse()
	if err != nil {
		return nil, err
	}
	if err := validate(src, e); err != nil {
		return nil, err
	}
	return e, nil
}

type parser struct {
	src   string
	items []item
	i     int
	depth int // 'not' and '(' levels open around the current token
}

// MaxDepth bounds how deeply 'not' and parentheses may nest. Real queries
// use two or three levels; the bound keeps a hostile filter from exhausting
// the parser's stack or a backend's SQL expression depth.
const MaxDepth = 100

func (p *parser) peek() item { return p.items[p.i] }

func (p *parser) next() item {
	it := p.items[p.i]
	if it.typ != itemEOF && it.typ != itemError {
		p.i++
	}
	return it
}

// keyword reports whether it is the case-insensitive keyword kw.
func keyword(it item, kw string) bool { return it.typ == itemWord && strings.EqualFold(it.val, kw) }

func (p *parser) parse() (e Expr, err error) {
	if p.peek().typ == itemEOF {
		return nil, p.errAt(0, Pos(len(p.src)), expectStart, "Empty filter")
	}
	e, err = p.or(nil)
	if err != nil {
		return nil, err
	}
	it := p.peek()
	if it.typ != itemEOF {
		return nil, p.unexpected(it, expectEnd)
	}
	return e, nil
}

// or parses and-expressions joined by "or". open is the '(' being closed,
// nil at top level; it only shapes error messages.
func (p *parser) or(open *item) (Expr, error) {
	left, err := p.and(open)
	if err != nil {
		return nil, err
	}
	for keyword(p.peek(), "or") {
		kw := p.next()
		right, err := p.operand(kw, open)
		if err != nil {
			return nil, err
		}
		if right, err = p.andRest(right, open); err != nil {
			return nil, err
		}
		left = &Logical{Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) and(open *item) (Expr, error) {
	left, err := p.unary(open)
	if err != nil {
		return nil, err
	}
	return p.andRest(left, open)
}

func (p *parser) andRest(left Expr, open *item) (Expr, error) {
	for keyword(p.peek(), "and") {
		kw := p.next()
		right, err := p.operand(kw, open)
		if err != nil {
			return nil, err
		}
		left = &Logical{And: true, Left: left, Right: right}
	}
	return left, nil
}

// operand parses what follows and/or/not, naming the keyword when nothing
// does.
func (p *parser) operand(kw item, open *item) (Expr, error) {
	if it := p.peek(); it.typ == itemEOF || it.typ == itemRParen || keyword(it, "and") || keyword(it, "or") {
		return nil, p.errAt(it.pos, it.end, expectStart, fmt.Sprintf("Missing expression after '%s'", kw.val))
	}
	return p.unary(open)
}

// unary: "not" unary | "(" or ")" | comparison.
func (p *parser) unary(open *item) (Expr, error) {
	it := p.peek()
	if keyword(it, "not") || it.typ == itemLParen {
		if p.depth >= MaxDepth {
			return nil, p.errAt(it.pos, it.end, "", fmt.Sprintf("Too deeply nested: more than %d levels of 'not' and parentheses", MaxDepth))
		}
		p.depth++
		defer func() { p.depth-- }()
	}
	switch {
	case keyword(it, "not"):
		p.next()
		x, err := p.operand(it, open)
		if err != nil {
			return nil, err
		}
		return &Not{X: x, From: it.pos}, nil
	case it.typ == itemLParen:
		p.next()
		if c := p.peek(); c.typ == itemRParen {
			return nil, p.errAt(c.pos, c.end, expectStart, "Empty parentheses")
		}
		x, err := p.or(&it)
		if err != nil {
			return nil, err
		}
		c := p.peek()
		if c.typ != itemRParen {
			if c.typ == itemEOF {
				// Point at the '(' left open: at the end of a long query
				// the caret alone would not say which one.
				return nil, p.errAt(it.pos, it.end, "", "Unclosed '(': the filter ends before its ')'")
			}
			return nil, p.unexpected(c, expectClose)
		}
		p.next()
		return &Paren{X: x, From: it.pos, To: c.end}, nil
	}
	return p.compare()
}

// compare: path op [value].
func (p *parser) compare() (Expr, error) {
	it := p.next()
	switch {
	case it.typ == itemError:
		return nil, p.errAt(it.pos, it.end, "", it.val)
	case it.typ != itemWord || isReserved(it.val):
		return nil, p.unexpected(it, expectStart)
	}
	c := &Compare{Path: Path(strings.Split(it.val, ".")), From: it.pos, PathEnd: it.end}
	opIt := p.next()
	switch opIt.typ {
	case itemError:
		return nil, p.errAt(opIt.pos, opIt.end, "", opIt.val)
	case itemEOF:
		return nil, p.errAt(opIt.pos, opIt.end, opList, fmt.Sprintf("Missing attribute operator after '%s'", it.val))
	case itemLBracket:
		return nil, p.errAt(opIt.pos, opIt.end, "", msgValuePath)
	case itemWord:
		if strings.EqualFold(opIt.val, "in") {
			return p.in(c, opIt)
		}
		op := Op(strings.ToLower(opIt.val))
		if !isOp(op) {
			return nil, p.errAt(opIt.pos, opIt.end, opList, fmt.Sprintf("Unrecognized attribute operator '%s'", opIt.val))
		}
		c.Op, c.OpPos, c.To = op, opIt.pos, opIt.end
	default:
		return nil, p.errAt(opIt.pos, opIt.end, opList, fmt.Sprintf("Unrecognized attribute operator %s", p.describe(opIt)))
	}
	if c.Op == OpPr {
		c.ValPos = c.To
		return c, nil
	}
	v, val, err := p.value(opIt)
	if err != nil {
		return nil, err
	}
	c.Value = val
	c.ValPos, c.To = v.pos, v.end
	return c, nil
}

// value parses the literal after the operator op.
func (p *parser) value(op item) (item, Value, error) {
	v := p.next()
	switch {
	case v.typ == itemError:
		return v, Value{}, p.errAt(v.pos, v.end, "", v.val)
	case v.typ == itemString:
		return v, Value{Kind: String, Str: v.val}, nil
	case v.typ == itemNumber:
		f, err := strconv.ParseFloat(v.val, 64)
		if err != nil || math.IsInf(f, 0) {
			return v, Value{}, p.errAt(v.pos, v.end, "", fmt.Sprintf("Number '%s' is out of range", v.val))
		}
		return v, Value{Kind: Number, Num: f, Text: v.val}, nil
	case keyword(v, "true"), keyword(v, "false"):
		return v, Value{Kind: Bool, Bool: strings.EqualFold(v.val, "true")}, nil
	case keyword(v, "null"):
		return v, Value{Kind: Null}, nil
	case v.typ == itemEOF || v.typ == itemRParen || keyword(v, "and") || keyword(v, "or"):
		return v, Value{}, p.errAt(v.pos, v.end, expectValue, fmt.Sprintf("Missing value after '%s'", op.val))
	case v.typ == itemWord:
		return v, Value{}, p.errAt(v.pos, v.end, expectValue, fmt.Sprintf("Unrecognized value '%s' (strings need double quotes)", v.val))
	case v.typ == itemLBracket:
		return v, Value{}, p.errAt(v.pos, v.end, expectValue, "Unrecognized value '[' (a list needs the in operator: eventType in [\"a\", \"b\"])")
	}
	return v, Value{}, p.errAt(v.pos, v.end, expectValue, fmt.Sprintf("Unrecognized value %s", p.describe(v)))
}

// in parses the list after `path in`, an idlog extension that Okta's own
// detections use: `eventType in ["a", "b"]`. It is sugar for the
// comparisons `path eq "a" or path eq "b"`, and the tree holds exactly those
// (in parentheses), so backends and printers need nothing new.
func (p *parser) in(c *Compare, kw item) (Expr, error) {
	open := p.next()
	if open.typ != itemLBracket {
		if open.typ == itemError {
			return nil, p.errAt(open.pos, open.end, "", open.val)
		}
		return nil, p.errAt(open.pos, open.end, "[", fmt.Sprintf("Missing '[' after '%s' (a list looks like [\"a\", \"b\"])", kw.val))
	}
	var list Expr
	for {
		v, val, err := p.value(kw)
		if err != nil {
			if v.typ == itemRBracket && list == nil {
				return nil, p.errAt(open.pos, v.end, "", "Empty list after 'in'")
			}
			return nil, err
		}
		eq := &Compare{Path: c.Path, Op: OpEq, Value: val, From: c.From, PathEnd: c.PathEnd, OpPos: kw.pos, ValPos: v.pos, To: v.end}
		if list == nil {
			list = eq
		} else {
			list = &Logical{Left: list, Right: eq}
		}
		sep := p.next()
		switch sep.typ {
		case itemComma:
			continue
		case itemRBracket:
			return &Paren{X: list, From: c.From, To: sep.end}, nil
		case itemError:
			return nil, p.errAt(sep.pos, sep.end, "", sep.val)
		case itemEOF:
			return nil, p.errAt(open.pos, open.end, "", "Unclosed '[': the filter ends before its ']'")
		}
		return nil, p.errAt(sep.pos, sep.end, ", or ]", "Unexpected "+p.describe(sep)+" in a list")
	}
}

func isOp(op Op) bool {
	for _, o := range Ops {
		if o == op {
			return true
		}
	}
	return false
}

// isReserved reports words that can never start a comparison.
func isReserved(w string) bool {
	switch strings.ToLower(w) {
	case "and", "or", "not", "true", "false", "null":
		return true
	}
	return isOp(Op(strings.ToLower(w)))
}

// unexpected reports it where something else was needed.
func (p *parser) unexpected(it item, expected string) *Error {
	if it.typ == itemError {
		return p.errAt(it.pos, it.end, "", it.val)
	}
	if it.typ == itemLBracket {
		return p.errAt(it.pos, it.end, "", msgValuePath)
	}
	return p.errAt(it.pos, it.end, expected, "Unexpected "+p.describe(it))
}

// describe names an item for a message, as it was written.
func (p *parser) describe(it item) string {
	if it.typ == itemEOF {
		return "end of filter"
	}
	return "'" + p.src[it.pos:it.end] + "'"
}

// validate applies the semantic rules to a parsed tree and returns the first
// violation in source order.
func validate(src string, e Expr) error {
	var err *Error
	Walk(e, func(x Expr) bool {
		if err != nil {
			return false
		}
		if c, ok := x.(*Compare); ok {
			err = validateCompare(src, c)
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	return nil
}

func validateCompare(src string, c *Compare) *Error {
	if !topLevel[c.Path[0]] {
		return &Error{Src: src, Pos: c.From, End: c.From + Pos(len(c.Path[0])), Code: CodeInvalidFilter,
			Msg: "field is not valid: " + c.Path[0], summary: true}
	}
	unsupported := func() *Error {
		return &Error{Src: src, Pos: c.OpPos, End: c.To, Code: CodeUnsupported, summary: true,
			Msg: fmt.Sprintf("The supplied combination of operator and field is not currently supported. Operator: %s, Field: %s", c.Op, c.Path)}
	}
	k := c.Value.Kind
	switch c.Op {
	case OpPr:
		return nil
	case OpCo, OpSw, OpEw:
		if k != String || isPublished(c.Path) {
			return unsupported()
		}
	case OpGt, OpGe, OpLt, OpLe:
		if k == Bool || k == Null {
			return unsupported()
		}
	}
	if isPublished(c.Path) {
		if _, ok := publishedLiteral(c.Value); !ok {
			return &Error{Src: src, Pos: c.ValPos, End: c.To, Code: CodeInvalidFilter,
				Msg: fmt.Sprintf("published needs an RFC 3339 time in double quotes such as \"2026-03-02T00:00:00Z\", not %s", c.Value)}
		}
	}
	return nil
}

func isPublished(p Path) bool { return len(p) == 1 && p[0] == "published" }

// publishedLiteral returns a published literal in Unix milliseconds.
func publishedLiteral(v Value) (int64, bool) {
	if v.Kind != String {
		return 0, false
	}
	return PublishedMillis(v.Str)
}

// PublishedMillis parses an RFC 3339 time to Unix milliseconds, rounded
// down: the instant that published comparisons use, for a literal and for a
// stored value alike. Backends that store published as a time must agree
// with it.
func PublishedMillis(s string) (int64, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, false
	}
	return t.UnixMilli(), true
}
