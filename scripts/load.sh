#!/usr/bin/env bash
# Load test with wrk (Debian's package) on loopback against a release `duijie serve` on the
# demo data: search, matching and listing pages, 64 connections each for a bounded time.
# Prints requests/s, latency percentiles and the server's resident memory before and after
# each run; fails on any socket error or non-2xx answer, or if memory grew by more than a
# quarter over the whole run.
#
#   scripts/load.sh                     # 20 s per target, 64 connections
#   LOAD_SECONDS=60 LOAD_CONNECTIONS=128 scripts/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${LOAD_SECONDS:-20}"
connections="${LOAD_CONNECTIONS:-64}"
threads="${LOAD_THREADS:-2}"

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

bin="${DUIJIE_BIN:-}"
if [ -z "$bin" ]; then
  cargo build -q --release --bin duijie
  bin="target/release/duijie"
fi

SERVE_ENV="DUIJIE__LOG__LEVEL=warn"
# shellcheck source=scripts/serve-temp.sh
. scripts/serve-temp.sh

rss() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status"; }

# a need of the demo data to match from
need="$(curl -fsS "$base/api/v1/needs?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')"
# warm up: the semantic model and caches
for _ in 1 2 3; do curl -fsS -o /dev/null "$base/api/v1/needs/$need/matches?kind=results"; done

# an API token, for the same search sent as a script would send it
"$bin" --data-dir "$data/d" admin create-user --email load@example.cn --role enterprise --org 负载测试有限公司 >/dev/null 2>&1
token="$("$bin" --data-dir "$data/d" admin create-token --email load@example.cn 2>/dev/null)"
[ -n "$token" ] || { echo "could not create an API token" >&2; exit 1; }

targets=(
  "search|/api/v1/search?q=%E6%B0%A2%E8%83%BD%20%E5%82%A8%E8%83%BD&limit=10"
  "search, token|/api/v1/search?q=%E6%B0%A2%E8%83%BD%20%E5%82%A8%E8%83%BD&limit=10|token"
  "match|/api/v1/needs/$need/matches?kind=results&limit=20"
  "listing API|/api/v1/results?limit=20"
  "listing page|/results"
  "search page|/search?q=%E5%88%B6%E6%B0%A2"
)

start_rss="$(rss)"
echo "duijie $("$bin" --version 2>/dev/null || true) at $base; $(nproc) cores; $connections connections, ${seconds}s per target"
printf '%-14s %10s %9s %9s %9s %10s %10s\n' target "req/s" "p50 ms" "p99 ms" errors "RSS before" "RSS after"
failed=0
for t in "${targets[@]}"; do
  IFS='|' read -r name path auth <<<"$t"
  header=()
  [ "${auth:-}" = token ] && header=(-H "Authorization: Bearer $token")
  before="$(rss)"
  out="$(wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency "${header[@]}" "$base$path")"
  after="$(rss)"
  rps="$(awk '/^Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  non2xx="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
  sockerr="$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$out")"
  errors=$(( ${non2xx:-0} + ${sockerr:-0} ))
  to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v } else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v * 1000 } else print v }'; }
  printf '%-14s %10s %9s %9s %9s %9sM %9sM\n' "$name" "$rps" "$(to_ms "$p50")" "$(to_ms "$p99")" "$errors" "$before" "$after"
  [ "$errors" -eq 0 ] || failed=1
done
end_rss="$(rss)"
echo "resident memory: ${start_rss} MiB at the start, ${end_rss} MiB at the end"
if awk -v a="$start_rss" -v b="$end_rss" 'BEGIN { exit !(b > a * 1.25 + 16) }'; then
  echo "memory grew from ${start_rss} to ${end_rss} MiB" >&2
  failed=1
fi
if grep -q "panicked" "$log"; then grep -n -A5 panicked "$log" >&2; failed=1; fi
exit "$failed"
