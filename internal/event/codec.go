package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
)

// The one codec every object of the model goes through. A struct takes part
// by having nilable fields with json tags and a field named Extra; the table
// of its members is built once by reflection and cached.

type member struct {
	name  string
	index int
	kind  reflect.Kind // Pointer, Slice or Map
	typ   reflect.Type
}

type codec struct {
	members []member
	byName  map[string]int
	extra   int // field index of Extra
}

var codecs sync.Map // reflect.Type -> *codec

func codecFor(t reflect.Type) *codec {
	if c, ok := codecs.Load(t); ok {
		return c.(*codec)
	}
	c := &codec{byName: map[string]int{}, extra: -1}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Name == "Extra" {
			c.extra = i
			continue
		}
		name := f.Tag.Get("json")
		switch f.Type.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
		default:
			// A programming error in this package, caught by its tests.
			panic(fmt.Sprintf("event: %s.%s must be a pointer, slice or map", t.Name(), f.Name))
		}
		c.byName[name] = len(c.members)
		c.members = append(c.members, member{name: name, index: i, kind: f.Type.Kind(), typ: f.Type})
	}
	if c.extra < 0 {
		panic("event: " + t.Name() + " has no Extra field")
	}
	codecs.Store(t, c)
	return c
}

var null = json.RawMessage("null")

func isNull(b []byte) bool { return bytes.Equal(bytes.TrimSpace(b), null) }

// decodeObject fills the struct v points to from the JSON object b,
// replacing whatever it held.
func decodeObject(b []byte, v any) error {
	rv := reflect.ValueOf(v).Elem()
	c := codecFor(rv.Type())
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("want a JSON object, got %s", te.Value)
		}
		return err
	}
	if raw == nil {
		return errors.New("want a JSON object, got null")
	}
	rv.SetZero()
	var extra Extra
	for name, r := range raw {
		i, known := c.byName[name]
		if known && !isNull(r) {
			if decodeMember(rv.Field(c.members[i].index), c.members[i], r) == nil {
				continue
			}
		}
		if extra == nil {
			extra = make(Extra, 4)
		}
		extra[name] = r
	}
	rv.Field(c.extra).Set(reflect.ValueOf(extra))
	return nil
}

var errNullElement = errors.New("null array element")

// decodeMember decodes a non-null value into field f. On error f is left nil
// and the caller keeps the raw value.
func decodeMember(f reflect.Value, m member, r []byte) error {
	switch m.kind {
	case reflect.Pointer:
		p := reflect.New(m.typ.Elem())
		if err := json.Unmarshal(r, p.Interface()); err != nil {
			return err
		}
		f.Set(p)
	case reflect.Map:
		d := json.NewDecoder(bytes.NewReader(r))
		d.UseNumber()
		var mp map[string]any
		if err := d.Decode(&mp); err != nil {
			return err
		}
		f.Set(reflect.ValueOf(mp))
	case reflect.Slice:
		var elems []json.RawMessage
		if err := json.Unmarshal(r, &elems); err != nil {
			return err
		}
		s := reflect.MakeSlice(m.typ, len(elems), len(elems))
		for i, e := range elems {
			// A null element would come back as a zero value ("" or {}),
			// which is not the same JSON; keep such arrays raw instead.
			if isNull(e) {
				return errNullElement
			}
			if err := json.Unmarshal(e, s.Index(i).Addr().Interface()); err != nil {
				return err
			}
		}
		f.Set(s)
	}
	return nil
}

// encodeObject writes the struct v points to as a JSON object.
func encodeObject(v any) ([]byte, error) {
	rv := reflect.ValueOf(v).Elem()
	c := codecFor(rv.Type())
	extra, _ := rv.Field(c.extra).Interface().(Extra)
	buf := make([]byte, 0, 256)
	buf = append(buf, '{')
	first := true
	add := func(name string, val []byte) {
		if !first {
			buf = append(buf, ',')
		}
		first = false
		k, _ := json.Marshal(name)
		buf = append(buf, k...)
		buf = append(buf, ':')
		buf = append(buf, val...)
	}
	for _, m := range c.members {
		f := rv.Field(m.index)
		if !f.IsNil() {
			val, err := json.Marshal(f.Interface())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m.name, err)
			}
			add(m.name, val)
			continue
		}
		if r, ok := extra[m.name]; ok {
			if !json.Valid(r) {
				return nil, fmt.Errorf("%s: Extra holds invalid JSON", m.name)
			}
			add(m.name, r)
		}
	}
	var unknown []string
	for name := range extra {
		if _, known := c.byName[name]; !known {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		r := extra[name]
		if !json.Valid(r) {
			return nil, fmt.Errorf("%s: Extra holds invalid JSON", name)
		}
		add(name, r)
	}
	return append(buf, '}'), nil
}
