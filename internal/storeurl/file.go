package storeurl

import "strings"

// File returns the file of a store URL that keeps its store in one local
// file (duckdb:PATH), and false for any other (a server, memory).
func File(url string) (string, bool) {
	if !strings.HasPrefix(url, "duckdb:") {
		return "", false
	}
	path, _, err := duckdbURL(url)
	if err != nil || path == "" || path == ":memory:" {
		return "", false
	}
	return path, true
}
