package event

// Reading a walked document with the tree semantics of encoding/json (the
// last of repeated keys wins, null is nothing): what filter.Resolve gives on
// the decoded tree, the Doc gives by offsets, without building the tree.

// Text is Raw as a string, made once: strings without escapes are slices of
// it. Not safe for concurrent first calls.
func (d *Doc) Text() string {
	if d.text == "" && len(d.Raw) > 0 {
		d.text = string(d.Raw)
	}
	return d.text
}

// Bytes is node i's text.
func (d *Doc) Bytes(i int) []byte {
	n := &d.Nodes[i]
	return d.Raw[n.Start:n.End]
}

// Str is the value of string node i, as encoding/json decodes it.
func (d *Doc) Str(i int) string {
	n := &d.Nodes[i]
	if n.Flags&FlagDecode != 0 {
		return unquote(d.Raw[n.Start+1 : n.End-1])
	}
	return d.Text()[n.Start+1 : n.End-1]
}

// Key is the decoded key of member node i.
func (d *Doc) Key(i int) string {
	n := &d.Nodes[i]
	if n.Flags&FlagKeyDecode != 0 {
		return unquote(d.Raw[n.KeyStart+1 : n.KeyEnd-1])
	}
	return d.Text()[n.KeyStart+1 : n.KeyEnd-1]
}

// KeyIs reports whether member node i's decoded key is k.
func (d *Doc) KeyIs(i int, k string) bool {
	n := &d.Nodes[i]
	if n.Flags&FlagKeyDecode != 0 {
		return unquote(d.Raw[n.KeyStart+1:n.KeyEnd-1]) == k
	}
	return string(d.Raw[n.KeyStart+1:n.KeyEnd-1]) == k
}

// Children calls fn with each member or element of node i, in order,
// shadowed members included; it stops when fn returns false.
func (d *Doc) Children(i int, fn func(c int) bool) {
	for c, end := i+1, int(d.Nodes[i].Next); c < end; c = int(d.Nodes[c].Next) {
		if !fn(c) {
			return
		}
	}
}

// Member is the member of object node i with key k that encoding/json
// keeps (the last), or -1.
func (d *Doc) Member(i int, k string) int {
	if d.Nodes[i].Kind != KindObject {
		return -1
	}
	for c, end := i+1, int(d.Nodes[i].Next); c < end; c = int(d.Nodes[c].Next) {
		if d.Nodes[c].Flags&FlagShadowed == 0 && d.KeyIs(c, k) {
			return c
		}
	}
	return -1
}

// Resolve appends to out the nodes that path p leads to from node i, as
// filter.Resolve gives them on the decoded tree: arrays fan out at every
// level (nested ones too) and nulls are left out.
func (d *Doc) Resolve(i int, p []string, out []int) []int {
	switch d.Nodes[i].Kind {
	case KindNull:
		return out
	case KindArray:
		for c, end := i+1, int(d.Nodes[i].Next); c < end; c = int(d.Nodes[c].Next) {
			out = d.Resolve(c, p, out)
		}
		return out
	}
	if len(p) == 0 {
		return append(out, i)
	}
	m := d.Member(i, p[0])
	if m < 0 {
		return out
	}
	return d.Resolve(m, p[1:], out)
}

// Keep returns a Doc over raw (the compact text Compact wrote) with its own
// copy of the nodes.
func Keep(raw []byte, nodes []Node, dup, plain bool) *Doc {
	return &Doc{Raw: raw, Nodes: append([]Node(nil), nodes...), Dup: dup, Plain: plain}
}
