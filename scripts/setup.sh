#!/usr/bin/env bash
# One idempotent set-up for a fresh Debian machine with Node 20 and npm: pnpm 10, the workspace's
# dependencies, Mesa's software Vulkan driver (lavapipe, Mesa >= 24 from bookworm-backports: Dawn
# rejects bookworm's own 22.3) with the GLES fallback, and Redis (server and redis-cli: the redis tests
# start real servers and a cluster with them; Valkey ≥ 8, `valkey-server` from bookworm-backports,
# works too: set KVTIER_REDIS_SERVER / KVTIER_REDIS_CLI). Fast when everything is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9
SYSTEM_PACKAGES=(libvulkan1 libegl1 libgles2 libegl-mesa0 redis-server redis-tools)
BACKPORTS_PACKAGES=(mesa-vulkan-drivers)

log() { printf '[setup] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else
    log "not root: run this yourself, then retry:"
    log "  $*"
    exit 1
  fi
}

mesa_is_new_enough() {
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 24
}

# The mirror this machine already uses for bookworm (deb822 .sources or a one-line sources.list).
debian_mirror() {
  awk '
    /^URIs:/ { uri = $2 }
    /^Suites:/ && / bookworm( |$)/ && uri != "" { print uri; exit }
    /^deb / && $3 == "bookworm" { print $2; exit }
  ' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n 1
}

system_packages() {
  local missing=()
  for p in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ] && mesa_is_new_enough; then return; fi
  command -v apt-get >/dev/null || { log "no apt-get: install ${SYSTEM_PACKAGES[*]} and Mesa >= 24 lavapipe by hand"; exit 1; }
  . /etc/os-release
  if [ "${VERSION_CODENAME:-}" = bookworm ] && ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
    local mirror
    mirror=$(debian_mirror)
    [ -n "$mirror" ] || { log "cannot find the Debian mirror in /etc/apt: add bookworm-backports yourself"; exit 1; }
    log "adding bookworm-backports from $mirror (Mesa >= 24 for Dawn's Vulkan backend)"
    echo "deb $mirror bookworm-backports main" | as_root tee /etc/apt/sources.list.d/kvtier-backports.list >/dev/null
  fi
  log "installing ${missing[*]:-} ${BACKPORTS_PACKAGES[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${SYSTEM_PACKAGES[@]}" >/dev/null
  if [ "${VERSION_CODENAME:-}" = bookworm ]; then
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends -t bookworm-backports "${BACKPORTS_PACKAGES[@]}" >/dev/null
  else
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${BACKPORTS_PACKAGES[@]}" >/dev/null
  fi
  # The packaged service is not ours to run: the tests start their own Redis on a free port.
  if command -v systemctl >/dev/null; then as_root systemctl disable --now redis-server >/dev/null 2>&1 || true; fi
}

pnpm_tool() {
  if command -v pnpm >/dev/null && [ "$(pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ]; then return; fi
  log "installing pnpm@$PNPM_VERSION with npm (corepack fails here)"
  if ! npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1; then
    as_root npm install -g "pnpm@$PNPM_VERSION" >/dev/null
  fi
}

workspace() {
  local stamp=node_modules/.kvtier-install-stamp
  local want
  want=$(cat pnpm-lock.yaml package.json packages/*/package.json tests/package.json 2>/dev/null | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  log "installing workspace dependencies"
  if [ -f pnpm-lock.yaml ]; then pnpm install --frozen-lockfile --reporter=append-only
  else pnpm install --reporter=append-only; fi
  echo "$want" > "$stamp"
}

system_packages
pnpm_tool
workspace
