package event

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// FuzzDecode: Decode never panics, and whatever it accepts re-encodes to the
// same JSON value.
func FuzzDecode(f *testing.F) {
	if b, err := os.ReadFile("testdata/okta-sample.json"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{`{}`, `{"uuid":null}`, `{"target":[{"id":"a","x":[1]}]}`,
		`{"client":{"geographicalContext":{"geolocation":{"lat":1e2}}}}`, `{"debugContext":{"debugData":{"a":{"b":[null]}}}}`,
		`{"securityContext":{"risk":{"reasons":[null]}}}`, `{"\u0075uid":"\ud83d\ude80"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		e, err := Decode(in)
		// Decode accepts exactly the JSON objects encoding/json accepts.
		trimmed := bytes.TrimLeft(in, " \t\r\n")
		if isObject := json.Valid(in) && len(trimmed) > 0 && trimmed[0] == '{'; isObject != (err == nil) {
			t.Fatalf("Decode error %v, but json.Valid = %v\nin: %q", err, json.Valid(in), in)
		}
		if err != nil {
			return
		}
		out, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("Marshal after Decode: %v\nin: %q", err, in)
		}
		var ref any
		if json.Unmarshal(in, &ref) != nil {
			// Valid JSON that a float64 cannot hold (1e400): no reference value.
			return
		}
		if !jsonEqual(t, in, out) {
			t.Fatalf("round trip changed the value\n in: %q\nout: %q", in, out)
		}
	})
}
