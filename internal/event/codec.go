package event

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// The one codec every object of the model goes through. Each struct has a
// table (tables.go) listing its members in Okta's order, each with a reader
// and a writer for its typed field, plus where its Extra map lives. The rules
// are in the package comment; in short: null → field nil and Extra[name] =
// null; a value that does not fit the field → field nil and the raw value in
// Extra; an unknown member → Extra.

// errMismatch reports that a value does not fit a typed field. The caller
// rewinds and keeps the raw value instead.
var errMismatch = errors.New("value does not fit the field")

type fieldCodec[T any] struct {
	name string
	key  []byte // `"name":`
	// read decodes the value of node i into t, or returns errMismatch
	// without having changed t.
	read func(d *Doc, i int, t *T) error
	// write appends the value when the field is set.
	write func(b []byte, t *T) ([]byte, bool, error)
	clear func(t *T)
}

type structCodec[T any] struct {
	fields []fieldCodec[T]
	extra  func(t *T) *Extra
}

func newCodec[T any](extra func(*T) *Extra, fields ...fieldCodec[T]) *structCodec[T] {
	for i := range fields {
		k, _ := json.Marshal(fields[i].name)
		fields[i].key = append(k, ':')
	}
	return &structCodec[T]{fields: fields, extra: extra}
}

func (c *structCodec[T]) field(name string) int {
	for i := range c.fields {
		if c.fields[i].name == name {
			return i
		}
	}
	return -1
}

// read decodes object node i into t, replacing what t held.
func (c *structCodec[T]) read(d *Doc, i int, t *T) error {
	if d.Nodes[i].Kind != KindObject {
		return errMismatch
	}
	var zero T
	*t = zero
	extra := c.extra(t)
	for m, end := i+1, int(d.Nodes[i].Next); m < end; m = int(d.Nodes[m].Next) {
		key := d.Key(m)
		if f := c.field(key); f >= 0 {
			fc := &c.fields[f]
			fc.clear(t) // a repeated member replaces the earlier one
			delete(*extra, key)
			if d.Nodes[m].Kind != KindNull {
				err := fc.read(d, m, t)
				if err == nil {
					continue
				}
				if err != errMismatch {
					return err
				}
				fc.clear(t)
			}
		}
		if *extra == nil {
			*extra = make(Extra, 2)
		}
		(*extra)[key] = append(json.RawMessage(nil), d.Bytes(m)...) // never alias the input
	}
	return nil
}

func (c *structCodec[T]) unmarshal(b []byte, t *T) error {
	d, err := Walk(b)
	if err != nil {
		return syntaxError(err, len(b))
	}
	return c.readDoc(d, t)
}

// readDoc decodes a walked document into t.
func (c *structCodec[T]) readDoc(d *Doc, t *T) error {
	err := c.read(d, 0, t)
	if err == errMismatch {
		return &SyntaxError{Offset: int(d.Nodes[0].Start), Msg: "want a JSON object"}
	}
	return err
}

// write appends t as a JSON object.
func (c *structCodec[T]) write(b []byte, t *T) ([]byte, error) {
	extra := *c.extra(t)
	b = append(b, '{')
	n := 0
	for i := range c.fields {
		f := &c.fields[i]
		mark := len(b)
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, f.key...)
		var set bool
		var err error
		b, set, err = f.write(b, t)
		if err != nil {
			return nil, errors.New(f.name + ": " + err.Error())
		}
		if !set {
			raw, ok := extra[f.name]
			if !ok {
				b = b[:mark]
				continue
			}
			if !json.Valid(raw) {
				return nil, errors.New(f.name + ": Extra holds invalid JSON")
			}
			b = append(b, raw...)
		}
		n++
	}
	var unknown []string
	for name := range extra {
		if c.field(name) < 0 {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		raw := extra[name]
		if !json.Valid(raw) {
			return nil, errors.New(name + ": Extra holds invalid JSON")
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, name)
		b = append(b, ':')
		b = append(b, raw...)
		n++
	}
	return append(b, '}'), nil
}

func (c *structCodec[T]) marshal(t *T) ([]byte, error) { return c.write(make([]byte, 0, 512), t) }

// Field constructors, one per kind of typed field.

func strField[T any](name string, p func(*T) **string) fieldCodec[T] {
	return fieldCodec[T]{
		name: name,
		read: func(d *Doc, i int, t *T) error {
			if d.Nodes[i].Kind != KindString {
				return errMismatch
			}
			s := d.Str(i)
			*p(t) = &s
			return nil
		},
		write: func(b []byte, t *T) ([]byte, bool, error) {
			v := *p(t)
			if v == nil {
				return b, false, nil
			}
			return AppendString(b, *v), true, nil
		},
		clear: func(t *T) { *p(t) = nil },
	}
}

func intField[T any](name string, p func(*T) **int64) fieldCodec[T] {
	return fieldCodec[T]{
		name: name,
		read: func(d *Doc, i int, t *T) error {
			if d.Nodes[i].Kind != KindNumber {
				return errMismatch
			}
			v, err := strconv.ParseInt(string(d.Bytes(i)), 10, 64)
			if err != nil {
				return errMismatch // 1.5, 1e3, or out of range: keep the text
			}
			*p(t) = &v
			return nil
		},
		write: func(b []byte, t *T) ([]byte, bool, error) {
			v := *p(t)
			if v == nil {
				return b, false, nil
			}
			return strconv.AppendInt(b, *v, 10), true, nil
		},
		clear: func(t *T) { *p(t) = nil },
	}
}

func floatField[T any](name string, p func(*T) **float64) fieldCodec[T] {
	return fieldCodec[T]{
		name: name,
		read: func(d *Doc, i int, t *T) error {
			if d.Nodes[i].Kind != KindNumber {
				return errMismatch
			}
			v, err := strconv.ParseFloat(string(d.Bytes(i)), 64)
			if err != nil {
				return errMismatch // beyond float64: keep the text
			}
			*p(t) = &v
			return nil
		},
		write: func(b []byte, t *T) ([]byte, bool, error) {
			v := *p(t)
			if v == nil {
				return b, false, nil
			}
			return appendFloat(b, *v)
		},
		clear: func(t *T) { *p(t) = nil },
	}
}

func boolField[T any](name string, p func(*T) **bool) fieldCodec[T] {
	return fieldCodec[T]{
		name: name,
		read: func(d *Doc, i int, t *T) error {
			var v bool
			switch d.Nodes[i].Kind {
			case KindTrue:
				v = true
			case KindFalse:
			default:
				return errMismatch
			}
			*p(t) = &v
			return nil
		},
		write: func(b []byte, t *T) ([]byte, bool, error) {
			v := *p(t)
			if v == nil {
				return b, false, nil
			}
			return strconv.AppendBool(b, *v), true, nil
		},
		clear: func(t *T) { *p(t) = nil },
	}
}

func mapField[T any](name string, p func(*T) *map[string]any) fieldCodec[T] {
	return fieldCodec[T]{
		name: name,
		read: func(d *Doc, i int, t *T) error {
			if d.Nodes[i].Kind != KindObject {
				return errMismatch
			}
			*p(t) = d.anyValue(i).(map[string]any)
			return nil
		},
		write: func(b []byte, t *T) ([]byte, bool, error) {
			m := *p(t)
			if m == nil {
				return b, false, nil
			}
			b, err := appendAny(b, m)
			return b, true, err
		},
		clear: func(t *T) { *p(t) = nil },
	}
}

func objField[T, U any](name string, c *structCodec[U], p func(*T) **U) fieldCodec[T] {
	return fieldCodec[T]{
		name: name,
		read: func(d *Doc, i int, t *T) error {
			if d.Nodes[i].Kind != KindObject {
				return errMismatch
			}
			u := new(U)
			if err := c.read(d, i, u); err != nil {
				return err
			}
			*p(t) = u
			return nil
		},
		write: func(b []byte, t *T) ([]byte, bool, error) {
			u := *p(t)
			if u == nil {
				return b, false, nil
			}
			b, err := c.write(b, u)
			return b, true, err
		},
		clear: func(t *T) { *p(t) = nil },
	}
}

// arrField is an array of objects. A null or non-object element makes the
// whole array a mismatch: a zero struct would not write back as null.
func arrField[T, U any](name string, c *structCodec[U], p func(*T) *[]U) fieldCodec[T] {
	return fieldCodec[T]{
		name: name,
		read: func(d *Doc, i int, t *T) error {
			if d.Nodes[i].Kind != KindArray {
				return errMismatch
			}
			s := []U{}
			for el, end := i+1, int(d.Nodes[i].Next); el < end; el = int(d.Nodes[el].Next) {
				var u U
				if err := c.read(d, el, &u); err != nil {
					return err
				}
				s = append(s, u)
			}
			*p(t) = s
			return nil
		},
		write: func(b []byte, t *T) ([]byte, bool, error) {
			s := *p(t)
			if s == nil {
				return b, false, nil
			}
			b = append(b, '[')
			for i := range s {
				if i > 0 {
					b = append(b, ',')
				}
				var err error
				if b, err = c.write(b, &s[i]); err != nil {
					return nil, false, err
				}
			}
			return append(b, ']'), true, nil
		},
		clear: func(t *T) { *p(t) = nil },
	}
}

func strsField[T any](name string, p func(*T) *[]string) fieldCodec[T] {
	return fieldCodec[T]{
		name: name,
		read: func(d *Doc, i int, t *T) error {
			if d.Nodes[i].Kind != KindArray {
				return errMismatch
			}
			s := []string{}
			for el, end := i+1, int(d.Nodes[i].Next); el < end; el = int(d.Nodes[el].Next) {
				if d.Nodes[el].Kind != KindString {
					return errMismatch
				}
				s = append(s, d.Str(el))
			}
			*p(t) = s
			return nil
		},
		write: func(b []byte, t *T) ([]byte, bool, error) {
			s := *p(t)
			if s == nil {
				return b, false, nil
			}
			b = append(b, '[')
			for i, v := range s {
				if i > 0 {
					b = append(b, ',')
				}
				b = AppendString(b, v)
			}
			return append(b, ']'), true, nil
		},
		clear: func(t *T) { *p(t) = nil },
	}
}

// Writers.

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Like encoding/json it replaces
// invalid UTF-8 with U+FFFD and escapes U+2028 and U+2029; unlike it, it
// leaves <, > and & alone.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendFloat(b []byte, f float64) ([]byte, bool, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false, errors.New("NaN and infinities have no JSON form")
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64), true, nil
}

// appendAny writes a value of an open map: what the decoder produces
// (map[string]any, []any, string, json.Number, bool, nil) natively, common Go
// types set by code, and anything else through encoding/json.
func appendAny(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return AppendString(b, v), nil
	case json.Number:
		if !validNumber(string(v)) {
			return nil, errors.New("invalid json.Number " + strconv.Quote(string(v)))
		}
		return append(b, v...), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case float64:
		b, _, err := appendFloat(b, v)
		return b, err
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendAny(b, v[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendAny(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, raw...), nil
}
