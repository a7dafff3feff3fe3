package clickhouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/chtest"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
)

// TestSingleNode runs the tests that need a server but not the whole suite
// against one shared server.
func TestSingleNode(t *testing.T) {
	dsn := chtest.StartServer(t)
	open := func(t *testing.T) *Store {
		s, err := Open(context.Background(), freshDB(dsn))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	t.Run("PartialInsertRetry", func(t *testing.T) { testPartialInsertRetry(t, open(t)) })
	t.Run("SecondWriter", func(t *testing.T) { testSecondWriter(t, open, dsn) })
	t.Run("NumbersExact", func(t *testing.T) { testNumbersExact(t, open(t)) })
	t.Run("Reopen", func(t *testing.T) { testReopen(t, dsn) })
	t.Run("DeleteDropsMonths", func(t *testing.T) { testDeleteDropsMonths(t, open(t)) })
	t.Run("LongKeys", func(t *testing.T) { testLongKeys(t, open(t)) })
}

// testPartialInsertRetry leaves rows behind as a failed Append can (stored,
// seq assigned, watermark not moved): they must stay invisible, and a retry
// of the batch must make every event visible exactly once, after any cursor
// taken before the failure.
func testPartialInsertRetry(t *testing.T, s *Store) {
	ctx := context.Background()
	evs := storetest.Synthetic(200, 21)
	if _, err := s.Append(ctx, evs[:100]); err != nil {
		t.Fatal(err)
	}
	cursor, err := s.Query(ctx, store.Query{Order: store.BySeq, Descending: true, Limit: 1})
	if err != nil || len(cursor) != 1 {
		t.Fatalf("cursor: %v %v", cursor, err)
	}
	// What a failed insert of evs[100:200] may leave: half of it.
	var left []row
	for i, e := range evs[150:] {
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
	if n, err := s.Count(ctx, store.Query{}); err != nil || n != 100 {
		t.Fatalf("with rows left by a failed insert: count %d %v, want 100", n, err)
	}
	if _, err := s.Get(ctx, evs[150].UUID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a row of the failed batch is visible: %v", err)
	}
	res, err := s.Append(ctx, evs[100:])
	if err != nil {
		t.Fatal(err)
	}
	if res != (store.AppendResult{Added: 50, Duplicates: 50}) {
		t.Fatalf("retry: %+v, want 50 added and 50 found stored", res)
	}
	newer, err := s.Query(ctx, store.Query{Order: store.BySeq, After: &store.Position{Seq: cursor[0].Seq}})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range newer {
		if seen[e.UUID] {
			t.Fatalf("%s twice", e.UUID)
		}
		seen[e.UUID] = true
	}
	for _, e := range evs[100:] {
		if !seen[e.UUID] {
			t.Errorf("%s not after the cursor taken before the failure", e.UUID)
		}
	}
	if len(newer) != 100 {
		t.Errorf("%d events after the cursor, want 100", len(newer))
	}
	// The left rows got their postings before they became visible.
	checkKeysComplete(t, s, evs)
}

// testSecondWriter: a second process writing to the same database is
// refused with store.ErrLocked instead of assigning colliding seqs.
func testSecondWriter(t *testing.T, open func(*testing.T) *Store, dsn string) {
	ctx := context.Background()
	a := open(t)
	b, err := Open(ctx, dsnOf(dsn, a.db))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	evs := storetest.Synthetic(20, 22)
	if _, err := a.Append(ctx, evs[:10]); err != nil {
		t.Fatal(err)
	}
	_, err = b.Append(ctx, evs[10:])
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second writer: %v, want ErrLocked", err)
	}
	if _, err := a.Append(ctx, evs[10:]); err != nil {
		t.Fatalf("first writer after the refusal: %v", err)
	}
	// Reading is fine from any process.
	if n, err := b.Count(ctx, store.Query{}); err != nil || n != 20 {
		t.Fatalf("count from the second process: %d %v", n, err)
	}
}

func dsnOf(dsn, db string) string {
	for i := len(dsn) - 1; i >= 0; i-- {
		if dsn[i] == '/' {
			return dsn[:i+1] + db
		}
	}
	return dsn
}

// testNumbersExact compares numbers the float parser of an old server could
// get wrong: the SQL must agree with filter.Match on each.
func testNumbersExact(t *testing.T, s *Store) {
	ctx := context.Background()
	nums := []string{"0", "-0", "0.1", "0.30000000000000004", "1e-7", "5e-324", "1.7976931348623157e308",
		"9007199254740993", "123456789.123456789", "-2.5", "1e400", "45.5012", "-122.6765"}
	var evs []store.Event
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, n := range nums {
		raw := fmt.Sprintf(`{"uuid":"n%d","published":"%s","eventType":"x","debugContext":{"debugData":{"n":%s}}}`,
			i, base.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano), n)
		evs = append(evs, store.Event{UUID: fmt.Sprintf("n%d", i), Published: base.Add(time.Duration(i) * time.Second), Raw: json.RawMessage(raw)})
	}
	if _, err := s.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	docs := make([]any, len(evs))
	for i, e := range evs {
		docs[i], _ = filter.DecodeJSON(e.Raw)
	}
	for _, n := range nums {
		for _, op := range []string{"eq", "gt", "lt", "ge", "le", "ne"} {
			src := "debugContext.debugData.n " + op + " " + n
			e, err := filter.Parse(src)
			if err != nil {
				continue // 1e400 is data here, not a valid literal
			}
			want := 0
			for _, d := range docs {
				if filter.Match(e, d) {
					want++
				}
			}
			got, err := s.Count(ctx, store.Query{Filter: e})
			if err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			if got != int64(want) {
				t.Errorf("%s: %d events, filter.Match says %d", src, got, want)
			}
		}
	}
}

// testReopen: a reopened store continues the seq and keeps its
// checkpoint, tombstones and data.
func testReopen(t *testing.T, dsn string) {
	ctx := context.Background()
	url := freshDB(dsn)
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	evs := storetest.Synthetic(100, 23)
	if _, err := s.AppendCheckpoint(ctx, evs[:60], "okta", "next-60"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteBefore(ctx, evs[10].Published); err != nil {
		t.Fatal(err)
	}
	before, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	after, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Events != before.Events || after.MaxSeq != before.MaxSeq || !after.Oldest.Equal(before.Oldest) {
		t.Fatalf("after reopen %+v, before %+v", after, before)
	}
	if v, err := s.Checkpoint(ctx, "okta"); err != nil || v != "next-60" {
		t.Fatalf("checkpoint after reopen: %q %v", v, err)
	}
	res, err := s.Append(ctx, evs[50:])
	if err != nil || res.Added != 40 || res.Duplicates != 10 {
		t.Fatalf("append after reopen: %+v %v", res, err)
	}
	last, err := s.Query(ctx, store.Query{Order: store.BySeq, Descending: true, Limit: 1})
	if err != nil || len(last) != 1 || last[0].Seq != before.MaxSeq+40 {
		t.Fatalf("seq after reopen: %+v %v, want %d", last, err, before.MaxSeq+40)
	}
	if after.BytesOnDisk <= 0 {
		t.Errorf("bytes on disk %d", after.BytesOnDisk)
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		url  string
		want Config
		err  string
	}{
		{"clickhouse://127.0.0.1:9000/idlog", Config{Addr: "127.0.0.1:9000", Database: "idlog"}, ""},
		{"clickhouse://ch1/logs", Config{Addr: "ch1:9000", Database: "logs"}, ""},
		{"clickhouse://ch1:9440", Config{Addr: "ch1:9440", Database: "idlog"}, ""},
		{"clickhouse://ch1:9000/idlog?cluster=prod&user=idlog&password=s%20t", Config{Addr: "ch1:9000", Database: "idlog", Cluster: "prod", User: "idlog", Password: "s t"}, ""},
		{"clickhouse://u:p@ch1:9000/idlog", Config{Addr: "ch1:9000", Database: "idlog", User: "u", Password: "p"}, ""},
		{"clickhouse://ch1:9000/id-log", Config{}, "not a plain identifier"},
		{"clickhouse://ch1:9000/idlog?cluster=a;b", Config{}, "semicolon"},
		{"clickhouse://ch1:9000/idlog?cluster=a-b", Config{}, "not a plain identifier"},
		{"clickhouse://ch1:9000/idlog?secure=1", Config{}, "unknown parameter"},
		{"clickhouse:///idlog", Config{}, "want clickhouse://HOST:PORT/DB"},
	}
	for _, tt := range tests {
		got, err := ParseURL(tt.url)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.url, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: %+v %v, want %+v", tt.url, got, err, tt.want)
		}
	}
}

// testDeleteDropsMonths: DeleteBefore hides rows at once, drops the months
// wholly before the cut, keeps (hidden) the month the cut falls in, and
// does not hide an old event appended after it.
func testDeleteDropsMonths(t *testing.T, s *Store) {
	ctx := context.Background()
	var evs []store.Event
	for i, day := range []string{"2026-01-10", "2026-01-20", "2026-02-05", "2026-02-25", "2026-03-03"} {
		pub, _ := time.Parse("2006-01-02", day)
		raw := fmt.Sprintf(`{"uuid":"d%d","published":"%s","eventType":"user.session.start"}`, i, pub.Format(time.RFC3339))
		evs = append(evs, store.Event{UUID: fmt.Sprintf("d%d", i), Published: pub, Raw: json.RawMessage(raw)})
	}
	if _, err := s.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	months := func() map[string]bool {
		rows, err := s.conn.Query(ctx, "SELECT DISTINCT partition FROM system.parts WHERE active AND database = ? AND table = 'events'", s.db)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]bool{}
		for rows.Next() {
			var p string
			rows.Scan(&p)
			out[p] = true
		}
		return out
	}
	n, err := s.DeleteBefore(ctx, time.Date(2026, 2, 15, 0, 0, 0, 0, time.UTC))
	if err != nil || n != 3 {
		t.Fatalf("delete before Feb 15: %d %v, want 3", n, err)
	}
	if got := months(); got["202601"] || !got["202602"] || !got["202603"] {
		t.Fatalf("months on disk after the first delete: %v, want 202602 and 202603", got)
	}
	if c, _ := s.Count(ctx, store.Query{}); c != 2 {
		t.Fatalf("%d visible, want 2", c)
	}
	// An old event appended after the delete is not covered by it.
	if res, err := s.Append(ctx, evs[:1]); err != nil || res.Added != 1 {
		t.Fatalf("re-append: %+v %v", res, err)
	}
	if _, err := s.Get(ctx, "d0"); err != nil {
		t.Fatalf("re-appended old event: %v", err)
	}
	n, err = s.DeleteBefore(ctx, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || n != 2 {
		t.Fatalf("delete before Mar 1: %d %v, want 2 (d0 again and d3)", n, err)
	}
	if got := months(); len(got) != 1 || !got["202603"] {
		t.Fatalf("months on disk after the second delete: %v, want only 202603", got)
	}
	if c, _ := s.Count(ctx, store.Query{}); c != 1 {
		t.Fatalf("%d visible, want 1", c)
	}
}

// testLongKeys: uuids far longer than Okta's must not push the duplicate
// check or the page fetch past the server's max_query_size (256 KiB).
func testLongKeys(t *testing.T, s *Store) {
	ctx := context.Background()
	pad := strings.Repeat("x", 3000)
	var evs []store.Event
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 300 {
		id := fmt.Sprintf("%s-%04d", pad, i)
		pub := base.Add(time.Duration(i) * time.Second)
		raw := fmt.Sprintf(`{"uuid":"%s","published":"%s","eventType":"x"}`, id, pub.Format(time.RFC3339))
		evs = append(evs, store.Event{UUID: id, Published: pub, Raw: json.RawMessage(raw)})
	}
	if res, err := s.Append(ctx, evs); err != nil || res.Added != 300 {
		t.Fatalf("append: %+v %v", res, err)
	}
	if res, err := s.Append(ctx, evs); err != nil || res.Duplicates != 300 {
		t.Fatalf("append again: %+v %v", res, err)
	}
	page, err := s.Query(ctx, store.Query{Descending: true, Limit: 300})
	if err != nil || len(page) != 300 || page[0].UUID != evs[299].UUID {
		t.Fatalf("page: %d events %v", len(page), err)
	}
}
