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
	d, err := Walk(raw)
	if err != nil {
		return nil, syntaxError(err, len(raw))
	}
	if d.Nodes[0].Kind != KindObject {
		return nil, &SyntaxError{Offset: int(d.Nodes[0].Start), Msg: "want a JSON object"}
	}
	return d.selectedObject(0, sel), nil
}

func (d *Doc) selectedObject(i int, sel Selection) map[string]any {
	m := make(map[string]any, len(sel))
	d.Children(i, func(c int) bool {
		n := &d.Nodes[c]
		var key string
		var sub Selection
		var ok bool
		if n.Flags&FlagKeyDecode != 0 {
			key = d.Key(c)
			sub, ok = sel[key]
		} else if sub, ok = sel[string(d.Raw[n.KeyStart+1:n.KeyEnd-1])]; ok {
			key = string(d.Raw[n.KeyStart+1 : n.KeyEnd-1])
		}
		if ok {
			m[key] = d.selected(c, sub) // in order: the last of repeated keys wins
		}
		return true
	})
	return m
}

// selected is node i, keeping in objects only what sel names.
func (d *Doc) selected(i int, sel Selection) any {
	if sel == nil {
		return d.anyValue(i)
	}
	switch d.Nodes[i].Kind {
	case KindObject:
		return d.selectedObject(i, sel)
	case KindArray:
		a := []any{}
		d.Children(i, func(c int) bool {
			a = append(a, d.selected(c, sel))
			return true
		})
		return a
	}
	return d.anyValue(i)
}
