package scenario

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/idlog/idlog/internal/event"
	"github.com/idlog/idlog/internal/filter"
)

// eventTypes returns the eventType literals a filter compares against.
func eventTypes(t *testing.T, e filter.Expr) []string {
	t.Helper()
	var out []string
	filter.Walk(e, func(x filter.Expr) bool {
		if c, ok := x.(*filter.Compare); ok && c.Path.String() == "eventType" {
			out = append(out, c.Value.Str)
		}
		return true
	})
	return out
}

func TestEveryScenarioExpandsAndParses(t *testing.T) {
	values := map[string]string{ParamUser: "00u1abcd2EFGH3ijk4l5", ParamIP: "203.0.113.7", ParamSession: "102AbCdEfGhIjKlMnOpQrStUv"}
	names := map[string]bool{}
	for _, s := range All() {
		t.Run(s.Name, func(t *testing.T) {
			if names[s.Name] {
				t.Fatalf("duplicate name")
			}
			names[s.Name] = true
			if s.Title == "" || s.Description == "" {
				t.Error("title and description are required")
			}
			if s.Flow != "" && !slices.Contains(event.Flows, s.Flow) {
				t.Errorf("unknown flow %q", s.Flow)
			}
			v, ok := values[s.Param]
			if !ok {
				t.Fatalf("unknown param %q", s.Param)
			}
			if !strings.Contains(s.Template, Placeholder) {
				t.Fatal("template has no placeholder")
			}
			text, err := s.Expand(v)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(text, Placeholder) || !strings.Contains(text, `"`+v+`"`) {
				t.Errorf("value not inserted:\n%s", text)
			}
			e, err := filter.Parse(text)
			if err != nil {
				t.Fatalf("does not parse: %v", err)
			}
			types := eventTypes(t, e)
			if s.Name != "session-events" && len(types) < 2 {
				t.Errorf("only %d event types", len(types))
			}
			for _, name := range types {
				et, ok := event.LookupType(name)
				if !ok {
					t.Errorf("%s is not in the catalog", name)
					continue
				}
				if s.Flow != "" && !et.HasFlow(s.Flow) {
					t.Errorf("%s is in the %s scenario but the catalog does not put it in flow %s", name, s.Name, s.Flow)
				}
			}
			got, ok := Lookup(s.Name)
			if !ok || got.Template != s.Template {
				t.Errorf("Lookup(%q) = %v, %v", s.Name, got.Name, ok)
			}
		})
	}
	if len(names) != 11 {
		t.Errorf("%d scenarios, want the 11 of the brief", len(names))
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("Lookup of an unknown name succeeded")
	}
}

// Expanding a seed query's own placeholder gives back the seed query. The
// seed copies (written by the filter package, verbatim from the document)
// contain no-break spaces where the templates have plain spaces; that is the
// only difference allowed.
func TestSeedQueriesReproduced(t *testing.T) {
	seeds := []struct{ scenario, file, placeholder string }{
		{"signin-events-user", "signin_by_user.txt", "<enter user id>"},
		{"signin-events-ip", "signin_by_ip.txt", "<enter ip address here>"},
		{"signin-events-session", "signin_by_session.txt", "<enter external session id here>"},
		{"session-events", "session_all_events.txt", "<enter external session id here>"},
		{"logout", "logout.txt", "<enter user id>"},
		{"authenticator-changes", "account_management.txt", "<enter user id>"},
		{"signin-okta", "sign_in_to_okta.txt", "<enter user id>"},
		{"signin-app", "sign_in_to_app.txt", "<enter user id>"},
		{"sspr", "sspr.txt", "<enter user id>"},
		{"unlock", "ssu.txt", "<enter user id>"},
	}
	for _, c := range seeds {
		t.Run(c.scenario, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "filter", "testdata", "seed", c.file))
			if err != nil {
				t.Fatal(err)
			}
			seed := string(b)
			s, ok := Lookup(c.scenario)
			if !ok {
				t.Fatal("no such scenario")
			}
			got, err := s.Expand(c.placeholder)
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.ReplaceAll(seed, "\u00a0", " "); got != want {
				t.Errorf("expansion differs from the seed query\n got: %q\nwant: %q", got, want)
			}
			se, err := filter.Parse(seed)
			if err != nil {
				t.Fatalf("seed does not parse: %v", err)
			}
			ge, err := filter.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			if se.String() != ge.String() {
				t.Errorf("normal forms differ:\n%s\n%s", se, ge)
			}
		})
	}
}

// A value is always one string literal, whatever it contains.
func TestExpandCannotBreakOut(t *testing.T) {
	s, _ := Lookup("signin-events-user")
	plain, _ := s.Expand("x")
	pe, err := filter.Parse(plain)
	if err != nil {
		t.Fatal(err)
	}
	count := func(e filter.Expr) (n int) {
		filter.Walk(e, func(x filter.Expr) bool {
			if _, ok := x.(*filter.Compare); ok {
				n++
			}
			return true
		})
		return n
	}
	for _, v := range []string{
		`00u") or (eventType pr`,
		`a\`,
		`a\" or actor.id pr or actor.id eq \"`,
		"line\nbreak\ttab\r",
		"\x00\x1f\x7f",
		`"`,
		`\u0022`,
		"Zoë 登录 🚀 \u2028",
		`<enter user id>`,
	} {
		text, err := s.Expand(v)
		if err != nil {
			t.Fatalf("Expand(%q): %v", v, err)
		}
		e, err := filter.Parse(text)
		if err != nil {
			t.Fatalf("Expand(%q) does not parse: %v\n%s", v, err, text)
		}
		if got, want := count(e), count(pe); got != want {
			t.Errorf("Expand(%q): %d comparisons, want %d", v, got, want)
		}
		seen := 0
		filter.Walk(e, func(x filter.Expr) bool {
			if c, ok := x.(*filter.Compare); ok && (c.Path.String() == "actor.id" || c.Path.String() == "target.id") {
				seen++
				if c.Op != filter.OpEq || c.Value.Kind != filter.String || c.Value.Str != v {
					t.Errorf("Expand(%q): %s", v, c)
				}
			}
			return true
		})
		if seen != 2 {
			t.Errorf("Expand(%q): %d id comparisons, want 2", v, seen)
		}
	}
}

func TestExpandRejects(t *testing.T) {
	s, _ := Lookup("logout")
	for _, v := range []string{"", "\xff\xfe"} {
		if _, err := s.Expand(v); err == nil {
			t.Errorf("Expand(%q) succeeded", v)
		}
	}
}
