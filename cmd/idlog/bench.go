package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/bench"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

func init() {
	register(&command{name: "bench", summary: "measure import, size and query latency on a generated dataset, against jq and SQLite", run: runBench})
}

func runBench(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	events := fs.Int("events", 10_000_000, "`N` events in the dataset (spread over 90 days)")
	dir := fs.String("dir", "./bench-data", "`DIR` for the dataset (kept and reused) and the stores (rebuilt)")
	storeURL := fs.String("store", "", "store `URL` to measure (default: a fresh duckdb:DIR/idlog.duckdb)")
	reps := fs.Int("reps", 200, "runs of each query shape, each with another sample value")
	seed := fs.Int64("seed", 1, "simulator seed")
	baselines := fs.Bool("baselines", true, "also time jq over the NDJSON and a naive SQLite load")
	sqliteN := fs.Int("sqlite-events", 1_000_000, "`N` events loaded into SQLite (its load is slow; the table says how many)")
	out := fs.String("out", "docs/benchmarks.md", "`FILE` whose generated section is rewritten (\"-\": print only)")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: idlog bench [flags]

Generates a reproducible dataset with the simulator (90 days ending 2026-11-01), imports
it through the ingest pipeline into a fresh store, times the seed's scenario queries, a
q keyword query and an hourly histogram, and compares the field question (one user, four
sign-in event types, newest 100) with jq over the NDJSON and a naive SQLite load. The
results replace the generated section of docs/benchmarks.md.

Examples:
  idlog bench                          # 10 million events: a few GB of disk, ~10 minutes
  idlog bench --events 300000 --out -  # a quick look, printed only
  idlog bench --store clickhouse://127.0.0.1:9000/bench

Flags:
`)
		fs.PrintDefaults()
	}
	if _, help, err := parseFlags(fs, e, args, false); help || err != nil {
		return err
	}
	log := e.stderr
	ds, err := bench.MakeDataset(*dir, *events, *seed, log)
	if err != nil {
		return err
	}
	url := *storeURL
	if url == "" {
		path := filepath.Join(*dir, "idlog.duckdb")
		for _, suffix := range []string{"", ".wal"} {
			if err := os.Remove(path + suffix); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
		url = "duckdb:" + path
	}
	st, err := storeurl.Open(ctx, url)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := bench.Measure(ctx, st, url, ds, *reps, log)
	if err != nil {
		return err
	}
	rep := &bench.Report{When: time.Now(), Machine: bench.Machine(), Dataset: ds, Store: res}
	if *baselines && len(ds.Samples.Users) > 0 {
		user := ds.Samples.Users[0]
		expr, err := filter.Parse(bench.SignInQuery(user))
		if err != nil {
			return err
		}
		ref, err := st.Query(ctx, store.Query{Filter: expr, Since: bench.End.Add(-bench.Days * 24 * time.Hour), Until: bench.End, Order: store.ByPublished, Descending: true, Limit: 100})
		if err != nil {
			return err
		}
		for _, ev := range ref {
			rep.Reference = append(rep.Reference, ev.UUID)
		}
		if b, err := bench.JQ(ctx, ds, user, 1); err != nil {
			fmt.Fprintln(log, "bench: jq baseline skipped:", err)
		} else {
			rep.Baselines = append(rep.Baselines, b)
		}
		if b, err := bench.SQLite(ctx, ds, *dir, *sqliteN, user, 5, log); err != nil {
			fmt.Fprintln(log, "bench: SQLite baseline skipped:", err)
		} else {
			rep.Baselines = append(rep.Baselines, b)
		}
	}
	rep.PeakRSS = bench.PeakRSS()
	md := rep.Markdown()
	if *out == "-" {
		fmt.Fprint(e.stdout, md)
		return nil
	}
	title := "Embedded store, end to end (`idlog bench`)"
	if !strings.HasPrefix(url, "duckdb:") {
		title = "End to end (`idlog bench`)"
	}
	if err := bench.WriteSection(*out, title, md); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s\n", *out)
	return nil
}
