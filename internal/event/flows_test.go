package event

import (
	"testing"

	"github.com/idlog/idlog/internal/flowdef"
)

// The flows themselves (steps, alternatives, ends) are defined once, in
// package flowdef. The catalog only names, for each event type, the flows it
// takes part in; this test keeps the two in step.
func TestCatalogFlowsAgreeWithFlowdef(t *testing.T) {
	defs := flowdef.All()
	if len(defs) != len(Flows) {
		t.Fatalf("%d flow definitions for %d flow kinds in the catalog", len(defs), len(Flows))
	}
	for i, f := range defs {
		if f.Kind != Flows[i] {
			t.Errorf("definition %d is %q, the catalog has %q", i, f.Kind, Flows[i])
		}
		inDef := map[string]bool{}
		for _, name := range f.EventTypes() {
			inDef[name] = true
			et, ok := LookupType(name)
			if !ok {
				t.Errorf("%s: %s is not in the catalog", f.Kind, name)
			} else if !et.HasFlow(f.Kind) {
				t.Errorf("%s: step type %s does not list the flow in the catalog", f.Kind, name)
			}
		}
		// And the other way: a type that claims the flow appears in its steps.
		for _, et := range Types() {
			if et.HasFlow(f.Kind) && !inDef[et.Name] {
				t.Errorf("%s claims flow %s but no step of it names the type", et.Name, f.Kind)
			}
		}
	}
}
