package filter

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse fails on a panic, on an error that is not a positioned *Error,
// and on a parsed filter whose normal form does not parse back to the same
// tree and print identically.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/seed/*.txt")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(string(b))
		}
	}
	for _, tc := range testExpr {
		f.Add(tc.input)
	}
	for _, tc := range invalidCases {
		f.Add(tc.in)
	}
	raw, err := os.ReadFile("testdata/event.json")
	if err != nil {
		f.Fatal(err)
	}
	doc, err := DecodeJSON(raw)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q): error %T is not *Error: %v", src, err, err)
			}
			if pe.Pos < 0 || pe.End < pe.Pos || int(pe.End) > len(src) || pe.Src != src || pe.Code == "" {
				t.Fatalf("Parse(%q): bad error %#v", src, pe)
			}
			_ = pe.Error()
			_ = pe.Caret()
			return
		}
		Walk(e, func(x Expr) bool {
			if x.Pos() < 0 || x.End() > Pos(len(src)) || x.Pos() >= x.End() {
				t.Fatalf("Parse(%q): node %s has range [%d:%d]", src, x, x.Pos(), x.End())
			}
			return true
		})
		normal := e.String()
		e2, err := Parse(normal)
		if err != nil {
			t.Fatalf("Parse(%q): normal form %q does not parse: %v", src, normal, err)
		}
		if shape(e2) != shape(e) {
			t.Fatalf("Parse(%q): normal form %q parses to\n%s\nwant\n%s", src, normal, shape(e2), shape(e))
		}
		if again := e2.String(); again != normal {
			t.Fatalf("Parse(%q): normal form not stable: %q then %q", src, normal, again)
		}
		if Match(e, doc) != Match(e2, doc) {
			t.Fatalf("Parse(%q): the normal form matches differently", src)
		}
	})
}

// FuzzMatch evaluates fuzzed filters on fuzzed events and checks the
// identities the semantics promise: ne is not eq, eq null is not pr,
// ne null is pr, and no panic on any JSON shape.
func FuzzMatch(f *testing.F) {
	raw, err := os.ReadFile("testdata/event.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(raw), `target.id eq "0oaz9fj21WKqTeaqs1d6"`)
	f.Add(`{"target":[{"id":[1,"1",null,[true]]}],"published":"2026-01-01T00:00:00Z"}`, `target.id ge 1`)
	f.Add(`{"published":"2026-01-01T00:00:00.5+01:00"}`, `published lt "2026-01-01T00:00:00Z"`)
	f.Add(`{"debugContext":{"debugData":{"x":""}}}`, `debugContext.debugData.x pr`)
	f.Fuzz(func(t *testing.T, js, src string) {
		doc, err := DecodeJSON([]byte(js))
		if err != nil {
			return
		}
		e, err := Parse(src)
		if err != nil {
			return
		}
		Walk(e, func(x Expr) bool {
			c, ok := x.(*Compare)
			if !ok {
				return true
			}
			got := Match(c, doc)
			flip := func(op Op, v Value) bool {
				d := *c
				d.Op, d.Value = op, v
				return Match(&d, doc)
			}
			switch {
			case c.Op == OpNe:
				if got != !flip(OpEq, c.Value) {
					t.Fatalf("%s is not the negation of eq on %s", c, js)
				}
			case c.Op == OpEq && c.Value.Kind == Null:
				if got != !flip(OpPr, Value{}) {
					t.Fatalf("%s is not not-pr on %s", c, js)
				}
			case c.Op == OpGe && c.Value.Kind != Null && c.Value.Kind != Bool && !isPublished(c.Path):
				// Some value is ≥ v iff some value is > v or = v.
				if got != (flip(OpGt, c.Value) || flip(OpEq, c.Value)) {
					t.Fatalf("%s is not gt or eq on %s", c, js)
				}
			}
			return true
		})
		Match(e, doc)
		MatchKeywords(Tokens(doc), doc)
	})
}
