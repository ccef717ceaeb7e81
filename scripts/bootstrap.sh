#!/usr/bin/env bash
# Makes a machine ready to run clace-lite and its tests: Bun, the project's packages, and a container engine.
# Idempotent: when everything is already there it only checks, in well under two seconds.
#
#   scripts/bootstrap.sh            Bun + packages + a running engine
#   scripts/bootstrap.sh --test     also the packages the test suite needs (debootstrap, tests/fixtures/apt-packages.txt)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
want_test_tools=0
[ "${1:-}" = "--test" ] && want_test_tools=1

say() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }
is_debian() { [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; }

apt_updated=0
apt_install() {
  is_root && is_debian || die "missing packages: $*. Install them with your system's package manager (Debian: sudo apt-get install $*) and run this again."
  if [ "$apt_updated" = 0 ]; then
    say "apt-get update"
    apt-get update -qq >/dev/null
    apt_updated=1
  fi
  say "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# 1. Bun
if ! command -v bun >/dev/null 2>&1; then
  command -v npm >/dev/null 2>&1 || die "neither bun nor npm is installed. Install Node.js (with npm) or Bun first."
  say "installing bun with npm"
  npm install -g bun >/dev/null 2>&1 || die "npm install -g bun failed; install Bun by hand (npm install -g bun) and run this again."
  command -v bun >/dev/null 2>&1 || die "bun was installed but is not on PATH ($(npm prefix -g)/bin)."
fi

# 2. The project's packages (skipped when node_modules is newer than the lockfile)
if [ ! -d node_modules ] || [ bun.lock -nt node_modules ] || [ package.json -nt node_modules ]; then
  say "bun install"
  bun install --frozen-lockfile >/dev/null
  touch node_modules
fi

# 3. A container engine: DOCKER_HOST if set, else the standard socket.
engine_answers() {
  local host="${DOCKER_HOST:-unix:///var/run/docker.sock}"
  case "$host" in
    unix://*) curl -fsS --max-time 3 --unix-socket "${host#unix://}" http://engine/_ping >/dev/null 2>&1 ;;
    tcp://*) curl -fsS --max-time 3 "http://${host#tcp://}/_ping" >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}

command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates

if ! engine_answers; then
  [ -n "${DOCKER_HOST:-}" ] && die "no container engine answers on DOCKER_HOST=$DOCKER_HOST. Start it, or unset DOCKER_HOST to use the local Docker engine."
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io
  is_root || die "dockerd is installed but not running, and starting it needs root: run 'sudo dockerd &' (or 'sudo systemctl start docker') and run this again."
  log="/var/log/clace-lite-dockerd.log"
  say "starting dockerd in the background (log: $log)"
  nohup dockerd >"$log" 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    engine_answers && break
    sleep 0.5
  done
  engine_answers || die "dockerd did not answer on /var/run/docker.sock within 60 s; see $log (last lines: $(tail -n 3 "$log" | tr '\n' ' '))"
  say "docker engine is up"
fi

# 4. A local busybox image for the example app (FROM busybox) when no registry can provide one.
{ [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } || apt_install busybox-static
bun scripts/seed-busybox.ts

# 5. Tools the test fixtures use to make images offline and run local services (no registry is reachable).
if [ "$want_test_tools" = 1 ]; then
  missing=()
  for pkg in debootstrap git $(grep -v '^#' tests/fixtures/apt-packages.txt 2>/dev/null || true); do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -gt 0 ] && apt_install "${missing[@]}"
fi
exit 0
