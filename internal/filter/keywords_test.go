package filter

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseKeywords(t *testing.T) {
	long := strings.Repeat("é", 41)
	cases := []struct {
		q    string
		want []string
		err  *Error
	}{
		{q: "", want: nil},
		{q: "   ", want: nil},
		{q: "XOxBw", want: []string{"xoxbw"}},
		{q: " Login\tOKTA\n 10.1.2.3 ", want: []string{"login", "okta", "10.1.2.3"}},
		{q: strings.Repeat("é", 40), want: []string{strings.Repeat("é", 40)}},
		{q: "a b c d e f g h i j", want: strings.Fields("a b c d e f g h i j")},
		{q: "a b c d e f g h i j k", err: &Error{Pos: 20, End: 21, Code: CodeValidation, summary: true,
			Msg: "Api validation failed: 'q': Freeform search cannot contain more than 10 items"}},
		{q: "ok " + long, err: &Error{Pos: 3, End: Pos(3 + len(long)), Code: CodeValidation, summary: true,
			Msg: "Api validation failed: 'q': Freeform search cannot contain items longer than 40 characters"}},
	}
	for _, tc := range cases {
		got, err := ParseKeywords(tc.q)
		if tc.err != nil {
			want := *tc.err
			want.Src = tc.q
			var pe *Error
			if !errors.As(err, &pe) || !reflect.DeepEqual(pe, &want) {
				t.Errorf("ParseKeywords(%q) error = %#v, want %#v", tc.q, err, &want)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseKeywords(%q) = %q, %v; want %q", tc.q, got, err, tc.want)
		}
	}
}

func TestTokensValue(t *testing.T) {
	cases := []struct {
		value string
		want  []string
	}{
		{"XOxBw-2JIRnCFd0gG0GjHAAABjY", []string{"2jirncfd0gg0gjhaaabjy", "xoxbw", "xoxbw-2jirncfd0gg0gjhaaabjy"}},
		{"User login to Okta", []string{"login", "okta", "to", "user", "user login to okta"}},
		{"10.1.2.3", []string{"10.1.2.3"}},
		{"/idp/idx/identify", []string{"/idp/idx/identify", "identify", "idp", "idx"}},
		{"admin@okta.com", []string{"admin@okta.com"}},
		{"{reasons=Anomalous Location, level=MEDIUM}", []string{"anomalous", "level", "location", "medium", "reasons", "{reasons=anomalous location, level=medium}"}},
		{"a--b-", []string{"a", "a--b-", "b"}},
		{"ÉTÉ Straße", []string{"straße", "été", "été straße"}},
		{"2001:db8::1", []string{"2001:db8::1"}},
		{"", nil},
		{"  ", []string{"  "}},
	}
	for _, tc := range cases {
		got := Tokens(map[string]any{"displayMessage": tc.value})
		if len(got) == 0 {
			got = nil
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tc.value, got, tc.want)
		}
	}
}

func TestTokensEvent(t *testing.T) {
	doc := loadEvent(t)
	toks := Tokens(doc)
	if !slices.IsSorted(toks) || len(slices.Compact(slices.Clone(toks))) != len(toks) {
		t.Fatalf("Tokens not sorted and unique: %q", toks)
	}
	has := func(s string) bool { _, ok := slices.BinarySearch(toks, s); return ok }
	for _, want := range []string{"812", "43.6567", "-79.34", "0", "false", "user.session.start", "toronto", "null", "saml_2_0", "c", "zürich", "10.1.2.3"} {
		if !has(want) {
			t.Errorf("token %q missing", want)
		}
	}
	for _, not := range []string{"uuid", "debugdata", "eventtype", "true", "Toronto", ""} {
		if has(not) {
			t.Errorf("unexpected token %q (keys and upper case never become tokens)", not)
		}
	}
}

func TestMatchKeywords(t *testing.T) {
	doc := loadEvent(t)
	cases := []struct {
		q    string
		want bool
	}{
		{"", true},
		{"xoxbw", true},
		{"XOxBw", true},
		{"2JIRnCFd0gG0GjHAAABjY", true},
		{"XOxBw-2JIRnCFd0gG0GjHAAABjY", true},
		{"xoxb", false}, // whole tokens, not substrings
		{"login", true},
		{"login okta", true},
		{"login nope", false},
		{"identify", true},
		{"10.1.2.3", true},
		{"10.1.2", false},
		{"toronto CHROME", true},
		{"812", true},
		{"81", false},
		{"false", true},
		{"eventType", false}, // keys are not searched
		{"ZÜRICH", true},
		{"medium", true},
		{"straße", true},
	}
	for _, tc := range cases {
		kw, err := ParseKeywords(tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if got := MatchKeywords(kw, doc); got != tc.want {
			t.Errorf("MatchKeywords(%q) = %v, want %v", tc.q, got, tc.want)
		}
	}
	// MatchKeywords lower-cases keywords that did not come from ParseKeywords.
	if !MatchKeywords([]string{"LOGIN"}, doc) {
		t.Error("MatchKeywords is case-sensitive on its keywords")
	}
}
