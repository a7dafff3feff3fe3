package flows

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

// simStore fills a DuckDB store with a simulated log and returns the
// events as flow analysis sees them, with the ground truth.
func simStore(t testing.TB, cfg simulate.Config) (store.Store, []Event, []truthRec) {
	t.Helper()
	ctx := context.Background()
	st, err := storeurl.Open(ctx, "duckdb:"+filepath.Join(t.TempDir(), "events.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var batch []store.Event
	var evs []Event
	var truth []truthRec
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := st.Append(ctx, batch)
		batch = batch[:0]
		return err
	}
	err = simulate.New(cfg).RunTruth(func(raw []byte) error {
		e, err := FromRaw(raw)
		if err != nil {
			return err
		}
		evs = append(evs, e)
		batch = append(batch, store.Event{UUID: e.UUID, Published: e.Time(), Raw: append([]byte(nil), raw...)})
		if len(batch) == 5000 {
			return flush()
		}
		return nil
	}, func(rec []byte) error {
		var r truthRec
		if err := json.Unmarshal(rec, &r); err != nil {
			return err
		}
		if r.Attack == "" {
			truth = append(truth, r)
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		t.Fatal(err)
	}
	return st, evs, truth
}

var storeCfg = simulate.Config{Users: 120, Apps: 16, Days: 7, Seed: 3,
	End: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), Attacks: true}

func uuidsOf(ins []*Instance) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.Kind+"/"+string(in.Status)+"/"+in.StoppedAt+" "+strings.Join(in.UUIDs, ","))
	}
	slices.Sort(out)
	return out
}

// TestStoreBacked reconstructs from a DuckDB store what the in-memory pass
// finds: the instances of a user, of a session and of an IP, and funnels;
// and scores the store-backed instances against the ground truth.
func TestStoreBacked(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a DuckDB store")
	}
	ctx := context.Background()
	st, evs, truth := simStore(t, storeCfg)
	all := Reconstruct(evs)

	// Every instance, read back through the store one user at a time, is
	// the one the in-memory pass found.
	users := map[string]bool{}
	for _, in := range all {
		if in.Kind != Other && !strings.HasPrefix(in.User, "unknown:") {
			users[in.User] = true
		}
	}
	checked := 0
	for u := range users {
		if checked == 15 {
			break
		}
		checked++
		got, err := Find(ctx, st, Selector{User: u})
		if err != nil {
			t.Fatal(err)
		}
		var want []*Instance
		for _, in := range all {
			for _, e := range in.Events {
				if e.User == u || e.Actor == u {
					want = append(want, in)
					break
				}
			}
		}
		if g, w := uuidsOf(got), uuidsOf(want); !slices.Equal(g, w) {
			t.Errorf("user %s: store gives %d instances, in-memory %d\n got %v\nwant %v", u, len(g), len(w), g, w)
		}
	}

	// A session and an IP.
	var sess, ip string
	for _, in := range all {
		if in.Kind == "signin" && in.Session != "" && len(in.Events) > 3 {
			sess, ip = in.Session, in.IP
			break
		}
	}
	for _, sel := range []Selector{{Session: sess}, {IP: ip}} {
		got, err := Find(ctx, st, sel)
		if err != nil {
			t.Fatal(err)
		}
		var want []*Instance
		for _, in := range all {
			for _, e := range in.Events {
				if (sel.Session != "" && e.Session == sel.Session) || (sel.IP != "" && e.IP == sel.IP) {
					want = append(want, in)
					break
				}
			}
		}
		if g, w := uuidsOf(got), uuidsOf(want); !slices.Equal(g, w) || len(g) == 0 {
			t.Errorf("%+v: store gives %v, in-memory %v", sel, g, w)
		}
	}
	if _, err := Find(ctx, st, Selector{}); err != ErrNoSelector {
		t.Errorf("empty selector: %v", err)
	}

	for _, kind := range []string{"sspr", "signin", "app_signin"} {
		got, err := FunnelFromStore(ctx, st, FunnelQuery{Flow: kind, Split: "factor"})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := BuildFunnel(kind, all, "factor")
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) || got.Instances == 0 {
			t.Errorf("%s funnel from the store\n got %s\nwant %s", kind, gj, wj)
		}
	}

	// The store-backed pass over the whole week, scored.
	var stored []Event
	stored, err := Load(ctx, st, store.Query{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	right, mistakes := score(Reconstruct(stored), truth)
	acc := float64(right) / float64(len(truth))
	t.Logf("store-backed: %d events, %d true instances, %d right (%.3f%%)", len(stored), len(truth), right, 100*acc)
	if acc < 0.99 {
		t.Errorf("store-backed accuracy %.3f%%; mistakes:\n%s", 100*acc, strings.Join(mistakes, "\n"))
	}
}
