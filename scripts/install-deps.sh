#!/usr/bin/env bash
# Installs the Debian packages that quanttrading's build and tests need, and nothing else.
#
# Idempotent: checks each package with dpkg-query and runs `apt-get update` + `apt-get install`
# only when something is missing. Everything comes from the machine's configured Debian
# archive; nothing is downloaded from anywhere else.
#
# Usage: scripts/install-deps.sh            (as root, or as a user with sudo)
set -euo pipefail

PACKAGES=(
  # --- toolchain and build system ---------------------------------------------------------
  build-essential
  g++
  cmake                      # >= 3.25 (CMakePresets.json version 6)
  ninja-build                # generator used by every preset
  ccache                     # picked up automatically by CMakeLists.txt
  pkg-config
  git
  ca-certificates
  clang-format               # make format / make format-check
  clang                      # the libFuzzer targets (preset fuzz, make fuzz-smoke)
  libclang-rt-14-dev         # libFuzzer and clang's sanitizer runtimes
  # --- networking, TLS, parsing -----------------------------------------------------------
  libboost1.81-dev           # Asio, Beast
  libboost-url1.81-dev       # Boost.URL (separate package in bookworm)
  libssl-dev                 # TLS for REST/WebSocket to Capital.com
  libsimdjson-dev            # JSON parsing on the feed path
  # --- concurrency, memory ----------------------------------------------------------------
  libconcurrentqueue-dev     # moodycamel MPMC queue
  libreaderwriterqueue-dev   # moodycamel SPSC queue (comparison peer for our ring)
  libabsl-dev                # Abseil containers / hashing
  libmimalloc-dev            # process allocator for release binaries
  # --- logging, CLI, configuration, Redis client ------------------------------------------
  libspdlog-dev
  libfmt-dev
  libcli11-dev
  libtomlplusplus-dev
  libhiredis-dev
  # --- tests and benchmarks ---------------------------------------------------------------
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
  libsqlite3-dev             # bench/journal_bench: SQLite (the seed's storage) as the baseline
  wrk                        # HTTP load generator: bench/http_health_server and the API benches
  python3                    # test scripts (JSON log validation)
  # --- real servers / peers for integration tests: added by later issues ------------------
  awscli                     # backup/restore to S3 (tests drive it against s3rver)
  prometheus                 # promtool: checks the backup metrics textfile in tests
  shellcheck                 # lints deploy/scripts/*.sh in tests
  systemd                    # systemd-analyze verify of deploy/systemd units in tests
  redis-server               # rate limit Lua scripts against a real Redis (tests/http)
  # nginx haproxy sqlite3 libquickfix-dev
  # s3rver comes from npm: scripts/install-node-tools.sh (run by `make deps`), with the nodejs
  # and npm below.
)

log() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: ERROR: %s\n' "$*" >&2; exit 1; }

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script needs a Debian (bookworm) system"
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script needs a Debian (bookworm) system"

is_installed() {
  local status
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
  [[ "$status" == "install ok installed" ]]
}

# Node.js and npm, for the npm test tools (s3rver): Debian's, unless a `node` and an `npm` are on
# PATH already (the build machines' NodeSource nodejs bundles npm; Debian's npm package would
# pull Debian's nodejs over it).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  log "all ${#PACKAGES[@]} packages present"
  exit 0
fi

log "missing ${#missing[@]} of ${#PACKAGES[@]} packages: ${missing[*]}"

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo)
    log "not root: using sudo"
  elif command -v sudo >/dev/null 2>&1 && [[ -t 0 ]]; then
    # sudo exists but wants a password: let it prompt on the terminal.
    SUDO=(sudo)
    log "not root: using sudo (it may ask for your password)"
  else
    die "not root and sudo is unavailable (or needs a password without a terminal); run as root: sudo $0, or install: ${missing[*]}"
  fi
fi

export DEBIAN_FRONTEND=noninteractive
log "running apt-get update"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
log "installing: ${missing[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}"

# Confirm: a package apt-get could not install leaves us here with a clear message.
still=()
for pkg in "${missing[@]}"; do
  is_installed "$pkg" || still+=("$pkg")
done
[[ ${#still[@]} -eq 0 ]] || die "still missing after apt-get install: ${still[*]}"
log "installed ${#missing[@]} package(s); all ${#PACKAGES[@]} packages present"
