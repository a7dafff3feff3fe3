package duckdb

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	idbench "github.com/idlog/idlog/internal/bench"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/scenario"
	"github.com/idlog/idlog/internal/store"
)

// TestScaleQueryTimes times the bench command's query shapes on a store the
// bench command built (a copy: opening it takes the lock), without importing
// again. It runs only when IDLOG_SCALE_DB names that copy and
// IDLOG_SCALE_DATASET the dataset's .json description (for the sample ids):
//
//	IDLOG_SCALE_DB=/tmp/copy.duckdb IDLOG_SCALE_DATASET=/tmp/qbench/events-1000000-seed1.json \
//	  go test -run TestScaleQueryTimes -v ./internal/store/duckdb/
func TestScaleQueryTimes(t *testing.T) {
	path, dsPath := os.Getenv("IDLOG_SCALE_DB"), os.Getenv("IDLOG_SCALE_DATASET")
	if path == "" || dsPath == "" {
		t.Skip("IDLOG_SCALE_DB and IDLOG_SCALE_DATASET are not set")
	}
	b, err := os.ReadFile(dsPath)
	if err != nil {
		t.Fatal(err)
	}
	var ds idbench.Dataset
	if err := json.Unmarshal(b, &ds); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	reps := 20
	week := store.Query{Since: idbench.End.Add(-7 * 24 * time.Hour), Until: idbench.End, Order: store.ByPublished, Descending: true, Limit: 100}
	all := week
	all.Since = idbench.End.Add(-idbench.Days * 24 * time.Hour)
	only := os.Getenv("IDLOG_SCALE_ONLY")
	run := func(name string, base store.Query, texts []string, kw [][]string) {
		if only != "" && !strings.Contains(name, only) {
			return
		}
		if os.Getenv("IDLOG_SCALE_EXPLAIN") != "" {
			q := base
			if texts != nil {
				q.Filter, _ = filter.Parse(texts[0])
			}
			if kw != nil {
				q.Keywords = kw[0]
			}
			p, err := s.plan(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			sqlq, args := p.keysSQL(nil, max(q.Limit, 1000), span{})
			var plan, text string
			if err := s.db.QueryRowContext(ctx, "EXPLAIN ANALYZE "+sqlq, args...).Scan(&plan, &text); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s\n%s\n%s", name, sqlq, text)
		}
		var ds []time.Duration
		rows := 0
		for i := 0; i < reps; i++ {
			q := base
			if texts != nil {
				e, err := filter.Parse(texts[i%len(texts)])
				if err != nil {
					t.Fatal(err)
				}
				q.Filter = e
			}
			if kw != nil {
				q.Keywords = kw[i%len(kw)]
			}
			start := time.Now()
			evs, err := s.Query(ctx, q)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			ds = append(ds, time.Since(start))
			rows += len(evs)
		}
		slices.Sort(ds)
		t.Logf("%-45s p50 %7.1f ms  max %7.1f ms  rows %d", name, float64(ds[len(ds)/2].Microseconds())/1000, float64(ds[len(ds)-1].Microseconds())/1000, rows)
	}
	var signin []string
	for _, u := range ds.Samples.Users {
		signin = append(signin, idbench.SignInQuery(u))
	}
	run("one user, 4 sign-in types, 90 days", all, signin, nil)
	for _, w := range []struct {
		name string
		q    store.Query
	}{{"7 days", week}, {"90 days", all}} {
		for _, sc := range scenario.All() {
			var texts []string
			for _, v := range map[string][]string{scenario.ParamIP: ds.Samples.IPs, scenario.ParamSession: ds.Samples.Sessions}[sc.Param] {
				x, err := sc.Expand(v)
				if err != nil {
					t.Fatal(err)
				}
				texts = append(texts, x)
			}
			if texts == nil {
				for _, v := range ds.Samples.Users {
					x, err := sc.Expand(v)
					if err != nil {
						t.Fatal(err)
					}
					texts = append(texts, x)
				}
			}
			run("scenario "+sc.Name+", "+w.name, w.q, texts, nil)
		}
		var kw [][]string
		for _, e := range ds.Samples.Emails {
			kw = append(kw, []string{strings.ToLower(e)})
		}
		run("q=<email>, "+w.name, w.q, nil, kw)
	}
	if only == "" || strings.Contains("histogram", only) {
		var ds []time.Duration
		for i := 0; i < 5; i++ {
			start := time.Now()
			if _, err := s.Histogram(ctx, store.Query{Since: all.Since, Until: idbench.End}, time.Hour); err != nil {
				t.Fatal(err)
			}
			ds = append(ds, time.Since(start))
		}
		slices.Sort(ds)
		t.Logf("%-45s p50 %7.1f ms", "hourly histogram, 90 days", float64(ds[len(ds)/2].Microseconds())/1000)
	}
}

// TestScaleSQL runs the statement in IDLOG_SCALE_SQL on IDLOG_SCALE_DB and
// logs its rows, for looking into a big store while tuning.
func TestScaleSQL(t *testing.T) {
	path, q := os.Getenv("IDLOG_SCALE_DB"), os.Getenv("IDLOG_SCALE_SQL")
	if path == "" || q == "" {
		t.Skip("IDLOG_SCALE_DB and IDLOG_SCALE_SQL are not set")
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if os.Getenv("IDLOG_SCALE_WARM") != "" {
		// Read once before timing, so the blocks are in the cache.
		rows, err := s.db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
		}
		rows.Close()
	}
	start := time.Now()
	rows, err := s.db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		t.Log(vals...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", time.Since(start))
}
