package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/bench"
	"github.com/idlog/idlog/internal/storeurl"
)

func init() {
	register(&command{name: "bench", summary: "measure import, size and query latency on a generated dataset, of one store or several side by side, against jq and SQLite", run: runBench})
}

func runBench(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	events := fs.Int("events", 10_000_000, "`N` events in the dataset (spread over 90 days)")
	dir := fs.String("dir", "./bench-data", "`DIR` for the dataset (kept and reused) and the default store (rebuilt)")
	var urls []string
	fs.Func("store", "store `URL` to measure; repeat it to measure several side by side (default: a fresh duckdb:DIR/idlog.duckdb)", func(v string) error {
		if v == "" {
			return fmt.Errorf("empty store URL")
		}
		urls = append(urls, v)
		return nil
	})
	reps := fs.Int("reps", 200, "runs of each query shape, each with another sample value")
	seed := fs.Int64("seed", 1, "simulator seed")
	baselines := fs.Bool("baselines", true, "also time jq over the NDJSON and a naive SQLite load")
	sqliteN := fs.Int("sqlite-events", 1_000_000, "`N` events loaded into SQLite (its load is slow; the table says how many)")
	out := fs.String("out", "docs/benchmarks.md", "`FILE` whose generated section is rewritten (\"-\": print only)")
	var peers []string
	fs.Func("peer", "measure the peer `victorialogs=BINARY` beside idlog, both as processes (scripts/victorialogs-build.sh builds the binary)", func(v string) error {
		name, bin, ok := strings.Cut(v, "=")
		if !ok || name != "victorialogs" || bin == "" {
			return fmt.Errorf("want victorialogs=PATH_TO_BINARY (the only peer so far)")
		}
		if _, err := os.Stat(bin); err != nil {
			return err
		}
		peers = append(peers, bin)
		return nil
	})
	growth := fs.String("growth", "", "measure 'idlog import' and 'idlog serve' at each of these `SIZES` (e.g. 1000000,3000000,10000000 or 1M,3M,10M) instead")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: idlog bench [flags]

Generates a reproducible dataset with the simulator (90 days ending 2026-11-01), imports
it through the ingest pipeline into a fresh store, times the seed's scenario queries, a
q keyword query and an hourly histogram, and compares the field question (one user, four
sign-in event types, newest 100) with jq over the NDJSON and a naive SQLite load. The
results replace the generated section of docs/benchmarks.md.

With several --store flags every store is imported from the same dataset and asked the
same queries with the same sample values, one after the other, and one table shows them
side by side (its own section of docs/benchmarks.md, "Stores side by side"): import rate,
bytes on disk per event, idlog's peak memory while each store ran, p50/p99 of every query
shape, and whether the stores returned the same rows.

With --peer victorialogs=BINARY, idlog and VictoriaLogs are measured as processes, one
after the other, on the same dataset: 'idlog import' into a fresh store (its peak memory is
the import process's), then 'idlog serve' started on it; VictoriaLogs ingests the NDJSON
through its JSON-lines API and is started again on its data. Both are asked the field
question and an hourly histogram over HTTP; the table ("Side by side with peers")
gives import rate, bytes per event, start to first answer, p50/p99, each server's
memory, and the ratios. scripts/victorialogs-build.sh builds VictoriaLogs from its Go
module.

With --growth SIZES, each size gets its own dataset and fresh store, imported by 'idlog
import' and then served by 'idlog serve': the table ("Growth") gives import rate and peak
memory, bytes per event, serve's start to first answer and its memory after every seed
scenario, per size, and checks the targets at the largest. Each store is removed once
measured; the datasets are kept in --dir.

Every store must be empty: a store that holds events is refused (nothing is deleted);
only the default duckdb:DIR/idlog.duckdb is removed and rebuilt by bench itself. For a
ClickHouse store, name a database that does not exist yet; scripts/clickhouse-bench-server.sh
runs a throwaway clickhouse-server (temporary directory, deleted when it stops). Its memory
and CPU are its own process's: the memory figure is idlog's only.

Examples:
  idlog bench                          # 10 million events: a few GB of disk, ~10 minutes
  idlog bench --events 300000 --out -  # a quick look, printed only
  scripts/clickhouse-bench-server.sh 19000 &
  idlog bench --store duckdb:bench-data/idlog.duckdb --store clickhouse://127.0.0.1:19000/idlog_bench
  scripts/victorialogs-build.sh bench-data/victoria-logs
  idlog bench --events 300000 --peer victorialogs=bench-data/victoria-logs
  idlog bench --growth 1M,3M,10M       # the growth table (its datasets take ~31 GB)

Flags:
`)
		fs.PrintDefaults()
	}
	if _, help, err := parseFlags(fs, e, args, false); help || err != nil {
		return err
	}
	log := e.stderr
	if *growth != "" || len(peers) > 0 {
		if len(urls) > 0 {
			return &exitError{code: 2, msg: "bench: --store does not go with --peer or --growth (they measure the default embedded store as processes)"}
		}
		if *growth != "" && len(peers) > 0 {
			return &exitError{code: 2, msg: "bench: --peer and --growth are separate runs"}
		}
		return benchProcesses(ctx, e, *dir, *events, *seed, *reps, *growth, peers, *out, args)
	}
	defaultURL := "duckdb:" + filepath.Join(*dir, "idlog.duckdb")
	if len(urls) == 0 {
		urls = []string{defaultURL}
	}
	seen := map[string]bool{}
	for _, u := range urls {
		if seen[u] {
			return &exitError{code: 2, msg: fmt.Sprintf("bench: store %s given twice", u)}
		}
		seen[u] = true
	}
	ds, err := bench.MakeDataset(*dir, *events, *seed, log)
	if err != nil {
		return err
	}
	rep := &bench.Report{When: time.Now(), Machine: bench.Machine(), Dataset: ds}
	for _, url := range urls {
		res, err := benchStore(ctx, url, url == defaultURL, ds, *reps, len(urls) > 1, log)
		if err != nil {
			return err
		}
		rep.Stores = append(rep.Stores, res)
	}
	if *baselines && len(ds.Samples.Users) > 0 {
		user := ds.Samples.Users[0]
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
	sec, title := bench.OneStore, "Embedded store, end to end (`idlog bench`)"
	switch {
	case len(urls) > 1:
		sec, title = bench.SideBySide, "Stores side by side, end to end (`idlog bench --store … --store …`)"
	case !strings.HasPrefix(urls[0], "duckdb:"):
		title = "End to end (`idlog bench`)"
	}
	if err := bench.WriteSection(*out, sec, title, md); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s\n", *out)
	return nil
}

// benchStore imports ds into the store at url and times its queries. The
// default store's files are bench's own and are removed first; any other
// store must be empty. With perStore, the peak memory is measured for this
// store alone.
func benchStore(ctx context.Context, url string, own bool, ds *bench.Dataset, reps int, perStore bool, log io.Writer) (*bench.StoreResult, error) {
	if own {
		path := strings.TrimPrefix(url, "duckdb:")
		for _, suffix := range []string{"", ".wal"} {
			if err := os.Remove(path + suffix); err != nil && !os.IsNotExist(err) {
				return nil, err
			}
		}
	}
	fmt.Fprintf(log, "bench: store %s\n", url)
	st, err := storeurl.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if err := bench.CheckEmpty(ctx, st, url); err != nil {
		return nil, &exitError{code: 1, msg: err.Error()}
	}
	reset := perStore && bench.ResetPeakRSS()
	res, err := bench.Measure(ctx, st, url, ds, reps, log)
	if err != nil {
		return nil, err
	}
	if reset {
		res.PeakRSS = bench.PeakRSS()
	}
	return res, nil
}

// benchProcesses runs the process-level measurements: idlog beside its
// peers (--peer), or idlog at several sizes (--growth).
func benchProcesses(ctx context.Context, e *env, dir string, events int, seed int64, reps int, growth string, peers []string, out string, args []string) error {
	log := e.stderr
	self, err := os.Executable()
	if err != nil {
		return err
	}
	command := "idlog bench " + strings.Join(args, " ")
	run := bench.IdlogRun{Bin: self, Dir: dir, Reps: reps, Log: log}
	var md string
	var sec bench.Section
	var title string
	if growth != "" {
		sizes, err := bench.ParseSizes(growth)
		if err != nil {
			return &exitError{code: 2, msg: "bench: --growth: " + err.Error()}
		}
		rows, err := bench.Growth(ctx, run, sizes, seed, log)
		if err != nil {
			return err
		}
		md = (&bench.GrowthReport{When: time.Now(), Machine: bench.Machine(), Command: command, Rows: rows}).Markdown()
		sec, title = bench.GrowthSection, "Growth (`idlog bench --growth`)"
	} else {
		ds, err := bench.MakeDataset(dir, events, seed, log)
		if err != nil {
			return err
		}
		run.Seeds = true
		rep := &bench.PeerReport{When: time.Now(), Machine: bench.Machine(), Command: command, Dataset: ds}
		res, err := bench.MeasureIdlog(ctx, run, ds)
		if err != nil {
			return err
		}
		rep.Systems = append(rep.Systems, res)
		for _, bin := range peers {
			res, err := bench.MeasureVictoriaLogs(ctx, bench.VictoriaLogsRun{Bin: bin, Dir: dir, Reps: reps, Log: log}, ds)
			if err != nil {
				return err
			}
			rep.Systems = append(rep.Systems, res)
		}
		md = rep.Markdown()
		sec, title = bench.PeersSection, "Side by side with peers (`idlog bench --peer`)"
	}
	if out == "-" {
		fmt.Fprint(e.stdout, md)
		return nil
	}
	if err := bench.WriteSection(out, sec, title, md); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s\n", out)
	return nil
}
