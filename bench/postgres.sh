#!/usr/bin/env bash
# The benchmarks on PostgreSQL (docs/benchmarks.md, "On PostgreSQL"): a throwaway local PostgreSQL cluster, then the
# harness's poll, flows and refresh phases on one AuthServer node and on two nodes sharing it. Extra arguments go to
# each harness run (e.g. --runs 3, --seconds 15). The cluster is deleted when this script exits.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/machine.sh
command -v wrk >/dev/null 2>&1 || { echo "installing wrk"; install_debian wrk; }
start_throwaway_postgres
dotnet build AuthServer.sln --configuration Release -v quiet -nologo
for nodes in 1 2; do
  dotnet run --no-build --configuration Release --project bench/AuthServer.Bench -- --postgres "$pg_connection" --nodes "$nodes" \
    --postgres-pid "$(head -n1 "$pg_root/data/postmaster.pid")" "$@"
done
