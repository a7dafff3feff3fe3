package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/idlog/idlog/internal/client"
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
	batch := fs.Int("batch", 0, "store `N` events at a time (default: the store's own size, 5,000 for DuckDB and 20,000 for ClickHouse); smaller batches use less memory, and a crash loses at most the batches under way, which a re-run stores")
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
	if *batch < 0 {
		return &exitError{code: 2, msg: fmt.Sprintf("import: --batch %d: give a positive number of events, or 0 for the store's own size", *batch)}
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
	b.batch = *batch

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
			if ctx.Err() == nil && !errors.Is(err, errNotJSON) {
				// Say how many events were not stored, and why.
				notStored := -1
				if f != "-" {
					if n, cerr := countEvents(f); cerr == nil {
						notStored = n - res.Accepted - res.Duplicates - res.RejectedCount
					}
				}
				importSummaryNotStored(e, total, start, notStored, name, err)
				return fmt.Errorf("import %s: %w", name, err)
			}
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
	if r, err = sniffJSON(r); err != nil {
		return ingest.Result{}, err
	}
	// EventBridge records and saved event-hook deliveries carry LogEvents
	// inside an envelope; unwrap them so they import like Okta's own pages.
	if r, err = unwrapLogEvents(r); err != nil {
		return ingest.Result{}, err
	}
	return b.ingest(ctx, r, progress)
}

// importSummaryNotStored is the summary after a failure: the events read
// but not stored are counted (notStored < 0: unknown, the input was a
// pipe), and the reason is said on the same line.
func importSummaryNotStored(e *env, r ingest.Result, start time.Time, notStored int, name string, err error) {
	importSummary(e, r, start)
	why := err.Error()
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusForbidden {
		why = "the server refused them: the token may not store events (it needs the logs.write or admin scope; 'idlog token create --scope logs.write')"
	} else if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
		why = "the server refused them: it does not know the token"
	}
	if notStored >= 0 {
		fmt.Fprintf(e.stdout, "not stored %s of %s: %s\n", thousands(int64(notStored)), name, why)
	} else {
		fmt.Fprintf(e.stdout, "not stored: the rest of %s, from event %s on: %s\n", name, thousands(int64(r.Accepted+r.Duplicates+r.RejectedCount+1)), why)
	}
}

// countEvents counts the events (valid or not) in an import file, read as
// import reads it.
func countEvents(file string) (int, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r, err := ingest.Decompress(f)
	if err != nil {
		return 0, err
	}
	if r, err = unwrapLogEvents(r); err != nil {
		return 0, err
	}
	n := 0
	err = ingest.Decode(r, func(ingest.Item) error { n++; return nil })
	return n, err
}

// errNotJSON is what sniffJSON says about a file that is neither NDJSON
// nor JSON.
var errNotJSON = errors.New("is not NDJSON or JSON")

// sniffJSON looks at the first 4 KiB of an input and refuses it early when
// it cannot be LogEvent JSON: no line there starts with '{' or '[', or it
// holds NUL bytes or bytes that are not UTF-8 (a binary file, an
// archive other than gzip). Otherwise every line of a 50 MB random file
// would be reported as a rejected event.
func sniffJSON(r io.Reader) (io.Reader, error) {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 4096 {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	head, err := br.Peek(4096)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, err
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n\ufeff") // a byte-order mark too
	if len(trimmed) == 0 {
		return br, nil // empty: nothing to import, nothing to complain about
	}
	bad := ""
	switch {
	case !jsonLineIn(trimmed):
		bad = fmt.Sprintf("it starts with %q, and no line of its first 4 KiB starts with '{' or '['", shortPrefix(trimmed))
	case bytes.IndexByte(head, 0) >= 0:
		bad = "it holds NUL bytes (a binary file?)"
	case !utf8.Valid(trimUnfinishedRune(head)):
		bad = "it holds bytes that are not UTF-8 text (a binary file?)"
	}
	if bad != "" {
		return nil, fmt.Errorf("%w: %s; import reads one LogEvent per line or a JSON array of them (gzip too)", errNotJSON, bad)
	}
	return br, nil
}

// jsonLineIn reports whether a line of head starts (after blanks) with '{'
// or '[': NDJSON whose first lines are damaged still imports its good ones.
func jsonLineIn(head []byte) bool {
	for line := range bytes.Lines(head) {
		if l := bytes.TrimLeft(line, " \t\r\ufeff"); len(l) > 0 && (l[0] == '{' || l[0] == '[') {
			return true
		}
	}
	return false
}

func shortPrefix(b []byte) string {
	if len(b) > 12 {
		b = b[:12]
	}
	return string(b)
}

// trimUnfinishedRune drops a UTF-8 sequence cut by the end of a peek.
func trimUnfinishedRune(b []byte) []byte {
	for i := 1; i <= 3 && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
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
