package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idlog/idlog/internal/filter"
)

// runInProcess runs idlog with args and returns stdout, stderr and the exit code.
func runInProcess(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := run(context.Background(), e, args)
	return out.String(), errb.String(), code
}

func TestFilterParseNormalForm(t *testing.T) {
	cases := []struct{ in, want string }{
		{`eventType EQ "user.session.start"`, `eventType eq "user.session.start"`},
		{"(actor.id eq \"a\")\n  and\t(eventType eq \"x\" or eventType eq \"y\")", `actor.id eq "a" and (eventType eq "x" or eventType eq "y")`},
		{`not (outcome.result eq "SUCCESS")`, `not (outcome.result eq "SUCCESS")`},
		{`securityContext.isProxy eq true`, `securityContext.isProxy eq true`},
	}
	for _, c := range cases {
		out, errOut, code := runInProcess(t, "", "filter", "parse", c.in)
		if code != 0 || out != c.want+"\n" {
			t.Errorf("filter parse %q: code %d, out %q, stderr %q; want %q", c.in, code, out, errOut, c.want)
		}
		// The printed form must itself parse to the same normal form.
		e, err := filter.Parse(strings.TrimSpace(out))
		if err != nil || e.String() != c.want {
			t.Errorf("normal form %q does not reparse to itself: %v", out, err)
		}
	}
}

func TestFilterParseStdinSeedQueries(t *testing.T) {
	files, _ := filepath.Glob("../../internal/filter/testdata/seed/*.txt")
	if len(files) < 10 {
		t.Fatalf("found %d seed queries", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out, errOut, code := runInProcess(t, string(b), "filter", "parse", "-")
		if code != 0 {
			t.Errorf("%s: exit %d: %s", f, code, errOut)
			continue
		}
		want, _ := filter.Parse(string(b))
		if strings.TrimSuffix(out, "\n") != want.String() {
			t.Errorf("%s: printed %q, want %q", f, out, want.String())
		}
	}
}

func TestFilterParseErrors(t *testing.T) {
	cases := []struct {
		in       string
		location string // "line L, column C"
		caret    string // the caret line
		srcLine  string // the source line printed above it
	}{
		{`actor.id eqq "x"`, "line 1, column 10", "         ^^^", `actor.id eqq "x"`},
		{"(eventType eq \"a\") or\n(actor.id eq \"b\" and\n)", "line 3, column 1", "^", ")"},
		{"eventType eq \"unterminated", "line 1, column 14", "             ^", `eventType eq "unterminated`},
		{"eventType eq \"é\" and é", "line 1, column 22", "                     ^", "eventType eq \"é\" and é"},
	}
	for _, c := range cases {
		out, errOut, code := runInProcess(t, "", "filter", "parse", c.in)
		if code != 2 || out != "" {
			t.Errorf("%q: code %d, stdout %q; want 2 and nothing on stdout", c.in, code, out)
			continue
		}
		if !strings.Contains(errOut, c.location) {
			t.Errorf("%q: stderr %q does not name %s", c.in, errOut, c.location)
		}
		lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
		if len(lines) < 3 || lines[len(lines)-2] != c.srcLine || !strings.HasPrefix(lines[len(lines)-1], c.caret) {
			t.Errorf("%q: stderr\n%s\nwant the line %q with the caret %q under it", c.in, errOut, c.srcLine, c.caret)
		}
	}
}

func TestFilterUsage(t *testing.T) {
	for _, args := range [][]string{{"filter"}, {"filter", "parse"}, {"filter", "parse", "a", "b"}, {"filter", "frob", "x"}} {
		if _, errOut, code := runInProcess(t, "", args...); code != 2 || errOut == "" {
			t.Errorf("%v: code %d, stderr %q; want 2 with a message", args, code, errOut)
		}
	}
	if _, errOut, code := runInProcess(t, "", "filter", "-h"); code != 0 || !strings.Contains(errOut, "idlog filter parse") {
		t.Errorf("filter -h: code %d, %q", code, errOut)
	}
}
