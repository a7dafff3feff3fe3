package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/idlog/idlog/internal/storeurl"
)

func init() {
	register(&command{name: "version", summary: "print the release, commit, Go and DuckDB versions and the store format", run: runVersion})
	storeurl.SetRelease(releaseName())
}

// release and commit are set by the release build (make dist):
//
//	go build -ldflags "-X main.release=v1.2.0 -X main.commit=abc123"
//
// A plain 'go build' in a git checkout leaves them empty, and the commit
// comes from the build information Go records (vcs.revision).
var release, commit string

// buildInfo is what 'idlog version' prints.
type buildInfo struct {
	Release   string `json:"release"`
	Commit    string `json:"commit"`
	Modified  bool   `json:"modified,omitempty"`
	BuildTime string `json:"buildTime,omitempty"`
	Go        string `json:"go"`
	Platform  string `json:"platform"`
	DuckDB    string `json:"duckdb"`
	Formats   []struct {
		Store  string `json:"store"`
		Format int    `json:"format"`
	} `json:"storeFormats"`
}

// releaseName is the release, or "dev" for a build without one.
func releaseName() string {
	if release != "" {
		return release
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func readBuildInfo() (buildInfo, error) {
	b := buildInfo{Release: releaseName(), Commit: commit, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.modified":
				b.Modified = s.Value == "true"
			case "vcs.time":
				b.BuildTime = s.Value
			}
		}
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	backends, err := storeurl.Backends(b.Release)
	if err != nil {
		return b, err
	}
	for _, be := range backends {
		if be.Scheme == "duckdb" {
			b.DuckDB = be.Engine
		}
		if be.Format > 0 {
			b.Formats = append(b.Formats, struct {
				Store  string `json:"store"`
				Format int    `json:"format"`
			}{be.Scheme, be.Format})
		}
	}
	return b, nil
}

func runVersion(_ context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	asJSON := fs.Bool("json", false, "print the versions as one JSON object")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: idlog version [--json]

Prints the release, the commit it was built from, the Go and DuckDB
versions, and the store format this release writes. A store written in a
newer format than the one printed here is refused, not misread; an older
one is migrated when it is opened (back it up first: 'idlog backup').

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	b, err := readBuildInfo()
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(b)
	}
	mod := ""
	if b.Modified {
		mod = " (with uncommitted changes)"
	}
	fmt.Fprintf(e.stdout, "idlog %s\ncommit:       %s%s\n", b.Release, b.Commit, mod)
	if b.BuildTime != "" {
		fmt.Fprintf(e.stdout, "commit time:  %s\n", b.BuildTime)
	}
	fmt.Fprintf(e.stdout, "go:           %s %s\nduckdb:       %s\n", b.Go, b.Platform, b.DuckDB)
	for _, f := range b.Formats {
		fmt.Fprintf(e.stdout, "store format: %s %d\n", f.Store, f.Format)
	}
	return nil
}
