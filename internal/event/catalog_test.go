package event

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// seedEventTypes reads every event type the seed document names, so the
// catalog test follows the seed rather than a copied list.
func seedEventTypes(t *testing.T) (types []string, seedText string) {
	t.Helper()
	b, err := os.ReadFile("../../../shared/seed/000_91bef5db34cbad62.txt")
	if err != nil {
		t.Skipf("seed document not available: %v", err)
	}
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`eventType eq "([a-z_.A-Z]+)"`).FindAllStringSubmatch(string(b), -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			types = append(types, m[1])
		}
	}
	// The definitions table: lines that start with an event type and run
	// straight into its description.
	for _, m := range regexp.MustCompile(`(?m)^((?:user|system|policy|application)\.[a-z_.]+?[a-z])([A-Z])`).FindAllStringSubmatch(string(b), -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			types = append(types, m[1])
		}
	}
	return types, string(b)
}

func TestCatalogSize(t *testing.T) {
	if n := len(Types()); n < 60 {
		t.Errorf("catalog has %d types, want at least 60", n)
	}
}

func TestCatalogWellFormed(t *testing.T) {
	cats := Categories()
	seen := map[string]bool{}
	types := Types()
	if !slices.IsSortedFunc(types, func(a, b EventType) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("Types() is not sorted by name")
	}
	name := regexp.MustCompile(`^[a-z][A-Za-z_]*(\.[A-Za-z_0-9]+)+$`)
	for _, et := range types {
		if seen[et.Name] {
			t.Errorf("%s listed twice", et.Name)
		}
		seen[et.Name] = true
		if !name.MatchString(et.Name) {
			t.Errorf("%q is not an event type name", et.Name)
		}
		if !slices.Contains(cats, et.Category) {
			t.Errorf("%s: unknown category %q", et.Name, et.Category)
		}
		if len(et.Description) < 20 || !strings.HasSuffix(et.Description, ".") {
			t.Errorf("%s: description %q is too short or not a sentence", et.Name, et.Description)
		}
		for _, f := range et.Flows {
			if !slices.Contains(Flows, f) {
				t.Errorf("%s: unknown flow %q", et.Name, f)
			}
		}
		got, ok := LookupType(et.Name)
		if !ok || got.Name != et.Name {
			t.Errorf("LookupType(%q) = %v, %v", et.Name, got, ok)
		}
	}
	for _, c := range cats {
		n := 0
		for _, et := range types {
			if et.Category == c {
				n++
			}
		}
		if n == 0 {
			t.Errorf("category %q has no types", c)
		}
	}
	for _, f := range Flows {
		n := 0
		for _, et := range types {
			if et.HasFlow(f) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("flow %q has no types", f)
		}
	}
	if _, ok := LookupType("user.session.Start"); ok {
		t.Error("LookupType must be exact (case-sensitive)")
	}
}

func TestCatalogCoversSeed(t *testing.T) {
	types, _ := seedEventTypes(t)
	if len(types) < 30 {
		t.Fatalf("found only %d event types in the seed; the extraction is broken", len(types))
	}
	for _, name := range types {
		if _, ok := LookupType(name); !ok {
			t.Errorf("seed event type %s is missing from the catalog", name)
		}
	}
}

// The seed's own descriptions must not be copied: no catalog description may
// share a run of eight or more words with the seed document.
func TestCatalogDescriptionsAreOurs(t *testing.T) {
	_, seed := seedEventTypes(t)
	words := func(s string) []string {
		return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_')
		})
	}
	const n = 8
	shingles := map[string]bool{}
	sw := words(seed)
	for i := 0; i+n <= len(sw); i++ {
		shingles[strings.Join(sw[i:i+n], " ")] = true
	}
	for _, et := range Types() {
		dw := words(et.Description)
		for i := 0; i+n <= len(dw); i++ {
			if s := strings.Join(dw[i:i+n], " "); shingles[s] {
				t.Errorf("%s: description shares %q with the seed", et.Name, s)
			}
		}
	}
	// And the obvious sentences, whole.
	for _, s := range []string{"Okta issues a session to a user who is authenticating", "The user was successfully verified",
		"A user is denied access to an application", "Okta sends a push notification to the user"} {
		for _, et := range Types() {
			if strings.Contains(et.Description, s) {
				t.Errorf("%s copies the seed sentence %q", et.Name, s)
			}
		}
	}
}
