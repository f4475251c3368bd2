#!/usr/bin/env bash
# The one test command. Installs what the tests need when it is missing, builds, runs every test, and ends with a
# plain "N passed, N failed" line. Exit status is non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
install_debian() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# zbarimg decodes the QR codes the server draws, as a phone camera would.
command -v zbarimg >/dev/null 2>&1 || { echo "installing zbar-tools"; install_debian zbar-tools; }
# Chromium for tests/AuthServer.BrowserTests, driven by Playwright (whose own browser download is not used); CHROMIUM_PATH
# names another build.
[ -n "${CHROMIUM_PATH:-}" ] || [ -x /usr/bin/chromium ] || { echo "installing chromium"; install_debian chromium; }
# An independent OAuth client library (openid-client) for the interop test.
command -v node >/dev/null 2>&1 || { echo "installing nodejs"; install_debian nodejs npm; }
if [ ! -d tests/interop/node_modules ] || [ tests/interop/package-lock.json -nt tests/interop/node_modules ]; then
  (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
fi

# The local tools (.config/dotnet-tools.json): dotnet-ef, which adds the EF Core migrations.
dotnet tool restore

# Test servers never need to watch their configuration files, and hundreds of watchers exhaust inotify.
export DOTNET_hostBuilder__reloadConfigOnChange=false

# A throwaway PostgreSQL cluster for the PostgreSQL half of the integration suite: created empty for this run, on a free
# loopback port with a random password, stopped and deleted when this script exits, whatever happened. The tests read
# AUTHSERVER_TEST_POSTGRES and fail without it. Durability is switched off: nothing in it outlives the run.
pg_bin=""
for dir in "$(pg_config --bindir 2>/dev/null || true)" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
  if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then pg_bin="$dir"; break; fi
done
if [ -z "$pg_bin" ]; then
  echo "installing postgresql"; install_debian postgresql
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -rV | head -n1)
fi
# initdb refuses to run as root: as root the cluster belongs to the postgres user, otherwise to whoever runs this.
as_cluster_owner() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
  as_cluster_owner() { runuser -u postgres -- "$@"; }
fi
pg_root=$(mktemp -d)
stop_postgres() {
  as_cluster_owner "$pg_bin/pg_ctl" -D "$pg_root/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg_root"
}
trap stop_postgres EXIT
pg_password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$pg_password" >"$pg_root/password"
[ "$(id -u)" -ne 0 ] || chown -R postgres: "$pg_root"
as_cluster_owner "$pg_bin/initdb" -D "$pg_root/data" -U postgres --auth=scram-sha-256 --pwfile="$pg_root/password" -E UTF8 --no-sync >/dev/null
pg_port=""
for _ in $(seq 50); do
  candidate=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then pg_port=$candidate; break; fi
done
[ -n "$pg_port" ] || { echo "no free loopback port for PostgreSQL"; exit 1; }
as_cluster_owner "$pg_bin/pg_ctl" -D "$pg_root/data" -l "$pg_root/server.log" -w -t 60 -o "-c listen_addresses=127.0.0.1 -p $pg_port \
  -c unix_socket_directories=$pg_root -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null \
  || { cat "$pg_root/server.log"; exit 1; }
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port for this run"
export AUTHSERVER_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Password=$pg_password"
# The fault test stops and starts a cluster of its own (never this shared one) with the same binaries.
export AUTHSERVER_TEST_PG_BIN="$pg_bin"

results=.test-results
rm -rf "$results"
status=0
dotnet test AuthServer.sln --configuration Release --logger "trx" --results-directory "$results" || status=$?

# The benchmark harness in smoke mode (a few seconds): proves it still runs. Its numbers mean nothing here; see
# docs/benchmarks.md for real runs.
command -v wrk >/dev/null 2>&1 || { echo "installing wrk"; install_debian wrk; }
bench_passed=0; bench_failed=0
if dotnet run --configuration Release --project bench/AuthServer.Bench -- --smoke; then bench_passed=1; else bench_failed=1; status=1; fi

passed=0; failed=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n1)
  p=$(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters"); f=$(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")
  passed=$((passed + p)); failed=$((failed + f))
done
passed=$((passed + bench_passed)); failed=$((failed + bench_failed))
if [ "$passed" -le "$bench_passed" ] && [ "$status" -eq 0 ]; then status=1; echo "no test results were found"; fi
echo "$passed passed, $failed failed"
exit "$status"
