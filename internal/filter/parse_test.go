package filter

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func str(s string) Value            { return Value{Kind: String, Str: s} }
func num(t string, f float64) Value { return Value{Kind: Number, Num: f, Text: t} }

// testExpr maps inputs to full trees, positions included, or to the exact
// error. Positions are byte offsets.
var testExpr = []struct {
	input string
	want  Expr
	err   *Error
}{
	{
		input: `eventType eq "user.session.start"`,
		want: &Compare{Path: Path{"eventType"}, Op: OpEq, Value: str("user.session.start"),
			From: 0, To: 33, PathEnd: 9, OpPos: 10, ValPos: 13},
	},
	{
		input: `actor.id PR`,
		want:  &Compare{Path: Path{"actor", "id"}, Op: OpPr, From: 0, To: 11, PathEnd: 8, OpPos: 9, ValPos: 11},
	},
	{
		input: "client.geographicalContext.geolocation.lat\tGE -1.5e2",
		want: &Compare{Path: Path{"client", "geographicalContext", "geolocation", "lat"}, Op: OpGe, Value: num("-1.5e2", -150),
			From: 0, To: 52, PathEnd: 42, OpPos: 43, ValPos: 46},
	},
	{
		input: `securityContext.isProxy eq TRUE or severity ne null`,
		want: &Logical{
			Left:  &Compare{Path: Path{"securityContext", "isProxy"}, Op: OpEq, Value: Value{Kind: Bool, Bool: true}, From: 0, To: 31, PathEnd: 23, OpPos: 24, ValPos: 27},
			Right: &Compare{Path: Path{"severity"}, Op: OpNe, Value: Value{Kind: Null}, From: 35, To: 51, PathEnd: 43, OpPos: 44, ValPos: 47},
		},
	},
	{
		// and binds tighter than or; not tighter than and.
		input: `uuid eq "a" or not uuid eq "b" and uuid eq "c"`,
		want: &Logical{
			Left: &Compare{Path: Path{"uuid"}, Op: OpEq, Value: str("a"), From: 0, To: 11, PathEnd: 4, OpPos: 5, ValPos: 8},
			Right: &Logical{And: true,
				Left:  &Not{From: 15, X: &Compare{Path: Path{"uuid"}, Op: OpEq, Value: str("b"), From: 19, To: 30, PathEnd: 23, OpPos: 24, ValPos: 27}},
				Right: &Compare{Path: Path{"uuid"}, Op: OpEq, Value: str("c"), From: 35, To: 46, PathEnd: 39, OpPos: 40, ValPos: 43},
			},
		},
	},
	{
		input: "NOT\n(\r\nuuid sw \"x\")",
		want: &Not{From: 0, X: &Paren{From: 4, To: 19,
			X: &Compare{Path: Path{"uuid"}, Op: OpSw, Value: str("x"), From: 7, To: 18, PathEnd: 11, OpPos: 12, ValPos: 15}}},
	},
	{
		input: `not not uuid pr`,
		want:  &Not{From: 0, X: &Not{From: 4, X: &Compare{Path: Path{"uuid"}, Op: OpPr, From: 8, To: 15, PathEnd: 12, OpPos: 13, ValPos: 15}}},
	},
	{
		input: `displayMessage eq "\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"`,
		want: &Compare{Path: Path{"displayMessage"}, Op: OpEq, Value: str("\"\\/\b\f\n\r\t\u00e9\U0001F600"),
			From: 0, To: 54, PathEnd: 14, OpPos: 15, ValPos: 18},
	},
	{
		input: "eventType\u00a0eq\u00a0\"x\"",
		want:  &Compare{Path: Path{"eventType"}, Op: OpEq, Value: str("x"), From: 0, To: 18, PathEnd: 9, OpPos: 11, ValPos: 15},
	},
	{
		input: `published gt "2026-03-02T00:00:00Z"`,
		want:  &Compare{Path: Path{"published"}, Op: OpGt, Value: str("2026-03-02T00:00:00Z"), From: 0, To: 35, PathEnd: 9, OpPos: 10, ValPos: 13},
	},
	{
		input: `display_message eqq "Create okta user"`,
		err: &Error{Pos: 16, End: 19, Code: CodeInvalidFilter, Msg: "Unrecognized attribute operator 'eqq'",
			Expected: "eq,ne,co,sw,ew,pr,gt,ge,lt,le"},
	},
	{
		input: `some_invalid_field eq "x"`,
		err:   &Error{Pos: 0, End: 18, Code: CodeInvalidFilter, Msg: "field is not valid: some_invalid_field", summary: true},
	},
	{
		input: `eventType eq "x" and debugContext.debugData.url co "/api"`,
		want: &Logical{And: true,
			Left:  &Compare{Path: Path{"eventType"}, Op: OpEq, Value: str("x"), From: 0, To: 16, PathEnd: 9, OpPos: 10, ValPos: 13},
			Right: &Compare{Path: Path{"debugContext", "debugData", "url"}, Op: OpCo, Value: str("/api"), From: 21, To: 57, PathEnd: 47, OpPos: 48, ValPos: 51},
		},
	},
	{
		input: `target.id co 5`,
		err: &Error{Pos: 10, End: 14, Code: CodeUnsupported, summary: true,
			Msg: "The supplied combination of operator and field is not currently supported. Operator: co, Field: target.id"},
	},
	{
		input: `severity gt null`,
		err: &Error{Pos: 9, End: 16, Code: CodeUnsupported, summary: true,
			Msg: "The supplied combination of operator and field is not currently supported. Operator: gt, Field: severity"},
	},
	{
		input: `published sw "2026"`,
		err: &Error{Pos: 10, End: 19, Code: CodeUnsupported, summary: true,
			Msg: "The supplied combination of operator and field is not currently supported. Operator: sw, Field: published"},
	},
	{
		input: `published ge "2026-03-02"`,
		err: &Error{Pos: 13, End: 25, Code: CodeInvalidFilter,
			Msg: `published needs an RFC 3339 time in double quotes such as "2026-03-02T00:00:00Z", not "2026-03-02"`},
	},
	{
		input: `(eventType eq "x"`,
		err:   &Error{Pos: 0, End: 1, Code: CodeInvalidFilter, Msg: "Unclosed '(': the filter ends before its ')'"},
	},
	{
		input: `eventType eq "x")`,
		err:   &Error{Pos: 16, End: 17, Code: CodeInvalidFilter, Msg: "Unexpected ')'", Expected: expectEnd},
	},
	{
		input: `target[type eq "User"].id pr`,
		err:   &Error{Pos: 6, End: 7, Code: CodeInvalidFilter, Msg: msgValuePath},
	},
	{
		input: `uuid eq "abc`,
		err:   &Error{Pos: 8, End: 12, Code: CodeInvalidFilter, Msg: "Unterminated string"},
	},
	{
		input: `uuid eq "a\x"`,
		err:   &Error{Pos: 10, End: 12, Code: CodeInvalidFilter, Msg: `Invalid escape '\x' in string`},
	},
	{
		input: `uuid eq 01`,
		err:   &Error{Pos: 8, End: 10, Code: CodeInvalidFilter, Msg: "Invalid number '01'"},
	},
	{
		input: `uuid eq`,
		err:   &Error{Pos: 7, End: 7, Code: CodeInvalidFilter, Msg: "Missing value after 'eq'", Expected: expectValue},
	},
	{
		input: "uuid eq \n\t",
		err:   &Error{Pos: 7, End: 7, Code: CodeInvalidFilter, Msg: "Missing value after 'eq'", Expected: expectValue},
	},
	{
		input: `uuid eq "a" and`,
		err:   &Error{Pos: 15, End: 15, Code: CodeInvalidFilter, Msg: "Missing expression after 'and'", Expected: expectStart},
	},
	{
		input: ``,
		err:   &Error{Pos: 0, End: 0, Code: CodeInvalidFilter, Msg: "Empty filter", Expected: expectStart},
	},
	{
		input: `eventType in ["a", "b"]`,
		want: &Paren{From: 0, To: 23, X: &Logical{
			Left:  &Compare{Path: Path{"eventType"}, Op: OpEq, Value: str("a"), From: 0, To: 17, PathEnd: 9, OpPos: 10, ValPos: 14},
			Right: &Compare{Path: Path{"eventType"}, Op: OpEq, Value: str("b"), From: 0, To: 22, PathEnd: 9, OpPos: 10, ValPos: 19},
		}},
	},
	{
		input: `target.0.displayName eq "x"`,
		want: &Compare{Path: Path{"target", "0", "displayName"}, Op: OpEq, Value: str("x"),
			From: 0, To: 27, PathEnd: 20, OpPos: 21, ValPos: 24},
	},
	{
		input: `uuid eq user`,
		err:   &Error{Pos: 8, End: 12, Code: CodeInvalidFilter, Msg: "Unrecognized value 'user' (strings need double quotes)", Expected: expectValue},
	},
}

func TestParse(t *testing.T) {
	for _, tc := range testExpr {
		t.Run(tc.input, func(t *testing.T) {
			got, err := Parse(tc.input)
			if tc.err != nil {
				want := *tc.err
				want.Src = tc.input
				var pe *Error
				if !errors.As(err, &pe) {
					t.Fatalf("got %v, %v; want error %v", got, err, &want)
				}
				if !reflect.DeepEqual(pe, &want) {
					t.Fatalf("error\n got %#v\nwant %#v", pe, &want)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("tree\n got %s\nwant %s", dump(got), dump(tc.want))
			}
			checkPositions(t, tc.input, got)
		})
	}
}

// invalidCases: every input is refused with a positioned *Error, never a
// panic. The wanted substring keeps each case honest about why it fails.
var invalidCases = []struct{ in, msg string }{
	{``, "Empty filter"},
	{`   `, "Empty filter"},
	{"\n\t", "Empty filter"},
	{`(`, "Unexpected end of filter"},
	{`)`, "Unexpected ')'"},
	{`()`, "Empty parentheses"},
	{`((uuid pr)`, "Unclosed '('"},
	{`(uuid pr))`, "Unexpected ')'"},
	{`uuid pr)`, "Unexpected ')'"},
	{`(uuid pr`, "Unclosed '('"},
	{`uuid`, "Missing attribute operator after 'uuid'"},
	{`uuid eqq "x"`, "Unrecognized attribute operator 'eqq'"},
	{`uuid = "x"`, "Unexpected character '='"},
	{`uuid == "x"`, "Unexpected character '='"},
	{`uuid "x"`, `Unrecognized attribute operator '"x"'`},
	{`uuid 5`, "Unrecognized attribute operator '5'"},
	{`uuid (`, "Unrecognized attribute operator '('"},
	{`uuid eq`, "Missing value after 'eq'"},
	{`uuid eq )`, "Missing value after 'eq'"},
	{`uuid eq and uuid pr`, "Missing value after 'eq'"},
	{`uuid eq (`, "Unrecognized value '('"},
	{`uuid eq x`, "Unrecognized value 'x'"},
	{`uuid eq eq`, "Unrecognized value 'eq'"},
	{`uuid eq "x" "y"`, `Unexpected '"y"'`},
	{`uuid pr "x"`, `Unexpected '"x"'`},
	{`uuid eq "x" uuid pr`, "Unexpected 'uuid'"},
	{`uuid eq "x" and`, "Missing expression after 'and'"},
	{`uuid eq "x" or`, "Missing expression after 'or'"},
	{`uuid eq "x" and or uuid pr`, "Missing expression after 'and'"},
	{`and uuid pr`, "Unexpected 'and'"},
	{`or uuid pr`, "Unexpected 'or'"},
	{`not`, "Missing expression after 'not'"},
	{`not not`, "Missing expression after 'not'"},
	{`(not)`, "Missing expression after 'not'"},
	{`uuid pr and not`, "Missing expression after 'not'"},
	{`eq "x"`, "Unexpected 'eq'"},
	{`true`, "Unexpected 'true'"},
	{`"x" eq uuid`, `Unexpected '"x"'`},
	{`uuid eq "abc`, "Unterminated string"},
	{`uuid eq "`, "Unterminated string"},
	{`uuid eq "abc\`, "Unterminated string"},
	{`uuid eq "\q"`, `Invalid escape '\q'`},
	{`uuid eq "\x41"`, `Invalid escape '\x'`},
	{`uuid eq "\'"`, `Invalid escape '\''`},
	{`uuid eq "\u12"`, `\u needs four hex digits`},
	{`uuid eq "\u12g4"`, `\u needs four hex digits`},
	{`uuid eq "\ud83d"`, "high surrogate"},
	{`uuid eq "\ud83dx"`, "high surrogate"},
	{`uuid eq "\ud83d\u0041"`, "high surrogate"},
	{`uuid eq "\ude00"`, "low surrogate without a high surrogate"},
	{"uuid eq \"a\nb\"", "Control character U+000A"},
	{"uuid eq \"a\tb\"", "Control character U+0009"},
	{"uuid eq \"\x00\"", "Control character U+0000"},
	{"uuid eq \"\xff\"", "Invalid UTF-8 byte 0xff"},
	{"uuid eq \xff", "Invalid UTF-8 byte 0xff"},
	{`uuid eq 'x'`, `Unexpected character '\''`},
	{"uuid eq \u201cx\u201d", "typographic quote"},
	{`uuid eq 01`, "Invalid number '01'"},
	{`uuid eq -01`, "Invalid number '-01'"},
	{`uuid eq 1.`, "Invalid number '1.'"},
	{`uuid eq .5`, "Unexpected character '.'"},
	{`uuid eq -`, "Invalid number '-'"},
	{`uuid eq -x`, "Invalid number '-x'"},
	{`uuid eq +1`, "Unexpected character '+'"},
	{`uuid eq 1e`, "Invalid number '1e'"},
	{`uuid eq 1e+`, "Invalid number '1e+'"},
	{`uuid eq 1.5.2`, "Invalid number '1.5.2'"},
	{`uuid eq 0x10`, "Invalid number '0x10'"},
	{`uuid eq 12abc`, "Invalid number '12abc'"},
	{`uuid eq 1"x"`, `Invalid number '1'`},
	{`uuid eq 1e999`, "Number '1e999' is out of range"},
	{`uuid eq NaN`, "Unrecognized value 'NaN'"},
	{`emails[type eq "work"]`, "Value paths with '['"},
	{`target[type eq "User"].id pr`, "Value paths with '['"},
	{`uuid eq ["x"]`, "a list needs the in operator"},
	{`[uuid pr]`, "Value paths with '['"},
	{`uuid pr ]`, "Unexpected ']'"},
	{`actor.`, "Missing attribute name after '.'"},
	{`actor..id pr`, "Missing attribute name after '.'"},
	{`actor.1d pr`, "Invalid array index '1d'"},
	{`target.01.id pr`, "Invalid array index '01'"},
	{`target.1234567.id pr`, "Invalid array index '1234567'"},
	{`eventType in []`, "Empty list after 'in'"},
	{`eventType in "a"`, "Missing '[' after 'in'"},
	{`eventType in ["a" "b"]`, `Unexpected '"b"' in a list`},
	{`eventType in ["a",]`, "Unrecognized value ']'"},
	{`eventType in ["a"`, "Unclosed '['"},
	{`eventType in [a]`, "Unrecognized value 'a'"},
	{`eventType in ["a", 1] and foo pr`, "field is not valid: foo"},
	{`published in ["yesterday"]`, "published needs an RFC 3339 time"},
	{`uuid eq "a", uuid pr`, "Unexpected ','"},
	{`result eq "FAILURE"`, "field is not valid: result"},
	{`.actor pr`, "Unexpected character '.'"},
	{`actor . id pr`, "Unexpected character '.'"},
	{`actor.id-x pr`, "Unexpected character '-'"},
	{`événement pr`, "Unexpected character 'é'"},
	{`uuid eq "x" & uuid pr`, "Unexpected character '&'"},
	{`uuid eq "x" && uuid pr`, "Unexpected character '&'"},
	{`uuid eq "x" || uuid pr`, "Unexpected character '|'"},
	{`!uuid pr`, "Unexpected character '!'"},
	{`foo eq "x"`, "field is not valid: foo"},
	{`eventtype eq "x"`, "field is not valid: eventtype"},
	{`event_type eq "x"`, "field is not valid: event_type"},
	{`uuid pr and foo.bar pr`, "field is not valid: foo"},
	{`uuid co 1`, "Operator: co, Field: uuid"},
	{`uuid sw true`, "Operator: sw, Field: uuid"},
	{`uuid ew null`, "Operator: ew, Field: uuid"},
	{`uuid gt true`, "Operator: gt, Field: uuid"},
	{`uuid le null`, "Operator: le, Field: uuid"},
	{`published co "2026"`, "Operator: co, Field: published"},
	{`published eq 5`, "published needs an RFC 3339 time"},
	{`published eq null`, "published needs an RFC 3339 time"},
	{`published gt "2026-03-02 00:00:00"`, "published needs an RFC 3339 time"},
	{`published gt "yesterday"`, "published needs an RFC 3339 time"},
}

func TestInvalid(t *testing.T) {
	cases := invalidCases
	if len(cases) < 60 {
		t.Fatalf("only %d invalid cases", len(cases))
	}
	for _, tc := range cases {
		e, err := Parse(tc.in)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, %v; want an *Error", tc.in, e, err)
			continue
		}
		if e != nil {
			t.Errorf("Parse(%q) returned a tree with its error", tc.in)
		}
		if pe.Pos < 0 || pe.End < pe.Pos || int(pe.End) > len(tc.in) {
			t.Errorf("Parse(%q): range [%d:%d] outside the input", tc.in, pe.Pos, pe.End)
		}
		if !strings.Contains(pe.Msg, tc.msg) {
			t.Errorf("Parse(%q): message %q does not contain %q", tc.in, pe.Msg, tc.msg)
		}
		if pe.Src != tc.in || pe.Code == "" {
			t.Errorf("Parse(%q): Src %q, Code %q", tc.in, pe.Src, pe.Code)
		}
	}
}

func TestErrorText(t *testing.T) {
	_, err := Parse(`display_message eqq "Create okta user"`)
	want := `Invalid filter 'display_message eqq "Create okta user"': Unrecognized attribute operator 'eqq' at position 16. Expected: eq,ne,co,sw,ew,pr,gt,ge,lt,le`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	_, err = Parse(`some_invalid_field eq "x"`)
	if err == nil || err.Error() != "field is not valid: some_invalid_field" {
		t.Errorf("got %v", err)
	}
	_, err = Parse(`debugContext.debugData.url pr and client.ipAddress co 1`)
	if err == nil || err.Error() != "The supplied combination of operator and field is not currently supported. Operator: co, Field: client.ipAddress" {
		t.Errorf("got %v", err)
	}
}

func TestCaret(t *testing.T) {
	cases := []struct{ in, want string }{
		{`uuid eqq "x"`, "uuid eqq \"x\"\n     ^^^"},
		{"uuid pr and\n\tfoo eq \"x\"", "\tfoo eq \"x\"\n\t^^^"},
		{"(uuid pr", "(uuid pr\n^"},
		{"uuid pr and\n  \n", "uuid pr and\n           ^"},
		{"uuid eq \"é\" and\r\n  ☃ pr", "  ☃ pr\n  ^"},
	}
	for _, tc := range cases {
		_, err := Parse(tc.in)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Fatalf("Parse(%q) = %v", tc.in, err)
		}
		if got := pe.Caret(); got != tc.want {
			t.Errorf("Caret for %q:\n%s\nwant\n%s", tc.in, got, tc.want)
		}
	}
}

// TestRoundTrip: parse, print the normal form, and check that the normal
// form parses back and prints identically (VictoriaLogs style).
func TestRoundTrip(t *testing.T) {
	f := func(input, normal string) {
		t.Helper()
		e, err := Parse(input)
		if err != nil {
			t.Fatalf("Parse(%q): %v", input, err)
		}
		if got := e.String(); got != normal {
			t.Fatalf("Parse(%q).String()\n got %s\nwant %s", input, got, normal)
		}
		e2, err := Parse(normal)
		if err != nil {
			t.Fatalf("Parse(%q) of the normal form: %v", normal, err)
		}
		if got := e2.String(); got != normal {
			t.Fatalf("normal form is not stable:\n got %s\nwant %s", got, normal)
		}
		if shape(e) != shape(e2) {
			t.Fatalf("normal form parses to another tree:\n got %s\nwant %s", shape(e2), shape(e))
		}
	}
	f(`eventType EQ "x"`, `eventType eq "x"`)
	f(`  actor.id   Pr  `, `actor.id pr`)
	f(`(((uuid pr)))`, `uuid pr`)
	f(`a.b eq 1`[0:0]+`actor.b eq 1E3`, `actor.b eq 1E3`)
	f(`uuid eq -0.5e-2`, `uuid eq -0.5e-2`)
	f(`uuid eq TRUE or uuid eq False or uuid eq NULL`, `uuid eq true or uuid eq false or uuid eq null`)
	f(`uuid pr and (severity pr or version pr)`, `uuid pr and (severity pr or version pr)`)
	f(`(uuid pr and severity pr) or version pr`, `uuid pr and severity pr or version pr`)
	f(`uuid pr and (severity pr and version pr)`, `uuid pr and (severity pr and version pr)`)
	f(`uuid pr or (severity pr or version pr)`, `uuid pr or (severity pr or version pr)`)
	f(`(uuid pr or severity pr) or version pr`, `uuid pr or severity pr or version pr`)
	f(`not uuid pr`, `not (uuid pr)`)
	f(`not (uuid pr or severity pr)`, `not (uuid pr or severity pr)`)
	f(`not not uuid pr`, `not (not (uuid pr))`)
	f(`NOT (((uuid pr)))`, `not (uuid pr)`)
	f(`uuid eq "\u00e9\ud83d\ude00\/"`, `uuid eq "é😀/"`)
	f(`uuid eq "\"\\\b\f\n\r\t\u0001\u007f"`, `uuid eq "\"\\\u0008\u000c\n\r\t\u0001`+"\x7f"+`"`)
	f("uuid eq \"\u2028\"", "uuid eq \"\u2028\"")
	f(`uuid eq "<enter user id>"`, `uuid eq "<enter user id>"`)
	f(`published gt "2026-03-02T00:00:00.123+01:00"`, `published gt "2026-03-02T00:00:00.123+01:00"`)
	f("(actor.id\u00a0eq \"u\" or\u00a0target.id\u00a0eq \"u\") and (\n(eventType eq \"a\") or\n(eventType eq \"b\")\n)",
		`(actor.id eq "u" or target.id eq "u") and (eventType eq "a" or eventType eq "b")`)
}

func TestNestingLimit(t *testing.T) {
	leaf := `eventType eq "x"`
	for _, tc := range []struct {
		name   string
		in     string
		ok     bool
		errPos int
	}{
		{"not at the limit", strings.Repeat("not ", MaxDepth) + leaf, true, 0},
		{"not past the limit", strings.Repeat("not ", MaxDepth+900) + leaf, false, 4 * MaxDepth},
		{"parens at the limit", strings.Repeat("(", MaxDepth) + leaf + strings.Repeat(")", MaxDepth), true, 0},
		{"parens past the limit", strings.Repeat("(", 1000) + leaf + strings.Repeat(")", 1000), false, MaxDepth},
		{"mixed", strings.Repeat("not (", MaxDepth) + leaf + strings.Repeat(")", MaxDepth), false, 5 * (MaxDepth / 2)},
	} {
		_, err := Parse(tc.in)
		if tc.ok {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		var pe *Error
		if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "Too deeply nested") || int(pe.Pos) != tc.errPos || pe.Code != CodeInvalidFilter {
			t.Errorf("%s: got %v (pos %v), want a nesting error at %d", tc.name, err, pe, tc.errPos)
		}
	}
}
