#!/usr/bin/env bash
# Make sure what the test suite needs is on this machine, then print the PostgreSQL URL
# the tests use (and only that) on standard output:
#
#   * PostgreSQL answering on 127.0.0.1:5432 without a password, with a `test` database;
#   * Debian's chromium at /usr/bin/chromium (the browser tests drive it);
#   * axe-core from the npm registry, in a cache outside the package
#     ($CVID_AXE_DIR, default ~/.cache/cvid/axe): the browser tests inject it into
#     each page to check accessibility; it is never served by cvid itself.
#
# Idempotent and fast when everything is already there: it only runs apt-get for what
# is missing. When CVID_TEST_POSTGRES_URL is set, that server is used as it is and no
# local one is set up. Messages go to standard error; exits non-zero when something
# cannot be provided. `make test` runs it first.
set -euo pipefail

PGHOST=127.0.0.1
PGPORT=5432
CHROMIUM=/usr/bin/chromium
AXE_VERSION=4.10.3
AXE_DIR=${CVID_AXE_DIR:-$HOME/.cache/cvid/axe}

say() { echo "provision: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    say "need root to run: $*"
    return 1
  fi
}

APT_UPDATED=""
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$APT_UPDATED" ]; then
    as_root apt-get update -q >&2
    APT_UPDATED=1
  fi
  as_root apt-get install -y -q "$@" >&2
}

pg_answers() {
  command -v pg_isready >/dev/null 2>&1 && pg_isready -h "$PGHOST" -p "$PGPORT" -q
}

latest_cluster() {
  ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1
}

start_local_cluster() {
  local version
  version=$(latest_cluster)
  [ -n "$version" ] || return 1
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
}

wait_for_pg() {
  for _ in $(seq 1 "$1"); do
    pg_answers && return 0
    sleep 1
  done
  pg_answers
}

trust_loopback() {
  # A cluster installed here uses password auth on TCP; the tests connect without one.
  local version hba
  version=$(latest_cluster)
  [ -n "$version" ] || return 0
  hba=/etc/postgresql/$version/main/pg_hba.conf
  [ -f "$hba" ] || return 0
  if ! grep -q "^host all all 127.0.0.1/32 trust" "$hba"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    as_root sed -i '1i host all all ::1/128 trust' "$hba"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload >&2 || true
  fi
}

connect_as() {
  local candidate
  for candidate in postgres root "$(id -un)"; do
    if psql -h "$PGHOST" -p "$PGPORT" -U "$candidate" -d postgres -Atc 'SELECT 1' \
      >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

provision_postgres() {
  if ! pg_answers; then
    say "PostgreSQL does not answer on $PGHOST:$PGPORT; starting it"
    start_local_cluster || true
    wait_for_pg 30 || true
  fi
  if ! pg_answers; then
    say "installing Debian's postgresql"
    apt_install postgresql
    trust_loopback
    start_local_cluster || true
    wait_for_pg 60 || { say "PostgreSQL did not start"; return 1; }
  fi
  local user
  if ! user=$(connect_as); then
    trust_loopback
    user=$(connect_as) || { say "cannot connect to PostgreSQL as postgres or root"; return 1; }
  fi
  if [ "$(psql -h "$PGHOST" -p "$PGPORT" -U "$user" -d postgres -Atc \
    "SELECT 1 FROM pg_database WHERE datname = 'test'")" != "1" ]; then
    psql -h "$PGHOST" -p "$PGPORT" -U "$user" -d postgres -qc 'CREATE DATABASE test' >&2
  fi
  URL="postgresql://$user@$PGHOST:$PGPORT/test"
}

provision_chromium() {
  if [ ! -x "$CHROMIUM" ]; then
    say "installing Debian's chromium for the browser tests"
    apt_install chromium
  fi
  [ -x "$CHROMIUM" ] || { say "$CHROMIUM is missing"; return 1; }
}

provision_axe() {
  local script="$AXE_DIR/node_modules/axe-core/axe.min.js"
  if [ ! -f "$script" ]; then
    command -v npm >/dev/null 2>&1 || apt_install npm
    say "installing axe-core $AXE_VERSION into $AXE_DIR for the accessibility tests"
    mkdir -p "$AXE_DIR"
    npm install --prefix "$AXE_DIR" --no-save --no-audit --no-fund --ignore-scripts \
      "axe-core@$AXE_VERSION" >&2
  fi
  [ -f "$script" ] || { say "$script is missing"; return 1; }
}

if [ -n "${CVID_TEST_POSTGRES_URL:-}" ]; then
  URL=$CVID_TEST_POSTGRES_URL
else
  command -v psql >/dev/null 2>&1 || apt_install postgresql-client
  provision_postgres
fi
provision_chromium
provision_axe
say "PostgreSQL at $URL; chromium at $CHROMIUM; axe-core in $AXE_DIR"
echo "$URL"
