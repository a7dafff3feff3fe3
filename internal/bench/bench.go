package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/scenario"
	"github.com/idlog/idlog/internal/store"
)

// SignInTypes are the four event types of the field comparison: "one user,
// four sign-in event types, newest 100".
var SignInTypes = []string{"user.session.start", "policy.evaluate_sign_on", "user.authentication.auth_via_mfa", "user.authentication.verify"}

// SignInQuery is the comparison's filter for one user.
func SignInQuery(user string) string {
	var b strings.Builder
	b.WriteString("actor.id eq " + scenario.Quote(user) + " and (")
	for i, t := range SignInTypes {
		if i > 0 {
			b.WriteString(" or ")
		}
		b.WriteString("eventType eq " + scenario.Quote(t))
	}
	b.WriteString(")")
	return b.String()
}

// Latency is a set of timings of one query shape.
type Latency struct {
	Name    string
	Samples []time.Duration
	Rows    int // rows returned, summed: proof the queries found something
}

// Quantile returns the q-quantile (0 < q ≤ 1) by the nearest-rank method.
func (l *Latency) Quantile(q float64) time.Duration {
	if len(l.Samples) == 0 {
		return 0
	}
	s := slices.Clone(l.Samples)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// StoreResult is what one store measured.
type StoreResult struct {
	URL         string
	Events      int64
	ImportRate  float64 // events per second, through the ingest pipeline
	ImportTime  time.Duration
	BytesOnDisk int64
	Queries     []*Latency
	// Reference is the store's answer to the field question (SignInQuery
	// for the dataset's first sample user, 90 days, newest 100), newest
	// first, to check baselines and other stores against.
	Reference []string
	// PeakRSS is this process's peak resident memory while the store was
	// imported and queried (set by the caller, see ResetPeakRSS); 0 when
	// not measured.
	PeakRSS int64
}

// CheckEmpty refuses a store that holds events already: bench measures an
// import into an empty store, and re-importing would time the duplicate
// check instead. Nothing is deleted: the user picks another database.
func CheckEmpty(ctx context.Context, st store.Store, url string) error {
	stats, err := st.Stats(ctx)
	if err != nil {
		return err
	}
	if stats.Events > 0 || stats.MaxSeq > 0 {
		return fmt.Errorf("bench: store %s is not empty (%d events, last seq %d): bench measures an import into an empty store; name a new database or file (nothing was deleted)", url, stats.Events, stats.MaxSeq)
	}
	return nil
}

// flusher is a store that can write what it holds in a log into its
// compact form.
type flusher interface {
	Flush(ctx context.Context) error
}

// Measure imports ds into st through the ingest pipeline and times the query
// shapes the issues set targets for. reps is how many times each shape runs
// (with a different sample value each time).
func Measure(ctx context.Context, st store.Store, url string, ds *Dataset, reps int, log io.Writer) (*StoreResult, error) {
	res := &StoreResult{URL: url}
	f, err := os.Open(ds.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	start := time.Now()
	last := start
	ir, err := ingest.New(st, ingest.Options{}).Ingest(ctx, f, func(p ingest.Progress) {
		if now := time.Now(); now.Sub(last) > 5*time.Second {
			last = now
			fmt.Fprintf(log, "import: %d events, %.0f/s\n", p.Events, float64(p.Events)/now.Sub(start).Seconds())
		}
	})
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	// A store that keeps recent writes in a log until it compacts them
	// (DuckDB's WAL, uncompressed) is measured compacted: a store that
	// has run for a while is, and the time it takes counts as import.
	if f, ok := st.(flusher); ok {
		t := time.Now()
		if err := f.Flush(ctx); err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		fmt.Fprintf(log, "import: flushed in %s\n", time.Since(t).Round(time.Millisecond))
	}
	res.ImportTime = time.Since(start)
	if ir.RejectedCount > 0 {
		return nil, fmt.Errorf("import rejected %d events: %v", ir.RejectedCount, ir.Rejected[0])
	}
	if ir.Duplicates > 0 {
		// The dataset's uuids are distinct: these were in the store already.
		return nil, fmt.Errorf("import: %s already held %d of the dataset's events: bench needs an empty store", url, ir.Duplicates)
	}
	res.ImportRate = float64(ir.Accepted) / res.ImportTime.Seconds()
	fmt.Fprintf(log, "import: %d events in %s (%.0f/s)\n", ir.Accepted, res.ImportTime.Round(time.Millisecond), res.ImportRate)
	stats, err := st.Stats(ctx)
	if err != nil {
		return nil, err
	}
	res.Events, res.BytesOnDisk = stats.Events, stats.BytesOnDisk

	week := store.Query{Since: End.Add(-7 * 24 * time.Hour), Until: End, Order: store.ByPublished, Descending: true, Limit: 100}
	all := week
	all.Since = End.Add(-Days * 24 * time.Hour)

	values := func(param string, recent bool) []string {
		s := ds.Samples
		if recent && len(ds.Recent.Users) > 0 {
			s = ds.Recent
		}
		switch param {
		case scenario.ParamIP:
			return s.IPs
		case scenario.ParamSession:
			return s.Sessions
		}
		return s.Users
	}
	timeQuery := func(name string, base store.Query, texts []string, kw [][]string) (*Latency, error) {
		l := &Latency{Name: name}
		for i := 0; i < reps; i++ {
			q := base
			if texts != nil {
				e, err := filter.Parse(texts[i%len(texts)])
				if err != nil {
					return nil, err
				}
				q.Filter = e
			}
			if kw != nil {
				q.Keywords = kw[i%len(kw)]
			}
			if d, ok := st.(store.CacheDropper); ok {
				d.DropCache()
			}
			t := time.Now()
			evs, err := st.Query(ctx, q)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			l.Samples = append(l.Samples, time.Since(t))
			l.Rows += len(evs)
		}
		return l, nil
	}
	add := func(l *Latency, err error) error {
		if err != nil {
			return err
		}
		res.Queries = append(res.Queries, l)
		fmt.Fprintf(log, "query %-40s p50 %8s p99 %8s rows %d\n", l.Name, ms(l.Quantile(.5)), ms(l.Quantile(.99)), l.Rows)
		return nil
	}

	var signin []string
	for _, u := range ds.Samples.Users {
		signin = append(signin, SignInQuery(u))
	}
	if err := add(timeQuery("one user, 4 sign-in types, newest 100, 90 days", all, signin, nil)); err != nil {
		return nil, err
	}
	for _, window := range []struct {
		name string
		q    store.Query
	}{{"7 days", week}, {"90 days", all}} {
		for _, s := range scenario.All() {
			var texts []string
			for _, v := range values(s.Param, window.name == "7 days") {
				t, err := s.Expand(v)
				if err != nil {
					return nil, err
				}
				texts = append(texts, t)
			}
			if err := add(timeQuery("scenario "+s.Name+", "+window.name, window.q, texts, nil)); err != nil {
				return nil, err
			}
		}
		emails := ds.Samples.Emails
		if window.name == "7 days" && len(ds.Recent.Emails) > 0 {
			emails = ds.Recent.Emails
		}
		var kw [][]string
		for _, e := range emails {
			kw = append(kw, []string{strings.ToLower(e)})
		}
		if err := add(timeQuery("q=<user email>, "+window.name, window.q, nil, kw)); err != nil {
			return nil, err
		}
	}
	hist := &Latency{Name: "hourly histogram, 90 days"}
	for i := 0; i < max(reps/10, 3); i++ {
		t := time.Now()
		b, err := st.Histogram(ctx, store.Query{Since: all.Since, Until: End}, time.Hour)
		if err != nil {
			return nil, err
		}
		hist.Samples = append(hist.Samples, time.Since(t))
		hist.Rows += len(b)
	}
	if err := add(hist, nil); err != nil {
		return nil, err
	}
	if len(ds.Samples.Users) > 0 {
		expr, err := filter.Parse(SignInQuery(ds.Samples.Users[0]))
		if err != nil {
			return nil, err
		}
		ref, err := st.Query(ctx, store.Query{Filter: expr, Since: all.Since, Until: End, Order: store.ByPublished, Descending: true, Limit: 100})
		if err != nil {
			return nil, err
		}
		for _, ev := range ref {
			res.Reference = append(res.Reference, ev.UUID)
		}
	}
	return res, nil
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
}

// ResetPeakRSS returns memory the Go heap no longer uses to the system and
// starts a new peak (VmHWM) from the current resident size, so that
// PeakRSS then tells one store's peak rather than the run's. It reports
// whether Linux accepted the reset (/proc/self/clear_refs, Linux 4.0+).
func ResetPeakRSS() bool {
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// PeakRSS returns the process's peak resident set size in bytes (VmHWM), or 0
// where /proc does not say.
func PeakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
