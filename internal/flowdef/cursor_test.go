package flowdef

import (
	"math/rand/v2"
	"testing"
)

// TestCursorAgreesWithCheck walks random event sequences, built from each
// flow's own event types and results, through Check and through a Cursor:
// both must accept the same sequences and give the same outcome.
func TestCursorAgreesWithCheck(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	results := []string{"SUCCESS", "FAILURE", "DENY", "CHALLENGE", "ALLOW"}
	accepted := 0
	for i := range all {
		f := &all[i]
		types := f.EventTypes()
		for n := 0; n < 3000; n++ {
			seq := make([]Event, 1+r.IntN(6))
			for k := range seq {
				seq[k] = Event{Type: types[r.IntN(len(types))], Result: results[r.IntN(len(results))]}
				if r.IntN(3) > 0 {
					seq[k].Result = "SUCCESS"
				}
			}
			want, werr := f.Check(seq)
			c, tc := f.Cursor(), f.Cursor()
			var cerr error
			for _, e := range seq {
				j, err := c.Next(e)
				before := tc
				// Take agrees with Next, and leaves the cursor as it
				// was when it refuses.
				if tj := tc.Take(e); tj != j || (err == nil) != (tj >= 0) || tc != c || (tj < 0 && tc != before) {
					t.Fatalf("%s %v at %v: Next %d %v, Take %d", f.Kind, seq, e, j, err, tj)
				}
				if cerr = err; cerr != nil {
					break
				}
			}
			if (werr == nil) != (cerr == nil) {
				t.Fatalf("%s %v: Check error %v, cursor error %v", f.Kind, seq, werr, cerr)
			}
			if werr != nil {
				if werr.Error() != cerr.Error() {
					t.Errorf("%s %v: Check says %q, cursor %q", f.Kind, seq, werr, cerr)
				}
				continue
			}
			accepted++
			st, stopped := c.Outcome()
			if st != want.Status || stopped != want.StoppedAt {
				t.Errorf("%s %v: Check %s/%s, cursor %s/%s", f.Kind, seq, want.Status, want.StoppedAt, st, stopped)
			}
			if c.Step() != want.Steps[len(want.Steps)-1] || c.Len() != len(seq) {
				t.Errorf("%s %v: cursor at step %d after %d events, Check %v", f.Kind, seq, c.Step(), c.Len(), want.Steps)
			}
		}
	}
	// Random sequences mostly break the order; make sure enough did not
	// for the comparison of outcomes to mean something.
	if accepted < 1000 {
		t.Errorf("only %d random sequences were valid flows", accepted)
	}
}

func TestCursorFinal(t *testing.T) {
	f, _ := Lookup(SignIn)
	c := f.Cursor()
	if st, _ := c.Outcome(); st != Abandoned || c.Final() || c.Step() != -1 {
		t.Fatalf("fresh cursor: %v final=%v step=%d", st, c.Final(), c.Step())
	}
	for _, e := range ev("user.session.start=FAILURE") {
		if _, err := c.Next(e); err != nil {
			t.Fatal(err)
		}
	}
	if c.Final() {
		t.Error("a failed password may still be followed by the lock")
	}
	if _, err := c.Next(Event{Type: "user.account.lock", Result: "FAILURE"}); err != nil {
		t.Fatal(err)
	}
	if !c.Final() {
		t.Error("after the lock nothing may follow")
	}
	if _, err := c.Try(Event{Type: "user.account.lock"}); err == nil {
		t.Error("Try accepted an event after the end")
	}
}
