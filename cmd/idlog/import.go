package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idlog/idlog/internal/ingest"
)

func init() {
	register(&command{name: "import", summary: "store events from NDJSON or JSON-array files (gzip too)", run: runImport})
}

// maxReasons is how many rejections import prints; the count covers the rest.
const maxReasons = 5

func runImport(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	sf := addStoreFlags(fs, true)
	quiet := fs.Bool("quiet", false, "no progress lines, only the summary")
	every := fs.Duration("progress-every", 0, "progress line `interval` (default 1s on a terminal, 10s otherwise); a line follows a stored batch")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: idlog import [flags] FILE... | -

Stores the LogEvents in each FILE ('-' is standard input). A file holds one
event per line (NDJSON) or one JSON array, such as the body of an Okta
/api/v1/logs page; gzipped files are recognised by their first bytes.
Every event needs uuid, published (RFC 3339) and eventType, and is stored
as received. Events already stored (by uuid) count as duplicates, so an
import can be re-run after a failure or on overlapping exports.

Progress goes to standard error; the summary
  imported N, duplicates D, rejected R
to standard output. When any event is rejected, the first reasons are printed
as FILE:LINE: reason and the exit status is 1 (the valid events are stored).

`+storeFlagsHelp+`
Examples:
  idlog simulate --users 200 --days 30 | idlog import -
  idlog import export-2026-03.ndjson.gz
  curl -s -H "Authorization: SSWS $OKTA_TOKEN" "https://$ORG/api/v1/logs?limit=1000" | idlog import -
  idlog import --server http://127.0.0.1:8080 --token $IDLOG_TOKEN day1.ndjson day2.ndjson

Flags:
`)
		fs.PrintDefaults()
	}
	files, help, err := parseFlags(fs, e, args, true)
	if help || err != nil {
		return err
	}
	if len(files) == 0 {
		fmt.Fprintln(e.stderr, "idlog import: name at least one FILE, or - for standard input")
		return errUsage
	}
	if err := sf.resolve(e); err != nil {
		return err
	}
	for _, f := range files {
		if f == "-" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return err
		}
	}
	b, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer b.Close()

	pp := newProgressPrinter(e.stderr, *quiet)
	if *every > 0 {
		pp.every = *every
	}
	start := time.Now()
	var total ingest.Result
	var reasons []string
	for _, f := range files {
		name := f
		if f == "-" {
			name = "stdin"
		}
		res, err := importOne(ctx, e, b, f, pp.forFile(name, total))
		pp.done()
		total.Accepted += res.Accepted
		total.Duplicates += res.Duplicates
		total.RejectedCount += res.RejectedCount
		for _, r := range res.Rejected {
			if len(reasons) == maxReasons {
				break
			}
			if r.Line > 0 {
				reasons = append(reasons, fmt.Sprintf("%s:%d: %s", name, r.Line, r.Error))
			} else {
				reasons = append(reasons, fmt.Sprintf("%s: event #%d: %s", name, r.Index, r.Error))
			}
		}
		if err != nil {
			importSummary(e, total, start)
			if ctx.Err() != nil {
				return &exitError{code: 130, msg: "import interrupted; the events counted above are stored, re-run to finish (duplicates are skipped)"}
			}
			return fmt.Errorf("import %s: %w", name, err)
		}
	}
	importSummary(e, total, start)
	if total.RejectedCount > 0 {
		for _, r := range reasons {
			fmt.Fprintln(e.stderr, "idlog import: "+r)
		}
		if more := total.RejectedCount - len(reasons); more > 0 {
			fmt.Fprintf(e.stderr, "idlog import: … and %s more\n", thousands(int64(more)))
		}
		return &exitError{code: 1, msg: fmt.Sprintf("%s %s rejected; the valid events were stored",
			thousands(int64(total.RejectedCount)), plural(total.RejectedCount, "event was", "events were"))}
	}
	return nil
}

func importOne(ctx context.Context, e *env, b *backend, file string, progress func(ingest.Progress)) (ingest.Result, error) {
	var r io.Reader = e.stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return ingest.Result{}, err
		}
		defer f.Close()
		r = f
	}
	r, err := ingest.Decompress(r)
	if err != nil {
		return ingest.Result{}, err
	}
	// EventBridge records and saved event-hook deliveries carry LogEvents
	// inside an envelope; unwrap them so they import like Okta's own pages.
	if r, err = unwrapLogEvents(r); err != nil {
		return ingest.Result{}, err
	}
	return b.ingest(ctx, r, progress)
}

func importSummary(e *env, r ingest.Result, start time.Time) {
	d := time.Since(start)
	fmt.Fprintf(e.stdout, "imported %s, duplicates %s, rejected %s (%s",
		thousands(int64(r.Accepted)), thousands(int64(r.Duplicates)), thousands(int64(r.RejectedCount)), d.Round(time.Millisecond))
	if n := r.Accepted + r.Duplicates + r.RejectedCount; d > 0 && n > 0 {
		fmt.Fprintf(e.stdout, ", %s events/s", thousands(int64(float64(n)/d.Seconds())))
	}
	fmt.Fprintln(e.stdout, ")")
}

// progressPrinter writes import progress: on a terminal one line rewritten
// every second, elsewhere (a log, CI) a plain line every ten seconds, so
// short imports print none.
type progressPrinter struct {
	w     io.Writer
	tty   bool
	quiet bool
	every time.Duration
	mu    sync.Mutex
	start time.Time
	last  time.Time
	dirty bool
}

func newProgressPrinter(w io.Writer, quiet bool) *progressPrinter {
	p := &progressPrinter{w: w, quiet: quiet, every: 10 * time.Second, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.every = true, time.Second
		}
	}
	p.last = p.start
	return p
}

// forFile returns the pipeline's progress callback for one file, counting
// on from the files before it.
func (p *progressPrinter) forFile(name string, before ingest.Result) func(ingest.Progress) {
	if p.quiet {
		return nil
	}
	fileStart := time.Now()
	return func(pr ingest.Progress) {
		p.mu.Lock()
		defer p.mu.Unlock()
		now := time.Now()
		if now.Sub(p.last) < p.every {
			return
		}
		p.last = now
		rate := float64(pr.Events) / now.Sub(fileStart).Seconds()
		line := fmt.Sprintf("%s: %s events read (%s/s, %s): imported %s, duplicates %s, rejected %s",
			name, thousands(int64(pr.Events)), thousands(int64(rate)), byteCount(pr.Bytes),
			thousands(int64(before.Accepted+pr.Accepted)), thousands(int64(before.Duplicates+pr.Duplicates)),
			thousands(int64(before.RejectedCount+pr.Rejected)))
		if p.tty {
			fmt.Fprint(p.w, "\r"+line+"\x1b[K")
			p.dirty = true
		} else {
			fmt.Fprintln(p.w, line)
		}
	}
}

// done ends a rewritten terminal line.
func (p *progressPrinter) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dirty {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.dirty = false
	}
}

// thousands writes n with comma separators: 1234567 → 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// byteCount writes a size in binary units: 1536 → 1.5 KiB.
func byteCount(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
