package main

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/idlog/idlog/internal/storeurl"
)

func TestVersion(t *testing.T) {
	r := idlog(t, nil, "", "version", "--json")
	if r.code != 0 {
		t.Fatalf("version: %d %s", r.code, r.stderr)
	}
	var b buildInfo
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil {
		t.Fatalf("version --json: %v\n%s", err, r.stdout)
	}
	backends, err := storeurl.Backends("test")
	if err != nil {
		t.Fatal(err)
	}
	if b.Go != runtime.Version() || b.Release == "" || b.Commit == "" || !strings.HasPrefix(b.DuckDB, "DuckDB v") {
		t.Errorf("version = %+v", b)
	}
	if len(b.Formats) != 1 || b.Formats[0].Store != "duckdb" || b.Formats[0].Format != backends[0].Format || b.Formats[0].Format < 2 {
		t.Errorf("store formats = %+v", b.Formats)
	}
	r = idlog(t, nil, "", "version")
	for _, want := range []string{"idlog ", "commit:", "go:", "duckdb:       DuckDB v", "store format: duckdb "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("version output lacks %q:\n%s", want, r.stdout)
		}
	}
}
