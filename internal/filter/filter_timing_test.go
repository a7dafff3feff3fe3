package filter

import (
	"os"
	"testing"
)

func BenchmarkParseSeedSignIn(b *testing.B) {
	src, err := os.ReadFile("testdata/seed/signin_by_user.txt")
	if err != nil {
		b.Fatal(err)
	}
	s := string(src)
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if _, err := Parse(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatchSeedSignIn(b *testing.B) {
	src, err := os.ReadFile("testdata/seed/signin_by_user.txt")
	if err != nil {
		b.Fatal(err)
	}
	e := mustParse(b, string(src))
	doc := loadEvent(b)
	b.ReportAllocs()
	for b.Loop() {
		Match(e, doc)
	}
}

func BenchmarkMatchSimple(b *testing.B) {
	e := mustParse(b, `target.id eq "0oaz9fj21WKqTeaqs1d6" and debugContext.debugData.requestUri co "identify"`)
	doc := loadEvent(b)
	b.ReportAllocs()
	for b.Loop() {
		if !Match(e, doc) {
			b.Fatal("no match")
		}
	}
}

// BenchmarkTokens runs on testdata/event.json, a 2.4 KB sign-in event.
func BenchmarkTokens(b *testing.B) {
	raw, err := os.ReadFile("testdata/event.json")
	if err != nil {
		b.Fatal(err)
	}
	doc := loadEvent(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		Tokens(doc)
	}
}

func BenchmarkDecodeJSON(b *testing.B) {
	raw, err := os.ReadFile("testdata/event.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := DecodeJSON(raw); err != nil {
			b.Fatal(err)
		}
	}
}
