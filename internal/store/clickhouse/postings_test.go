package clickhouse

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/chtest"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/scenario"
	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
)

func TestPostings(t *testing.T) {
	dsn := chtest.StartServer(t)
	testPostings(t, dsn)
	t.Run("Migrate", func(t *testing.T) { testPostingsMigrate(t, dsn) })
	t.Run("CrashLeftovers", func(t *testing.T) { testCrashLeftovers(t, dsn) })
	t.Run("OldGranules", func(t *testing.T) { testOldGranules(t, dsn) })
}

// testOldGranules: an events table created by an earlier release (granules
// of 1,024 rows, not 256) is kept as it is, and its pages are fetched by
// sort key exactly, through the postings and the rollup.
func testOldGranules(t *testing.T, dsn string) {
	ctx := context.Background()
	url := freshDB(dsn)
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	oldEngine := strings.Replace(mergeTree, "index_granularity = 256", "index_granularity = 1024", 1)
	if oldEngine == mergeTree {
		t.Fatal("the events table's engine clause no longer says index_granularity = 256; update this test")
	}
	for _, stmt := range []string{
		"DROP TABLE `" + s.db + "`.`events_hourly_mv`",
		"DROP TABLE " + s.local,
		"CREATE TABLE " + s.local + " (\n" + columnsDDL + "\n) " + oldEngine,
	} {
		if err := s.conn.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	s, err = Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs := postingsData(t, s)
	// 500-row appends make parts of at most 500 rows per month: one mark
	// each with 1,024-row granules, two or more with 256-row ones.
	var rows, marks uint64
	if err := s.conn.QueryRow(ctx, "SELECT sum(rows), sum(marks) FROM system.parts WHERE active AND database = ? AND table = 'events'", s.db).Scan(&rows, &marks); err != nil {
		t.Fatal(err)
	}
	if rows != uint64(len(evs)) || marks == 0 || rows/marks <= 256 {
		t.Errorf("events table holds %d rows in %d marks: not the earlier release's 1,024-row granules", rows, marks)
	}
	checkPostings(t, s, scenarioQueries(t, evs), true)
	checkKeysComplete(t, s, evs)
	if s.indexMisses.Load() != 0 {
		t.Errorf("IndexMisses %d on the earlier layout", s.indexMisses.Load())
	}
}

func TestPostingsCluster(t *testing.T) {
	c := chtest.StartCluster(t, 2)
	testPostings(t, c.DSN("idlog_test"))
}

// postingsData is a simulated org over ten days, appended in batches.
func postingsData(t *testing.T, s *Store) []store.Event {
	t.Helper()
	evs, err := storetest.Simulated(simulate.Config{Users: 20, Days: 10, Seed: 7, Attacks: true}, 4000)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(evs); i += 500 {
		if _, err := s.Append(context.Background(), evs[i:min(i+500, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}
	return evs
}

// sampleValues returns a few values of path seen in evs, most frequent
// first.
func sampleValues(t *testing.T, evs []store.Event, path string, n int) []string {
	count := map[string]int{}
	for _, e := range evs {
		doc, err := filter.DecodeJSON(e.Raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range filter.Resolve(doc, filter.Path(splitPath(path))) {
			if s, ok := v.(string); ok && s != "" {
				count[s]++
			}
		}
	}
	var vals []string
	for v := range count {
		vals = append(vals, v)
	}
	slices.SortFunc(vals, func(a, b string) int {
		if count[a] != count[b] {
			return count[b] - count[a]
		}
		return cmpStr(a, b)
	})
	return vals[:min(n, len(vals))]
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func splitPath(p string) []string {
	var out []string
	start := 0
	for i := 0; i < len(p); i++ {
		if p[i] == '.' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return append(out, p[start:])
}

var paramPath = map[string]string{
	scenario.ParamUser:    "actor.id",
	scenario.ParamIP:      "client.ipAddress",
	scenario.ParamSession: "authenticationContext.externalSessionId",
}

// scenarioQueries are the seed scenarios for a few values each, over the
// whole data and over its last two days, newest first and by seq, with a
// limit that cuts some answers short.
func scenarioQueries(t *testing.T, evs []store.Event) []store.Query {
	var end time.Time
	for _, e := range evs {
		if e.Published.After(end) {
			end = e.Published
		}
	}
	var qs []store.Query
	for _, sc := range scenario.All() {
		for _, v := range sampleValues(t, evs, paramPath[sc.Param], 3) {
			src, err := sc.Expand(v)
			if err != nil {
				t.Fatal(err)
			}
			f, err := filter.Parse(src)
			if err != nil {
				t.Fatal(err)
			}
			qs = append(qs,
				store.Query{Filter: f, Descending: true, Limit: 100},
				store.Query{Filter: f, Descending: true, Limit: 7, Since: end.Add(-48 * time.Hour), Until: end.Add(time.Millisecond)},
				store.Query{Filter: f, Order: store.BySeq, Limit: 30},
			)
		}
	}
	return qs
}

// scanned is q answered without the postings.
func scanned(t *testing.T, s *Store, q store.Query) []store.Event {
	t.Helper()
	s.noPostings = true
	defer func() { s.noPostings = false }()
	evs, err := s.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// samePage compares two answers event by event, raw bytes included.
func samePage(got, want []store.Event) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d events, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Seq != want[i].Seq || got[i].UUID != want[i].UUID || !got[i].Published.Equal(want[i].Published) || string(got[i].Raw) != string(want[i].Raw) {
			return fmt.Errorf("event %d: %s (seq %d), want %s (seq %d)", i, got[i].UUID, got[i].Seq, want[i].UUID, want[i].Seq)
		}
	}
	return nil
}

// checkPostings runs every query through the postings and without them;
// the answers must be the same and (when fast) the postings must have
// answered each one.
func checkPostings(t *testing.T, s *Store, qs []store.Query, fast bool) {
	t.Helper()
	ctx := context.Background()
	nonEmpty := 0
	for _, q := range qs {
		before := s.postingsPages.Load()
		got, err := s.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if fast && s.postingsPages.Load() != before+1 {
			t.Errorf("%s: not answered by the postings", q.Filter)
		}
		if err := samePage(got, scanned(t, s, q)); err != nil {
			t.Errorf("%s (since %v, limit %d): %v", q.Filter, q.Since, q.Limit, err)
		}
		if len(got) > 0 {
			nonEmpty++
		}
		// Count: through the postings when they answer the filter alone.
		before = s.postingsPages.Load()
		n, err := s.Count(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if fast && postingsExact(q.Filter) && len(q.Keywords) == 0 && s.postingsPages.Load() != before+1 {
			t.Errorf("%s: count not answered by the postings", q.Filter)
		}
		s.noPostings = true
		want, err := s.Count(ctx, q)
		s.noPostings = false
		if err != nil || n != want {
			t.Errorf("%s (since %v): count %d, want %d (%v)", q.Filter, q.Since, n, want, err)
		}
	}
	if nonEmpty < len(qs)/2 {
		t.Errorf("only %d of %d queries found events: the test data does not exercise the postings", nonEmpty, len(qs))
	}
}

func testPostings(t *testing.T, dsn string) {
	ctx := context.Background()
	s, err := Open(ctx, freshDB(dsn))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs := postingsData(t, s)
	qs := scenarioQueries(t, evs)
	checkPostings(t, s, qs, true)

	// Filters the postings narrow but do not answer alone: the events
	// table checks the candidates.
	user := sampleValues(t, evs, "actor.id", 1)[0]
	var narrowed []store.Query
	for _, src := range []string{
		`actor.id eq "` + user + `" and outcome.result eq "SUCCESS"`,
		`(actor.id eq "` + user + `" or target.id eq "` + user + `") and not (eventType eq "user.session.start")`,
		`actor.id eq "` + user + `" and client.ipAddress eq "` + sampleValues(t, evs, "client.ipAddress", 1)[0] + `"`,
	} {
		narrowed = append(narrowed, store.Query{Filter: mustFilter(t, src), Descending: true, Limit: 20})
	}
	narrowed = append(narrowed, store.Query{Filter: mustFilter(t, `actor.id eq "`+user+`"`), Keywords: []string{"success"}, Descending: true, Limit: 20})
	checkPostings(t, s, narrowed, true)

	t.Run("LostPosting", func(t *testing.T) {
		// A postings row deleted behind the store's back: the page must
		// still be complete, and the miss counted.
		q := qs[0]
		want := scanned(t, s, q)
		if len(want) == 0 {
			t.Fatal("no events for the first query")
		}
		victim := want[len(want)/2]
		for _, n := range s.nodes {
			if err := n.Exec(ctx, "ALTER TABLE "+s.postingsLocal+" DELETE WHERE seq = ?", victim.Seq); err != nil {
				t.Fatal(err)
			}
		}
		waitMutations(t, s)
		var left uint64
		if err := s.conn.QueryRow(ctx, "SELECT count() FROM "+s.postings+" WHERE seq = ?", victim.Seq).Scan(&left); err != nil || left != 0 {
			t.Fatalf("postings of seq %d after the delete: %d %v", victim.Seq, left, err)
		}
		misses := s.indexMisses.Load()
		got, err := s.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if err := samePage(got, want); err != nil {
			t.Errorf("with a posting lost: %v", err)
		}
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.IndexMisses != misses+1 {
			t.Errorf("IndexMisses %d, want %d", st.IndexMisses, misses+1)
		}
	})

	t.Run("PostingWithoutEvent", func(t *testing.T) {
		// A postings row (counted, too) whose event the events table does
		// not have: the key lookup comes back short, and the page must
		// still be complete.
		q := qs[len(qs)-3] // a session's newest 100
		want := scanned(t, s, q)
		keys, ok := postingKeys(q.Filter)
		if !ok || len(want) == 0 {
			t.Fatalf("query %s: keys %v, %d events", q.Filter, keys, len(want))
		}
		top := want[0]
		var et string
		if err := s.conn.QueryRow(ctx, "SELECT event_type FROM "+s.events+" WHERE seq = ?", top.Seq).Scan(&et); err != nil {
			t.Fatal(err)
		}
		ms := top.Published.UnixMilli() + 1
		// The posting and its count row, so that the count check passes
		// and the key lookup is what must notice.
		insertRow(t, s, s.postings, "kind, key, published_ms, seq, event_type, n", keys[0].kind, keys[0].key, ms, top.Seq-1_000_000, et, uint32(0))
		insertRow(t, s, s.postings, "kind, key, published_ms, seq, event_type, n", keys[0].kind+countKind, keys[0].key, monthStart(ms), int64(0), "", uint32(1))
		misses := s.indexMisses.Load()
		got, err := s.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if err := samePage(got, want); err != nil {
			t.Errorf("with a posting of no event: %v", err)
		}
		if s.indexMisses.Load() != misses+1 {
			t.Errorf("IndexMisses %d, want %d", s.indexMisses.Load(), misses+1)
		}
	})
}

// insertRow inserts one row into a table.
func insertRow(t *testing.T, s *Store, table, cols string, vals ...any) {
	t.Helper()
	b, err := s.conn.PrepareBatch(context.Background(), "INSERT INTO "+table+" ("+cols+")")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(vals...); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
}

// waitMutations waits until every ALTER … DELETE of the database is done
// (18.16 has no mutations_sync).
func waitMutations(t *testing.T, s *Store) {
	t.Helper()
	for _, n := range s.nodes {
		for i := 0; ; i++ {
			var pending uint64
			if err := n.QueryRow(context.Background(), "SELECT count() FROM system.mutations WHERE database = ? AND NOT is_done", s.db).Scan(&pending); err != nil {
				t.Fatal(err)
			}
			if pending == 0 {
				break
			}
			if i > 300 {
				t.Fatal("mutation not done after 30 s")
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// testPostingsMigrate opens a database laid out by the release before the
// postings (the same events table, no postings): the first open fills the
// postings of the stored rows, and pages use them.
func testPostingsMigrate(t *testing.T, dsn string) {
	ctx := context.Background()
	url := freshDB(dsn)
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	evs := postingsData(t, s)
	for _, stmt := range []string{"postings", "events_hourly_mv", "events_hourly"} {
		if err := s.conn.Exec(ctx, "DROP TABLE `"+s.db+"`.`"+stmt+"`"); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	s, err = Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT count(DISTINCT seq) FROM "+s.postings+" WHERE kind < ?", uint8(countKind)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 || n > uint64(len(evs)) {
		t.Fatalf("after the migration the postings name %d events of %d", n, len(evs))
	}
	checkPostings(t, s, scenarioQueries(t, evs), true)
	hist := func() {
		t.Helper()
		before := s.rollupHistograms.Load()
		got, err := s.Histogram(ctx, store.Query{}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if s.rollupHistograms.Load() != before+1 {
			t.Error("histogram not answered by the rollup after the migration")
		}
		s.noRollup = true
		want, err := s.Histogram(ctx, store.Query{}, time.Hour)
		s.noRollup = false
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("rollup histogram after the migration differs from the events' (%v)", err)
		}
	}
	hist()
	// New rows get postings from the views.
	more, err := storetest.Simulated(simulate.Config{Users: 20, Days: 2, Seed: 8, End: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}, 300)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, more); err != nil {
		t.Fatal(err)
	}
	checkPostings(t, s, scenarioQueries(t, more), true)
	hist()
	if s.indexMisses.Load() != 0 {
		t.Errorf("IndexMisses %d after the migration", s.indexMisses.Load())
	}
}

// checkKeysComplete asks for the events of some actors of evs, through the
// postings and without them: the answers must agree, the postings must
// have answered, and nothing may disagree.
func checkKeysComplete(t *testing.T, s *Store, evs []store.Event) {
	t.Helper()
	ctx := context.Background()
	pages, misses := s.postingsPages.Load(), s.indexMisses.Load()
	asked := 0
	for _, e := range evs[len(evs)-40:] {
		doc, err := filter.DecodeJSON(e.Raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range filter.Resolve(doc, filter.Path{"actor", "id"}) {
			id, _ := v.(string)
			q := store.Query{Filter: mustFilter(t, `actor.id eq "`+id+`" or target.id eq "`+id+`"`), Descending: true, Limit: 100}
			got, err := s.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if err := samePage(got, scanned(t, s, q)); err != nil {
				t.Errorf("actor %s: %v", id, err)
			}
			asked++
		}
	}
	if int(s.postingsPages.Load()-pages) != asked || s.indexMisses.Load() != misses {
		t.Errorf("postings answered %d of %d pages, %d misses", s.postingsPages.Load()-pages, asked, s.indexMisses.Load()-misses)
	}
}

// testCrashLeftovers: a writer killed between the events insert and the
// postings insert leaves rows past the watermark without postings. The next
// process's first Append indexes them before making them visible.
func testCrashLeftovers(t *testing.T, dsn string) {
	ctx := context.Background()
	url := freshDB(dsn)
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	evs := storetest.Synthetic(300, 31)
	if _, err := s.Append(ctx, evs[:100]); err != nil {
		t.Fatal(err)
	}
	var left []row
	for i, e := range evs[100:200] {
		r, err := deriveRow(i, e)
		if err != nil {
			t.Fatal(err)
		}
		r.seq = s.nextSeq
		s.nextSeq++
		left = append(left, r)
	}
	if err := s.insert(ctx, left); err != nil {
		t.Fatal(err)
	}
	s.Close() // the "crash": nothing else of that process runs

	s, err = Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Append(ctx, evs[200:]); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Count(ctx, store.Query{}); err != nil || n != 300 {
		t.Fatalf("count %d %v, want 300 (the left rows become visible)", n, err)
	}
	checkKeysComplete(t, s, evs[:200])
}
