#!/usr/bin/env bash
# build-deb.sh BINARY ARCH VERSION OUTDIR: packs the idlog binary with its
# systemd unit, environment file and docs into OUTDIR/idlog_DEBVERSION_ARCH.deb.
# DEBVERSION is VERSION without a leading "v"; a version that is not a
# release number (a git hash) becomes 0~gitHASH, which sorts before any release.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$1 arch=$2 version=$3 out=$4

debver=${version#v}
if ! [[ $debver =~ ^[0-9]+\.[0-9]+ ]]; then
  debver="0~git$(printf '%s' "$debver" | tr -c 'A-Za-z0-9.+~' '.')"
fi
debver=$(printf '%s' "$debver" | tr '_-' '..')

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
install -D -m 0755 "$bin" "$root/usr/bin/idlog"
install -D -m 0644 packaging/idlog.service "$root/lib/systemd/system/idlog.service"
install -D -m 0640 packaging/idlog.env "$root/etc/idlog/idlog.env"
install -d -m 0755 "$root/usr/share/doc/idlog"
install -m 0644 README.md "$root/usr/share/doc/idlog/README.md"
for f in docs/reliability.md docs/api.md docs/collector.md; do
  [ -f "$f" ] && install -m 0644 "$f" "$root/usr/share/doc/idlog/"
done
install -d -m 0755 "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$debver/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" packaging/debian/control > "$root/DEBIAN/control"
install -m 0644 packaging/debian/conffiles "$root/DEBIAN/conffiles"
for s in postinst prerm postrm; do
  install -m 0755 "packaging/debian/$s" "$root/DEBIAN/$s"
done
mkdir -p "$out"
dpkg-deb --root-owner-group -Zgzip --build "$root" "$out/idlog_${debver}_${arch}.deb" >&2
