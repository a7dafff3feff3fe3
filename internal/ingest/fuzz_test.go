package ingest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzDecode checks that the decoder never panics and accounts for every
// byte: each byte of the input lies in exactly one item's span, or is white
// space or array punctuation between items, or follows the syntax error that
// stopped an array. Every accepted event is the compacted bytes of its span.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"", "\n", ev("a") + "\n" + ev("b"), "[" + ev("a") + "," + ev("b") + "]",
		"[", "[]", "[,]", `[{"a":[1}]`, "[1,2", `{"uuid":"a"}` + "\n\r\n", "\xef\xbb\xbf[]",
		`["\"]",{}]`, "x\ny\n", "[" + ev("a") + "] x",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		const max = 64 // small, so the limit is exercised too
		covered := make([]bool, len(in))
		lastEnd := int64(0)
		next := 0
		stopped := false
		err := Decoder{MaxEventBytes: max}.Decode(bytes.NewReader(in), func(it Item) error {
			if stopped {
				t.Fatalf("item after a syntax error: %+v", it)
			}
			if it.Index != next {
				t.Fatalf("index %d, want %d", it.Index, next)
			}
			next++
			if it.Offset < lastEnd || it.Offset > int64(len(in)) {
				t.Fatalf("item %d starts at %d, before the previous end %d or past the input", it.Index, it.Offset, lastEnd)
			}
			end := it.End
			if IsSyntaxError(it.Err) {
				stopped = true
				end = int64(len(in))
			}
			if end < it.Offset || end > int64(len(in)) {
				t.Fatalf("item %d spans [%d,%d) in %d bytes", it.Index, it.Offset, end, len(in))
			}
			for i := it.Offset; i < end; i++ {
				covered[i] = true
			}
			lastEnd = end
			span := in[it.Offset:end]
			if it.Err == nil {
				var want bytes.Buffer
				if err := json.Compact(&want, span); err != nil {
					t.Fatalf("accepted an event that is not JSON: %q", span)
				}
				if !bytes.Equal(want.Bytes(), it.Event.Raw) {
					t.Fatalf("raw %q is not the compacted span %q", it.Event.Raw, span)
				}
				if it.Event.UUID == "" || it.Event.Published.IsZero() {
					t.Fatalf("accepted event without uuid or published: %q", span)
				}
			} else if it.Err.Error() == "" {
				t.Fatal("rejection without a message")
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		array := len(bytes.TrimLeft(bytes.TrimPrefix(in, []byte("\xef\xbb\xbf")), " \t\r\n")) > 0 &&
			bytes.TrimLeft(bytes.TrimPrefix(in, []byte("\xef\xbb\xbf")), " \t\r\n")[0] == '['
		for i, c := range in {
			if covered[i] || strings.IndexByte(" \t\r\n", c) >= 0 {
				continue
			}
			if array && (c == '[' || c == ',' || c == ']') {
				continue
			}
			if i < 3 && bytes.HasPrefix(in, []byte("\xef\xbb\xbf")) {
				continue
			}
			t.Fatalf("byte %d (%q) of %q is in no item", i, c, in)
		}
	})
}
