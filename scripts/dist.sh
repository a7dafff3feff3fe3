#!/usr/bin/env bash
# Builds idlog's release files into $OUT (default dist/): for each of
# $ARCHES (default "amd64 arm64") a tar.gz of the binary with its docs and
# service files, and a .deb; then SHA256SUMS over them. DuckDB needs cgo,
# so arm64 is cross-compiled with Debian's aarch64-linux-gnu-gcc/g++
# (apt-get install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu); without
# them arm64 is skipped with a message, or fails when STRICT=1.
#
#   make dist                          # both architectures
#   ARCHES=amd64 OUT=/tmp/d scripts/dist.sh
#   VERSION=v1.2.0 make dist           # the release name (default: git describe)
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
COMMIT=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
OUT=${OUT:-dist}
ARCHES=${ARCHES:-amd64 arm64}
STRICT=${STRICT:-0}

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
host=$($GO env GOHOSTARCH)
built=()
for arch in $ARCHES; do
  case $arch in
    amd64) triple=x86_64-linux-gnu ;;
    arm64) triple=aarch64-linux-gnu ;;
    *) echo "dist: unknown architecture $arch (amd64 or arm64)" >&2; exit 2 ;;
  esac
  cc=gcc cxx=g++
  if [ "$arch" != "$host" ]; then
    cc=$triple-gcc cxx=$triple-g++
    if ! command -v "$cc" >/dev/null || ! command -v "$cxx" >/dev/null; then
      msg="dist: skipping linux/$arch: no $cc/$cxx (Debian: apt-get install gcc-$triple g++-$triple)"
      if [ "$STRICT" = 1 ]; then echo "$msg" >&2; exit 1; fi
      echo "$msg" >&2
      continue
    fi
  fi
  name=idlog-$VERSION-linux-$arch
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage/$name"
  echo "dist: building $name with $cc" >&2
  CGO_ENABLED=1 GOOS=linux GOARCH=$arch CC=$cc CXX=$cxx \
    $GO build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.release=$VERSION -X main.commit=$COMMIT" \
      -o "$stage/$name/idlog" ./cmd/idlog
  mkdir -p "$stage/$name/docs" "$stage/$name/packaging"
  cp README.md "$stage/$name/"
  cp docs/*.md "$stage/$name/docs/"
  cp packaging/idlog.service packaging/idlog.env "$stage/$name/packaging/"
  tar -C "$stage" --owner=0 --group=0 --numeric-owner -czf "$OUT/$name.tar.gz" "$name"
  scripts/build-deb.sh "$stage/$name/idlog" "$arch" "$VERSION" "$OUT"
  rm -rf "$stage"
  trap - EXIT
  built+=("$arch")
done
if [ ${#built[@]} -eq 0 ]; then
  echo "dist: nothing was built" >&2
  exit 1
fi
(cd "$OUT" && rm -f SHA256SUMS && sha256sum -- *.tar.gz *.deb > SHA256SUMS)
echo "dist: built ${built[*]} into $OUT:" >&2
(cd "$OUT" && ls -l -- *.tar.gz *.deb SHA256SUMS) >&2
