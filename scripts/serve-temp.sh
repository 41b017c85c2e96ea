# Sourced by the scripts in this directory: starts `$bin serve` (demo data) on a free
# loopback port in a temporary data directory that is removed on exit.
# Sets: data (the temporary directory), log (the server's output), pid, base (http://...).
# Extra environment for the server can be given in SERVE_ENV (e.g. "DUIJIE__LOG__LEVEL=warn").

data="$(mktemp -d)"
log="$data/server.log"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$data"
}
trap cleanup EXIT

# shellcheck disable=SC2086
env ${SERVE_ENV:-} "$bin" --data-dir "$data/d" serve --bind 127.0.0.1:0 >"$log" 2>&1 &
pid=$!
base=""
for _ in $(seq 1 240); do
  base="$(grep -o 'listening on http://[0-9.:]*' "$log" | head -n 1 | sed 's/listening on //' || true)"
  [ -n "$base" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "the server did not start" >&2; exit 1; }
  sleep 0.5
done
[ -n "$base" ] || { cat "$log"; echo "the server did not start in time" >&2; exit 1; }
echo "server at $base"
