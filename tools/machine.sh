# Sourced by test.sh and bench/postgres.sh: installs what is missing from Debian's packages, and starts a throwaway
# PostgreSQL cluster. Bash only.

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
install_debian() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# A loopback port nothing listens on now, printed; fails after 50 tries.
free_loopback_port() {
  for _ in $(seq 50); do
    local candidate=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then echo "$candidate"; return 0; fi
  done
  return 1
}

# A throwaway PostgreSQL cluster: created empty, on a free loopback port with a random password, stopped and deleted
# when the calling script exits, whatever happened (it sets the EXIT trap). Durability is switched off: nothing in it
# outlives the run. Sets pg_bin (the binaries' folder) and pg_connection (an Npgsql connection string).
start_throwaway_postgres() {
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
  local password
  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  printf '%s\n' "$password" >"$pg_root/password"
  [ "$(id -u)" -ne 0 ] || chown -R postgres: "$pg_root"
  as_cluster_owner "$pg_bin/initdb" -D "$pg_root/data" -U postgres --auth=scram-sha-256 --pwfile="$pg_root/password" -E UTF8 --no-sync >/dev/null
  local port
  port=$(free_loopback_port) || { echo "no free loopback port for PostgreSQL"; return 1; }
  as_cluster_owner "$pg_bin/pg_ctl" -D "$pg_root/data" -l "$pg_root/server.log" -w -t 60 -o "-c listen_addresses=127.0.0.1 -p $port \
    -c unix_socket_directories=$pg_root -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null \
    || { cat "$pg_root/server.log"; return 1; }
  echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port for this run"
  pg_connection="Host=127.0.0.1;Port=$port;Username=postgres;Password=$password"
}
