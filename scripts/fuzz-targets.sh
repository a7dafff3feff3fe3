#!/usr/bin/env bash
# Lists the fuzz targets as ./pkg/path:FuzzName, found from the source so a new
# target is fuzzed by `make test` without editing the Makefile.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -rlE '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' --include='*_test.go' internal cmd 2>/dev/null | sort | while read -r f; do
  dir=./$(dirname "$f")
  grep -oE '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //' | while read -r name; do
    echo "$dir:$name"
  done
done
