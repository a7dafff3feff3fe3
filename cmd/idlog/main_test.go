package main

import (
	"strings"
	"testing"
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
