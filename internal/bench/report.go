package bench

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Report is one run of the whole benchmark: one store, or several measured
// side by side on the same dataset with the same sample values.
type Report struct {
	When      time.Time
	Machine   string
	Dataset   *Dataset
	Stores    []*StoreResult
	PeakRSS   int64 // of the whole run
	Baselines []*Baseline
}

// Machine describes the computer the numbers were taken on.
func Machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "MemTotal:")), "%d", &kb)
		mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/(1<<20))
	}
	return fmt.Sprintf("%d cores (%s)%s, %s/%s, %s", runtime.NumCPU(), model, mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// query returns st's latencies whose name starts with prefix.
func query(st *StoreResult, prefix string) []*Latency {
	var out []*Latency
	for _, l := range st.Queries {
		if strings.HasPrefix(l.Name, prefix) {
			out = append(out, l)
		}
	}
	return out
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// worst returns the largest q-quantile among ls.
func worst(ls []*Latency, q float64) time.Duration {
	var d time.Duration
	for _, l := range ls {
		d = max(d, l.Quantile(q))
	}
	return d
}

// shapes are the latencies the summary tables pick out of a store's.
type shapes struct {
	week, all []*Latency // seed scenarios, 7 and 90 days
	q7, q90   *Latency
	hist      *Latency
	field     *Latency
}

func shapesOf(st *StoreResult) shapes {
	sc := query(st, "scenario ")
	return shapes{
		week:  slices.DeleteFunc(slices.Clone(sc), func(l *Latency) bool { return !strings.HasSuffix(l.Name, "7 days") }),
		all:   slices.DeleteFunc(slices.Clone(sc), func(l *Latency) bool { return !strings.HasSuffix(l.Name, "90 days") }),
		q7:    query(st, "q=")[0],
		q90:   query(st, "q=")[1],
		hist:  query(st, "hourly histogram")[0],
		field: query(st, "one user")[0],
	}
}

func (st *StoreResult) bytesPerEvent() float64 {
	return float64(st.BytesOnDisk) / float64(max(st.Events, 1))
}

// Markdown renders the report as the section docs/benchmarks.md keeps: the
// one-store section, or with several stores the side-by-side one
// (SideBySideMarkdown).
func (r *Report) Markdown() string {
	if len(r.Stores) > 1 {
		return r.SideBySideMarkdown()
	}
	var b strings.Builder
	ds, st := r.Dataset, r.Stores[0]
	fmt.Fprintf(&b, "Measured %s by `idlog bench --events %d` on %s.\n\n", r.When.UTC().Format("2006-01-02 15:04 MST"), ds.Events, r.Machine)
	fmt.Fprintf(&b, "Dataset: %d simulated events (%d users, %d days ending %s, with attacks), %.0f bytes/event as NDJSON. Store: `%s`.\n\n",
		ds.Events, ds.Users, Days, End.Format("2006-01-02"), float64(ds.Bytes)/float64(ds.Events), st.URL)

	sh := shapesOf(st)
	week, all, q7, q90, hist := sh.week, sh.all, sh.q7, sh.q90, sh.hist
	bpe := st.bytesPerEvent()

	b.WriteString("| measure | target | idlog | |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| import through the ingest pipeline | ≥ 100,000 events/s | %.0f events/s | %s |\n", st.ImportRate, verdict(st.ImportRate >= 100000))
	fmt.Fprintf(&b, "| bytes on disk per event, everything included | ≤ 250 B | %.0f B | %s |\n", bpe, verdict(bpe <= 250))
	fmt.Fprintf(&b, "| peak resident memory of the whole run | ≤ 1 GB | %.0f MB | %s |\n", float64(r.PeakRSS)/1e6, verdict(r.PeakRSS <= 1e9))
	fmt.Fprintf(&b, "| first page (100) of each seed scenario, 7 days: worst p50 | ≤ 20 ms | %s | %s |\n", ms(worst(week, .5)), verdict(worst(week, .5) <= 20*time.Millisecond))
	fmt.Fprintf(&b, "| same, worst p99 | ≤ 100 ms | %s | %s |\n", ms(worst(week, .99)), verdict(worst(week, .99) <= 100*time.Millisecond))
	fmt.Fprintf(&b, "| first page of each seed scenario, 90 days: worst p50 | ≤ 100 ms | %s | %s |\n", ms(worst(all, .5)), verdict(worst(all, .5) <= 100*time.Millisecond))
	fmt.Fprintf(&b, "| `q` keyword query (a user's email), 7 days: p50 | ≤ 100 ms | %s | %s |\n", ms(q7.Quantile(.5)), verdict(q7.Quantile(.5) <= 100*time.Millisecond))
	fmt.Fprintf(&b, "| `q` keyword query, 90 days: p50 | | %s | |\n", ms(q90.Quantile(.5)))
	fmt.Fprintf(&b, "| hourly histogram over 90 days: p50 | ≤ 100 ms | %s | %s |\n", ms(hist.Quantile(.5)), verdict(hist.Quantile(.5) <= 100*time.Millisecond))

	b.WriteString("\nEvery query shape, each run with a different sample value (newest first, limit 100):\n\n")
	b.WriteString("| query | runs | p50 | p99 | rows returned |\n|---|---|---|---|---|\n")
	for _, l := range st.Queries {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %d |\n", l.Name, len(l.Samples), ms(l.Quantile(.5)), ms(l.Quantile(.99)), l.Rows)
	}

	r.baselines(&b)
	return b.String()
}

// baselines renders the field question asked of jq and SQLite, against the
// first store's answer and speed.
func (r *Report) baselines(b *strings.Builder) {
	if len(r.Baselines) == 0 {
		return
	}
	ds := r.Dataset
	b.WriteString("\nThe same question — one user, four sign-in event types, newest 100, 90 days — asked of what an analyst might use instead, in the same run:\n\n")
	b.WriteString("| tool | events held | load rate | bytes/event | query (median) | idlog is faster by | same answer as idlog |\n|---|---|---|---|---|---|---|\n")
	for i, st := range r.Stores {
		same := ""
		if i > 0 {
			same = sameAnswer(st.Reference, r.Stores[0].Reference)
		}
		fmt.Fprintf(b, "| idlog (`%s`) | %d | %.0f/s | %.0f | %s (p50) | | %s |\n", st.URL, st.Events, st.ImportRate, st.bytesPerEvent(), ms(shapesOf(st).field.Quantile(.5)), same)
	}
	st := r.Stores[0]
	field := shapesOf(st).field
	for _, bl := range r.Baselines {
		rate := "—"
		if bl.LoadRate > 0 {
			rate = fmt.Sprintf("%.0f/s", bl.LoadRate)
		}
		same := "n/a (other data)"
		if bl.Events == ds.Events || bl.Events == int(st.Events) {
			same = sameAnswer(bl.UUIDs, st.Reference)
		}
		fmt.Fprintf(b, "| %s | %d | %s | %.0f | %s | %.0f× | %s |\n", bl.Name, bl.Events, rate, bl.BytesPerEvt, ms(bl.Query),
			float64(bl.Query)/float64(max(field.Quantile(.5), time.Microsecond)), same)
	}
	if len(r.Stores) > 1 {
		fmt.Fprintf(b, "\n\"idlog is faster by\" and \"same answer\" are against the first store, `%s`.\n", st.URL)
	}
	b.WriteString("\nThe field numbers from the brief (VictoriaLogs 82k events/s, 131 B/event, 9.6 ms; SQLite with JSON indexes 2.2 KB/event, 78 ms; DuckDB over a raw JSON column 130k/s, 325 ms) were measured on 300k events; see the table above for idlog on this dataset.\n")
}

func sameAnswer(got, want []string) string {
	if slices.Equal(got, want) {
		return "yes"
	}
	return "**no**"
}

// storeName is a store's column heading: its kind, from the URL scheme.
func storeName(url string) string {
	switch {
	case strings.HasPrefix(url, "duckdb:"):
		return "DuckDB (embedded)"
	case strings.HasPrefix(url, "clickhouse:"):
		return "ClickHouse"
	}
	scheme, _, _ := strings.Cut(url, ":")
	return scheme
}

// SideBySideMarkdown renders several stores measured on the same dataset
// with the same sample values: one column per store.
func (r *Report) SideBySideMarkdown() string {
	var b strings.Builder
	ds := r.Dataset
	cmd := fmt.Sprintf("idlog bench --events %d", ds.Events)
	for _, st := range r.Stores {
		cmd += " --store " + st.URL
	}
	fmt.Fprintf(&b, "Measured %s by `%s` on %s.\n\n", r.When.UTC().Format("2006-01-02 15:04 MST"), cmd, r.Machine)
	fmt.Fprintf(&b, "Dataset: %d simulated events (%d users, %d days ending %s, with attacks), %.0f bytes/event as NDJSON, imported into each store in turn through the ingest pipeline; every store is then asked the same queries with the same sample values.\n\n",
		ds.Events, ds.Users, Days, End.Format("2006-01-02"), float64(ds.Bytes)/float64(ds.Events))

	head := func(first string) {
		b.WriteString("| " + first + " |")
		for _, st := range r.Stores {
			b.WriteString(" " + storeName(st.URL) + " |")
		}
		b.WriteString("\n|---|" + strings.Repeat("---|", len(r.Stores)) + "\n")
	}
	line := func(name string, cell func(*StoreResult) string) {
		b.WriteString("| " + name + " |")
		for _, st := range r.Stores {
			b.WriteString(" " + cell(st) + " |")
		}
		b.WriteString("\n")
	}
	head("measure")
	line("store URL", func(st *StoreResult) string { return "`" + st.URL + "`" })
	line("events stored", func(st *StoreResult) string { return fmt.Sprint(st.Events) })
	line("import through the ingest pipeline", func(st *StoreResult) string { return fmt.Sprintf("%.0f events/s", st.ImportRate) })
	line("import time", func(st *StoreResult) string { return st.ImportTime.Round(time.Second).String() })
	line("bytes on disk per event, everything included", func(st *StoreResult) string { return fmt.Sprintf("%.0f B", st.bytesPerEvent()) })
	line("peak resident memory of idlog ¹", func(st *StoreResult) string {
		if st.PeakRSS == 0 {
			return "not measured"
		}
		return fmt.Sprintf("%.0f MB", float64(st.PeakRSS)/1e6)
	})
	line("first page of each seed scenario, 7 days: worst p50 / p99", func(st *StoreResult) string {
		sh := shapesOf(st)
		return ms(worst(sh.week, .5)) + " / " + ms(worst(sh.week, .99))
	})
	line("first page of each seed scenario, 90 days: worst p50 / p99", func(st *StoreResult) string {
		sh := shapesOf(st)
		return ms(worst(sh.all, .5)) + " / " + ms(worst(sh.all, .99))
	})
	line("`q` keyword query (a user's email), 7 days: p50", func(st *StoreResult) string { return ms(shapesOf(st).q7.Quantile(.5)) })
	line("`q` keyword query, 90 days: p50", func(st *StoreResult) string { return ms(shapesOf(st).q90.Quantile(.5)) })
	line("hourly histogram over 90 days: p50", func(st *StoreResult) string { return ms(shapesOf(st).hist.Quantile(.5)) })
	same := "yes"
	for _, st := range r.Stores[1:] {
		if !slices.Equal(st.Reference, r.Stores[0].Reference) {
			same = "**no**"
		}
	}
	b.WriteString("\n¹ The peak resident memory of this process from the start of the store's import to its last query. " +
		"A ClickHouse server is a process of its own: its memory and CPU are not in this figure, and on one machine it competes with idlog for the same cores.\n")
	fmt.Fprintf(&b, "\nEvery query shape, each run with a different sample value (newest first, limit 100), p50 / p99; the stores gave the same answer to the field question (one user, four sign-in types): %s.\n\n", same)

	b.WriteString("| query | runs |")
	for _, st := range r.Stores {
		b.WriteString(" " + storeName(st.URL) + " |")
	}
	b.WriteString(" rows returned |\n|---|---|" + strings.Repeat("---|", len(r.Stores)) + "---|\n")
	for i, l := range r.Stores[0].Queries {
		fmt.Fprintf(&b, "| %s | %d |", l.Name, len(l.Samples))
		var rows []string
		for _, st := range r.Stores {
			if i >= len(st.Queries) || st.Queries[i].Name != l.Name {
				b.WriteString(" — |")
				continue
			}
			o := st.Queries[i]
			fmt.Fprintf(&b, " %s / %s |", ms(o.Quantile(.5)), ms(o.Quantile(.99)))
			rows = append(rows, fmt.Sprint(o.Rows))
		}
		cell := rows[0]
		if slices.ContainsFunc(rows, func(x string) bool { return x != rows[0] }) {
			cell = "**differ: " + strings.Join(rows, " / ") + "**"
		}
		fmt.Fprintf(&b, " %s |\n", cell)
	}
	r.baselines(&b)
	return b.String()
}

// Section names the generated section a run writes: the one-store section
// and the side-by-side one have markers of their own, so both can live in
// docs/benchmarks.md and neither run overwrites the other.
type Section string

// The sections `idlog bench` writes.
const (
	OneStore      Section = ""
	SideBySide    Section = "side by side"
	PeersSection  Section = "peers"  // idlog and VictoriaLogs as processes (--peer)
	GrowthSection Section = "growth" // the growth table (--growth)
)

func (sec Section) marks() (begin, end string) {
	name := "idlog bench"
	if sec != OneStore {
		name += " " + string(sec)
	}
	return "<!-- " + name + ": begin (generated by `idlog bench`; edits inside are overwritten) -->", "<!-- " + name + ": end -->"
}

// WriteSection puts md between the markers of sec in the file at path,
// adding a section titled title at the end when the markers are missing.
// Everything else in the file (other engineers' sections) is kept.
func WriteSection(path string, sec Section, title, md string) error {
	beginMark, endMark := sec.marks()
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	s := string(old)
	block := beginMark + "\n" + md + endMark
	if i, j := strings.Index(s, beginMark), strings.Index(s, endMark); i >= 0 && j > i {
		s = s[:i] + block + s[j+len(endMark):]
	} else {
		if s == "" {
			s = "# Benchmarks\n"
		}
		s = strings.TrimRight(s, "\n") + "\n\n## " + title + "\n\n" + block + "\n"
	}
	return os.WriteFile(path, []byte(s), 0o644)
}
