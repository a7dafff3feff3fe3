package duckdb

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/duckdb/duckdbtest"
)

// The store in testdata/crashed-mirror.duckdb was written by 'idlog pull'
// (release 93ee9f8, DuckDB 1.5.6) mirroring 4,000 events from a stand-in
// Okta org while the process was SIGKILLed 16 times; its seq index finds
// none of its rows by seq (shared/repro/crashed-mirror). That release
// answered every query over it short or empty.
const crashedMirrorEvents = duckdbtest.CrashedMirrorEvents

// crashedMirror returns the path of a writable copy of the damaged store.
func crashedMirror(t *testing.T) string { return duckdbtest.CrashedMirror(t) }

// readShapes are the page reads an API client or the CLI makes: polling
// by seq, bounded pages in both orders, pages of every size the damage
// showed up at, a filter the postings answer and one they don't.
func readShapes(t *testing.T, s *Store) []store.Query {
	t.Helper()
	evs, err := s.Query(context.Background(), store.Query{Order: store.BySeq, Limit: 1})
	if err != nil || len(evs) != 1 {
		t.Fatalf("first event: %v %v", evs, err)
	}
	doc, err := filter.DecodeJSON(evs[0].Raw)
	if err != nil {
		t.Fatal(err)
	}
	actor, _ := filter.Resolve(doc, filter.Path{"actor", "id"})[0].(string)
	byActor, err := filter.Parse(`actor.id eq "` + actor + `" or target.id eq "` + actor + `"`)
	if err != nil {
		t.Fatal(err)
	}
	notPosted, err := filter.Parse(`outcome.result pr`)
	if err != nil {
		t.Fatal(err)
	}
	since, until := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var qs []store.Query
	for _, limit := range []int{0, 15, 1001} {
		qs = append(qs,
			store.Query{Order: store.BySeq, Limit: limit},
			store.Query{Order: store.ByPublished, Since: since, Until: until, Limit: limit},
			store.Query{Order: store.ByPublished, Descending: true, Since: since, Until: until, Limit: limit},
			store.Query{Order: store.ByPublished, Filter: byActor, Limit: limit},
			store.Query{Order: store.ByPublished, Descending: true, Filter: notPosted, Limit: limit},
		)
	}
	// Small pages, followed to the end, as a client paging with limit=5.
	qs = append(qs,
		store.Query{Order: store.BySeq, Limit: 5},
		store.Query{Order: store.ByPublished, Descending: true, Since: since, Until: until, Limit: 5},
		store.Query{Order: store.ByPublished, Filter: byActor, Limit: 1},
	)
	return qs
}

// everything reads every event of the store past the seq index.
func everything(t *testing.T, s *Store) []store.Event {
	t.Helper()
	var all []store.Event
	rows, err := s.db.Query(`SELECT seq FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []any
	for rows.Next() {
		var v int64
		rows.Scan(&v)
		seqs = append(seqs, v)
	}
	rows.Close()
	if err := s.scanSeqs(context.Background(), seqs, func(e store.Event) { all = append(all, e) }); err != nil {
		t.Fatal(err)
	}
	if len(all) != crashedMirrorEvents {
		t.Fatalf("the reference read %d events, want %d", len(all), crashedMirrorEvents)
	}
	return all
}

// reference is the answer of the reference evaluator to q over all, in
// q's order; docs are all's events decoded.
func reference(all []store.Event, docs []any, q store.Query) []string {
	var out []store.Event
	for i, e := range all {
		if q.Filter != nil && !filter.Match(q.Filter, docs[i]) {
			continue
		}
		if !q.Since.IsZero() && e.Published.Before(q.Since) || !q.Until.IsZero() && !e.Published.Before(q.Until) {
			continue
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b store.Event) int {
		c := 0
		if q.Order == store.ByPublished {
			c = a.Published.Compare(b.Published)
		}
		if c == 0 {
			c = int(a.Seq - b.Seq)
		}
		if q.Descending {
			c = -c
		}
		return c
	})
	ids := make([]string, len(out))
	for i, e := range out {
		ids[i] = e.UUID
	}
	return ids
}

// checkAnswers pages through every read shape and compares each whole
// answer with the reference evaluator's.
func checkAnswers(t *testing.T, s *Store) {
	t.Helper()
	all := everything(t, s)
	docs := make([]any, len(all))
	for i, e := range all {
		var err error
		if docs[i], err = filter.DecodeJSON(e.Raw); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range readShapes(t, s) {
		want := reference(all, docs, q)
		got := readAll(t, s, q)
		if !slices.Equal(got, want) {
			t.Errorf("order %v desc %v limit %d filter %v: %d events, want %d", q.Order, q.Descending, q.Limit, q.Filter, len(got), len(want))
		}
	}
}

// TestCrashedMirrorRepairedAtOpen: the damaged store answers in full on
// its first open, which finds the damage and rebuilds the index, and
// Check reports what the open found.
func TestCrashedMirrorRepairedAtOpen(t *testing.T) {
	s, err := Open(crashedMirror(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkAnswers(t, s)
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != crashedMirrorEvents || st.Repairs != 1 || st.IndexMisses == 0 {
		t.Errorf("stats %+v: want %d events, one repair, misses counted", st, crashedMirrorEvents)
	}
	rep, err := s.Check(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) == 0 || rep.Findings[0].Structure != "seq index, at open" || !rep.Findings[0].Repaired || rep.Findings[0].Problems == 0 {
		t.Errorf("the check does not report the damage the open repaired: %+v", rep.Findings)
	}
	for _, f := range rep.Findings[1:] {
		if f.Problems != 0 {
			t.Errorf("after the open's repair: %+v", f)
		}
	}
}

// TestCrashedMirrorReadPastIndex: opened without repairs (and without the
// row cache, so that every page reads the file), every page is still
// whole, read past the damaged index, and the misses are counted.
func TestCrashedMirrorReadPastIndex(t *testing.T) {
	s, err := OpenWith(crashedMirror(t), Options{NoRepair: true, RowCache: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkAnswers(t, s)
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.IndexMisses <= probeSize || st.Repairs != 0 {
		t.Errorf("stats %+v: want the reads' misses counted past the open's probe, no repair", st)
	}
}

// TestCheckRepairs: Check finds every lost entry of the index, repairs it,
// and finds nothing after.
func TestCheckRepairs(t *testing.T) {
	ctx := context.Background()
	s, err := OpenWith(crashedMirror(t), Options{NoRepair: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rep, err := s.Check(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if f := finding(rep, "seq index"); f.Problems != crashedMirrorEvents || f.Checked != crashedMirrorEvents || f.Repaired {
		t.Fatalf("check: %+v, want all %d rows missing from the index", f, crashedMirrorEvents)
	}
	if !rep.Damaged() {
		t.Error("the report does not say damaged")
	}
	if rep, err = s.Check(ctx, true); err != nil {
		t.Fatal(err)
	}
	if f := finding(rep, "seq index"); !f.Repaired {
		t.Fatalf("repair: %+v", f)
	}
	if rep, err = s.Check(ctx, false); err != nil {
		t.Fatal(err)
	}
	if rep.Damaged() {
		t.Fatalf("after the repair: %+v", rep.Findings)
	}
	// The repaired index answers by itself again.
	asked, missed, err := probeSeqIndex(ctx, s.db)
	if err != nil || missed != 0 || asked == 0 {
		t.Fatalf("probe after repair: asked %d missed %d: %v", asked, missed, err)
	}
}

// TestReadRepairsIndex: a store that may repair itself and finds the
// damage on a read (not at open) rebuilds the index in the background;
// the answers are whole before and after.
func TestReadRepairsIndex(t *testing.T) {
	s, err := OpenWith(crashedMirror(t), Options{NoRepair: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.health.noRepair.Store(false) // as if the open had not looked
	checkAnswers(t, s)
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := s.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Repairs == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no repair after a read found the damage: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, missed, err := probeSeqIndex(context.Background(), s.db)
	if err != nil || missed != 0 {
		t.Fatalf("probe after the background repair: missed %d: %v", missed, err)
	}
	checkAnswers(t, s)
}

// TestCheckDerived: damage to each of the other derived structures is
// found and repaired.
func TestCheckDerived(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "e.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs := postingsEvents()
	if _, err := s.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Query(ctx, store.Query{Order: store.BySeq, Limit: 20}); err != nil { // fills the row cache
		t.Fatal(err)
	}
	rep, err := s.Check(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Damaged() {
		t.Fatalf("a sound store: %+v", rep.Findings)
	}
	if f := finding(rep, "row cache"); f.Checked == 0 {
		t.Fatalf("the row cache was not compared: %+v", f)
	}

	// Postings: an entry lost.
	if err := dropEntry(s.w.idx, kPosting); err != nil {
		t.Fatal(err)
	}
	// Row cache: an event that is not its row's.
	s.rows.mu.Lock()
	for seq, e := range s.rows.cur {
		e.Raw = []byte(`{"uuid":"forged"}`)
		s.rows.cur[seq] = e
		break
	}
	s.rows.mu.Unlock()
	// Counters: the ingest sequence behind the rows.
	if _, err := s.db.Exec(`UPDATE state SET last_seq = 3 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}

	if rep, err = s.Check(ctx, false); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"postings", "row cache", "counters"} {
		if f := finding(rep, name); f.Problems == 0 || f.Repaired {
			t.Errorf("%s: %+v, want the damage found and not repaired", name, f)
		}
	}
	if rep, err = s.Check(ctx, true); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"postings", "row cache", "counters"} {
		if f := finding(rep, name); !f.Repaired {
			t.Errorf("%s: %+v, want repaired", name, f)
		}
	}
	if rep, err = s.Check(ctx, false); err != nil || rep.Damaged() {
		t.Fatalf("after repair: %+v %v", rep.Findings, err)
	}
	// New events get new seqs after the counter's repair.
	more := []store.Event{{UUID: "after-repair", Published: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC),
		Raw: []byte(`{"uuid":"after-repair","published":"2026-03-09T00:00:00.000Z","eventType":"user.session.start"}`)}}
	if _, err := s.Append(ctx, more); err != nil {
		t.Fatal(err)
	}
	if rep, err = s.Check(ctx, false); err != nil || rep.Damaged() {
		t.Fatalf("after an append: %+v %v", rep.Findings, err)
	}
}

// readAll reads every page of q, following the last event of each, as
// the API's next links do.
func readAll(t *testing.T, s *Store, q store.Query) []string {
	t.Helper()
	var out []string
	for range 2 * crashedMirrorEvents {
		evs, err := s.Query(context.Background(), q)
		if err != nil {
			t.Fatalf("%v: %v", q.Filter, err)
		}
		for _, e := range evs {
			out = append(out, e.UUID)
		}
		if q.Limit == 0 || len(evs) < q.Limit {
			return out
		}
		last := evs[len(evs)-1]
		q.After = &store.Position{Published: last.Published, Seq: last.Seq}
	}
	t.Fatal("more pages than events")
	return nil
}

func finding(r store.CheckReport, structure string) store.Finding {
	for _, f := range r.Findings {
		if f.Structure == structure {
			return f
		}
	}
	return store.Finding{Structure: structure + " (missing from the report)"}
}

// TestSeqRangesPastIndex: the conditions on seq ranges that reads use
// (the polling keyset, the postings' catch-up) count every row of the
// damaged store, where the plain comparison, answered from the index,
// counts none near the end.
func TestSeqRangesPastIndex(t *testing.T) {
	s, err := OpenWith(crashedMirror(t), Options{NoRepair: true, RowCache: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var plainCount int
	if err := s.db.QueryRow(`SELECT count(*) FROM events WHERE seq > $1`, 3990).Scan(&plainCount); err != nil {
		t.Fatal(err)
	}
	if plainCount == 10 {
		t.Log("DuckDB answered the plain range right: the damage does not reach ranges in this build")
	}
	for _, after := range []int64{0, 1900, 3990, 3999} {
		c := &compiler{}
		cond := keyset(c, store.Query{Order: store.BySeq}, &store.Position{Seq: after})
		var n int64
		if err := s.db.QueryRow(`SELECT count(*) FROM events WHERE `+cond, c.args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != crashedMirrorEvents-after {
			t.Errorf("keyset after seq %d counts %d rows, want %d", after, n, crashedMirrorEvents-after)
		}
		p := newPostings()
		if err := p.load(context.Background(), s.db, after); err != nil {
			t.Fatal(err)
		}
		if upTo := p.upTo.Load(); upTo != crashedMirrorEvents {
			t.Errorf("postings loaded after seq %d go up to %d, want %d", after, upTo, crashedMirrorEvents)
		}
	}
}

// TestUncleanOpenRebuilds: a store whose last writer exited without
// closing it (a child process that appends and calls os.Exit, leaving the
// WAL) has its seq index rebuilt in the background by the next open, and
// answers in full meanwhile.
func TestUncleanOpenRebuilds(t *testing.T) {
	if path := os.Getenv("IDLOG_UNCLEAN_CHILD"); path != "" {
		s, err := Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		if _, err := s.Append(context.Background(), postingsEvents()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		os.Exit(0) // no Close: DuckDB leaves its WAL
	}
	path := filepath.Join(t.TempDir(), "e.duckdb")
	cmd := exec.Command(os.Args[0], "-test.run", "^TestUncleanOpenRebuilds$")
	cmd.Env = append(os.Environ(), "IDLOG_UNCLEAN_CHILD="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !walPending(path) {
		t.Fatal("the child left no WAL: the test proves nothing")
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, err := s.Query(context.Background(), store.Query{Order: store.BySeq})
	if err != nil || len(evs) != len(postingsEvents()) {
		t.Fatalf("%d events (%v), want %d", len(evs), err, len(postingsEvents()))
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		st, err := s.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Repairs == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no rebuild after an unclean shutdown: %+v", st)
		}
	}
}
