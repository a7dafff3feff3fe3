package event

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// prune is the reference for DecodeSelected: the whole tree from
// encoding/json, cut down to what sel names.
func prune(v any, sel Selection) any {
	if sel == nil {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, sub := range sel {
			if y, ok := x[k]; ok {
				out[k] = prune(y, sub)
			}
		}
		return out
	case []any:
		out := []any{}
		for _, y := range x {
			out = append(out, prune(y, sel))
		}
		return out
	}
	return v
}

func decodeAny(t *testing.T, raw []byte) (any, error) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, &SyntaxError{Msg: "trailing data"}
	}
	return v, nil
}

func TestDecodeSelected(t *testing.T) {
	var docs [][]byte
	for _, f := range []string{"testdata/okta-sample.json", "testdata/full-event.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b)
	}
	docs = append(docs,
		[]byte(`{"target":[{"id":"a","detailEntry":{"x":1,"y":[2]}},{"id":"b"},"odd",[{"id":"c","z":1}]],"eventType":"e"}`),
		[]byte(`{"client":null,"outcome":"flat","eventType":"a","eventType":"b"}`),
		[]byte(` {"actor":{"alternateId":"\u00e9\ud83d\ude80","id":1.5e3}} `),
		[]byte(`{}`),
		// Escaped member names, one repeating another (the last wins),
		// and a name that is not UTF-8.
		[]byte(`{"event\u0054ype":"x","outcome":{"res\u0075lt":"A","result":"B"},"actor":{"alternateId":"a"},"act\u006fr":{"id":"b"}}`),
		[]byte("{\"eventType\xff\":\"bad\",\"eventType\":\"good\",\"client\":{\"ip\xffAddress\":1}}"),
	)
	sels := []Selection{
		{},
		{"eventType": nil},
		{"eventType": nil, "uuid": nil, "published": nil, "outcome": {"result": nil}},
		{"actor": {"alternateId": nil}, "client": {"ipAddress": nil, "geographicalContext": {"country": nil}}},
		{"target": {"id": nil, "detailEntry": nil}, "debugContext": {"debugData": {"behaviors": nil, "risk": nil}}},
		{"outcome": {"result": nil}, "client": {"nothere": nil}, "missing": nil},
		{"eventType\ufffd": nil, "client": {"ip\ufffdAddress": nil}, "actor": {"id": nil}},
	}
	for i, raw := range docs {
		whole, err := decodeAny(t, raw)
		if err != nil {
			t.Fatalf("doc %d: %v", i, err)
		}
		for j, sel := range sels {
			got, err := DecodeSelected(raw, sel)
			if err != nil {
				t.Fatalf("doc %d, selection %d: %v", i, j, err)
			}
			if want := prune(whole, sel); !reflect.DeepEqual(any(got), want) {
				t.Errorf("doc %d, selection %d:\n got %#v\nwant %#v", i, j, got, want)
			}
		}
	}
}

// TestDecodeSelectedRefuses: what is not one JSON object is an error, even
// where the bad part lies in a member the selection skips.
func TestDecodeSelectedRefuses(t *testing.T) {
	sel := Selection{"eventType": nil}
	for _, in := range []string{
		``, `[]`, `"x"`, `{"eventType":"a"} {}`, `{"eventType":"a"}x`, `{"eventType":"a","b":tru}`,
		`{"eventType":"a","b":{"c":[1,}}`, `{"eventType":"a","b":"\x"}`, `{"eventType":"a"`, "{\"b\":\"\x01\"}",
		`{"eventType":"a","b":01}`, "{\"eventType\":\"a\"}\x00", `{"eventType":"a","\x":1}`, "{\"ev\x01\":1}",
		`{"eventType" "a"}`, `{"eventType":"a",}`, `{"eventType":"a";"b":1}`, `{"client":{"ip":1,}}`,
	} {
		if m, err := DecodeSelected([]byte(in), sel); err == nil {
			t.Errorf("%q: accepted as %v", in, m)
		} else if _, ok := err.(*SyntaxError); !ok {
			t.Errorf("%q: error %T, want *SyntaxError", in, err)
		}
	}
}
