package main

import (
	"strings"
	"testing"
	"time"
)

func TestFlagMistakesAreOneLine(t *testing.T) {
	for _, args := range [][]string{
		{"query", "--bogus"},
		{"simulate", "--users", "many"},
		{"eventtypes", "--nope"},
		{"bench", "--events", "x"},
	} {
		r := idlog(t, nil, "", args...)
		if r.code != 2 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "idlog "+args[0]+" -h") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and one line pointing at -h", args, r.code, r.stderr)
		}
	}
	// -h still teaches.
	if r := idlog(t, nil, "", "query", "-h"); r.code != 0 || !strings.Contains(r.stderr, "Examples:") {
		t.Errorf("query -h: exit %d, %q", r.code, r.stderr)
	}
}

func TestHelpOfUnknownCommand(t *testing.T) {
	if r := idlog(t, nil, "", "help", "bogus"); r.code != 2 || !strings.Contains(r.stderr, `unknown command "bogus"`) {
		t.Errorf("help bogus: exit %d, %q", r.code, r.stderr)
	}
	if r := idlog(t, nil, "", "help"); r.code != 0 || !strings.Contains(r.stdout, "serve") {
		t.Errorf("help: exit %d, %q", r.code, r.stdout)
	}
}

func TestDaysDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "2160h": 2160 * time.Hour, "0": 0, "1.5d": 36 * time.Hour} {
		var d daysDuration
		if err := d.Set(in); err != nil || time.Duration(d) != want {
			t.Errorf("Set(%q) = %v, %v; want %v", in, time.Duration(d), err, want)
		}
	}
	for _, in := range []string{"", "d", "-1d", "ninety days", "-5h"} {
		var d daysDuration
		if err := d.Set(in); err == nil {
			t.Errorf("Set(%q) accepted %v", in, time.Duration(d))
		}
	}
}

func TestServeChecksTLSFilesFirst(t *testing.T) {
	r := idlog(t, nil, "", "serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--tls-cert", "nope.pem", "--tls-key", "nope.key")
	if r.code != 2 || !strings.Contains(r.stderr, "nope.pem") || strings.Contains(r.stderr, "serving") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming the file, before serving", r.code, r.stderr)
	}
}

func TestSpanBetweenFarApart(t *testing.T) {
	a := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := spanBetween(a, a.Add(49*time.Hour)); got != "2d 1h 0m" {
		t.Errorf("49h: %q", got)
	}
	if got, want := spanBetween(a, time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)), "355381d"; got != want {
		t.Errorf("to 2999: %q, want %q", got, want)
	}
}
