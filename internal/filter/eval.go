package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
)

// DecodeJSON decodes one LogEvent into generic JSON values (maps, slices,
// strings, json.Number, bools, nil), the form Resolve, Match and Tokens
// work on. Numbers stay json.Number so that their text survives for Tokens.
func DecodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("filter: trailing data after the JSON value")
	}
	return v, nil
}

// Resolve returns the values p leads to in doc. Arrays met on the way or at
// the end fan out over their elements, at any depth; missing keys and JSON
// null give nothing. A name of digits met at an array picks that element
// instead (target.0.displayName: the first target's name); met at an object
// it is an ordinary key.
func Resolve(doc any, p Path) []any {
	var out []any
	resolve(doc, p, func(v any) bool {
		out = append(out, v)
		return false
	})
	return out
}

// resolve calls fn for each value p leads to in v, stopping early when fn
// returns true. It reports whether fn did.
func resolve(v any, p Path, fn func(any) bool) bool {
	switch x := v.(type) {
	case nil:
		return false
	case []any:
		if len(p) > 0 {
			if i, ok := Index(p[0]); ok {
				if i >= len(x) {
					return false
				}
				return resolve(x[i], p[1:], fn)
			}
		}
		for _, el := range x {
			if resolve(el, p, fn) {
				return true
			}
		}
		return false
	}
	if len(p) == 0 {
		return fn(v)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	next, ok := m[p[0]]
	if !ok {
		return false
	}
	return resolve(next, p[1:], fn)
}

// Index reports whether a path name is an array index (digits only) and
// which.
func Index(name string) (int, bool) {
	if name == "" || len(name) > maxIndexDigits {
		return 0, false
	}
	n := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// HasIndex reports whether p names an array element by index.
func (p Path) HasIndex() bool {
	for _, n := range p {
		if _, ok := Index(n); ok {
			return true
		}
	}
	return false
}

// WithoutIndex is p with its index names dropped: the any-element path,
// which every value p leads to is also among (backends use it as an
// upper bound).
func (p Path) WithoutIndex() Path {
	out := make(Path, 0, len(p))
	for _, n := range p {
		if _, ok := Index(n); !ok {
			out = append(out, n)
		}
	}
	return out
}

// Match reports whether the event doc (as from DecodeJSON) satisfies e. It
// is the reference evaluator: the semantics in docs/filter-language.md, which
// every storage backend is tested against.
func Match(e Expr, doc any) bool {
	switch e := e.(type) {
	case *Logical:
		if e.And {
			return Match(e.Left, doc) && Match(e.Right, doc)
		}
		return Match(e.Left, doc) || Match(e.Right, doc)
	case *Not:
		return !Match(e.X, doc)
	case *Paren:
		return Match(e.X, doc)
	case *Compare:
		return matchCompare(e, doc)
	}
	return false
}

func matchCompare(c *Compare, doc any) bool {
	switch {
	case c.Op == OpPr:
		return present(doc, c.Path)
	case c.Value.Kind == Null && c.Op == OpEq:
		return !present(doc, c.Path)
	case c.Value.Kind == Null && c.Op == OpNe:
		return present(doc, c.Path)
	case c.Op == OpNe:
		return !anyValue(doc, c.Path, OpEq, c.Value)
	}
	return anyValue(doc, c.Path, c.Op, c.Value)
}

// present: some value that is neither null nor "".
func present(doc any, p Path) bool {
	return resolve(doc, p, func(v any) bool {
		s, ok := v.(string)
		return !ok || s != ""
	})
}

func anyValue(doc any, p Path, op Op, lit Value) bool {
	if isPublished(p) {
		want, ok := publishedLiteral(lit)
		if !ok {
			return false
		}
		return resolve(doc, p, func(v any) bool {
			s, ok := v.(string)
			if !ok {
				return false
			}
			got, ok := PublishedMillis(s)
			return ok && order(op, cmpInt(got, want))
		})
	}
	return resolve(doc, p, func(v any) bool { return compareValue(op, v, lit) })
}

func compareValue(op Op, v any, lit Value) bool {
	switch lit.Kind {
	case String:
		s, ok := v.(string)
		if !ok {
			return false
		}
		switch op {
		case OpCo:
			return contains(s, lit.Str)
		case OpSw:
			return len(s) >= len(lit.Str) && s[:len(lit.Str)] == lit.Str
		case OpEw:
			return len(s) >= len(lit.Str) && s[len(s)-len(lit.Str):] == lit.Str
		}
		return order(op, cmpString(s, lit.Str))
	case Number:
		f, ok := number(v)
		if !ok {
			return false
		}
		switch {
		case f < lit.Num:
			return order(op, -1)
		case f > lit.Num:
			return order(op, 1)
		case f == lit.Num:
			return order(op, 0)
		}
		return false // NaN cannot come from JSON, but never equals anything
	case Bool:
		b, ok := v.(bool)
		return ok && op == OpEq && b == lit.Bool
	}
	return false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		// A JSON number too large for float64 parses to ±Inf, which still
		// orders correctly, so the range error is ignored.
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, false
		}
		return f, true
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

// order applies op to the sign of a three-way comparison.
func order(op Op, c int) bool {
	switch op {
	case OpEq:
		return c == 0
	case OpGt:
		return c > 0
	case OpGe:
		return c >= 0
	case OpLt:
		return c < 0
	case OpLe:
		return c <= 0
	}
	return false
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func contains(s, sub string) bool {
	return strings.Contains(s, sub)
}
