#!/usr/bin/env bash
# Installs what the test suite needs and a fresh Debian/Ubuntu machine lacks:
# clickhouse-server (ClickHouse backend tests start their own servers from it),
# chromium (browser tests), systemd (systemd-analyze, for the .deb test), and
# the npm packages of the Node.js SDK test.
# Each step is skipped when its tool is already there, so this is cheap to rerun.
set -euo pipefail

need=()
command -v clickhouse-server >/dev/null 2>&1 || need+=(clickhouse-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# packaging/deb_test.go checks the systemd unit with systemd-analyze verify.
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO=sudo; else SUDO=; fi
  echo "test-deps: installing ${need[*]} with apt-get" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Debian's package starts a system clickhouse-server on the default ports when
# it can; the tests use their own servers on free ports, so it is not needed.

if [ -f test/nodesdk/package.json ] && command -v npm >/dev/null 2>&1; then
  if [ ! -d test/nodesdk/node_modules/@okta ]; then
    echo "test-deps: npm install in test/nodesdk" >&2
    (cd test/nodesdk && npm install --no-audit --no-fund --silent)
  fi
fi

if ! command -v staticcheck >/dev/null 2>&1 && [ ! -x "$(go env GOPATH)/bin/staticcheck" ]; then
  echo "test-deps: installing staticcheck" >&2
  go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
