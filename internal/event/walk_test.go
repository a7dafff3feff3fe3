package event

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// The walker is checked against encoding/json: it accepts what encoding/json
// accepts, compacts as json.Compact does, and its nodes read back (with the
// last of repeated keys kept) as the tree json.Unmarshal builds.

var walkCases = []string{
	`{}`, `[]`, ` {"a":1} `, `{"a":1,"a":2}`, `{"a":[1,2.5,-0.1e+3,true,false,null,"x"]}`,
	`{"a":"\u00e9\"\\","b":"é"}`, "{\"a\":\"\xff\"}", `{"\u0061":1,"a":2}`, `{"a" : { "b" : [ ] } }`,
	`{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`, `{"a":tru}`, `{"a":truex}`, `{"a":1,}`, `[1,]`,
	`{"a":1} x`, `{"a":"x`, "{\"a\":\"\x01\"}", `{"a"}`, `{a:1}`, `"s"`, `12`, `null`, ``, `{"a":[{"b":{"c":"d"}}]}`,
	`{"n":123456789012345678901234567890}`, `{"a":"\ud800"}`, `{"a":{"b":1,"b":2}}`, `{"a":[{"b":1},{"b":2}]}`,
	"{\"\xff\":1,\"\xfe\":2}", "{\"\xff\":1,\"\\ufffd\":2,\"\xff\":3}", `{"a.b":1}`, `{"":1}`, `{"a\u0001":1}`, `{"a\\":1}`,
	`{"uuid":"a","uuid":"b"}`, "[[[[]]]]", `"\ud83d\ude80"`, ` [ 1 , { "x" : "y" } ] `, "\t{\"a\"\n:\r1}\n",
}

// treeOf builds the decoded tree from a Doc's nodes, as json.Unmarshal into
// an interface with UseNumber does.
func treeOf(t *testing.T, d *Doc, i int) any {
	n := d.Nodes[i]
	switch n.Kind {
	case KindObject:
		m := map[string]any{}
		d.Children(i, func(c int) bool {
			if d.Nodes[c].Flags&FlagShadowed != 0 {
				return true
			}
			k := d.Key(c)
			if _, ok := m[k]; ok {
				t.Fatalf("%q: key %q repeats without the earlier one shadowed", d.Raw, k)
			}
			m[k] = treeOf(t, d, c)
			return true
		})
		return m
	case KindArray:
		a := []any{}
		d.Children(i, func(c int) bool { a = append(a, treeOf(t, d, c)); return true })
		return a
	case KindString:
		return d.Str(i)
	case KindNumber:
		return json.Number(d.Bytes(i))
	case KindTrue:
		return true
	case KindFalse:
		return false
	case KindNull:
		return nil
	}
	t.Fatalf("%q: node %d has no kind", d.Raw, i)
	return nil
}

// dupKeysRef reports an object with a repeated key, keys compared as
// written unless escaped (then decoded): what Doc.Dup promises.
func dupKeysRef(v json.RawMessage) bool {
	dec := json.NewDecoder(bytes.NewReader(v))
	var walk func() bool
	walk = func() bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			dup := false
			for dec.More() {
				off := dec.InputOffset()
				k, _ := dec.Token()
				raw := bytes.TrimLeft(v[off:dec.InputOffset()], " \t\r\n,")
				key := string(raw[1 : len(raw)-1])
				if strings.Contains(key, `\`) {
					key = k.(string)
				}
				if seen[key] {
					dup = true
				}
				seen[key] = true
				if walk() {
					dup = true
				}
			}
			dec.Token()
			return dup
		case json.Delim('['):
			dup := false
			for dec.More() {
				if walk() {
					dup = true
				}
			}
			dec.Token()
			return dup
		}
		return false
	}
	return walk()
}

func checkWalk(t *testing.T, in []byte) {
	t.Helper()
	var want bytes.Buffer
	werr := json.Compact(&want, in)
	d, err := Walk(in)
	if (err == nil) != (werr == nil) {
		t.Fatalf("Walk(%q) error %v; encoding/json says %v", in, err, werr)
	}
	var c Compactor
	out, nodes, dup, plain, cerr := c.Compact([]byte("prefix"), in, 512)
	valid := werr == nil && utf8.Valid(in) && depth(in) <= 512
	switch {
	case cerr == nil && !valid:
		t.Fatalf("Compact accepted %q; encoding/json says %v", in, werr)
	case cerr != nil && valid:
		t.Fatalf("Compact rejected valid %q: %v", in, cerr)
	case cerr == nil && !bytes.Equal(out[len("prefix"):], want.Bytes()):
		t.Fatalf("Compact(%q) = %q, want %q", in, out, want.Bytes())
	case cerr != nil:
		if we, ok := cerr.(*WalkError); !ok || we.Col < 0 || we.Col > len(in) {
			t.Fatalf("error %v has no column inside the input", cerr)
		}
	}
	if err != nil {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	var ref any
	if err := dec.Decode(&ref); err != nil {
		t.Fatalf("Decode(%q): %v", in, err)
	}
	if got := treeOf(t, d, 0); !reflect.DeepEqual(got, ref) {
		t.Fatalf("Walk(%q) reads back as %#v, want %#v", in, got, ref)
	}
	if d.Dup != dupKeysRef(in) {
		t.Fatalf("Walk(%q).Dup = %v", in, d.Dup)
	}
	if wantPlain := !bytes.ContainsAny(in, `\`) && isASCII(in); d.Plain != wantPlain && bytes.IndexByte(in, '"') >= 0 {
		t.Fatalf("Walk(%q).Plain = %v", in, d.Plain)
	}
	if int(d.Nodes[0].Next) != len(d.Nodes) {
		t.Fatalf("Walk(%q): root ends at node %d of %d", in, d.Nodes[0].Next, len(d.Nodes))
	}
	if cerr != nil {
		return
	}
	// The compact walk's nodes read back the same, over the compact text.
	cd := Keep(out[len("prefix"):], nodes, dup, plain)
	if got := treeOf(t, cd, 0); !reflect.DeepEqual(got, ref) {
		t.Fatalf("Compact(%q) reads back as %#v, want %#v", in, got, ref)
	}
	if cd.Dup != d.Dup || cd.Plain != d.Plain || len(cd.Nodes) != len(d.Nodes) {
		t.Fatalf("Compact(%q) and Walk disagree: %+v, %+v", in, cd, d)
	}
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// depth is the deepest nesting of valid JSON in.
func depth(in []byte) int {
	d, max, inStr, esc := 0, 0, false, false
	for _, b := range in {
		switch {
		case esc:
			esc = false
		case inStr && b == '\\':
			esc = true
		case b == '"':
			inStr = !inStr
		case inStr:
		case b == '{' || b == '[':
			d++
			max = maxInt(max, d)
		case b == '}' || b == ']':
			d--
		}
	}
	return max
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func TestWalkAgrees(t *testing.T) {
	for _, c := range walkCases {
		checkWalk(t, []byte(c))
	}
	deep := strings.Repeat("[", 600) + strings.Repeat("]", 600)
	checkWalk(t, []byte(deep))
	many := `{` + strings.Repeat(`"a":1,"b":2,`, 40) + `"c":{}}`
	checkWalk(t, []byte(many))
}

func TestWalkErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":1,}`:         `invalid JSON at column 8 of the event: unexpected '}' where a key should start`,
		`{"a":tru}`:        `invalid JSON at column 6 of the event: "tru" is not a JSON value`,
		`{"a":"x`:          `invalid JSON: the event ends early, after 7 bytes`,
		`{"a":1} x`:        `invalid JSON at column 9 of the event: unexpected 'x' after the end of the event`,
		"{\"a\":\"\x01\"}": `invalid JSON at column 7 of the event: control character byte 0x01 in a string`,
	} {
		_, err := Walk([]byte(in))
		if err == nil || err.Error() != want {
			t.Errorf("Walk(%q) = %v, want %s", in, err, want)
		}
	}
}

func TestResolve(t *testing.T) {
	docs := []string{
		`{"a":{"b":"x"}}`, `{"a":[{"b":"x"},{"b":["y","z"]},{"c":1},null]}`, `{"a":null}`, `{"a":[[{"b":1}],{"b":null}]}`,
		`{"a":"s"}`, `{"a":{"b":1},"a":{"b":2}}`, `{"\u0061":{"b":3}}`,
	}
	paths := [][]string{{"a"}, {"a", "b"}, {"a", "b", "c"}, {"z"}}
	for _, s := range docs {
		d, err := Walk([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			var ref any
			dec := json.NewDecoder(strings.NewReader(s))
			dec.UseNumber()
			dec.Decode(&ref)
			want := resolveRef(ref, p, nil)
			var got []any
			for _, n := range d.Resolve(0, p, nil) {
				got = append(got, treeOf(t, d, n))
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Resolve(%s, %v) = %#v, want %#v", s, p, got, want)
			}
		}
	}
}

// resolveRef is filter.Resolve's rule on the decoded tree.
func resolveRef(v any, p []string, out []any) []any {
	switch x := v.(type) {
	case nil:
		return out
	case []any:
		for _, el := range x {
			out = resolveRef(el, p, out)
		}
		return out
	}
	if len(p) == 0 {
		return append(out, v)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return out
	}
	next, ok := m[p[0]]
	if !ok {
		return out
	}
	return resolveRef(next, p[1:], out)
}

// FuzzWalk checks the walker against encoding/json (see checkWalk).
func FuzzWalk(f *testing.F) {
	for _, s := range walkCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkWalk(t, in)
	})
}

// DecodeDoc on a walked event, compacted as ingest does, gives what Decode
// gives on the text.
func TestDecodeDocAgrees(t *testing.T) {
	b, err := os.ReadFile("testdata/okta-sample.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	var c Compactor
	out, nodes, dup, plain, err := c.Compact(nil, b, 512)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeDoc(Keep(out, nodes, dup, plain))
	if err != nil {
		t.Fatal(err)
	}
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if !bytes.Equal(wj, gj) || len(gj) < 100 {
		t.Fatalf("DecodeDoc gives %s\nDecode gives %s", gj, wj)
	}
	if _, err := DecodeDoc(Keep([]byte("[1]"), []Node{{Start: 0, End: 3, Next: 2, Kind: KindArray}, {Start: 1, End: 2, Next: 2, Kind: KindNumber}}, false, true)); err == nil {
		t.Fatal("DecodeDoc took an array")
	}
}
