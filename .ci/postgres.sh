# Start a throw-away PostgreSQL cluster on 127.0.0.1 for the tests and the benchmarks.
# Sourced by .ci/run; usable by hand: `. .ci/postgres.sh && start_postgres`.
PG_PORT="${PG_PORT:-54329}"
PG_DIR="${PG_DIR:-/tmp/garde-pg-$PG_PORT}"

start_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  if [ ! -s "$PG_DIR/PG_VERSION" ]; then
    rm -rf "$PG_DIR"; mkdir -p "$PG_DIR"; chown postgres "$PG_DIR"
    runuser -u postgres -- "$bin/initdb" -D "$PG_DIR" -A trust -U postgres >/dev/null
  fi
  if runuser -u postgres -- "$bin/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; then
    echo "PostgreSQL already running from $PG_DIR"
  else
    runuser -u postgres -- "$bin/pg_ctl" -D "$PG_DIR" -l "$PG_DIR/log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k /tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null || { cat "$PG_DIR/log"; return 1; }
  fi
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='garde_test'" \
    | grep -q 1 || createdb -h 127.0.0.1 -p "$PG_PORT" -U postgres garde_test
  export GARDE_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/garde_test"
  echo "PostgreSQL on 127.0.0.1:$PG_PORT ($GARDE_TEST_POSTGRES_URL)"
}

stop_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  runuser -u postgres -- "$bin/pg_ctl" -D "$PG_DIR" -m fast stop >/dev/null 2>&1 || true
}
