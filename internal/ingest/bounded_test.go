package ingest

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"testing"
)

// repeatReader yields prefix, then n bytes of fill, then suffix, without
// holding the n bytes anywhere.
type repeatReader struct {
	prefix, suffix []byte
	fill           byte
	n              int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	switch {
	case len(r.prefix) > 0:
		k := copy(p, r.prefix)
		r.prefix = r.prefix[k:]
		return k, nil
	case r.n > 0:
		k := int(min(int64(len(p)), r.n))
		for i := range p[:k] {
			p[i] = r.fill
		}
		r.n -= int64(k)
		return k, nil
	case len(r.suffix) > 0:
		k := copy(p, r.suffix)
		r.suffix = r.suffix[k:]
		return k, nil
	}
	return 0, io.EOF
}

// TestHugeEventCostsNoMemory feeds a 64 MiB event, in NDJSON and in an
// array, and checks that it is rejected with its size while the decoder
// allocates about the limit, not the event.
func TestHugeEventCostsNoMemory(t *testing.T) {
	const huge = 64 << 20
	tests := []struct {
		name string
		r    func() io.Reader
	}{
		{"ndjson", func() io.Reader {
			return &repeatReader{prefix: []byte(ev("a") + "\n" + `{"uuid":"big","pad":"`), fill: 'x', n: huge,
				suffix: []byte(`"}` + "\n" + ev("c") + "\n")}
		}},
		{"array", func() io.Reader {
			return &repeatReader{prefix: []byte("[" + ev("a") + `,{"uuid":"big","pad":"`), fill: 'x', n: huge,
				suffix: []byte(`"},` + ev("c") + "]")}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			var got []string
			err := Decode(tt.r(), func(it Item) error {
				if it.Err != nil {
					got = append(got, it.Err.Error())
				} else {
					got = append(got, it.Event.UUID)
				}
				return nil
			})
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 || got[0] != "a" || got[2] != "c" || !strings.Contains(got[1], "bytes, over the 1 MiB limit") {
				t.Fatalf("items %q", got)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Errorf("decoding a %d MiB event allocated %d MiB", huge>>20, alloc>>20)
			}
		})
	}
}

// TestDecodeReadsAsItGoes checks that events reach the callback before the
// input ends: a reader that never ends still yields its first events.
func TestDecodeReadsAsItGoes(t *testing.T) {
	line := []byte(ev("x") + "\n")
	r := &repeatReader{prefix: bytes.Repeat(line, 1000), n: 1 << 62, fill: ' '}
	stop := io.ErrUnexpectedEOF
	n := 0
	err := Decode(r, func(Item) error {
		if n++; n == 1000 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Fatalf("err = %v after %d events, want the callback's stop", err, n)
	}
}
