package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"text/tabwriter"
	"time"
)

func init() {
	register(&command{name: "stats", summary: "say how many events the store holds, over what time, on how many bytes", run: runStats})
}

func runStats(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	sf := addStoreFlags(fs, true)
	sf.mustExist = true // reading a store that is not there is a typo, not an empty answer
	asJSON := fs.Bool("json", false, "print the numbers as one JSON object (the API's /api/idlog/v1/stats shape)")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: idlog stats [flags]

Prints how many events the store holds, the published time of the oldest and
newest, the store's size on disk and per event, and the highest ingest
sequence number (it only grows: a changing value means events arrived).

`+storeFlagsHelp+`
Examples:
  idlog stats
  idlog stats --server http://127.0.0.1:8080 --token $IDLOG_TOKEN --json

Flags:
`)
		fs.PrintDefaults()
	}
	if _, help, err := parseFlags(fs, e, args, false); help || err != nil {
		return err
	}
	if err := sf.resolve(e); err != nil {
		return err
	}
	b, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	st, err := b.stats(ctx)
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	if *asJSON {
		out := map[string]any{"events": st.Events, "oldest": nil, "newest": nil, "maxSeq": st.MaxSeq, "bytesOnDisk": st.BytesOnDisk}
		if st.Events > 0 {
			out["oldest"] = st.Oldest.UTC().Format(time.RFC3339Nano)
			out["newest"] = st.Newest.UTC().Format(time.RFC3339Nano)
		}
		enc := json.NewEncoder(e.stdout)
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "events\t%s\n", thousands(st.Events))
	if st.Events > 0 {
		fmt.Fprintf(tw, "oldest\t%s\n", st.Oldest.UTC().Format(time.RFC3339))
		fmt.Fprintf(tw, "newest\t%s\n", st.Newest.UTC().Format(time.RFC3339))
		fmt.Fprintf(tw, "time span\t%s\n", spanBetween(st.Oldest, st.Newest))
	} else {
		fmt.Fprintf(tw, "time span\t-\n")
	}
	fmt.Fprintf(tw, "bytes on disk\t%s (%s)\n", thousands(st.BytesOnDisk), byteCount(st.BytesOnDisk))
	if st.Events > 0 {
		fmt.Fprintf(tw, "bytes/event\t%s\n", thousands(st.BytesOnDisk/st.Events))
	} else {
		fmt.Fprintf(tw, "bytes/event\t-\n")
	}
	fmt.Fprintf(tw, "max seq\t%s\n", thousands(st.MaxSeq))
	return tw.Flush()
}

// spanBetween is span(newest-oldest), in whole days when the difference is
// past what a time.Duration holds (about 292 years: an event dated 2999
// would otherwise print as 106751 days).
func spanBetween(oldest, newest time.Time) string {
	if d := newest.Sub(oldest); d < math.MaxInt64 {
		return span(d)
	}
	return fmt.Sprintf("%dd", (newest.Unix()-oldest.Unix())/86400)
}

// span writes a duration in days, hours and minutes: 30d 4h 5m.
func span(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Millisecond).String()
	}
	d = d.Round(time.Minute)
	days, d := d/(24*time.Hour), d%(24*time.Hour)
	h, m := d/time.Hour, (d%time.Hour)/time.Minute
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh %dm", days, h, m)
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	}
	return fmt.Sprintf("%dm", m)
}
