#!/usr/bin/env bash
# The one test command. Installs what the tests need when it is missing, builds, runs every test, and ends with a
# plain "N passed, N failed" line. Exit status is non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")"

source tools/machine.sh   # as_root, install_debian, start_throwaway_postgres

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

# A throwaway PostgreSQL cluster for the PostgreSQL half of the integration suite, stopped and deleted when this script
# exits, whatever happened. The tests read AUTHSERVER_TEST_POSTGRES and fail without it.
start_throwaway_postgres
export AUTHSERVER_TEST_POSTGRES="$pg_connection"
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
# And on PostgreSQL with two nodes sharing the run's cluster, as bench/postgres.sh measures it.
if dotnet run --no-build --configuration Release --project bench/AuthServer.Bench -- --smoke --postgres "$pg_connection" --nodes 2; then
  bench_passed=$((bench_passed + 1)); else bench_failed=$((bench_failed + 1)); status=1; fi
# And OpenIddict's floor (bench/floor.sh), one round of one-second slices: the script and its server still work.
if bench/floor.sh 1 1; then bench_passed=$((bench_passed + 1)); else bench_failed=$((bench_failed + 1)); status=1; fi

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
