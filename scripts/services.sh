# Starts the local services the tests use when they are not running. Idempotent.
# Sourced by scripts/test.sh.

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return 0; fi
  echo "starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && return 0
    sleep 1
  done
  echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2
  return 1
}

# Removes the scratch databases earlier runs left behind, so each run starts clean.
drop_scratch_databases() {
  local url="${HAOBAN_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
  psql "$url" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'haoban_t_%'" 2>/dev/null |
    while read -r name; do
      [ -n "$name" ] && psql "$url" -qc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
}

ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then return 0; fi
  echo "installing Debian's chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
}

ensure_node_modules() {
  local dir="$1"
  if [ -d "$dir/node_modules/playwright-core" ]; then return 0; fi
  if ! command -v npm >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
  fi
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

ensure_nextest() {
  command -v cargo-nextest >/dev/null 2>&1 && return 0
  cargo install cargo-nextest --locked
}
