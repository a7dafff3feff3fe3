package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/duckdb"
)

// TestProjectedReplay: a replay that reads only the members the rules read
// (ProjectedReader on a store.Projector) prints the same alerts, byte for
// byte, as one that pages through whole events with Query, for the whole
// library (every event of the range) and for the rules that name their
// event types (the store filters by the prefilter).
func TestProjectedReplay(t *testing.T) {
	ctx := context.Background()
	st, err := duckdb.Open(filepath.Join(t.TempDir(), "events.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lines := replayLog(t)
	if _, err := ingest.New(st, ingest.Options{}).Ingest(ctx, bytes.NewReader(bytes.Join(lines, []byte("\n"))), nil); err != nil {
		t.Fatal(err)
	}
	all, _ := Builtin()
	var typed []*Rule
	for _, r := range all {
		if _, _, ok := ruleTypes(r); ok {
			typed = append(typed, r)
		}
	}
	for _, tc := range []struct {
		name  string
		rules []*Rule
	}{
		{"library", all},
		{"typed rules, prefiltered", typed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := store.Query{Filter: Prefilter(tc.rules)}
			if (q.Filter == nil) != (tc.name == "library") {
				t.Fatalf("prefilter %v", q.Filter)
			}
			paged := func(fn func([]byte) error) error {
				pq := q
				pq.Order, pq.Limit = store.ByPublished, 500
				for {
					evs, err := st.Query(ctx, pq)
					if err != nil {
						return err
					}
					for _, e := range evs {
						if err := fn(e.Raw); err != nil {
							return err
						}
					}
					if len(evs) < pq.Limit {
						return nil
					}
					last := evs[len(evs)-1]
					pq.After = &store.Position{Published: last.Published, Seq: last.Seq}
				}
			}
			eng := NewEngine(tc.rules)
			projected, ok := ProjectedReader(ctx, st, q, eng)
			if !ok {
				t.Fatal("DuckDB and the rules' members known, but no projected reader")
			}
			want, wantN := replayed(t, NewEngine(tc.rules), paged)
			got, gotN := replayed(t, eng, projected)
			if len(want) == 0 || wantN == 0 {
				t.Fatal("no alerts from the simulated attacks")
			}
			if gotN != wantN {
				t.Errorf("projected replay read %d events, paged %d", gotN, wantN)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("projected replay's alerts differ from the paged one's:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// replayed runs a replay and gives its alerts as NDJSON, sorted by id.
func replayed(t *testing.T, eng *Engine, read func(func([]byte) error) error) ([]byte, int) {
	t.Helper()
	alerts, n, err := Replay(context.Background(), eng, read, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(alerts))
	for id := range alerts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var b strings.Builder
	for _, id := range ids {
		line, err := json.Marshal(alerts[id])
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return []byte(b.String()), n
}
