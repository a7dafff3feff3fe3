// Package storeurl opens a store from a URL such as duckdb:./idlog-data/events.duckdb
// or clickhouse://127.0.0.1:9000/idlog. It is the only package that names the
// backends; each registers itself from its own file here.
package storeurl

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/idlog/idlog/internal/store"
)

// Default is the store used when none is given: the embedded one.
const Default = "duckdb:./idlog-data/events.duckdb"

type opener func(ctx context.Context, url string) (store.Store, error)

var (
	schemes = map[string]opener{}
	// existers answer Exists for schemes that can tell cheaply; the others
	// (servers) are assumed to exist and report problems when opened.
	existers = map[string]func(url string) (bool, error){}
)

func register(scheme string, o opener) { schemes[scheme] = o }

// Exists reports whether the store url names is already there, without
// creating it.
func Exists(ctx context.Context, url string) (bool, error) {
	scheme, _, _ := strings.Cut(url, ":")
	if schemes[scheme] == nil {
		_, err := Open(ctx, url) // the same error as Open's
		return false, err
	}
	if ex := existers[scheme]; ex != nil {
		return ex(url)
	}
	return true, nil
}

// Open opens the store that url names.
func Open(ctx context.Context, url string) (store.Store, error) {
	scheme, _, ok := strings.Cut(url, ":")
	if !ok || schemes[scheme] == nil {
		return nil, fmt.Errorf("unknown store %q: use one of %s", url, strings.Join(Schemes(), ", "))
	}
	return schemes[scheme](ctx, url)
}

// Schemes lists the known URL forms, for help texts.
func Schemes() []string {
	var out []string
	for s := range schemes {
		out = append(out, s+":…")
	}
	sort.Strings(out)
	return out
}

// NoRepair returns url with the setting that keeps the store from
// rebuilding damaged structures by itself, for stores that have one
// ('idlog check' reports damage as it found it); other URLs come back
// unchanged.
func NoRepair(url string) string {
	if !strings.HasPrefix(url, "duckdb:") {
		return url
	}
	if strings.Contains(url, "?") {
		return url + "&repair=false"
	}
	return url + "?repair=false"
}
