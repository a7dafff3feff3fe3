package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/idlog/idlog/internal/simulate"
)

func init() {
	register(&command{
		name:    "simulate",
		summary: "generate a realistic Okta System Log (NDJSON) for a made-up org",
		run:     runSimulate,
	})
}

func runSimulate(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	users := fs.Int("users", 100, "employees in the org")
	apps := fs.Int("apps", 12, "apps in the org (at most 24)")
	days := fs.Int("days", 7, "length of the window in days, ending at --end")
	end := fs.String("end", "", "end of the window, RFC 3339 (default: the start of the current UTC hour)")
	seed := fs.Int64("seed", 1, "random seed; the same seed and --end give the same bytes")
	attacks := fs.Bool("attacks", false, "mix in labelled attack incidents")
	truthPath := fs.String("truth", "", "write ground truth (flow instances and incidents) as NDJSON to this file")
	outPath := fs.String("out", "", "write events to this file instead of stdout")
	quiet := fs.Bool("quiet", false, "no progress line on stderr")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: idlog simulate [flags]

Writes Okta System Log events (one LogEvent JSON per line, ascending
published) for a made-up org: sign-ins with MFA, app sign-ins, password
resets, unlocks, sign-outs, authenticator changes and their failures.

Examples:
  idlog simulate --users 200 --days 30 --out month.ndjson
  idlog simulate --attacks --truth truth.ndjson --end 2026-11-01T00:00:00Z > events.ndjson

Flags:
`)
		fs.PrintDefaults()
	}
	if err := parseQuiet(fs, e, args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "idlog simulate: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	cfg := simulate.Config{Users: *users, Apps: *apps, Days: *days, Seed: *seed, Attacks: *attacks}
	if *end != "" {
		t, err := time.Parse(time.RFC3339, *end)
		if err != nil {
			return &exitError{code: 2, msg: fmt.Sprintf("simulate: --end %q is not an RFC 3339 time (like 2026-11-01T00:00:00Z)", *end)}
		}
		cfg.End = t
	}
	if *users < 1 || *days < 1 || *apps < 1 {
		return &exitError{code: 2, msg: "simulate: --users, --apps and --days must be at least 1"}
	}

	var out io.Writer = e.stdout
	var closers []func() error
	if *outPath != "" {
		f, err := os.Create(*outPath)
		if err != nil {
			return err
		}
		closers = append(closers, f.Close)
		out = f
	}
	w := bufio.NewWriterSize(out, 1<<20)
	var tw *bufio.Writer
	if *truthPath != "" {
		f, err := os.Create(*truthPath)
		if err != nil {
			return err
		}
		closers = append(closers, f.Close)
		tw = bufio.NewWriterSize(f, 1<<18)
	}

	g := simulate.New(cfg)
	from, to := g.Window()
	span := to.Sub(from)
	var n int64
	started, last := time.Now(), time.Now()
	progress := func(final bool) {
		if *quiet {
			return
		}
		done := g.Position().Sub(from)
		pct := 100 * float64(max(done, 0)) / float64(span)
		if final {
			pct = 100
		}
		fmt.Fprintf(e.stderr, "\rsimulate: %3.0f%%  %d events  %s", pct, n, time.Since(started).Round(100*time.Millisecond))
		if final {
			fmt.Fprintln(e.stderr)
		}
	}
	emit := func(raw []byte) error {
		n++
		if n&8191 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if time.Since(last) > time.Second {
				last = time.Now()
				progress(false)
			}
		}
		if _, err := w.Write(raw); err != nil {
			return err
		}
		return w.WriteByte('\n')
	}
	var truth func([]byte) error
	if tw != nil {
		truth = func(rec []byte) error {
			if _, err := tw.Write(rec); err != nil {
				return err
			}
			return tw.WriteByte('\n')
		}
	}
	err := g.RunTruth(emit, truth)
	if err == nil {
		err = w.Flush()
	}
	if err == nil && tw != nil {
		err = tw.Flush()
	}
	for _, c := range closers {
		if cerr := c(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	if time.Since(started) > time.Second {
		progress(true)
	}
	return nil
}
