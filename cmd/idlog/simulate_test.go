package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// simRun runs idlog in-process and returns stdout, stderr and the exit code.
func simRun(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := run(context.Background(), e, args)
	return out.String(), errb.String(), code
}

func TestSimulateCommand(t *testing.T) {
	dir := t.TempDir()
	truth := filepath.Join(dir, "truth.ndjson")
	args := []string{"simulate", "--users", "25", "--apps", "8", "--days", "2", "--end", "2026-11-05T00:00:00Z", "--seed", "4", "--attacks"}
	out, stderr, code := simRun(append(args, "--truth", truth)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) < 200 {
		t.Fatalf("%d events", len(lines))
	}
	uuids := map[string]bool{}
	for _, l := range lines {
		var e struct{ UUID, Published string }
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.UUID == "" {
			t.Fatalf("not a LogEvent line: %q (%v)", l, err)
		}
		if e.Published < "2026-11-03T00:00:00Z" || e.Published >= "2026-11-05T00:00:00Z" {
			t.Fatalf("published %s outside the window", e.Published)
		}
		uuids[e.UUID] = true
	}
	tb, err := os.ReadFile(truth)
	if err != nil {
		t.Fatal(err)
	}
	described := 0
	for _, l := range strings.Split(strings.TrimSpace(string(tb)), "\n") {
		var r struct {
			Kind  string
			UUIDs []string
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("truth line %q: %v", l, err)
		}
		for _, u := range r.UUIDs {
			if !uuids[u] {
				t.Fatalf("truth names %s, not in the output", u)
			}
		}
		if r.Kind != "" {
			described += len(r.UUIDs)
		}
	}
	if described != len(lines) {
		t.Errorf("truth flows describe %d events, output has %d", described, len(lines))
	}

	// --out writes the same bytes as stdout.
	file := filepath.Join(dir, "events.ndjson")
	if _, stderr, code := simRun(append(args, "--out", file)...); code != 0 {
		t.Fatalf("--out: exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(file); string(b) != out {
		t.Errorf("--out file differs from stdout of the same run (%d vs %d bytes)", len(b), len(out))
	}
}

func TestSimulateErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"simulate", "--end", "yesterday"}, 2, "not an RFC 3339 time"},
		{[]string{"simulate", "--users", "0"}, 2, "at least 1"},
		{[]string{"simulate", "extra"}, 2, "unexpected argument"},
		{[]string{"simulate", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"simulate", "--days", "1", "--users", "2", "--out", "/nonexistent-dir/x"}, 1, "no such file"},
	} {
		_, stderr, code := simRun(c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.msg)
		}
	}
	out, _, code := simRun("simulate", "-h")
	if code != 0 || out != "" {
		t.Errorf("-h: exit %d, stdout %q", code, out)
	}
	if _, stderr, _ := simRun("simulate", "-h"); !strings.Contains(stderr, "--truth") && !strings.Contains(stderr, "-truth") {
		t.Errorf("usage does not mention --truth: %s", stderr)
	}
}
