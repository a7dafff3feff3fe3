package duckdb

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
)

// TestKeywordPrefilterUnsafeText: events whose text differs from their
// lower-cased values in ways the q prefilter must not miss (escapes, runes
// that lower-case into ASCII, markers next to them) are found exactly as
// filter.MatchKeywords finds them.
func TestKeywordPrefilterUnsafeText(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "events.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	values := []string{
		"\"\u212Aey\"",        // Kelvin sign, as UTF-8: lower-cases to "key"
		"\"\u0130d\"",         // dotted capital I, as UTF-8: lower-cases to "id"
		`"\u212Aey \u0130d"`,  // the same as JSON escapes
		`"S\u00e3o \u004Bey"`, // escapes of ASCII and non-ASCII letters
		`"a\u0062c"`,          // an escaped ASCII letter in a plain value
		`"ca\"se"`,            // an escaped quote
		"\"São Kelvin\"",      // non-ASCII but nothing that maps to ASCII
		"\"ǅ@x.io\"",          // a title-case digraph
		`"\u0001"`,            // the marker escape itself: kept whole
	}
	var evs []store.Event
	var docs []any
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, v := range values {
		pub := base.Add(time.Duration(i) * time.Second)
		uuid := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		raw := fmt.Sprintf(`{"uuid":%q,"published":%q,"eventType":"user.session.start","actor":{"id":"00u1","type":"User","alternateId":"x@example.com"},"debugContext":{"debugData":{"v":%s,"w":[%s]}}}`,
			uuid, pub.Format(publishedFormat), v, v)
		evs = append(evs, store.Event{UUID: uuid, Published: pub, Raw: []byte(raw)})
		doc, err := filter.DecodeJSON([]byte(raw))
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		docs = append(docs, doc)
	}
	ctx := context.Background()
	if _, err := s.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for _, kw := range []string{"key", "id", "abc", "são", "sao", "ca\"se", "kelvin", "ǆ@x.io", "ey", "x@example.com"} {
		want := 0
		for _, d := range docs {
			if filter.MatchKeywords([]string{kw}, d) {
				want++
			}
		}
		got, err := s.Query(ctx, store.Query{Keywords: []string{kw}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want {
			t.Errorf("q=%q: %d events, filter.MatchKeywords says %d", kw, len(got), want)
		}
	}
}
