package detect

import (
	"strings"
	"testing"
)

func TestBuiltinLoads(t *testing.T) {
	rules, bad := Builtin()
	if len(rules) < 17+24 {
		t.Errorf("%d built-in rules", len(rules))
	}
	if len(bad) != 1 || !strings.Contains(bad[0].Error(), "field is not valid: result") {
		t.Errorf("refused Okta detections: %v, want only the bare result one", bad)
	}
	if err := checkUnique(rules); err != nil {
		t.Error(err)
	}
	for _, r := range rules {
		if r.Description == "" || r.Severity == "" {
			t.Errorf("%s: no description or severity", r.ID)
		}
	}
}
