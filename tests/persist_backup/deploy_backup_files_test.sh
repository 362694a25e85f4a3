#!/usr/bin/env bash
# shellcheck disable=SC2015  # pass/fail always succeed, so "A && pass || fail" is an if/else
# Checks the backup deploy files with the real tools: shellcheck on deploy/scripts/auto_backup.sh,
# `systemd-analyze verify` on the service + timer (ExecStart pointed at the script in this tree,
# since the installed path does not exist here), and the 02:00 daily schedule in the timer and the
# cron example. A missing tool is a failure naming the Debian package, not a skip.
# Usage: deploy_backup_files_test.sh REPO_ROOT
set -uo pipefail
root="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
passes=0
pass() { echo "PASS: $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

script="$root/deploy/scripts/auto_backup.sh"
service="$root/deploy/systemd/quanttrading-backup.service"
timer="$root/deploy/systemd/quanttrading-backup.timer"
cron="$root/deploy/cron/quanttrading-backup"

if command -v shellcheck >/dev/null 2>&1; then
  if out=$(shellcheck "$script" 2>&1); then pass "shellcheck auto_backup.sh"; else fail "shellcheck auto_backup.sh:"; echo "$out"; fi
else
  fail "shellcheck not found: install the Debian package shellcheck (scripts/install-deps.sh)"
fi
head -n 30 "$script" | grep -q '^set -euo pipefail$' && pass "auto_backup.sh sets -euo pipefail" \
  || fail "auto_backup.sh does not set -euo pipefail"
[[ -x "$script" ]] && pass "auto_backup.sh is executable" || fail "auto_backup.sh is not executable"

if command -v systemd-analyze >/dev/null 2>&1; then
  sed "s|^ExecStart=.*|ExecStart=$script|" "$service" >"$work/quanttrading-backup.service"
  cp "$timer" "$work/quanttrading-backup.timer"
  if out=$(cd "$work" && systemd-analyze verify ./quanttrading-backup.timer ./quanttrading-backup.service 2>&1) \
     && [[ -z "$out" ]]; then
    pass "systemd-analyze verify: service and timer"
  else
    fail "systemd-analyze verify:"; echo "$out"
  fi
  next=$(systemd-analyze calendar "$(sed -n 's/^OnCalendar=//p' "$timer")" 2>&1)
  grep -q 'Normalized form: \*-\*-\* 02:00:00' <<<"$next" && pass "timer: daily at 02:00" \
    || { fail "timer calendar:"; echo "$next"; }
else
  fail "systemd-analyze not found: install the Debian package systemd (scripts/install-deps.sh)"
fi
grep -qx 'Persistent=true' "$timer" && pass "timer: Persistent=true" || fail "timer lacks Persistent=true"
grep -qx 'Unit=quanttrading-backup.service' "$timer" && pass "timer starts the service" \
  || fail "timer does not name quanttrading-backup.service"
grep -q '^ExecStart=/usr/local/lib/quanttrading/auto_backup.sh$' "$service" \
  && pass "service runs auto_backup.sh" || fail "service ExecStart is not auto_backup.sh"
grep -Eq '^0 2 \* \* \* +quanttrading +/usr/local/lib/quanttrading/auto_backup.sh' "$cron" \
  && pass "cron example: 02:00 daily as quanttrading" || fail "cron example schedule"

echo "$passes passed, $failures failed"
[[ $failures -eq 0 ]]
