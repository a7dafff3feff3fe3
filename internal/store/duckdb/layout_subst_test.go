package duckdb

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/idlog/idlog/internal/event"
)

// substText must give what strings.ReplaceAll in turn gives.
func replaceEach(text string, subs []subst, vals []string) string {
	for n, s := range subs {
		if plainValue(vals[n]) {
			text = strings.ReplaceAll(text, `"`+vals[n]+`"`, s.marker)
		}
	}
	return text
}

var testSubs = []subst{{marker: `"\u0001A"`}, {marker: `"\u0001B"`}, {marker: `"\u0001C"`}}

func checkSubstText(t *testing.T, text string, vals []string) {
	t.Helper()
	want := replaceEach(text, testSubs, vals)
	got, replaced := substText(text, testSubs, append([]string(nil), vals...))
	if got != want || replaced != (got != text) {
		t.Errorf("substText(%q, %q) = %q, want %q", text, vals, got, want)
	}
	// substMember gives the same on the walked text, and says when a marker
	// took a key's place.
	d, err := event.Walk([]byte(text))
	if err != nil {
		return
	}
	text = strings.Trim(text, " \t\r\n") // the node's text
	want = replaceEach(text, testSubs, vals)
	got, asKey := substMember(d, 0, testSubs, append([]string(nil), vals...))
	if got != want || asKey != (got != text && markerAsKey(got)) {
		t.Errorf("substMember(%q, %q) = %q, %v, want %q", text, vals, got, asKey, want)
	}
}

func TestSubstText(t *testing.T) {
	cases := []struct {
		text string
		vals []string
	}{
		{`{"id":"abcd","name":"abcd x","alt":"abcd"}`, []string{"abcd", "abcd x", ""}},
		{`{"a":"wxyz","b":["wxyz","qq"]}`, []string{"wxyz", "wxyz", "qq"}},
		{`{"wxyz":"wxyz"}`, []string{"wxyz", "", ""}},
		{`{"a":"x\"wxyz","b":"wxyz"}`, []string{"wxyz", "", ""}},
		{`{"a":"x\\","b":"wxyz"}`, []string{"wxyz", "", ""}},
		{`{"a":"p","b":"q"}`, []string{`p","b":"q`, "", ""}},
		{`[{"a":["b"]},{"c":1}]`, []string{"]},{", "", ""}},
		{`"only one"`, []string{"only one", "only", ""}},
		{`{"a":"ab:cd","b":"ab:cd"}`, []string{"ab:cd", "", ""}},
		{`{"a":"éèêë"}`, []string{"éèêë", "", ""}},
		{`{}`, []string{"", "", ""}},
		{`{"abcd":"abcd","x":{"abcd":1}}`, []string{"abcd", "", ""}},
		{` { "a" : "wxyz" , "b" : [ "wxyz" ] } `, []string{"wxyz", "", ""}},
		{`{"a":[{"b":"x"}],"c":"y"}`, []string{"}],", "", ""}},
		{`{"a":"x\"wxyz\"","b":"wxyz"}`, []string{"wxyz", "", ""}},
	}
	for _, c := range cases {
		checkSubstText(t, c.text, c.vals)
	}
}

func FuzzSubstText(f *testing.F) {
	f.Add(`{"id":"abcd","x":["abcd","efgh"]}`, "abcd", "efgh", "ab")
	f.Fuzz(func(t *testing.T, text, a, b, c string) {
		if _, err := event.Walk([]byte(text)); err != nil {
			return // member texts are valid JSON
		}
		checkSubstText(t, text, []string{a, b, c})
	})
}

func TestIDIs(t *testing.T) {
	cases := []struct {
		el, id string
		want   bool
	}{
		{`{"id":"abcd","type":"User"}`, "abcd", true},
		{`{"id":"abce"}`, "abcd", false},
		{`{"ID":"abcd"}`, "abcd", false},
		{`{"id":"abcd","Id":"x"}`, "abcd", false},
		{`{"id":"abcd","id":"abcd"}`, "abcd", false},
		{`{"type":"x"}`, "abcd", false},
		{`"abcd"`, "abcd", false},
		{`{"id":"a\"b"}`, `a\"b`, false},
		{`{"İd":"x","id":"abcd"}`, "abcd", false},
		{`{"id" : "abcd"}`, "abcd", true},
	}
	for _, c := range cases {
		d, err := event.Walk([]byte(c.el))
		if err != nil {
			t.Fatal(err)
		}
		if got := idIs(d, 0, c.id); got != c.want {
			t.Errorf("idIs(%s, %q) = %v, want %v", c.el, c.id, got, c.want)
		}
		// A yes must be encoding/json's yes.
		var el struct {
			ID any `json:"id"`
		}
		if c.want && (json.Unmarshal([]byte(c.el), &el) != nil || el.ID != c.id) {
			t.Errorf("idIs(%s, %q): encoding/json disagrees", c.el, c.id)
		}
	}
}
