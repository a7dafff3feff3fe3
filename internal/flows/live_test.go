package flows

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

// TestLive: a Live index answers the funnels a fresh reconstruction of the
// store's events gives, before and after more events are stored, and
// rebuilds when an event arrives too late to be added in order.
func TestLive(t *testing.T) {
	ctx := context.Background()
	st, err := storeurl.Open(ctx, "duckdb:"+filepath.Join(t.TempDir(), "events.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var all []store.Event
	var evs []Event
	err = simulate.New(simulate.Config{Users: 60, Days: 4, Seed: 5, Attacks: true,
		End: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}).Run(func(raw []byte) error {
		e, err := FromRaw(raw)
		if err != nil {
			return err
		}
		evs = append(evs, e)
		all = append(all, store.Event{UUID: e.UUID, Published: e.Time(), Raw: append([]byte(nil), raw...)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	half := len(all) / 2
	if _, err := st.Append(ctx, all[:half]); err != nil {
		t.Fatal(err)
	}
	l := NewLive(st)
	funnel := func() *Funnel {
		t.Helper()
		for i := 0; i < 600; i++ {
			fn, err := l.Funnel(ctx, "signin", time.Time{}, time.Time{}, "factor")
			if err == ErrNotReady {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			return fn
		}
		t.Fatal("the index was not built in 12 s")
		return nil
	}
	check := func(name string, n int) {
		t.Helper()
		got := funnel()
		want, _ := BuildFunnel("signin", Reconstruct(evs[:n]), "factor")
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) || want.Instances == 0 {
			t.Errorf("%s: live funnel\n got %s\nwant %s", name, gj, wj)
		}
	}
	if _, err := l.Funnel(ctx, "signin", time.Time{}, time.Time{}, ""); err != ErrNotReady {
		t.Errorf("first call: %v, want ErrNotReady", err)
	}
	check("first half", half)
	check("first half again (open instances are not closed by counting them)", half)
	if _, err := st.Append(ctx, all[half:]); err != nil {
		t.Fatal(err)
	}
	check("all, updated", len(all))

	// An event from long before the newest: the index rebuilds.
	late := all[0]
	late.UUID, late.Published = "late-"+late.UUID, late.Published.Add(-time.Hour)
	raw := []byte(string(late.Raw))
	var m map[string]any
	json.Unmarshal(raw, &m)
	m["uuid"], m["published"] = late.UUID, late.Published.Format("2006-01-02T15:04:05.000Z")
	late.Raw, _ = json.Marshal(m)
	if _, err := st.Append(ctx, []store.Event{late}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Funnel(ctx, "signin", time.Time{}, time.Time{}, ""); err != ErrNotReady {
		t.Errorf("after a late event: %v, want ErrNotReady (a rebuild)", err)
	}
	le, err := FromRaw(late.Raw)
	if err != nil {
		t.Fatal(err)
	}
	evs = append(evs, le)
	check("rebuilt with the late event", len(evs))
}

// TestPeekHeld: an event held back for the order tolerance (no open
// instance took it yet) still counts in the funnel of the instances open.
func TestPeekHeld(t *testing.T) {
	x := NewIndex()
	for _, e := range b(`
0 r1 u1 system.email.password_reset.sent_message`) {
		x.Add(e)
	}
	fn, err := x.funnelOpen("sspr", time.Time{}, time.Time{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if fn.Instances != 1 || fn.Steps[0].Reached != 1 {
		t.Errorf("open funnel: %d instances, %d at the message", fn.Instances, fn.Steps[0].Reached)
	}
}
