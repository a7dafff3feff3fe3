package event

import (
	"encoding/json"
	"os"
	"testing"
)

func sampleEvent(b *testing.B) []byte {
	raw, err := os.ReadFile("testdata/okta-sample.json")
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// BenchmarkDecode decodes Okta's sample event (2 KB, every object level).
func BenchmarkDecode(b *testing.B) {
	raw := sampleEvent(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode encodes the decoded sample event.
func BenchmarkEncode(b *testing.B) {
	raw := sampleEvent(b)
	e, err := Decode(raw)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := json.Marshal(e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeAny is the baseline: encoding/json into map[string]any,
// which is lossless in values but gives no typed access.
func BenchmarkDecodeAny(b *testing.B) {
	raw := sampleEvent(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		var v map[string]any
		if err := json.Unmarshal(raw, &v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarshalJSON writes the event without encoding/json's second
// validation pass (what json.Marshal adds on top).
func BenchmarkMarshalJSON(b *testing.B) {
	raw := sampleEvent(b)
	e, err := Decode(raw)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := e.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}
