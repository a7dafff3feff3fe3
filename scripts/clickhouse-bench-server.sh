#!/usr/bin/env bash
# Runs a throwaway clickhouse-server for `idlog bench` (or any experiment):
# its own temporary directory, a generated configuration (the same settings
# as the test servers of internal/chtest: zstd, max_threads 2), listening on
# 127.0.0.1 only, no password. It runs in the foreground until interrupted
# (Ctrl-C, or kill of this script's pid), then stops the server and deletes
# the directory with all its data. No system service is used or touched.
#
#   scripts/clickhouse-bench-server.sh [PORT]      # default port 19000
#
# then, in another shell:
#
#   idlog bench --store duckdb:bench-data/idlog.duckdb \
#               --store clickhouse://127.0.0.1:19000/idlog_bench
#
# Environment: IDLOG_CLICKHOUSE_SERVER overrides the binary (default: PATH,
# then /usr/sbin/clickhouse-server, Debian's package); CLICKHOUSE_BENCH_DIR
# keeps the data in that directory instead of a temporary one (not deleted);
# MALLOC_CONF, when set, is passed to the server's jemalloc (see below).
set -euo pipefail

port="${1:-19000}"
case "$port" in
  ''|*[!0-9]*) echo "usage: $0 [PORT]" >&2; exit 2 ;;
esac

bin="${IDLOG_CLICKHOUSE_SERVER:-}"
if [ -z "$bin" ]; then
  bin="$(command -v clickhouse-server || true)"
  for p in /usr/sbin/clickhouse-server /usr/bin/clickhouse-server /usr/local/bin/clickhouse-server; do
    [ -n "$bin" ] && break
    [ -x "$p" ] && bin="$p"
  done
fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  echo "clickhouse-server not found: apt-get install -y clickhouse-server, or set IDLOG_CLICKHOUSE_SERVER" >&2
  exit 1
fi

keep=0
if [ -n "${CLICKHOUSE_BENCH_DIR:-}" ]; then
  dir="$CLICKHOUSE_BENCH_DIR"
  mkdir -p "$dir"
  keep=1
else
  dir="$(mktemp -d "${TMPDIR:-/tmp}/idlog-ch-bench.XXXXXX")"
fi
dir="$(cd "$dir" && pwd)"

cat >"$dir/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>$dir/server.log</log>
    <errorlog>$dir/server.err.log</errorlog>
    <size>10M</size>
    <count>1</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>$port</tcp_port>
  <path>$dir/data/</path>
  <tmp_path>$dir/data/tmp/</tmp_path>
  <user_files_path>$dir/data/user_files/</user_files_path>
  <format_schema_path>$dir/data/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <mark_cache_size>134217728</mark_cache_size>
  <uncompressed_cache_size>134217728</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <compression>
    <case><method>zstd</method></case>
  </compression>
</yandex>
EOF

cat >"$dir/users.xml" <<'EOF'
<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>2000000000</max_memory_usage>
      <background_pool_size>4</background_pool_size>
      <max_threads>2</max_threads>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries><errors>0</errors><result_rows>0</result_rows>
        <read_rows>0</read_rows><execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
EOF

# Debian's server allocates with jemalloc, which by default hands freed
# pages back to the kernel after a few seconds; every insert block then
# faults them in again. Keeping freed pages for good
# (MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1) halved that kernel time
# on 100k-event imports, but on a 10M-event import the server's memory grew
# to 23.6 GB, all of this 24 GB machine, by 9M events and the import
# stalled. So jemalloc keeps its defaults unless MALLOC_CONF is set.
if [ -n "${MALLOC_CONF:-}" ]; then export MALLOC_CONF; fi
"$bin" --config-file="$dir/config.xml" >"$dir/stdout.log" 2>&1 &
pid=$!
cleanup() {
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ "$keep" = 0 ]; then rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ready when the native port accepts a connection.
for _ in $(seq 600); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "clickhouse-server exited during start-up:" >&2
    tail -n 20 "$dir/stdout.log" "$dir/server.err.log" >&2 2>/dev/null || true
    exit 1
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    break
  fi
  sleep 0.1
done
echo "clickhouse-server pid $pid ready on 127.0.0.1:$port (data in $dir); store URL:" >&2
echo "clickhouse://127.0.0.1:$port/idlog_bench"
wait "$pid"
