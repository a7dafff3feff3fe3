// Package storetest is the conformance suite every store backend passes:
// one test body, run against each backend by its own package's test
// (Litestream's replica-client suite is the model). Every answer is checked
// against a brute-force model built on the reference evaluator filter.Match,
// so a backend is right exactly when it agrees with the definition in
// docs/filter-language.md.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/scenario"
	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store"
)

// Opener opens an empty store for one test; the test closes it.
type Opener func(t *testing.T) store.Store

// Run runs the whole suite against the backend open returns.
func Run(t *testing.T, open Opener) {
	t.Run("AppendGetIdempotent", func(t *testing.T) { testAppend(t, open) })
	t.Run("Checkpoint", func(t *testing.T) { testCheckpoint(t, open) })
	t.Run("Queries", func(t *testing.T) {
		s, m := loaded(t, open)
		t.Run("Filters", func(t *testing.T) { testQueries(t, s, m) })
		t.Run("Aggregates", func(t *testing.T) { testAggregates(t, s, m) })
		t.Run("Pagination", func(t *testing.T) { testPagination(t, s, m) })
		t.Run("Differential", func(t *testing.T) { testDifferential(t, s, m, DifferentialFilters) })
		t.Run("CustomerDetections", func(t *testing.T) { testCustomerDetections(t, s, m) })
	})
	t.Run("PagingWhileAppending", func(t *testing.T) { testPagingWhileAppending(t, open) })
	t.Run("DeleteBefore", func(t *testing.T) { testDelete(t, open) })
	t.Run("Project", func(t *testing.T) { testProject(t, open) })
}

// Dataset is the suite's data: synthetic events appended out of published
// order in batches, then the edge cases.
func Dataset() []store.Event {
	evs := Synthetic(1500, 1)
	sim, err := Simulated(simulate.Config{Users: 30, Days: 2, Seed: 1, Attacks: true}, 2500)
	if err != nil {
		panic(err)
	}
	evs = append(evs, sim...)
	return append(evs, EdgeCases()...)
}

// model is the brute-force reference: every stored event with its decoded
// document and the seq the store gave it.
type model struct {
	events []store.Event
	docs   []any
	byUUID map[string]any
}

func loaded(t *testing.T, open Opener) (store.Store, *model) {
	t.Helper()
	s := open(t)
	ctx := context.Background()
	evs := Dataset()
	// Out of published order: batches in a shuffled order, and the
	// late edge case after everything.
	var batches [][]store.Event
	for i := 0; i < len(evs); i += 250 {
		batches = append(batches, evs[i:min(i+250, len(evs))])
	}
	// Pairs of batches swapped: out of published order.
	added := 0
	for k := range batches {
		i := k ^ 1
		if i >= len(batches) {
			i = k
		}
		res, err := s.Append(ctx, batches[i])
		if err != nil {
			t.Fatalf("append batch %d: %v", i, err)
		}
		added += res.Added
	}
	if added != len(evs) {
		t.Fatalf("added %d of %d events", added, len(evs))
	}
	all, err := s.Query(ctx, store.Query{Order: store.BySeq})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(evs) {
		t.Fatalf("query all: %d events, want %d", len(all), len(evs))
	}
	want := map[string]store.Event{}
	for _, e := range evs {
		want[e.UUID] = e
	}
	m := &model{byUUID: map[string]any{}}
	for i, e := range all {
		w, ok := want[e.UUID]
		if !ok {
			t.Fatalf("unknown uuid %q", e.UUID)
		}
		if i > 0 && e.Seq <= all[i-1].Seq {
			t.Fatalf("seq not increasing: %d after %d", e.Seq, all[i-1].Seq)
		}
		if !e.Published.Equal(w.Published.Truncate(time.Millisecond)) {
			t.Fatalf("%s: published %v, want %v", e.UUID, e.Published, w.Published)
		}
		if !sameJSON(e.Raw, w.Raw) {
			t.Fatalf("%s: raw changed:\n got %s\nwant %s", e.UUID, e.Raw, w.Raw)
		}
		doc, err := filter.DecodeJSON(e.Raw)
		if err != nil {
			t.Fatal(err)
		}
		m.events = append(m.events, e)
		m.docs = append(m.docs, doc)
		m.byUUID[e.UUID] = doc
	}
	return s, m
}

func sameJSON(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	da, err1 := filter.DecodeJSON(a)
	db, err2 := filter.DecodeJSON(b)
	return err1 == nil && err2 == nil && reflect.DeepEqual(da, db)
}

// match is the brute-force answer to q: matches in q's order, paged.
func (m *model) match(q store.Query) []store.Event {
	var out []store.Event
	for i, e := range m.events {
		if !q.Since.IsZero() && e.Published.Before(q.Since.Truncate(time.Millisecond)) {
			continue
		}
		if !q.Until.IsZero() && !e.Published.Before(q.Until.Truncate(time.Millisecond)) {
			continue
		}
		if q.Filter != nil && !filter.Match(q.Filter, m.docs[i]) {
			continue
		}
		if !filter.MatchKeywords(q.Keywords, m.docs[i]) {
			continue
		}
		out = append(out, e)
	}
	less := func(a, b store.Event) int {
		c := 0
		if q.Order == store.ByPublished {
			c = a.Published.Compare(b.Published)
		}
		if c == 0 {
			c = cmpInt(a.Seq, b.Seq)
		}
		if q.Descending {
			c = -c
		}
		return c
	}
	slices.SortFunc(out, less)
	if q.After != nil {
		pos := store.Event{Published: q.After.Published, Seq: q.After.Seq}
		i := 0
		for i < len(out) && less(out[i], pos) <= 0 {
			i++
		}
		out = out[i:]
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func uuids(evs []store.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.UUID
	}
	return out
}

// check runs q on s and compares with the model; it reports the filter and
// the difference.
func check(t *testing.T, s store.Store, m *model, q store.Query) bool {
	t.Helper()
	got, err := s.Query(context.Background(), q)
	if err != nil {
		t.Errorf("query %s: %v", describe(q), err)
		return false
	}
	want := m.match(q)
	if g, w := uuids(got), uuids(want); !slices.Equal(g, w) {
		t.Errorf("query %s:\n%s", describe(q), diff(g, w))
		return false
	}
	for i := range got {
		if got[i].Seq != want[i].Seq || !got[i].Published.Equal(want[i].Published) || !sameJSON(got[i].Raw, want[i].Raw) {
			t.Errorf("query %s: event %s differs from the stored one", describe(q), got[i].UUID)
			return false
		}
	}
	return true
}

func describe(q store.Query) string {
	var b strings.Builder
	if q.Filter != nil {
		fmt.Fprintf(&b, "filter=%s", q.Filter)
	}
	if len(q.Keywords) > 0 {
		fmt.Fprintf(&b, " q=%q", q.Keywords)
	}
	if !q.Since.IsZero() || !q.Until.IsZero() {
		fmt.Fprintf(&b, " since=%v until=%v", q.Since, q.Until)
	}
	fmt.Fprintf(&b, " order=%d desc=%v limit=%d", q.Order, q.Descending, q.Limit)
	if q.After != nil {
		fmt.Fprintf(&b, " after=%v/%d", q.After.Published, q.After.Seq)
	}
	return b.String()
}

func diff(got, want []string) string {
	gs, ws := map[string]bool{}, map[string]bool{}
	for _, g := range got {
		gs[g] = true
	}
	for _, w := range want {
		ws[w] = true
	}
	var extra, missing []string
	for _, g := range got {
		if !ws[g] {
			extra = append(extra, g)
		}
	}
	for _, w := range want {
		if !gs[w] {
			missing = append(missing, w)
		}
	}
	short := func(s []string) []string {
		if len(s) > 10 {
			return append(s[:10:10], fmt.Sprintf("… %d more", len(s)-10))
		}
		return s
	}
	return fmt.Sprintf("got %d, want %d; unexpected %v; missing %v (order differs if both empty)",
		len(got), len(want), short(extra), short(missing))
}

func mustParse(t *testing.T, src string) filter.Expr {
	t.Helper()
	e, err := filter.Parse(src)
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	return e
}

func testAppend(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	evs := Synthetic(50, 2)
	batch := append(slices.Clone(evs[:30]), evs[0], evs[5]) // repeats within the batch
	res, err := s.Append(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if res != (store.AppendResult{Added: 30, Duplicates: 2}) {
		t.Fatalf("first append: %+v, want 30 added, 2 duplicates", res)
	}
	res, err = s.Append(ctx, evs[20:])
	if err != nil {
		t.Fatal(err)
	}
	if res != (store.AppendResult{Added: 20, Duplicates: 10}) {
		t.Fatalf("second append: %+v, want 20 added, 10 duplicates", res)
	}
	// A duplicate keeps the stored event, even when the new copy differs.
	changed := evs[3]
	changed.Raw = json.RawMessage(strings.Replace(string(changed.Raw), `"version":"0"`, `"version":"1"`, 1))
	res, err = s.Append(ctx, []store.Event{changed})
	if err != nil || res.Duplicates != 1 || res.Added != 0 {
		t.Fatalf("changed duplicate: %+v %v", res, err)
	}
	got, err := s.Get(ctx, evs[3].UUID)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(got.Raw, evs[3].Raw) || got.UUID != evs[3].UUID || !got.Published.Equal(evs[3].Published) {
		t.Fatalf("get: %+v", got)
	}
	if _, err := s.Get(ctx, "no-such-uuid"); err != store.ErrNotFound {
		t.Fatalf("get missing: %v, want ErrNotFound", err)
	}
	// A batch with an invalid event is refused whole.
	bad := []store.Event{Synthetic(1, 3)[0], {UUID: "bad", Published: Base, Raw: json.RawMessage(`{"uuid":`)}}
	if _, err := s.Append(ctx, bad); err == nil {
		t.Fatal("a batch with invalid JSON was accepted")
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 50 || st.MaxSeq < 50 {
		t.Fatalf("stats: %+v, want 50 events", st)
	}
	first, last := evs[0].Published, evs[len(evs)-1].Published
	if !st.Oldest.Equal(first) || !st.Newest.Equal(last) {
		t.Fatalf("stats oldest/newest %v %v, want %v %v", st.Oldest, st.Newest, first, last)
	}
	// Concurrent small appends (group commit) each get their own answer.
	more := Synthetic(200, 4)
	errs := make(chan error, 20)
	for i := range 20 {
		go func() {
			part := more[i*10 : i*10+10]
			res, err := s.Append(ctx, append(slices.Clone(part), part[0]))
			if err == nil && (res.Added != 10 || res.Duplicates != 1) {
				err = fmt.Errorf("concurrent append %d: %+v", i, res)
			}
			errs <- err
		}()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Query(ctx, store.Query{Order: store.BySeq})
	if err != nil || len(all) != 250 {
		t.Fatalf("after concurrent appends: %d events, %v", len(all), err)
	}
}

func testCheckpoint(t *testing.T, open Opener) {
	s := open(t)
	cp, ok := s.(store.Checkpointer)
	if !ok {
		t.Skip("backend does not keep checkpoints")
	}
	ctx := context.Background()
	if v, err := cp.Checkpoint(ctx, "okta"); err != nil || v != "" {
		t.Fatalf("empty checkpoint: %q %v", v, err)
	}
	evs := Synthetic(20, 5)
	if _, err := cp.AppendCheckpoint(ctx, evs[:10], "okta", "next-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.AppendCheckpoint(ctx, evs[5:], "okta", "next-2"); err != nil {
		t.Fatal(err)
	}
	if v, err := cp.Checkpoint(ctx, "okta"); err != nil || v != "next-2" {
		t.Fatalf("checkpoint: %q %v, want next-2", v, err)
	}
	// A failed batch leaves the checkpoint where it was.
	bad := []store.Event{{UUID: "bad", Published: Base, Raw: json.RawMessage(`[`)}}
	if _, err := cp.AppendCheckpoint(ctx, bad, "okta", "next-3"); err == nil {
		t.Fatal("invalid batch accepted")
	}
	if v, _ := cp.Checkpoint(ctx, "okta"); v != "next-2" {
		t.Fatalf("checkpoint after failed batch: %q", v)
	}
}

// seedQueries are the analyst queries of the seed document (package
// scenario), each expanded with values found in the data, so they match.
func seedQueries(t *testing.T, m *model) []string {
	t.Helper()
	paths := map[string]filter.Path{
		scenario.ParamUser:    {"actor", "id"},
		scenario.ParamIP:      {"client", "ipAddress"},
		scenario.ParamSession: {"authenticationContext", "externalSessionId"},
	}
	var out []string
	for _, sc := range scenario.All() {
		p, ok := paths[sc.Param]
		if !ok {
			t.Fatalf("scenario %s: unknown parameter %q", sc.Name, sc.Param)
		}
		found := 0
		for i := len(m.docs) - 1; i >= 0 && found < 3; i -= 97 {
			vs := filter.Resolve(m.docs[i], p)
			if len(vs) == 0 {
				continue
			}
			v, ok := vs[0].(string)
			if !ok || v == "" {
				continue
			}
			src, err := sc.Expand(v)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, src)
			found++
		}
	}
	return out
}

func testQueries(t *testing.T, s store.Store, m *model) {
	filters := []string{
		`eventType eq "user.session.start"`,
		`actor.id eq "00uÜnï"`,
		`actor.alternateId eq "a\\b@example.com"`,
		`displayMessage co "\"hi\""`,
		`outcome.reason eq null`,
		`outcome.reason pr`,
		`outcome.reason ne null`,
		`target pr`,
		`target.id eq "00utarget1"`,
		`target.id ne "00utarget1"`,
		`target.id pr`,
		`target.id eq null`,
		`target.id sw "00u"`,
		`target.detailEntry.methodTypeUsed eq "Password"`,
		`debugContext.debugData.n eq 5`,
		`debugContext.debugData.n eq "5"`,
		`debugContext.debugData.s5 eq 5`,
		`debugContext.debugData.f gt 2`,
		`debugContext.debugData.exp eq 1000`,
		`debugContext.debugData.big gt 1e19`,
		`debugContext.debugData.b eq true`,
		`debugContext.debugData.bf eq false`,
		`debugContext.debugData.arr eq "y"`,
		`debugContext.debugData.arr eq 3`,
		`debugContext.debugData.arr eq true`,
		`debugContext.debugData.arr.k eq "v"`,
		`debugContext.debugData.obj.deep.k eq "z"`,
		`debugContext.debugData.obj.deep.k eq 7`,
		`debugContext.debugData.empty pr`,
		`debugContext.debugData.emptyObj pr`,
		`debugContext.debugData.a.b eq "dotted"`,
		`debugContext.debugData.a.b eq "real"`,
		`debugContext.debugData.k eq "second"`,
		`debugContext.debugData.k eq "first"`,
		`debugContext.debugData.requestUri eq "/a"`,
		`debugContext.debugData.threatSuspected eq "false"`,
		`debugContext.debugData.threatSuspected eq false`,
		`debugContext.debugData.requestUri co "identify"`,
		`debugContext.debugData.url sw "/idp"`,
		`eventType eq "user.session.end"`,
		`actor.id eq 12345`,
		`actor.alternateId eq true`,
		`target.id eq 1`,
		`outcome.result eq "SUCCESS"`,
		`client.geographicalContext.geolocation.lat gt 40`,
		`client.geographicalContext.geolocation.lat eq "48.2"`,
		`client.geographicalContext.geolocation.lon eq 2`,
		`actor.id eq "00usecond"`,
		`client.ipAddress eq "10.9.9.8"`,
		`client.ipAddress sw "10.1."`,
		`client.ipAddress ew ".1"`,
		`client.ipAddress lt "10.1"`,
		`actor.displayName pr`,
		`actor.alternateId pr`,
		`authenticationContext.rootSessionId pr`,
		`transaction.id pr`,
		`transaction.id eq ""`,
		`securityContext.isProxy eq true`,
		`securityContext.asNumber ge 7923`,
		`published gt "2026-03-01T00:00:00Z"`,
		`published eq "2026-03-01T00:00:06.123Z"`,
		`published le "2026-03-01T00:00:00.000Z"`,
		`published pr`,
		`not (eventType eq "user.session.start") and actor.id pr`,
		`eventType sw "User."`,
		`eventType ge "user.m" and eventType lt "user.n"`,
		`debugContext.nosuch pr`,
		`client.nosuch eq "x"`,
		`device pr`,
		`device eq null`,
	}
	for i, f := range filters {
		e := mustParse(t, f)
		check(t, s, m, store.Query{Filter: e})
		// Alternate the paged variants to keep the suite quick.
		if i%2 == 0 {
			check(t, s, m, store.Query{Filter: e, Descending: true, Limit: 7})
		} else {
			check(t, s, m, store.Query{Filter: e, Order: store.BySeq, Limit: 5})
		}
	}
	for _, f := range seedQueries(t, m) {
		e := mustParse(t, f)
		for _, desc := range []bool{false, true} {
			check(t, s, m, store.Query{Filter: e, Descending: desc, Limit: 100})
		}
	}
	keywords := [][]string{
		{"login"}, {"xoxbw"}, {"2jirncfd0gg0gjhaaabjy"}, {"xoxbw-2jirncfd0gg0gjhaaabjy"},
		{"identify"}, {"/idp/idx/identify"}, {"10.9.9.9"}, {"10.9.9"}, {"josé@exämple.com"},
		{"überprüfung"}, {"k"}, {"\"hi\""}, {"hi"}, {"true"}, {"5"}, {"1e3"}, {"user", "okta"},
		{"mixed@example.com"}, {"ǆ@x.io"}, {"salesforce.com"}, {"nosuchword"},
	}
	keywords = append(keywords, []string{"2026-03-01t00:00:02.000z"})
	// Values the backend may store apart from the event text.
	for _, p := range []string{"uuid", "published", "transaction.id", "debugContext.debugData.dtHash", "debugContext.debugData.requestId",
		"authenticationContext.externalSessionId", "target.id", "target.alternateId", "actor.alternateId", "client.ipAddress"} {
		for _, i := range []int{3, len(m.docs) / 2, len(m.docs) - 20} {
			for _, v := range filter.Resolve(m.docs[i], filter.Path(splitDots(p))) {
				if s, ok := v.(string); ok && s != "" {
					keywords = append(keywords, []string{strings.ToLower(s)})
				}
			}
		}
	}
	for _, kw := range keywords {
		check(t, s, m, store.Query{Keywords: kw})
		check(t, s, m, store.Query{Keywords: kw, Filter: mustParse(t, `eventType sw "user."`), Descending: true, Limit: 3})
	}
	mid := m.events[len(m.events)/2].Published
	bounds := []store.Query{
		{Since: mid},
		{Until: mid},
		{Since: Base, Until: mid, Descending: true},
		{Since: mid, Until: mid},
		{Since: mid, Until: mid.Add(time.Millisecond), Order: store.BySeq},
		{Since: mid, Filter: mustParse(t, `outcome.result eq "FAILURE"`), Limit: 10},
	}
	for _, q := range bounds {
		check(t, s, m, q)
	}
}

func testAggregates(t *testing.T, s store.Store, m *model) {
	ctx := context.Background()
	queries := []store.Query{
		{},
		{Filter: mustParse(t, `eventType eq "user.session.start"`)},
		{Filter: mustParse(t, `debugContext.debugData.requestUri co "identify"`)},
		{Keywords: []string{"login"}},
		{Filter: mustParse(t, `target.id pr`), Since: Base.Add(time.Hour)},
	}
	for _, q := range queries {
		want := m.match(q)
		n, err := s.Count(ctx, q)
		if err != nil || n != int64(len(want)) {
			t.Errorf("count %s: %d %v, want %d", describe(q), n, err, len(want))
		}
		for _, step := range []time.Duration{time.Hour, 24 * time.Hour, 90 * time.Second} {
			got, err := s.Histogram(ctx, q, step)
			if err != nil {
				t.Errorf("histogram: %v", err)
				continue
			}
			if w := m.histogram(want, step); !reflect.DeepEqual(got, w) {
				t.Errorf("histogram %s step %v:\n got %v\nwant %v", describe(q), step, head(got), head(w))
			}
		}
		for _, p := range []string{"actor.id", "target.id", "eventType", "client.ipAddress", "outcome.result",
			"debugContext.debugData.requestUri", "securityContext.asNumber", "debugContext.debugData.arr", "client.geographicalContext.geolocation.lat"} {
			path := filter.Path(strings.Split(p, "."))
			ns := []int{5}
			if p == "target.id" || p == "debugContext.debugData.arr" {
				ns = append(ns, 0) // every value, not just the top
			}
			for _, n := range ns {
				got, err := s.TopValues(ctx, q, path, n)
				if err != nil {
					t.Errorf("top values %s: %v", p, err)
					continue
				}
				if w := m.topValues(want, path, n); !slices.Equal(got, w) {
					t.Errorf("top values %s of %s n=%d:\n got %v\nwant %v", p, describe(q), n, head(got), head(w))
				}
			}
		}
	}
}

func head[T any](s []T) []T {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

func (m *model) doc(e store.Event) any { return m.byUUID[e.UUID] }

func (m *model) histogram(evs []store.Event, step time.Duration) []store.Bucket {
	byStart := map[int64]map[string]int64{}
	st := step.Milliseconds()
	for _, e := range evs {
		ms := e.Published.UnixMilli()
		b := ms - ((ms%st)+st)%st
		result := ""
		if rs := filter.Resolve(m.doc(e), filter.Path{"outcome", "result"}); len(rs) == 1 {
			result, _ = rs[0].(string)
		}
		if byStart[b] == nil {
			byStart[b] = map[string]int64{}
		}
		byStart[b][result]++
	}
	var out []store.Bucket
	for b, c := range byStart {
		out = append(out, store.Bucket{Start: time.UnixMilli(b).UTC(), Counts: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

func (m *model) topValues(evs []store.Event, p filter.Path, n int) []store.ValueCount {
	counts := map[string]int64{}
	for _, e := range evs {
		for _, v := range filter.Resolve(m.doc(e), p) {
			switch x := v.(type) {
			case string:
				counts[x]++
			case json.Number:
				counts[string(x)]++
			case bool:
				counts[fmt.Sprint(x)]++
			}
		}
	}
	out := []store.ValueCount{}
	for v, c := range counts {
		out = append(out, store.ValueCount{Value: v, Count: c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// testPagination walks every page with After and checks each match comes
// exactly once, in order.
func testPagination(t *testing.T, s store.Store, m *model) {
	ctx := context.Background()
	for _, f := range []string{"", `outcome.result eq "SUCCESS"`, `debugContext.debugData.factor eq "PASSWORD"`} {
		for _, order := range []store.Order{store.ByPublished, store.BySeq} {
			for _, desc := range []bool{false, true} {
				q := store.Query{Order: order, Descending: desc, Limit: 137}
				if f != "" {
					q.Filter = mustParse(t, f)
				}
				q.Keywords = nil
				want := uuids(m.match(store.Query{Filter: q.Filter, Order: order, Descending: desc}))
				var got []string
				for pages := 0; ; pages++ {
					page, err := s.Query(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, uuids(page)...)
					if len(page) < q.Limit || pages > 1000 {
						break
					}
					last := page[len(page)-1]
					q.After = &store.Position{Published: last.Published, Seq: last.Seq}
				}
				if !slices.Equal(got, want) {
					t.Errorf("paging %q order=%d desc=%v: %s", f, order, desc, diff(got, want))
				}
			}
		}
	}
}

// testPagingWhileAppending appends between pages: a BySeq walk must also
// return the new matches, and no walk returns an event twice.
func testPagingWhileAppending(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	evs := Synthetic(1200, 6)
	if _, err := s.Append(ctx, evs[:600]); err != nil {
		t.Fatal(err)
	}
	q := store.Query{Order: store.BySeq, Limit: 100}
	seen := map[string]int{}
	next := 600
	for pages := 0; pages < 100; pages++ {
		page, err := s.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			seen[e.UUID]++
		}
		if next < len(evs) {
			// New events, some published before everything already paged.
			batch := slices.Clone(evs[next : next+100])
			if pages%2 == 0 {
				for i := range batch {
					batch[i].Published = batch[i].Published.Add(-30 * 24 * time.Hour)
					batch[i].Raw = json.RawMessage(strings.Replace(string(batch[i].Raw), `"published":"2026-03`, `"published":"2026-01`, 1))
				}
			}
			if _, err := s.Append(ctx, batch); err != nil {
				t.Fatal(err)
			}
			next += 100
		} else if len(page) < q.Limit {
			break
		}
		if len(page) > 0 {
			last := page[len(page)-1]
			q.After = &store.Position{Published: last.Published, Seq: last.Seq}
		}
	}
	if len(seen) != len(evs) {
		t.Errorf("BySeq walk while appending saw %d distinct events, want %d", len(seen), len(evs))
	}
	for u, n := range seen {
		if n != 1 {
			t.Errorf("event %s returned %d times", u, n)
		}
	}
	// A ByPublished walk never repeats an event either.
	q = store.Query{Order: store.ByPublished, Limit: 150}
	seen = map[string]int{}
	extra := Synthetic(1400, 6)[1200:]
	for pages := 0; pages < 100; pages++ {
		page, err := s.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			seen[e.UUID]++
			if seen[e.UUID] > 1 {
				t.Fatalf("ByPublished walk repeated %s", e.UUID)
			}
		}
		if pages < 2 {
			if _, err := s.Append(ctx, extra[pages*100:pages*100+100]); err != nil {
				t.Fatal(err)
			}
		}
		if len(page) < q.Limit {
			break
		}
		last := page[len(page)-1]
		q.After = &store.Position{Published: last.Published, Seq: last.Seq}
	}
}

func testDelete(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	evs := Synthetic(500, 7)
	if _, err := s.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	cut := evs[200].Published
	want := 0
	for _, e := range evs {
		if e.Published.Before(cut) {
			want++
		}
	}
	n, err := s.DeleteBefore(ctx, cut)
	if err != nil || n != int64(want) {
		t.Fatalf("delete before: %d %v, want %d", n, err, want)
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Events != int64(len(evs)-want) || st.Oldest.Before(cut) {
		t.Fatalf("stats after delete: %+v %v", st, err)
	}
	if _, err := s.Get(ctx, evs[0].UUID); err != store.ErrNotFound {
		t.Fatalf("deleted event still found: %v", err)
	}
	// Seq keeps growing after a delete.
	maxSeq := st.MaxSeq
	if _, err := s.Append(ctx, Synthetic(1, 8)); err != nil {
		t.Fatal(err)
	}
	all, _ := s.Query(ctx, store.Query{Order: store.BySeq, Descending: true, Limit: 1})
	if len(all) != 1 || all[0].Seq <= maxSeq {
		t.Fatalf("seq after delete: %+v, want > %d", all, maxSeq)
	}
}

// DifferentialFilters is how many random filters each run checks.
var DifferentialFilters = 1000
