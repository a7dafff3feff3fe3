package event

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
	m := map[string]any{}
	err := d.object(func(k string) error {
		sub, ok := sel[k]
		if !ok {
			_, err := d.skip()
			return err
		}
		v, err := d.selected(sub)
		m[k] = v
		return err
	})
	return m, err
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
