package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// GrowthReport is the same process-level workload at several sizes, to
// show which costs grow with the history a store holds
// (`idlog bench --growth 1000000,3000000,10000000`).
type GrowthReport struct {
	When    time.Time
	Machine string
	Command string
	Rows    []GrowthRow
}

// GrowthRow is one size.
type GrowthRow struct {
	Dataset *Dataset
	*ServerResult
}

// ParseSizes reads a comma-separated list of event counts ("100k,1M" and
// "100000,1000000" both work), smallest first.
func ParseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		mult := 1
		switch {
		case strings.HasSuffix(f, "k"), strings.HasSuffix(f, "K"):
			mult, f = 1_000, f[:len(f)-1]
		case strings.HasSuffix(f, "M"), strings.HasSuffix(f, "m"):
			mult, f = 1_000_000, f[:len(f)-1]
		}
		n, err := strconv.Atoi(strings.ReplaceAll(f, "_", ""))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a number of events (e.g. 1000000 or 1M)", f)
		}
		out = append(out, n*mult)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Growth runs MeasureIdlog (with the seed scenarios) on a dataset of every
// size in turn, each in a fresh store; datasets are made (or reused) in
// dir. The store of one size is removed once it is measured.
func Growth(ctx context.Context, r IdlogRun, sizes []int, seed int64, log io.Writer) ([]GrowthRow, error) {
	var rows []GrowthRow
	for _, n := range sizes {
		ds, err := MakeDataset(r.Dir, n, seed, log)
		if err != nil {
			return nil, err
		}
		run := r
		run.Dir = filepath.Join(r.Dir, fmt.Sprintf("growth-%d", n))
		run.Seeds = true
		res, err := MeasureIdlog(ctx, run, ds)
		if err != nil {
			return nil, fmt.Errorf("%d events: %w", n, err)
		}
		// A 10M store is gigabytes; the dataset is kept for the next run.
		if err := os.RemoveAll(run.Dir); err != nil {
			return nil, err
		}
		row := GrowthRow{Dataset: ds, ServerResult: res}
		rows = append(rows, row)
		// One line per size as it is done, so that a long run stopped
		// at a larger size still leaves the smaller sizes' figures.
		fmt.Fprintf(log, "growth: %d events: import %.0f events/s, peak RSS %s; %.0f B/event; serve start to first answer %s, RSS %s; worst seed p50 %s (7 days) / %s (90 days)\n",
			res.Events, res.ImportRate, mb(res.ImportPeakRSS), row.bytesPerEvent(), res.OpenToFirst.Round(time.Millisecond), mb(res.RSS),
			res.worstSeed("7 days"), res.worstSeed("90 days"))
	}
	return rows, nil
}

// worstSeed is the largest p50 among the seed scenarios over window.
func (r *ServerResult) worstSeed(window string) time.Duration {
	var d time.Duration
	for _, l := range r.Queries {
		if strings.HasPrefix(l.Name, "scenario ") && strings.HasSuffix(l.Name, window) {
			d = max(d, l.Quantile(.5))
		}
	}
	return d
}

// Markdown renders one row per size, then the targets checked at the
// largest size and the growth from the smallest to the largest.
func (g *GrowthReport) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s by `%s` on %s.\n\n", g.When.UTC().Format("2006-01-02 15:04 MST"), g.Command, g.Machine)
	b.WriteString("Each size is its own simulated dataset (90 days ending " + End.Format("2006-01-02") + ", with attacks), imported by `idlog import` into a fresh store with default settings; then `idlog serve` is started on it and asked every seed scenario (7 and 90 days), the field question and the hourly histogram over HTTP.\n\n")
	b.WriteString("| events | import rate | import peak RSS | bytes/event | `serve` start to first answer | `serve` RSS after the seed queries | `serve` peak RSS | seed pages worst p50, 7 / 90 days |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range g.Rows {
		fmt.Fprintf(&b, "| %d | %.0f events/s | %s | %.0f B | %s | %s | %s | %s / %s |\n", r.Events, r.ImportRate, mb(r.ImportPeakRSS), r.bytesPerEvent(),
			ms(r.OpenToFirst), mb(r.RSS), mb(r.PeakRSS), ms(r.worstSeed("7 days")), ms(r.worstSeed("90 days")))
	}
	if len(g.Rows) == 0 {
		return b.String()
	}
	first, last := g.Rows[0], g.Rows[len(g.Rows)-1]
	// The simulator makes about the events asked for (9,984,893 for 10M,
	// 998,224 for 1M), so a size counts as 10M or 1M within 5%.
	at10M := about(last.Events, 10_000_000)
	check := func(ok bool) string {
		if !at10M {
			return fmt.Sprintf("not measured at 10M (largest here: %d)", last.Events)
		}
		return verdict(ok)
	}
	b.WriteString("\n| target (at 10M events, default settings) | largest size | |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| `serve` start to first answer ≤ 1.5 s | %s | %s |\n", ms(last.OpenToFirst), check(last.OpenToFirst <= 1500*time.Millisecond))
	fmt.Fprintf(&b, "| `serve` RSS after the seed queries ≤ 400 MB | %s | %s |\n", mb(last.RSS), check(last.RSS <= 400e6))
	fmt.Fprintf(&b, "| import peak RSS ≤ 1 GB | %s | %s |\n", mb(last.ImportPeakRSS), check(last.ImportPeakRSS <= 1e9))
	fmt.Fprintf(&b, "| import ≥ 100,000 events/s | %.0f events/s | %s |\n", last.ImportRate, check(last.ImportRate >= 100_000))
	fmt.Fprintf(&b, "| ≤ 150 bytes per event on disk | %.0f B | %s |\n", last.bytesPerEvent(), check(last.bytesPerEvent() <= 150))
	if len(g.Rows) > 1 {
		flat := func(a, b int64) string {
			r := float64(b) / float64(max(a, 1))
			s := fmt.Sprintf("%.2f×", r)
			if about(first.Events, 1_000_000) && at10M {
				return s + " | " + verdict(r <= 1.5)
			}
			return s + fmt.Sprintf(" | target is 10M against 1M; here %d against %d", last.Events, first.Events)
		}
		fmt.Fprintf(&b, "| `serve` start to first answer grows ≤ 1.5× | %s |\n", flat(int64(first.OpenToFirst), int64(last.OpenToFirst)))
		fmt.Fprintf(&b, "| `serve` RSS grows ≤ 1.5× | %s |\n", flat(first.RSS, last.RSS))
	}
	return b.String()
}

// about reports whether n events are the size asked for, within 5%.
func about(n int64, size int64) bool { return n >= size*95/100 && n <= size*105/100 }
