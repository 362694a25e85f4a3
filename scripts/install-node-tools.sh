#!/usr/bin/env bash
# Installs the npm tools that quanttrading's tests need into a project-local prefix, and nothing
# else: s3rver, a local S3-compatible server that the backup/restore tests drive with the aws CLI.
#
# Idempotent: does nothing when the pinned version is already installed. Node.js and npm must
# already be on the machine: scripts/install-deps.sh installs Debian's when there are none (the
# build machines have them from NodeSource, npm bundled). Packages come from the npm registry.
#
# Usage: scripts/install-node-tools.sh [PREFIX]      (default PREFIX: build/tools in the repo)
# The tests look for PREFIX/node_modules/.bin/s3rver (then s3rver on PATH).
set -euo pipefail

S3RVER_VERSION=3.7.1

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix=${1:-"$repo_root/build/tools"}

log() { printf 'install-node-tools: %s\n' "$*"; }
die() { printf 'install-node-tools: ERROR: %s\n' "$*" >&2; exit 1; }

installed_version() {
  local package_json="$prefix/node_modules/s3rver/package.json"
  [[ -f "$package_json" && -x "$prefix/node_modules/.bin/s3rver" ]] || return 1
  node -e 'process.stdout.write(require(process.argv[1]).version)' "$package_json"
}

# The S3 backup tests need s3rver: without node and npm, `make deps` stops here, not the tests.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  die "node/npm not found: run scripts/install-deps.sh first (it installs Debian's nodejs and npm)"
fi

if [[ "$(installed_version 2>/dev/null || true)" == "$S3RVER_VERSION" ]]; then
  log "s3rver $S3RVER_VERSION present in $prefix"
  exit 0
fi

log "installing s3rver@$S3RVER_VERSION into $prefix"
mkdir -p "$prefix"
npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error \
  "s3rver@$S3RVER_VERSION"

version=$(installed_version) || die "s3rver is missing from $prefix after npm install"
[[ "$version" == "$S3RVER_VERSION" ]] || die "installed s3rver $version, wanted $S3RVER_VERSION"
log "installed s3rver $version: $prefix/node_modules/.bin/s3rver"
