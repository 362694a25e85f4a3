#!/usr/bin/env bash
# Reproduces "a newcomer's machine": a bare Debian 12 container holding only make, git and
# ca-certificates, in which a clone of this repository (at the current HEAD commit) must pass
# `make test` and then `make run` on its own.
#
# Prepares the host idempotently, following /work/shared/CONTAINERS.md:
#   1. apt-get installs podman podman-compose runc debootstrap (when missing);
#   2. writes /etc/containers/containers.conf (runc, cgroupfs, pinned ulimits);
#   3. builds the base image localhost/debian:bookworm with `debootstrap --variant=minbase`
#      when it does not exist (no registry can be reached here);
#   4. builds scripts/fresh-machine/Containerfile on that base (make, git, ca-certificates);
#   5. checks that `apt-get update` works inside a container (default network).
# Then, unless --prepare-only:
#   6. in a new container: git clone of the repo (a clone of it bind-mounted read-only at /src)
#      to /work/quanttrading, checkout of HEAD, `make test`, `timeout RUN_TIMEOUT make run ARGS=...`.
# Prints a PASS/FAIL summary with timings; exits non-zero on failure.
#
# Only committed work is tested (the clone is of HEAD); uncommitted changes are reported.
#
# Usage: scripts/fresh-machine-test.sh [--prepare-only] [--rebuild]
#   --prepare-only  steps 1-5 only
#   --rebuild       rebuild the base image and the test image even if they exist
# Environment (defaults in brackets):
#   BASE_IMAGE [localhost/debian:bookworm]  built here with debootstrap when it is this name;
#                                           any other name is used as is (e.g. pulled)
#   IMAGE [localhost/quanttrading-fresh:latest]
#   DEBIAN_MIRROR [http://deb.debian.org/debian]
#   DEBIAN_SECURITY_MIRROR [http://deb.debian.org/debian-security]
#   COMMIT [git rev-parse HEAD]             commit to test
#   TEST_TARGET [test]                      make target run first in the container
#   RUN_ARGS [--duration 10]                ARGS for `make run`
#   RUN_TIMEOUT [60]                        seconds `make run` may take (timeout(1))
#   LOG [/var/tmp/quanttrading-fresh-machine.log]  full output of the container run
#   HOST_CA_DIR [/usr/local/share/ca-certificates]  local CA certificates (*.crt) the host trusts
#                                           beyond Debian's, e.g. a TLS-inspecting proxy's: the
#                                           container trusts them too (npm needs HTTPS)
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONTAINERFILE_DIR="$REPO_ROOT/scripts/fresh-machine"

LOCAL_BASE_IMAGE=localhost/debian:bookworm
BASE_IMAGE=${BASE_IMAGE:-$LOCAL_BASE_IMAGE}
IMAGE=${IMAGE:-localhost/quanttrading-fresh:latest}
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
TEST_TARGET=${TEST_TARGET:-test}
RUN_ARGS=${RUN_ARGS:---duration 10}
RUN_TIMEOUT=${RUN_TIMEOUT:-60}
LOG=${LOG:-/var/tmp/quanttrading-fresh-machine.log}
HOST_CA_DIR=${HOST_CA_DIR:-/usr/local/share/ca-certificates}

HOST_PACKAGES=(podman podman-compose runc debootstrap)

PREPARE_ONLY=0
REBUILD=0
for arg in "$@"; do
  case "$arg" in
    --prepare-only) PREPARE_ONLY=1 ;;
    --rebuild) REBUILD=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "fresh-machine-test: unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

log() { printf '\n[fresh-machine %(%H:%M:%S)T] %s\n' -1 "$*"; }
die() { printf 'fresh-machine-test: ERROR: %s\n' "$*" >&2; exit 1; }

# podman (rootful), debootstrap and /etc/containers need root.
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    echo "fresh-machine-test: not root: re-running under sudo"
    exec sudo --preserve-env=BASE_IMAGE,IMAGE,DEBIAN_MIRROR,DEBIAN_SECURITY_MIRROR,COMMIT,TEST_TARGET,RUN_ARGS,RUN_TIMEOUT,LOG,HOST_CA_DIR \
      bash "${BASH_SOURCE[0]}" "$@"
  fi
  die "needs root (podman, debootstrap, /etc/containers) and sudo is not available"
fi

COMMIT=${COMMIT:-$(git -C "$REPO_ROOT" rev-parse HEAD)}

# ---------------------------------------------------------------------------------------------
# Steps. Each runs in a subshell with errexit on; its status and duration go to the summary.
# ---------------------------------------------------------------------------------------------
SUMMARY=()
FAILED=0

step() {
  local name=$1 t0=$SECONDS rc
  shift
  if [[ $FAILED -ne 0 ]]; then
    SUMMARY+=("SKIP  $name")
    return 0
  fi
  log "$name"
  set +e
  (set -euo pipefail; "$@")
  rc=$?
  set -e
  if [[ $rc -eq 0 ]]; then
    SUMMARY+=("PASS  $name ($((SECONDS - t0)) s)")
  else
    SUMMARY+=("FAIL  $name ($((SECONDS - t0)) s, exit $rc)")
    FAILED=1
  fi
}

install_host_packages() {
  local missing=() pkg
  for pkg in "${HOST_PACKAGES[@]}"; do
    [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true) == "install ok installed" ]] \
      || missing+=("$pkg")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    echo "all ${#HOST_PACKAGES[@]} host packages present (${HOST_PACKAGES[*]})"
    return 0
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # With recommends, as in the verified recipe (brings netavark/aardvark-dns for the bridge
  # network, fuse-overlayfs, catatonit).
  apt-get install -y -q "${missing[@]}"
}

write_containers_conf() {
  local conf=/etc/containers/containers.conf want
  # This sandbox may not raise resource limits and its cgroups are hybrid: runc with cgroupfs,
  # and pinned limits for the containers' start.
  want='[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"'
  if [[ -f $conf ]] && [[ "$(cat "$conf")" == "$want" ]]; then
    echo "$conf already as documented"
    return 0
  fi
  mkdir -p /etc/containers
  if [[ -f $conf ]]; then
    cp -p "$conf" "$conf.bak.$(date +%Y%m%d%H%M%S)"
    echo "backed up the previous $conf"
  fi
  printf '%s\n' "$want" >"$conf"
  echo "wrote $conf"
}

build_base_image() {
  if [[ $BASE_IMAGE != "$LOCAL_BASE_IMAGE" ]]; then
    echo "BASE_IMAGE=$BASE_IMAGE is not the local one: not building it (podman build pulls it)"
    return 0
  fi
  if [[ $REBUILD -eq 0 ]] && podman image exists "$BASE_IMAGE"; then
    echo "$BASE_IMAGE exists ($(podman image inspect --format '{{.Created}}' "$BASE_IMAGE"))"
    return 0
  fi
  local rootfs t0=$SECONDS
  rootfs=$(mktemp -d /var/tmp/qt-rootfs.XXXXXX)
  # shellcheck disable=SC2064
  trap "rm -rf '$rootfs'" EXIT
  debootstrap --variant=minbase "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR"
  echo "debootstrap took $((SECONDS - t0)) s"
  # Same suites as Debian's official image: main + updates + security, so that packages
  # installed in the container match a normal bookworm machine's.
  cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $DEBIAN_MIRROR $DEBIAN_SUITE main
deb $DEBIAN_MIRROR $DEBIAN_SUITE-updates main
deb $DEBIAN_SECURITY_MIRROR $DEBIAN_SUITE-security main
EOF
  # Keep the image small, like the official one.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
  t0=$SECONDS
  tar -C "$rootfs" -c . | podman import \
    --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$BASE_IMAGE"
  echo "podman import took $((SECONDS - t0)) s"
}

build_test_image() {
  # Always built: podman's layer cache makes an unchanged rebuild a no-op, and a changed
  # Containerfile or base image is picked up.
  local no_cache=()
  [[ $REBUILD -eq 1 ]] && no_cache=(--no-cache)
  podman build "${no_cache[@]}" \
    --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    -t "$IMAGE" -f "$CONTAINERFILE_DIR/Containerfile" "$CONTAINERFILE_DIR"
  echo "image size: $(podman image inspect --format '{{.Size}}' "$IMAGE") bytes"
}

check_container_apt() {
  # The newcomer's `make` must reach Debian's archive from inside the container.
  podman run --rm "$IMAGE" bash -c '
    set -e
    cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | grep -v "^#" || true
    apt-get update -q
    apt-cache policy libboost1.81-dev | head -3
    echo "make: $(make --version | head -1)"; echo "git: $(git --version)"'
}

run_newcomer() {
  local dirty
  dirty=$(git -C "$REPO_ROOT" status --porcelain --untracked-files=no | wc -l)
  if [[ $dirty -ne 0 ]]; then
    echo "NOTE: $dirty uncommitted change(s) in $REPO_ROOT are NOT tested (clone of $COMMIT)"
  fi
  echo "full output also in $LOG"
  # The container gets a standalone clone: a git worktree's .git only points to a directory
  # outside it, which the container cannot see.
  local source
  source=$(mktemp -d /var/tmp/qt-fresh-src.XXXXXX)
  # shellcheck disable=SC2064
  trap "rm -rf '$source'" EXIT
  git clone --quiet --no-checkout "$REPO_ROOT" "$source/repo"
  # A network that inspects TLS makes HTTPS (npm) fail without the host's local CAs.
  local host_ca=()
  if compgen -G "$HOST_CA_DIR/*.crt" >/dev/null; then
    echo "the container trusts the host's local CA certificates in $HOST_CA_DIR too"
    host_ca=(-v "$HOST_CA_DIR:/usr/local/share/ca-certificates/host:ro"
             -e NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
  fi
  # RUN_ARGS is passed as one string to make's ARGS.
  podman run --rm "${host_ca[@]}" \
    -v "$source/repo:/src:ro" \
    -e "COMMIT=$COMMIT" -e "TEST_TARGET=$TEST_TARGET" -e "RUN_ARGS=$RUN_ARGS" \
    -e "RUN_TIMEOUT=$RUN_TIMEOUT" \
    "$IMAGE" bash -c '
      set -euo pipefail
      if compgen -G "/usr/local/share/ca-certificates/host/*.crt" >/dev/null; then
        update-ca-certificates >/dev/null
      fi
      git config --global --add safe.directory /src
      git config --global --add safe.directory /src/.git
      t0=$SECONDS
      git clone --quiet --no-checkout /src /work/quanttrading
      cd /work/quanttrading
      git checkout --quiet --detach "$COMMIT"
      echo "== cloned $(git log -1 --format="%h %s") ($((SECONDS - t0)) s)"
      t0=$SECONDS
      make "$TEST_TARGET"
      echo "== make $TEST_TARGET: OK ($((SECONDS - t0)) s)"
      t0=$SECONDS
      rc=0
      timeout "$RUN_TIMEOUT" make run ARGS="$RUN_ARGS" || rc=$?
      if [[ $rc -ne 0 ]]; then
        [[ $rc -eq 124 ]] && echo "== make run: did not stop within $RUN_TIMEOUT s"
        echo "== make run ARGS=\"$RUN_ARGS\": FAILED (exit $rc)"
        exit $rc
      fi
      echo "== make run ARGS=\"$RUN_ARGS\": OK ($((SECONDS - t0)) s)"
    ' 2>&1 | tee "$LOG"
}

T_START=$SECONDS
echo "fresh-machine-test: repo $REPO_ROOT at $COMMIT; base $BASE_IMAGE; image $IMAGE"
step "host packages (${HOST_PACKAGES[*]})" install_host_packages
step "containers.conf" write_containers_conf
step "base image $BASE_IMAGE" build_base_image
step "image $IMAGE (make, git, ca-certificates)" build_test_image
step "apt-get update inside a container" check_container_apt
if [[ $PREPARE_ONLY -eq 0 ]]; then
  step "newcomer: clone, make $TEST_TARGET, make run ARGS=\"$RUN_ARGS\"" run_newcomer
fi

echo
echo "================ fresh-machine test summary ================"
printf '  %s\n' "${SUMMARY[@]}"
if [[ $FAILED -ne 0 ]]; then
  echo "RESULT: FAIL (total $((SECONDS - T_START)) s)"
  exit 1
fi
if [[ $PREPARE_ONLY -eq 1 ]]; then
  echo "RESULT: PASS (prepare only; total $((SECONDS - T_START)) s)"
else
  echo "RESULT: PASS (total $((SECONDS - T_START)) s)"
fi
