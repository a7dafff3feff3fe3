#!/bin/sh
# Builds VictoriaLogs, the peer `idlog bench --peer` measures idlog against,
# from its Go module at the version pinned in tools/victorialogs/go.mod (a tool directive)
# (kept out of idlog's own go.mod). Needs Go and the module proxy.
#
#   scripts/victorialogs-build.sh [OUTPUT]     # default: bench-data/victoria-logs
#   idlog bench --events 300000 --peer victorialogs=bench-data/victoria-logs
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-bench-data/victoria-logs}
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
mkdir -p "$(dirname "$out")"
cd "$root/tools/victorialogs"
go build -o "$out" github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs
echo "$out: $(go version -m "$out" | awk '$2 == "github.com/VictoriaMetrics/VictoriaLogs" {print $2, $3}')"
