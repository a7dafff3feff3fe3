#!/bin/sh
# Installs Okta's Node.js SDK into test/nodesdk/node_modules (not committed)
# for internal/api/nodesdk_test.go. Needs node and npm, and the npm registry.
set -e
cd "$(dirname "$0")"
exec npm ci --no-audit --no-fund --loglevel=error
