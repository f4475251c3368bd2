#!/usr/bin/env bash
# OpenIddict's floor (docs/benchmarks.md, "OpenIddict's floor"): refresh grants on bench/OpenIddictFloor, OpenIddict
# 7.8.0 with no storage and nothing of ours, against the separate trivial app, in turns on loopback with wrk. Prints,
# for each round, requests per second and server CPU time per request of both. Bounded: rounds × 2 × seconds.
# Usage: bench/floor.sh [rounds (3)] [seconds per slice (10)]
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/machine.sh
command -v wrk >/dev/null 2>&1 || { echo "installing wrk"; install_debian wrk; }
rounds=${1:-3}; seconds=${2:-10}
dotnet build bench/OpenIddictFloor --configuration Release -v quiet -nologo
dotnet build bench/Trivial --configuration Release -v quiet -nologo
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

start() { # name dll port: started once it answers /health (the trivial app answers any path)
  ASPNETCORE_URLS="http://127.0.0.1:$3" dotnet "$2" >"$work/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$3/health" && return; sleep 0.2; done
  echo "$1 did not start" >&2; exit 1
}
trivial_port=$(free_loopback_port); floor_port=$(free_loopback_port)
start trivial bench/Trivial/bin/Release/net10.0/Trivial.dll "$trivial_port"
start floor bench/OpenIddictFloor/bin/Release/net10.0/OpenIddictFloor.dll "$floor_port"
trivial_pid=${pids[0]}; floor_pid=${pids[1]}

refresh=$(curl -sf -d "grant_type=password&username=floor&password=floor&client_id=floor-tv&scope=offline_access profile" \
  http://127.0.0.1:$floor_port/connect/token | tr -d ' \n' | sed -E 's/.*"refresh_token":"([^"]+)".*/\1/')
cat >"$work/refresh.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=refresh_token&client_id=floor-tv&refresh_token=$refresh"
LUA
# A refresh that fails would measure an error path: check one first.
curl -sf -d "grant_type=refresh_token&client_id=floor-tv&refresh_token=$refresh" http://127.0.0.1:$floor_port/connect/token | grep -q access_token

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
slice() { # pid url [lua] -> "requests cpu_ticks"
  local before after out
  before=$(cpu "$1")
  out=$(wrk -t2 -c32 -d"${seconds}s" ${3:+-s "$3"} "$2")
  after=$(cpu "$1")
  if echo "$out" | grep -q "Non-2xx"; then echo "$out" >&2; echo "errors in a slice" >&2; exit 1; fi
  echo "$(echo "$out" | awk '/requests in/{print $1}') $((after - before))"
}
# Warm-up, unrecorded.
slice "$floor_pid" "http://127.0.0.1:$floor_port/connect/token" "$work/refresh.lua" >/dev/null
slice "$trivial_pid" "http://127.0.0.1:$trivial_port/" >/dev/null
echo "| round | trivial req/s | trivial CPU/request | floor refresh grants/s | floor CPU/grant | floor ÷ trivial, rate |"
echo "|---:|---:|---:|---:|---:|---:|"
for round in $(seq 1 "$rounds"); do
  trivial=$(slice "$trivial_pid" "http://127.0.0.1:$trivial_port/")
  floor=$(slice "$floor_pid" "http://127.0.0.1:$floor_port/connect/token" "$work/refresh.lua")
  read -r treq tcpu <<<"$trivial"; read -r freq fcpu <<<"$floor"
  awk -v r="$round" -v tr="$treq" -v tc="$tcpu" -v fr="$freq" -v fc="$fcpu" -v s="$seconds" -v k="$ticks" 'BEGIN {
    printf "| %d | %.0f | %.3f ms | %.0f | %.3f ms | %.4f |\n", r, tr / s, tc * 1000 / k / tr, fr / s, fc * 1000 / k / fr, fr / tr }'
done
