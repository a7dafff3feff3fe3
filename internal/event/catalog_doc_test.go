package event

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/idlog/idlog/internal/flowdef"
)

var update = flag.Bool("update", false, "rewrite docs/event-types.md from the catalog")

const docPath = "../../docs/event-types.md"

func renderCatalogDoc() []byte {
	var b bytes.Buffer
	types := Types()
	fmt.Fprintf(&b, `# Event types

<!-- Generated from internal/event/catalog.go by
     go test ./internal/event -run TestEventTypesDoc -update
     Do not edit by hand: the test fails when this file is stale. -->

idlog's catalog of the %d Okta System Log event types an analyst meets most
when investigating sign-in, MFA, recovery and admin activity. Descriptions are
idlog's own. **Flows** names the flows a type takes part in:

| Flow | What it is |
|---|---|
| `+"`signin`"+` | signing in to Okta: session start, sign-on policy, optional MFA, verify |
| `+"`app_signin`"+` | signing in to an app: optional MFA, then SSO or a policy denial |
| `+"`mfa`"+` | a factor challenge, its answer, and enrolment forced during sign-in |
| `+"`sspr`"+` | self-service password reset: recovery message, reset, new password |
| `+"`unlock`"+` | self-service unlock: unlock message, recovery token, unlock |
| `+"`logout`"+` | sign-out and single logout |
| `+"`factor_change`"+` | a user's authenticators enrolled, removed, reset, suspended or updated |

The same table is printed by `+"`idlog eventtypes`"+` (`+"`--category`, `--flow`, `--output json`"+`).

`, len(types))
	b.WriteString("## Flow orders\n\nThe steps of each flow, as defined in `internal/flowdef` (the one definition " +
		"the simulator and flow analysis share). A step is satisfied by any one of its event types; one marked " +
		"*optional* may be absent, and one marked (repeats) may occur several times in a row. " +
		"A flow that fails or is abandoned stops part way.\n\n")
	for _, f := range flowdef.All() {
		fmt.Fprintf(&b, "**`%s`**: %s\n\n", f.Kind, f.Title)
		for i, st := range f.Steps {
			names := make([]string, len(st.EventTypes))
			for k, n := range st.EventTypes {
				names[k] = "`" + n + "`"
			}
			text := strings.Join(names, " or ")
			if len(st.EventTypes) > 3 {
				text = "one of " + strings.Join(names, ", ")
			}
			if st.Repeatable {
				text += " (repeats)"
			}
			if st.Optional {
				text = "*optional:* " + text
			}
			fmt.Fprintf(&b, "%d. %s: %s\n", i+1, st.Name, text)
		}
		b.WriteString("\n")
	}
	for _, cat := range Categories() {
		fmt.Fprintf(&b, "## %s\n\n| Event type | Description | Flows | Legacy event type |\n|---|---|---|---|\n", cat)
		for _, et := range types {
			if et.Category != cat {
				continue
			}
			flows := make([]string, len(et.Flows))
			for i, f := range et.Flows {
				flows[i] = "`" + f + "`"
			}
			legacy := ""
			if et.LegacyEventType != "" {
				legacy = "`" + et.LegacyEventType + "`"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", et.Name, strings.ReplaceAll(et.Description, "|", `\|`), strings.Join(flows, " "), legacy)
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

func TestEventTypesDoc(t *testing.T) {
	want := renderCatalogDoc()
	if *update {
		if err := os.WriteFile(docPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("%v (run: go test ./internal/event -run TestEventTypesDoc -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale; run: go test ./internal/event -run TestEventTypesDoc -update", docPath)
	}
}
