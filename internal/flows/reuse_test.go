package flows

import (
	"encoding/json"
	"testing"
)

// TestEmittedInstancesStay: reconstruction reuses its groups and packs an
// instance into few allocations; an instance, once emitted, must not change
// as later events are added (nothing of it may share memory with a group or
// another instance).
func TestEmittedInstancesStay(t *testing.T) {
	cfg := benchCfg(7)
	cfg.Users = 60
	evs, _ := simulated(t, cfg)
	var ins []*Instance
	var at []string // each instance's JSON when it was emitted
	r := NewReconstructor(func(in *Instance) {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		ins, at = append(ins, in), append(at, string(b))
	})
	for i := range evs {
		r.Add(evs[i])
	}
	r.Flush()
	if len(ins) < 1000 {
		t.Fatalf("only %d instances from %d events", len(ins), len(evs))
	}
	changed := 0
	for i, in := range ins {
		b, _ := json.Marshal(in)
		if string(b) != at[i] {
			if changed++; changed <= 3 {
				t.Errorf("instance %d changed after it was emitted:\n was %s\n now %s", i, at[i], b)
			}
		}
	}
	if changed > 0 {
		t.Errorf("%d of %d instances changed after they were emitted", changed, len(ins))
	}
}
