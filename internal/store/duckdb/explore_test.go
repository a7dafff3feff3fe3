package duckdb

import (
	"context"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
)

func TestExplore(t *testing.T) {
	s, _ := Open("")
	defer s.Close()
	ctx := context.Background()
	s.Append(ctx, storetest.Dataset())
	for _, f := range []string{`eventType eq "user.session.start"`, `debugContext.debugData.requestUri co "identify"`, `target.detailEntry.methodTypeUsed eq "Password"`, `not (debugContext.debugData.n eq 5) or actor.id eq "x"`} {
		e, _ := filter.Parse(f)
		start := time.Now()
		evs, err := s.Query(ctx, store.Query{Filter: e, Limit: 50})
		t.Log(f, len(evs), err, time.Since(start))
	}
	for _, q := range []string{
		`SELECT count(*) FROM events WHERE EXISTS (SELECT 1 FROM json_tree(raw) t WHERE regexp_full_match(t.fullkey, '\$\.debugContext(\[[0-9]+\])*\.debugData(\[[0-9]+\])*\.requestUri(\[[0-9]+\])*') AND t.type='VARCHAR' AND contains(json_extract_string(t.atom, '$'), 'identify'))`,
		`SELECT count(*) FROM events WHERE EXISTS (SELECT 1 FROM json_tree(raw, '$.debugContext') t WHERE regexp_full_match(t.fullkey, '\$\.debugContext(\[[0-9]+\])*\.debugData(\[[0-9]+\])*\.requestUri(\[[0-9]+\])*') AND t.type='VARCHAR' AND contains(json_extract_string(t.atom, '$'), 'identify'))`,
		`SELECT count(*) FROM events WHERE len(list_filter(json_extract(raw, '$.debugContext.debugData.requestUri[*]'), x->contains(x::VARCHAR, 'identify')))>0`,
		`SELECT count(*) FROM events WHERE contains(json_extract_string(raw, '$.debugContext.debugData.requestUri'), 'identify')`,
		`SELECT count(*) FROM events WHERE contains(raw, 'identify')`,
	} {
		start := time.Now()
		var n int
		err := s.db.QueryRow(q).Scan(&n)
		t.Log(n, err, time.Since(start))
	}
}
