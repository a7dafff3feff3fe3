package duckdb

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/scenario"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
)

// postingsEvents are the conformance data plus events whose indexed paths
// the typed columns cannot hold, which the postings must still find.
func postingsEvents() []store.Event {
	evs := storetest.Dataset()
	for i, raw := range []string{
		`{"uuid":"p-dup-actor","published":"2026-03-01T00:00:10.000Z","eventType":"user.session.start","actor":{"id":"00udup1","id":"00udup2"}}`,
		`{"uuid":"p-target-mixed","published":"2026-03-01T00:00:11.000Z","eventType":"user.session.start","target":[{"id":7},{"id":"00udup2"}]}`,
		`{"uuid":"p-ip-array","published":"2026-03-01T00:00:12.000Z","eventType":"user.session.start","client":{"ipAddress":["10.1.1.1","10.1.1.2"]}}`,
		`{"uuid":"p-target-object","published":"2026-03-01T00:00:13.000Z","eventType":"user.session.start","target":{"id":"00udup2"}}`,
	} {
		evs = append(evs, store.Event{UUID: fmt.Sprintf("p-%d", i), Published: time.Date(2026, 3, 1, 0, 0, 10+i, 0, time.UTC), Raw: []byte(raw)})
	}
	// One second, milliseconds falling as seqs rise: a span that ended
	// inside it would put the rows out of order.
	for i := range 6 {
		pub := time.Date(2026, 3, 5, 0, 1, 0, (900-100*i)*int(time.Millisecond), time.UTC)
		raw := fmt.Sprintf(`{"uuid":"p-tie-%d","published":%q,"eventType":"user.session.start","actor":{"id":"00utie"}}`, i, pub.Format(publishedFormat))
		evs = append(evs, store.Event{UUID: fmt.Sprintf("p-tie-%d", i), Published: pub, Raw: []byte(raw)})
	}
	return evs
}

// indexedValues are values of the indexed paths found in evs, per path.
func indexedValues(t *testing.T, evs []store.Event) map[string][]string {
	out := map[string][]string{}
	for _, e := range evs {
		doc, err := filter.DecodeJSON(e.Raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range indexedColumns {
			p := columns[c].path
			for _, v := range filter.Resolve(doc, filter.Path(splitPath(p))) {
				if s, ok := v.(string); ok && !slices.Contains(out[p], s) {
					out[p] = append(out[p], s)
				}
			}
		}
	}
	return out
}

func splitPath(p string) []string {
	return columnPaths[slices.IndexFunc(columns, func(c column) bool { return c.path == p })]
}

// pages reads every page of q, following the last event of each.
func pages(t *testing.T, s *Store, q store.Query) []string {
	t.Helper()
	var out []string
	for range 1000 {
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
	t.Fatal("more than 1000 pages")
	return nil
}

// plain runs fn while s reads without postings or row cache: the
// reference that pages found through them must agree with.
func plain(s *Store, fn func()) {
	rows := s.rows
	s.noPostings, s.rows = true, nil
	defer func() { s.noPostings, s.rows = false, rows }()
	fn()
}

// TestPostingsAgree: every page found through the postings is the page
// DuckDB's scan finds, for the shapes the postings narrow (the seed
// scenarios and single values), in every order, with ranges and paging.
func TestPostingsAgree(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "events.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs := postingsEvents()
	for i := 0; i < len(evs); i += 700 {
		if _, err := s.Append(context.Background(), evs[i:min(i+700, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}
	compare(t, s, evs, 300)

	// Windows of one candidate: a page is filled over many of them.
	defer func(n int) { postingWindow = n }(postingWindow)
	postingWindow = 1
	compare(t, s, evs, 200)
	postingWindow = 16

	// The postings of a reopened file are built from the table.
	path := s.path
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	compare(t, s, evs, 100)

	// After a delete, the pages still agree (the postings keep only what
	// may still be stored).
	if _, err := s.DeleteBefore(context.Background(), storetest.Base.Add(12*time.Hour)); err != nil {
		t.Fatal(err)
	}
	compare(t, s, evs, 100)
}

func compare(t *testing.T, s *Store, evs []store.Event, n int) {
	t.Helper()
	vals := indexedValues(t, evs)
	for _, must := range [][2]string{{"actor.id", "00udup2"}, {"target.id", "00udup2"}, {"client.ipAddress", "10.1.1.2"}} {
		if !slices.Contains(vals[must[0]], must[1]) {
			t.Fatalf("test data: no %s %q", must[0], must[1])
		}
	}
	tie, err := filter.Parse(`actor.id eq "00utie"`)
	if err != nil {
		t.Fatal(err)
	}
	for _, order := range []store.Order{store.ByPublished, store.BySeq} {
		for _, desc := range []bool{false, true} {
			for _, limit := range []int{0, 2, 5} {
				q := store.Query{Filter: tie, Order: order, Descending: desc, Limit: limit}
				got := pages(t, s, q)
				var want []string
				plain(s, func() { want = pages(t, s, q) })
				if len(want) != 6 || !slices.Equal(got, want) {
					t.Fatalf("one second (order %v, desc %v, limit %d):\nwith postings    %v\nwithout postings %v", order, desc, limit, got, want)
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(7, uint64(n)))
	pick := func(path string) string {
		l := vals[path]
		return l[r.IntN(len(l))]
	}
	scenarios := scenario.All()
	types := []string{"user.session.start", "user.authentication.sso", "policy.evaluate_sign_on", "user.session.end", "no.such.type"}
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	span := st.Newest.Sub(st.Oldest)
	for i := range n {
		var src string
		switch i % 5 {
		case 0:
			sc := scenarios[r.IntN(len(scenarios))]
			v := pick("actor.id")
			switch sc.Param {
			case scenario.ParamIP:
				v = pick("client.ipAddress")
			case scenario.ParamSession:
				v = pick("authenticationContext.externalSessionId")
			}
			src, err = sc.Expand(v)
			if err != nil {
				t.Fatal(err)
			}
		case 1:
			p := columns[indexedColumns[r.IntN(len(indexedColumns))]].path
			src = fmt.Sprintf("%s eq %s", p, scenario.Quote(pick(p)))
		case 2:
			v := pick("target.id")
			src = fmt.Sprintf(`(actor.id eq %s or target.id eq %s) and (eventType eq %s or eventType eq %s)`,
				scenario.Quote(v), scenario.Quote(v), scenario.Quote(types[r.IntN(len(types))]), scenario.Quote(types[r.IntN(len(types))]))
		case 3:
			src = fmt.Sprintf(`client.ipAddress eq %s and not (outcome.result eq "SUCCESS") and eventType eq %s`,
				scenario.Quote(pick("client.ipAddress")), scenario.Quote(types[r.IntN(len(types))]))
		case 4:
			src = fmt.Sprintf(`authenticationContext.externalSessionId eq %s or actor.id eq %s`,
				scenario.Quote(pick("authenticationContext.externalSessionId")), scenario.Quote(pick("actor.id")))
		}
		f, err := filter.Parse(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		q := store.Query{Filter: f, Order: store.Order(r.IntN(2)), Descending: r.IntN(2) == 0, Limit: []int{0, 1, 3, 100}[r.IntN(4)]}
		if r.IntN(2) == 0 {
			q.Since = st.Oldest.Add(time.Duration(r.Int64N(int64(span) + 1)))
			q.Until = q.Since.Add(time.Duration(r.Int64N(int64(span) + 1)))
		}
		if _, _, ok := s.w.idx.candidates(q, 0); !ok {
			t.Fatalf("%s: the postings do not narrow it", src)
		}
		got := pages(t, s, q)
		var want []string
		plain(s, func() { want = pages(t, s, q) })
		if !slices.Equal(got, want) {
			t.Fatalf("%s (order %v, desc %v, limit %d, %v..%v):\nwith postings    %v\nwithout postings %v", src, q.Order, q.Descending, q.Limit, q.Since, q.Until, got, want)
		}
	}
}

func TestPostingsDecline(t *testing.T) {
	p := newPostings()
	for _, src := range []string{
		`eventType eq "user.session.start"`,
		`actor.id ne "x"`,
		`actor.id eq "x" or outcome.result eq "FAILURE"`,
		`not (actor.id eq "x")`,
		`actor.alternateId eq "x"`,
		`actor.id sw "x"`,
	} {
		f, err := filter.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, ok := p.candidates(store.Query{Filter: f}, 0); ok {
			t.Errorf("%s: the postings claim to narrow it", src)
		}
	}
	if _, _, ok := p.candidates(store.Query{}, 0); ok {
		t.Error("no filter: the postings claim to narrow it")
	}
}

// TestMigrateTargetIDsJSON: a file written before target_ids_json existed
// gets the column filled when opened, and every event reads back the same.
func TestMigrateTargetIDsJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.duckdb")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	evs := storetest.Dataset()
	if _, err := s.Append(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	want, err := s.Query(context.Background(), store.Query{Order: store.BySeq})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP INDEX events_seq`, `ALTER TABLE events DROP COLUMN target_ids_json`} {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Query(context.Background(), store.Query{Order: store.BySeq})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(want) != len(evs) {
		t.Fatalf("%d events after migration, %d before, %d appended", len(got), len(want), len(evs))
	}
	targets := 0
	for i := range want {
		if string(got[i].Raw) != string(want[i].Raw) {
			t.Fatalf("%s after migration:\n%s\nbefore:\n%s", want[i].UUID, got[i].Raw, want[i].Raw)
		}
		if bytes.Contains(want[i].Raw, []byte(`"target":[{`)) {
			targets++
		}
	}
	if targets == 0 {
		t.Fatal("test data: no event with targets")
	}
}

// TestPostingsTwoOpens: two Stores on one file in one process share
// DuckDB's database; what one appends or deletes, the other's pages see.
func TestPostingsTwoOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.duckdb")
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	evs := storetest.Synthetic(400, 5)
	if _, err := b.Append(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	vals := indexedValues(t, evs)
	check := func(when string) {
		for _, v := range vals["actor.id"][:5] {
			f, err := filter.Parse(`actor.id eq ` + scenario.Quote(v))
			if err != nil {
				t.Fatal(err)
			}
			// Oldest first, the first candidates of a's postings are
			// the rows b deleted.
			for _, desc := range []bool{true, false} {
				q := store.Query{Filter: f, Descending: desc, Limit: 10}
				got := pages(t, a, q)
				var want []string
				plain(a, func() { want = pages(t, a, q) })
				if len(got) == 0 && when == "append" || !slices.Equal(got, want) {
					t.Fatalf("after the other's %s: actor %s (descending %v)\nwith postings    %v\nwithout postings %v", when, v, desc, got, want)
				}
			}
		}
	}
	check("append")

	// A third open appends and closes before the first one reads.
	c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	more := storetest.Synthetic(300, 6)
	if _, err := c.Append(context.Background(), more); err != nil {
		t.Fatal(err)
	}
	c.Close()
	evs = append(evs, more...)
	vals = indexedValues(t, more)
	check("append")
	if _, err := b.DeleteBefore(context.Background(), evs[200].Published); err != nil {
		t.Fatal(err)
	}
	check("delete")
}

// TestSortRuns: sortRuns sorts any order, mostly sorted or not.
func TestSortRuns(t *testing.T) {
	byMS := func(a, b cand) int { return byPublished(a.pent, b.pent) }
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 200 {
		s := make([]cand, n%60)
		for i := range s {
			ms := int64(i * 10)
			switch n % 4 {
			case 1: // a late tail
				if i > len(s)*3/4 {
					ms = r.Int64N(int64(len(s) * 10))
				}
			case 2: // late events anywhere
				if r.IntN(5) == 0 {
					ms = r.Int64N(int64(len(s) * 10))
				}
			case 3: // no order
				ms = r.Int64N(100)
			}
			s[i] = cand{pent: pent{seq: int64(i + 1), at: ms}}
		}
		want := slices.Clone(s)
		slices.SortFunc(want, byMS)
		if got := sortRuns(slices.Clone(s), byMS); !slices.Equal(got, want) {
			t.Fatalf("case %d:\nin   %v\ngot  %v\nwant %v", n, s, got, want)
		}
		// Two sorted runs, as two lists give, merge into one.
		cut := r.IntN(len(s) + 1)
		a, b := slices.Clone(s[:cut]), slices.Clone(s[cut:])
		slices.SortFunc(a, byMS)
		slices.SortFunc(b, byMS)
		if got := merge(a, b, byMS); !slices.Equal(got, want) {
			t.Fatalf("case %d: merge of %v and %v gave %v", n, a, b, got)
		}
	}
}

// TestPostingsKeepNoEventText: the event types the postings keep in
// memory are copies, never views into the text of the event that added
// them, which would keep every such text alive (a 10M-event import grew
// to 10 GB that way).
func TestPostingsKeepNoEventText(t *testing.T) {
	p := newPostings()
	defer p.close()
	var texts []string
	for i := range 3 {
		// The same values each time, as views into a new event's text.
		text := strings.Repeat("x", 4096) + "00uactor|10.0.0.1|user.session.start"
		texts = append(texts, text)
		at := len(text) - len("00uactor|10.0.0.1|user.session.start")
		cols := make([]any, len(columns))
		cols[indexedColumns[0]] = text[at : at+8]
		cols[indexedColumns[2]] = text[at+9 : at+17]
		cols[eventTypeCol] = text[at+18:]
		if err := p.add(context.Background(), nil, []posting{{seq: int64(i + 1), uuid: fmt.Sprint(i), published: time.UnixMilli(int64(1000 * (i + 1))), cols: cols}}, int64(i), int64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	inText := func(s string) bool {
		d := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		for _, text := range texts {
			b := uintptr(unsafe.Pointer(unsafe.StringData(text)))
			if d >= b && d < b+uintptr(len(text)) {
				return true
			}
		}
		return false
	}
	for _, v := range []string{"00uactor", "10.0.0.1"} {
		f, err := filter.Parse(`actor.id eq "` + v + `" or client.ipAddress eq "` + v + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cands, _, ok := p.candidates(store.Query{Filter: f}, 0)
		if !ok || len(cands) != 3 {
			t.Errorf("%q: %d rows (%v), want 3", v, len(cands), ok)
		}
	}
	if len(p.types) != 1 {
		t.Errorf("%d event types, want 1", len(p.types))
	}
	for typ := range p.types {
		if inText(typ) {
			t.Errorf("the event type %q is a view into an event's text", typ)
		}
	}
}
