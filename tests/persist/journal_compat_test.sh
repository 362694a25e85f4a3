#!/usr/bin/env bash
# A journal written before issue 10 (tests/persist/fixtures/journal-cb430ee) replays to exactly
# the state digest the engine of that time computed. Usage: journal_compat_test.sh QUANTTRADING
set -euo pipefail
binary=$1
fixture="$(cd "$(dirname "$0")" && pwd)/fixtures/journal-cb430ee"
expected="digest: abcb3ab77b6d330b"
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
cp -r "$fixture/journal" "$data/"  # replay never writes, but a test never touches its fixture
output=$("$binary" journal replay --data-dir "$data" --digest 2>&1)
if ! grep -qxF "$expected" <<<"$output"; then
  echo "FAIL: expected '$expected' from the pre-issue-10 journal; got:"
  echo "$output"
  exit 1
fi
if ! grep -qF "records replayed: 115 (sequences 1..115)" <<<"$output"; then
  echo "FAIL: expected all 115 records replayed; got:"
  echo "$output"
  exit 1
fi
echo "PASS: $expected"
