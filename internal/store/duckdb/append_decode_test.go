package duckdb

import (
	"reflect"
	"testing"

	"github.com/idlog/idlog/internal/filter"
)

// decodeEvent must agree with filter.DecodeJSON on every text: same tree,
// and an error exactly when it gives one.
func TestDecodeEventAgrees(t *testing.T) {
	cases := []string{
		`{}`, `[]`, ` {"a":1} `, `{"a":1,"a":2}`, `{"a":[1,2.5,-0.1e+3,true,false,null,"x"]}`,
		`{"a":"\u00e9\"\\","b":"é"}`, "{\"a\":\"\xff\"}", `{"\u0061":1,"a":2}`, `{"a" : { "b" : [ ] } }`,
		`{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`, `{"a":tru}`, `{"a":truex}`, `{"a":1,}`, `[1,]`,
		`{"a":1} x`, `{"a":"x`, "{\"a\":\"\x01\"}", `{"a"}`, `{a:1}`, `"s"`, `12`, `null`, ``, `{"a":[{"b":{"c":"d"}}]}`,
		`{"n":123456789012345678901234567890}`, `{"a":"\ud800"}`, `{"a":{"b":1,"b":2}}`, `{"a":[{"b":1},{"b":2}]}`,
		"{\"\xff\":1,\"\xfe\":2}", `{"a.b":1}`, `{"":1}`, `{"a":{"x$":1}}`, `{"a":[{"b*":1}]}`, `{"a\u0001":1}`, `{"a\\":1}`,
	}
	for _, c := range cases {
		want, werr := filter.DecodeJSON([]byte(c))
		got, dup, odd, gerr := decodeEvent([]byte(c), c)
		if (werr != nil) != (gerr != nil) || !reflect.DeepEqual(got, want) || werr == nil && (dup != dupKeys([]byte(c)) || odd != oddKeys(want)) {
			t.Errorf("decodeEvent(%q) = %#v, %v; want %#v, %v", c, got, gerr, want, werr)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add(`{"a":[1,{"b":"c"}],"d":null}`)
	f.Fuzz(func(t *testing.T, s string) {
		want, werr := filter.DecodeJSON([]byte(s))
		got, dup, odd, gerr := decodeEvent([]byte(s), s)
		if (werr != nil) != (gerr != nil) || !reflect.DeepEqual(got, want) || werr == nil && (dup != dupKeys([]byte(s)) || odd != oddKeys(want)) {
			t.Errorf("decodeEvent(%q) = %#v, %v; want %#v, %v", s, got, gerr, want, werr)
		}
	})
}

func TestResolveIntoAgrees(t *testing.T) {
	docs := []string{
		`{"a":{"b":"x"}}`, `{"a":[{"b":"x"},{"b":["y","z"]},{"c":1},null]}`, `{"a":null}`, `{"a":[[{"b":1}],{"b":null}]}`, `{"a":"s"}`,
	}
	paths := []filter.Path{{"a"}, {"a", "b"}, {"a", "b", "c"}, {"z"}}
	for _, d := range docs {
		doc, err := filter.DecodeJSON([]byte(d))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			want := filter.Resolve(doc, p)
			got := resolveInto(doc, p, nil)
			if len(want) != len(got) || len(want) > 0 && !reflect.DeepEqual(got, want) {
				t.Errorf("resolveInto(%s, %v) = %#v, want %#v", d, p, got, want)
			}
		}
	}
}
