package bench

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// PeerReport is idlog and one or more peers measured as processes on the
// same dataset in one run (`idlog bench --peer victorialogs=BIN`).
type PeerReport struct {
	When    time.Time
	Machine string
	Command string
	Dataset *Dataset
	Systems []*ServerResult // idlog first
}

// ratio formats a/b as "1.23×", or "—" when b is zero.
func ratio(a, b float64) string {
	if b == 0 || a == 0 {
		return "—"
	}
	r := a / b
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f×", r)
	case r >= 10:
		return fmt.Sprintf("%.1f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

func mb(b int64) string {
	if b == 0 {
		return "not measured"
	}
	return fmt.Sprintf("%.0f MB", float64(b)/1e6)
}

// sameSet reports whether two answers hold the same uuids. Events with the
// same published time may come in either order, and the 100th place may
// fall among such ties, so an order or a tie at the edge is not a
// different answer; the rows are compared as sets.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// Markdown renders the side-by-side table: one column per system and, for
// every peer, the ratio idlog ÷ peer.
func (r *PeerReport) Markdown() string {
	var b strings.Builder
	ds := r.Dataset
	fmt.Fprintf(&b, "Measured %s by `%s` on %s.\n\n", r.When.UTC().Format("2006-01-02 15:04 MST"), r.Command, r.Machine)
	fmt.Fprintf(&b, "Dataset: %d simulated events (%d users, %d days ending %s, with attacks), %.0f bytes/event as NDJSON. "+
		"Each system runs as its own processes on the same two cores, one after the other: the dataset is imported, the server is started again on the stored data, and the same questions are asked over HTTP with the same sample users.\n\n",
		ds.Events, ds.Users, Days, End.Format("2006-01-02"), float64(ds.Bytes)/float64(ds.Events))
	idl := r.Systems[0]
	peers := r.Systems[1:]
	b.WriteString("| measure | " + idl.Name + " |")
	for _, p := range peers {
		b.WriteString(" " + p.Name + " | idlog ÷ " + p.Name + " |")
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---|---|", len(peers)) + "\n")
	row := func(name string, cell func(*ServerResult) string, num func(*ServerResult) float64) {
		b.WriteString("| " + name + " | " + cell(idl) + " |")
		for _, p := range peers {
			b.WriteString(" " + cell(p) + " | " + ratio(num(idl), num(p)) + " |")
		}
		b.WriteString("\n")
	}
	lat := func(name string, q float64) (func(*ServerResult) string, func(*ServerResult) float64) {
		return func(s *ServerResult) string {
				if l := s.query(name); l != nil {
					return ms(l.Quantile(q))
				}
				return "—"
			}, func(s *ServerResult) float64 {
				if l := s.query(name); l != nil {
					return float64(l.Quantile(q))
				}
				return 0
			}
	}
	row("events stored", func(s *ServerResult) string { return fmt.Sprint(s.Events) }, func(s *ServerResult) float64 { return float64(s.Events) })
	row("import rate, until queryable (higher is better)", func(s *ServerResult) string { return fmt.Sprintf("%.0f events/s", s.ImportRate) }, func(s *ServerResult) float64 { return s.ImportRate })
	row("import peak RSS ¹", func(s *ServerResult) string { return mb(s.ImportPeakRSS) }, func(s *ServerResult) float64 { return float64(s.ImportPeakRSS) })
	row("bytes on disk per event ²", func(s *ServerResult) string { return fmt.Sprintf("%.0f B", s.bytesPerEvent()) }, func(s *ServerResult) float64 { return s.bytesPerEvent() })
	row("server start to first answer", func(s *ServerResult) string { return ms(s.OpenToFirst) }, func(s *ServerResult) float64 { return float64(s.OpenToFirst) })
	c, n := lat(FieldQuestion, .5)
	row("one user, 4 sign-in types, newest 100, 90 days: p50", c, n)
	c, n = lat(FieldQuestion, .99)
	row("same, p99", c, n)
	c, n = lat(HourlyHist, .5)
	row("hourly histogram over 90 days: p50", c, n)
	c, n = lat(HourlyHist, .99)
	row("same, p99", c, n)
	row("server RSS after the queries", func(s *ServerResult) string { return mb(s.RSS) }, func(s *ServerResult) float64 { return float64(s.RSS) })
	row("server peak RSS", func(s *ServerResult) string { return mb(s.PeakRSS) }, func(s *ServerResult) float64 { return float64(s.PeakRSS) })
	b.WriteString("| same answer to the field question as idlog ³ | |")
	for _, p := range peers {
		same := "yes"
		if !sameSet(p.Reference, idl.Reference) {
			same = fmt.Sprintf("**no** (%d rows against %d)", len(p.Reference), len(idl.Reference))
		}
		b.WriteString(" " + same + " | |")
	}
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "Ratios are idlog's figure divided by the peer's: below 1 idlog imports slower, and is smaller, faster or leaner than the peer. "+
		"Latencies are through each server's HTTP API from a client in the bench process, %d runs of the field question (each another sample user) and %d of the histogram, no cache emptied between runs (each run asks about another user, so most of a page's rows are not in a row cache yet).\n\n",
		len(idl.query(FieldQuestion).Samples), len(idl.query(HourlyHist).Samples))
	b.WriteString("¹ idlog: the `idlog import` process. A peer: its server while it ingested (the same process then answers queries).\n\n")
	b.WriteString("² Everything in the store's directory. idlog keeps every event byte for byte; VictoriaLogs keeps the fields (the nesting flattened, published turned into its _time), not the event's text.\n\n")
	b.WriteString("³ The uuids of the first sample user's answer, compared as a set (events with the same published time may come in either order).\n")
	for _, s := range r.Systems {
		fmt.Fprintf(&b, "\n%s: `%s`.", s.Name, s.Command)
	}
	b.WriteString("\n")
	if seeds := slices.DeleteFunc(slices.Clone(idl.Queries), func(l *Latency) bool { return !strings.HasPrefix(l.Name, "scenario ") }); len(seeds) > 0 {
		b.WriteString("\nidlog's seed scenarios through the same server (newest 100; each run another sample value):\n\n")
		b.WriteString("| query | runs | p50 | p99 | rows returned |\n|---|---|---|---|---|\n")
		for _, l := range seeds {
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %d |\n", l.Name, len(l.Samples), ms(l.Quantile(.5)), ms(l.Quantile(.99)), l.Rows)
		}
	}
	return b.String()
}
