#!/usr/bin/env bash
# Nightly backup of a quanttrading data directory, for systemd (quanttrading-backup.timer) or cron.
#
# Runs `quanttrading backup` beside the running engine (the backup never stops or locks it),
# prefixes every line of its output with a UTC timestamp, and exits with the backup's own exit
# code, so a failed backup fails the systemd unit / mails the cron owner. The binary itself
# records every outcome in the Prometheus textfile (quanttrading_backup_*), which is what the
# "backup missing or failed" alert watches; this script adds nothing that monitoring needs.
#
# Usage: auto_backup.sh [DESTINATION] [extra `quanttrading backup` options...]
#   DESTINATION   a directory or s3://bucket/prefix; default $QUANTTRADING_BACKUP_DEST
#
# Environment (all optional except a destination; e.g. from /etc/quanttrading/backup.env):
#   QUANTTRADING_BACKUP_DEST          destination when none is given on the command line
#   QUANTTRADING_BIN                  the binary            [quanttrading on PATH, else /usr/local/bin/quanttrading]
#   QUANTTRADING_DATA_DIR             data directory        [the config's persist.data_dir]
#   QUANTTRADING_CONFIG               config file (stored in the backup with secrets masked)
#   QUANTTRADING_BACKUP_KEEP_DAYS     retention in days     [30; 0 keeps everything]
#   QUANTTRADING_BACKUP_ENDPOINT_URL  S3 endpoint (MinIO, s3rver, ...); AWS_* variables apply as usual
#   QUANTTRADING_BACKUP_LOGS_DIR      also back up this log directory
#   QUANTTRADING_BACKUP_METRICS_FILE  textfile to update    [<data_dir>/metrics/backup.prom]
#   QUANTTRADING_BACKUP_LOG           also append this script's log to this file
#   QUANTTRADING_BACKUP_LOCK          lock file that keeps two runs apart [/run/lock/quanttrading-backup.lock]
# (Not QT_*: those names are the engine's own configuration overrides.)
set -euo pipefail

log() {
  local line
  line="$(date -u +%Y-%m-%dT%H:%M:%SZ) auto_backup[$$]: $*"
  printf '%s\n' "$line"
  if [[ -n "${QUANTTRADING_BACKUP_LOG:-}" ]]; then
    printf '%s\n' "$line" >>"$QUANTTRADING_BACKUP_LOG"
  fi
}

fail() {
  log "FAILED: $*"
  exit 1
}

destination="${1:-${QUANTTRADING_BACKUP_DEST:-}}"
if [[ $# -gt 0 ]]; then shift; fi
[[ -n "$destination" ]] || fail "no destination: pass DIR or s3://bucket/prefix, or set QUANTTRADING_BACKUP_DEST"

bin="${QUANTTRADING_BIN:-}"
if [[ -z "$bin" ]]; then
  bin="$(command -v quanttrading || true)"
  bin="${bin:-/usr/local/bin/quanttrading}"
fi
[[ -x "$bin" ]] || fail "quanttrading binary not found or not executable: $bin (set QUANTTRADING_BIN)"

args=(backup --to "$destination" --keep-days "${QUANTTRADING_BACKUP_KEEP_DAYS:-30}")
[[ -z "${QUANTTRADING_DATA_DIR:-}" ]] || args+=(--data-dir "$QUANTTRADING_DATA_DIR")
[[ -z "${QUANTTRADING_CONFIG:-}" ]] || args+=(--config "$QUANTTRADING_CONFIG")
[[ -z "${QUANTTRADING_BACKUP_ENDPOINT_URL:-}" ]] || args+=(--endpoint-url "$QUANTTRADING_BACKUP_ENDPOINT_URL")
[[ -z "${QUANTTRADING_BACKUP_LOGS_DIR:-}" ]] || args+=(--include-logs "$QUANTTRADING_BACKUP_LOGS_DIR")
[[ -z "${QUANTTRADING_BACKUP_METRICS_FILE:-}" ]] || args+=(--metrics-file "$QUANTTRADING_BACKUP_METRICS_FILE")
args+=("$@")

# One run at a time: a slow upload must not overlap the next night's run.
lock="${QUANTTRADING_BACKUP_LOCK:-/run/lock/quanttrading-backup.lock}"
if ! { exec 9>>"$lock"; } 2>/dev/null; then
  lock="${TMPDIR:-/tmp}/quanttrading-backup.lock"
  exec 9>>"$lock"
fi
flock -n 9 || fail "another backup is still running (lock $lock)"

log "starting: $bin ${args[*]}"
started=$SECONDS
status=0
# Every line of the binary's output (stdout and stderr) gets a timestamp; PIPESTATUS keeps the
# binary's exit code rather than the logger's.
"$bin" "${args[@]}" 2>&1 | while IFS= read -r line; do log "$line"; done || status=${PIPESTATUS[0]}
elapsed=$((SECONDS - started))
if [[ $status -ne 0 ]]; then
  fail "quanttrading backup exited with status $status after ${elapsed}s"
fi
log "done in ${elapsed}s"
