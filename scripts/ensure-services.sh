#!/usr/bin/env bash
# Makes sure the services the test suite talks to are running on 127.0.0.1:
# PostgreSQL on 5432 (trust authentication for local connections) and Redis on 6379; and the
# openssl command, the independent tool the PKI tests check certificates with; and Chromium,
# the headless browser the sign-in tests drive through playwright-core.
# Starts them when installed but stopped; installs them from Debian's packages when missing
# (needs root). Idempotent and quick when everything is already up.
set -euo pipefail

log() { printf 'ensure-services: %s\n' "$*" >&2; }

have() { command -v "$1" >/dev/null 2>&1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif have sudo; then sudo "$@"; else
    log "need root to run: $*"; return 1
  fi
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() {
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done
  return 1
}

ensure_postgres() {
  if port_open 5432; then return 0; fi
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    log "installing PostgreSQL from Debian's packages"
    apt_install postgresql
  fi
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$version" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    as_root pg_createcluster "$version" main >/dev/null
  fi
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    log "allowing trust authentication on loopback for the test cluster"
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\nlocal all all trust' "$hba"
  fi
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for_port 5432 || { log "PostgreSQL did not come up on 127.0.0.1:5432"; exit 1; }
}

ensure_redis() {
  if port_open 6379; then return 0; fi
  if ! have redis-server; then
    log "installing Redis from Debian's packages"
    apt_install redis-server
  fi
  log "starting Redis"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/meshguard-tests.log
  wait_for_port 6379 || { log "Redis did not come up on 127.0.0.1:6379"; exit 1; }
}

ensure_openssl() {
  if have openssl; then return 0; fi
  log "installing openssl from Debian's packages"
  apt_install openssl
}

ensure_chromium() {
  if [ -x /usr/bin/chromium ] || have chromium; then return 0; fi
  log "installing Chromium from Debian's packages"
  apt_install chromium
}

ensure_postgres
ensure_redis
ensure_openssl
ensure_chromium
