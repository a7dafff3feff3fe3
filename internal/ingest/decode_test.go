package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// ev builds a small valid event.
func ev(uuid string) string {
	return fmt.Sprintf(`{"uuid":%q,"published":"2026-03-02T10:00:00.000Z","eventType":"user.session.start","actor":{"id":"00u1"}}`, uuid)
}

// got renders items as "index:line:uuid" or "index:line!error".
func decodeAll(t *testing.T, in string, max int) []string {
	t.Helper()
	var out []string
	err := Decoder{MaxEventBytes: max}.Decode(strings.NewReader(in), func(it Item) error {
		if it.Err != nil {
			out = append(out, fmt.Sprintf("%d:%d!%s", it.Index, it.Line, it.Err))
		} else {
			out = append(out, fmt.Sprintf("%d:%d:%s", it.Index, it.Line, it.Event.UUID))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return out
}

func TestDecode(t *testing.T) {
	big := `{"uuid":"big","published":"2026-03-02T10:00:00Z","eventType":"x","pad":"` + strings.Repeat("a", 300) + `"}`
	tests := []struct {
		name string
		in   string
		max  int
		want []string // exact items; an error item matches when its text contains the part after '!'
	}{
		{"empty", "", 0, nil},
		{"only space", " \n\t\r\n", 0, nil},
		{"ndjson", ev("a") + "\n" + ev("b") + "\n", 0, []string{"0:1:a", "1:2:b"}},
		{"ndjson no final newline, CRLF", ev("a") + "\r\n" + ev("b"), 0, []string{"0:1:a", "1:2:b"}},
		{"blank lines keep line numbers", "\n\n" + ev("a") + "\n\n  \n" + ev("b") + "\n", 0, []string{"0:3:a", "1:6:b"}},
		{"bad line does not stop the rest", ev("a") + "\n{\"uuid\":\n" + ev("c") + "\n", 0,
			[]string{"0:1:a", "1:2!the event ends early, after 8 bytes", "2:3:c"}},
		{"missing fields", `{"published":"2026-03-02T10:00:00Z","eventType":"x"}` + "\n" +
			`{"uuid":"u","eventType":"x"}` + "\n" + `{"uuid":"u","published":"2026-03-02T10:00:00Z"}`, 0,
			[]string{"0:1!missing uuid", "1:2!missing published", "2:3!missing eventType"}},
		{"bad published", `{"uuid":"u","published":"2026-03-02 10:00","eventType":"x"}`, 0,
			[]string{`0:1!published "2026-03-02 10:00" is not an RFC 3339 time`}},
		{"offset published", `{"uuid":"u","published":"2026-03-02T10:00:00+02:00","eventType":"x"}`, 0, []string{"0:1:u"}},
		{"not an object", "[1]\n\"s\"\n42\nnull\n", 0, nil}, // '[' first: an array of one number
		{"scalars in ndjson", "\"s\"\n42\n", 0, []string{"0:1!not a string", "1:2!not a number"}},
		{"non-string uuid", `{"uuid":7,"published":"2026-03-02T10:00:00Z","eventType":"x"}`, 0, []string{"0:1!uuid must be a string, not a number"}},
		{"empty uuid", `{"uuid":"","published":"2026-03-02T10:00:00Z","eventType":"x"}`, 0, []string{"0:1!uuid is empty"}},
		{"duplicate key", `{"uuid":"a","uuid":"b","published":"2026-03-02T10:00:00Z","eventType":"x"}`, 0, []string{"0:1!uuid appears twice"}},
		{"escaped key and value", `{"\u0075uid":"a\u00e9","published":"2026-03-02T10:00:00Z","eventType":"x"}`, 0, []string{"0:1:aé"}},
		{"nested uuid is not the uuid", `{"actor":{"uuid":"n"},"uuid":"top","published":"2026-03-02T10:00:00Z","eventType":"x"}`, 0, []string{"0:1:top"}},
		{"trailing data on a line", ev("a") + " x\n", 0, []string{"0:1!invalid JSON"}},
		{"line over the limit", ev("a") + "\n" + big + "\n" + ev("c"), 200, []string{"0:1:a", "1:2!over the 200-byte limit", "2:3:c"}},
		{"array", "[" + ev("a") + ",\n " + ev("b") + "]\n", 0, []string{"0:0:a", "1:0:b"}},
		{"empty array", " [ ] ", 0, nil},
		{"array with a bad element", "[" + ev("a") + `,{"uuid":1},` + ev("c") + "]", 0,
			[]string{"0:0:a", "1:0!uuid must be a string", "2:0:c"}},
		{"array element over the limit", "[" + big + "," + ev("b") + "]", 200, []string{"0:0!over the 200-byte limit", "1:0:b"}},
		{"array missing comma", "[" + ev("a") + " " + ev("b") + "]", 0, []string{"0:0:a", "1:0!expected ',' or ']' after an event, found '{'"}},
		{"array not closed", "[" + ev("a") + ",", 0, []string{"0:0:a", "1:0!the array is not closed"}},
		{"array truncated in an event", "[" + ev("a") + `,{"uuid":"b`, 0, []string{"0:0:a", "1:0!unexpected end of input inside an event"}},
		{"array mismatched bracket", `[{"a":[1}]`, 0, []string{"0:0!'}' does not close '['"}},
		{"array trailing comma", "[" + ev("a") + ",]", 0, []string{"0:0:a", "1:0!expected an event, found ']'"}},
		{"data after the array", "[" + ev("a") + "] x", 0, []string{"0:0:a", "1:0!unexpected 'x' after the end of the array"}},
		{"byte order mark", "\xef\xbb\xbf" + ev("a"), 0, []string{"0:1:a"}},
		{"brackets inside strings", `[{"uuid":"a]}","published":"2026-03-02T10:00:00Z","eventType":"x\"}"}]`, 0, []string{"0:0:a]}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decodeAll(t, tt.in, tt.max)
			if tt.name == "not an object" {
				// "[1]" makes the whole input an array; what follows is trailing data.
				if len(got) != 2 || !strings.Contains(got[0], "not a number") || !strings.Contains(got[1], "after the end of the array") {
					t.Fatalf("got %q", got)
				}
				return
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d items %q, want %q", len(got), got, tt.want)
			}
			for i := range got {
				w := tt.want[i]
				if pre, msg, isErr := strings.Cut(w, "!"); isErr {
					if !strings.HasPrefix(got[i], pre+"!") || !strings.Contains(got[i], msg) {
						t.Errorf("item %d = %q, want %q", i, got[i], w)
					}
				} else if got[i] != w {
					t.Errorf("item %d = %q, want %q", i, got[i], w)
				}
			}
		})
	}
}

func TestDecodeKeepsEventLosslessAndCompact(t *testing.T) {
	in := "{ \"uuid\" : \"a\",\n \"published\":\"2026-03-02T10:00:00.123456789Z\", \"eventType\":\"x\", \"n\": 1.50e3, \"s\":\"\\u00e9 \\\"q\\\"\" }"
	var raw []byte
	err := Decode(strings.NewReader(strings.ReplaceAll(in, "\n", " ")), func(it Item) error {
		if it.Err != nil {
			t.Fatal(it.Err)
		}
		if got, want := it.Event.Published.Nanosecond(), 123456789; got != want {
			t.Errorf("nanoseconds = %d, want %d", got, want)
		}
		raw = it.Event.Raw
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	json.Compact(&want, []byte(strings.ReplaceAll(in, "\n", " ")))
	if !bytes.Equal(raw, want.Bytes()) {
		t.Errorf("raw = %s\nwant  %s", raw, want.Bytes())
	}
	if bytes.Contains(raw, []byte(": ")) || !bytes.Contains(raw, []byte(`1.50e3`)) || !bytes.Contains(raw, []byte(`\u00e9`)) {
		t.Errorf("raw is not the compacted input: %s", raw)
	}
}

func TestDecodeStopsOnCallbackError(t *testing.T) {
	stop := fmt.Errorf("enough")
	n := 0
	err := Decode(strings.NewReader(ev("a")+"\n"+ev("b")+"\n"+ev("c")), func(Item) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Fatalf("err = %v after %d items, want %v after 2", err, n, stop)
	}
}

func TestParseEventNamesEveryMissingField(t *testing.T) {
	for in, want := range map[string]string{
		`{}`:                           "missing uuid, published and eventType",
		`{"uuid":"a"}`:                 "missing published and eventType",
		`{"uuid":"a","eventType":"x"}`: "missing published",
		`{"uuid":"a","eventType":1}`:   "eventType must be a string, not a number",
	} {
		if _, err := ParseEvent([]byte(in)); err == nil || err.Error() != want {
			t.Errorf("ParseEvent(%s) = %v, want %q", in, err, want)
		}
	}
}

func TestParseEventOwnsExactlyItsBytes(t *testing.T) {
	in := []byte(ev("a"))
	e, err := ParseEvent(in)
	if err != nil {
		t.Fatal(err)
	}
	if cap(e.Raw) > 2*len(e.Raw) || string(e.Raw) != string(in) {
		t.Errorf("Raw has len %d cap %d: a one-off event must not pin a slab", len(e.Raw), cap(e.Raw))
	}
	in[2] = 'X'
	if e.Raw[2] == 'X' {
		t.Error("Raw aliases the input")
	}
}
