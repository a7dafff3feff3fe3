package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/simulate"
)

// result is one in-process run of the CLI.
type result struct {
	stdout, stderr string
	code           int
}

// idlog runs the CLI in-process with its own streams and environment (none
// of the test process's IDLOG_* variables leak in).
func idlog(t *testing.T, vars map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), &env{
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		getenv: func(k string) string { return vars[k] },
	}, args)
	return result{out.String(), errb.String(), code}
}

// tempStore is a fresh DuckDB store URL in t's temporary directory.
func tempStore(t *testing.T) string {
	return "duckdb:" + filepath.Join(t.TempDir(), "events.duckdb")
}

// simEnd is the end of the simulated window; tests query around it.
var simEnd = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

var simCache sync.Map // days → []byte

// simulated returns a deterministic NDJSON log of a small org over days
// days ending at simEnd.
func simulated(t testing.TB, days int) []byte { return simulatedOrg(t, 30, days) }

// simulatedOrg is simulated with users users.
func simulatedOrg(t testing.TB, users, days int) []byte {
	key := [2]int{users, days}
	if b, ok := simCache.Load(key); ok {
		return b.([]byte)
	}
	b, err := simulate.NDJSON(simulate.Config{Users: users, Days: days, End: simEnd, Seed: 7, Attacks: true})
	if err != nil {
		t.Fatal(err)
	}
	simCache.Store(key, b)
	return b
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStoreFlagsResolve(t *testing.T) {
	tests := []struct {
		name                 string
		args                 []string
		env                  map[string]string
		store, server, token string
		wantCode             int
	}{
		{name: "default", store: "duckdb:./idlog-data/events.duckdb"},
		{name: "env store", env: map[string]string{"IDLOG_STORE": "duckdb:/x"}, store: "duckdb:/x"},
		{name: "env server beats env store", env: map[string]string{"IDLOG_STORE": "duckdb:/x", "IDLOG_SERVER": "http://s", "IDLOG_TOKEN": "tk"}, server: "http://s", token: "tk"},
		{name: "flag store beats env server", args: []string{"--store", "duckdb:/y"}, env: map[string]string{"IDLOG_SERVER": "http://s"}, store: "duckdb:/y"},
		{name: "flag server, env token", args: []string{"--server", "http://f"}, env: map[string]string{"IDLOG_TOKEN": "tk"}, server: "http://f", token: "tk"},
		{name: "flag token wins", args: []string{"--server", "http://f", "--token", "a"}, env: map[string]string{"IDLOG_TOKEN": "tk"}, server: "http://f", token: "a"},
		{name: "both flags", args: []string{"--server", "http://f", "--store", "duckdb:/y"}, wantCode: 2},
		{name: "server without token", args: []string{"--server", "http://f"}, wantCode: 2},
		{name: "env server without token", env: map[string]string{"IDLOG_SERVER": "http://s"}, wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flagSet()
			sf := addStoreFlags(fs, true)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			e := &env{getenv: func(k string) string { return tt.env[k] }}
			err := sf.resolve(e)
			if tt.wantCode != 0 {
				if ee, ok := err.(*exitError); !ok || ee.code != tt.wantCode {
					t.Fatalf("err = %v, want exit %d", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sf.store != tt.store || sf.server != tt.server || sf.token != tt.token {
				t.Errorf("store %q server %q token %q; want %q %q %q", sf.store, sf.server, sf.token, tt.store, tt.server, tt.token)
			}
		})
	}
}

func TestParseFlagsInterspersed(t *testing.T) {
	fs := flagSet()
	q := fs.Bool("quiet", false, "")
	s := fs.String("store", "", "")
	rest, help, err := parseFlags(fs, &env{}, []string{"a", "--quiet", "b", "--store", "x", "--", "--c", "-"}, true)
	if err != nil || help {
		t.Fatal(err, help)
	}
	if strings.Join(rest, " ") != "a b --c -" || !*q || *s != "x" {
		t.Errorf("rest %q quiet %v store %q", rest, *q, *s)
	}
}

func flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}
