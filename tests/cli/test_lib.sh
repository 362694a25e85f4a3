# Sourced by the shell tests: strict mode, a scratch directory ($work) removed on exit, PASS/FAIL
# lines with a failure count, and the checks they all use. A test ends with `finish`.
# shellcheck shell=bash
set -uo pipefail
# Nothing of the caller's environment reaches the program's configuration or broker connection: a
# developer with real credentials exported (CAPITAL_ENV=live) must never trade from a test. The
# tests set what they need explicitly. (ctest runs these with such variables set, to prove it.)
for name in $(compgen -e); do
  case $name in
    QT_* | CAPITAL_* | API_TIMEOUT | CONNECTION_POOL_SIZE | MAX_RETRIES) unset "$name" ;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# expect_exit EXPECTED ACTUAL WHAT [OUTPUT_FILE]: the file is shown when the exit code is wrong.
expect_exit() {
  if [[ $2 -eq $1 ]]; then
    pass "$3 exits $1"
  else
    fail "$3 exited $2, expected $1"
    if [[ -n ${4:-} ]]; then cat "$4"; fi
  fi
}
# require_executables PATH...: a missing program is a failure that says to build it.
require_executables() {
  local f
  for f in "$@"; do
    [[ -x "$f" ]] || { echo "FAIL: $f is missing (build it first)"; exit 1; }
  done
}
finish() {
  echo "failures: $failures"
  [[ $failures -eq 0 ]]
}
