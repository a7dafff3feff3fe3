package event

import "unicode/utf8"

// Selection names the members of a JSON object to decode. A member whose
// Selection is nil is decoded whole; a member with a non-nil Selection
// keeps only the members that Selection names, in itself and, when it is
// an array, in each of its elements (at any depth). Members not named are
// skipped, though still checked to be JSON.
type Selection map[string]Selection

// DecodeSelected decodes the JSON object raw as encoding/json with
// UseNumber would decode it into an any (map[string]any, []any, string,
// json.Number, bool, nil), keeping only the members sel names. Detection
// rules read a few fields of each event; decoding just those costs a
// fraction of building the whole tree. raw must be one JSON object and
// nothing else; an error is a *SyntaxError, as Decode's.
func DecodeSelected(raw []byte, sel Selection) (map[string]any, error) {
	d := &decoder{b: raw}
	if d.peek() != '{' {
		return nil, d.fail("want a JSON object")
	}
	m, err := d.selectedObject(sel)
	if err != nil {
		return nil, err
	}
	if d.ws(); d.i != len(d.b) {
		return nil, d.fail("data after the JSON object")
	}
	return m, nil
}

func (d *decoder) selectedObject(sel Selection) (map[string]any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	m := make(map[string]any, len(sel))
	d.i++ // '{'
	if d.peek() == '}' {
		d.i++
		d.depth--
		return m, nil
	}
	for {
		if d.peek() != '"' {
			return m, d.fail("want a member name")
		}
		start := d.i
		escaped, ascii, err := d.strEnd()
		if err != nil {
			return m, err
		}
		raw := d.b[start+1 : d.i-1]
		plain := !escaped && (ascii || utf8.Valid(raw))
		var key string
		if !plain {
			key = unquote(raw)
		}
		var sub Selection
		var ok bool
		if plain {
			// Looked up without allocating: most members are skipped.
			sub, ok = sel[string(raw)]
		} else {
			sub, ok = sel[key]
		}
		if d.peek() != ':' {
			return m, d.fail("want ':' after a member name")
		}
		d.i++
		d.ws()
		if !ok {
			if _, err := d.skip(); err != nil {
				return m, err
			}
		} else {
			if plain {
				key = string(raw)
			}
			v, err := d.selected(sub)
			m[key] = v
			if err != nil {
				return m, err
			}
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			d.depth--
			return m, nil
		default:
			return m, d.fail("want ',' or '}' in an object")
		}
	}
}

// selected reads one value, keeping in objects only what sel names.
func (d *decoder) selected(sel Selection) (any, error) {
	if sel == nil {
		return d.anyValue()
	}
	switch d.peek() {
	case '{':
		return d.selectedObject(sel)
	case '[':
		a := []any{}
		err := d.array(func() error {
			v, err := d.selected(sel)
			a = append(a, v)
			return err
		})
		return a, err
	}
	return d.anyValue()
}
