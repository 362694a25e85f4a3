#!/usr/bin/env bash
# `quanttrading snapshot verify` and `quanttrading journal replay` on the data directory of a real
# paper run (load client on, so the journal holds orders and fills): the replayed state is the
# same with and without snapshots (digest), --until-sequence rebuilds the state at an earlier
# point (from the snapshot before it, equal to a replay from 1; a point past the end is refused),
# a damaged newest snapshot makes verify exit 1 and replay fall back to the older one, a torn
# tail after a SIGKILL is replayed up to and reported (exit 1), and neither command changes a
# byte of what it reads.
# Usage: snapshot_cli_test.sh PATH_TO_QUANTTRADING PATH_TO_SNAPSHOT_FIXTURE_WRITER
# shellcheck source=tests/cli/test_lib.sh
source "$(dirname "$0")/test_lib.sh"
bin="$1"
fixture="$2"
require_executables "$bin" "$fixture"
field() {  # file "prefix:" -> the rest of the first line starting with it
  sed -n "s/^$2 //p" "$1" | head -1
}
fingerprint() {  # every file under a directory with its checksum
  (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

data="$work/data"
sets=(--set venue.kind=paper --set "persist.data_dir=$data" --set persist.durability=async
      --set load.orders_per_second=300 --set log.level=warn)

# --- a clean shutdown: the journal is sealed ---------------------------------------------------
"$bin" run "${sets[@]}" --duration 3 >"$work/run.out" 2>&1
expect_exit 0 $? "a 3 s paper run" "$work/run.out"
# Whatever snapshots the engine's own snapshotter took, this test makes its own.
rm -rf "$data/snapshots"

"$bin" journal replay "${sets[@]}" --digest >"$work/full.out" 2>&1
expect_exit 0 $? "journal replay without snapshots" "$work/full.out"
grep -q '^snapshot: none' "$work/full.out" && pass "no snapshot yet" || fail "snapshot line"
last=$(field "$work/full.out" "last sequence:")
digest=$(field "$work/full.out" "digest:")
orders=$(sed -n 's/^orders: \([0-9]*\) in the store.*/\1/p' "$work/full.out")
[[ -n "$last" && $last -gt 50 ]] && pass "replayed $last records" || { fail "last sequence '$last'"; cat "$work/full.out"; }
[[ -n "$orders" && $orders -gt 10 ]] && pass "$orders orders rebuilt" || fail "orders '$orders'"
[[ ${#digest} -eq 16 ]] && pass "digest $digest" || fail "digest '$digest'"
grep -q '^  GOLD .* net ' "$work/full.out" && pass "positions printed" || fail "no positions"

"$bin" snapshot verify "${sets[@]}" >"$work/verify0.out" 2>&1
expect_exit 0 $? "snapshot verify with no snapshots" "$work/verify0.out"

# --- snapshots at half way and at the end ------------------------------------------------------
half=$((last / 2))
"$fixture" "$data" "$half" "$last" || { fail "fixture writer"; exit 1; }
"$bin" snapshot verify "${sets[@]}" >"$work/verify.out" 2>&1
expect_exit 0 $? "snapshot verify of two intact snapshots" "$work/verify.out"
[[ $(grep -c '  ok  sequence' "$work/verify.out") -eq 2 ]] && pass "both listed ok" || { fail "listing"; cat "$work/verify.out"; }

"$bin" journal replay "${sets[@]}" --digest >"$work/snap.out" 2>&1
expect_exit 0 $? "journal replay from the newest snapshot" "$work/snap.out"
grep -q "^snapshot: .*snapshot-0*$last.qts (sequence $last)" "$work/snap.out" \
  && pass "newest snapshot used" || { fail "snapshot used"; cat "$work/snap.out"; }
grep -q '^records replayed: 0$' "$work/snap.out" && pass "nothing after it" || fail "records replayed"
[[ $(field "$work/snap.out" "digest:") == "$digest" ]] && pass "same digest as the full replay" \
  || fail "digest differs: $(field "$work/snap.out" "digest:") vs $digest"

# --- --until-sequence: the state at an earlier point ----------------------------------------------
# Between the two snapshots: the one at $last is passed over, the one at $half plus the records up
# to $mid rebuild the same state as the whole journal replayed from 1 up to $mid.
mid=$(((half + last) / 2))
"$bin" journal replay "${sets[@]}" --digest --until-sequence "$mid" >"$work/until.out" 2>&1
expect_exit 0 $? "journal replay --until-sequence $mid" "$work/until.out"
grep -q "^snapshot: .*(sequence $half)" "$work/until.out" && pass "the snapshot after $mid passed over" \
  || { fail "snapshot used for --until-sequence"; cat "$work/until.out"; }
grep -q "^records replayed: $((mid - half)) (sequences $((half + 1))\.\.$mid)" "$work/until.out" \
  && pass "records up to $mid replayed" || fail "records replayed with --until-sequence"
grep -q "^last sequence: $mid$" "$work/until.out" && pass "stops at $mid" || fail "last sequence with --until-sequence"
until_digest=$(field "$work/until.out" "digest:")
"$bin" journal replay "${sets[@]}" --digest --no-snapshot --until-sequence "$mid" >"$work/until_full.out" 2>&1
expect_exit 0 $? "journal replay --no-snapshot --until-sequence $mid" "$work/until_full.out"
grep -q "^records replayed: $mid (sequences 1\.\.$mid)" "$work/until_full.out" \
  && pass "from sequence 1 up to $mid" || { fail "records replayed from 1"; cat "$work/until_full.out"; }
[[ ${#until_digest} -eq 16 && $(field "$work/until_full.out" "digest:") == "$until_digest" ]] \
  && pass "same digest at $mid from the snapshot and from sequence 1" \
  || fail "digest at $mid: $until_digest vs $(field "$work/until_full.out" "digest:")"
[[ "$until_digest" != "$digest" ]] && pass "the state at $mid differs from the end's" \
  || fail "the digest at $mid equals the digest at $last"
"$bin" journal replay "${sets[@]}" --digest --until-sequence "$last" >"$work/until_last.out" 2>&1
expect_exit 0 $? "journal replay --until-sequence $last (the end)" "$work/until_last.out"
[[ $(field "$work/until_last.out" "digest:") == "$digest" ]] && pass "up to the end: the full digest" \
  || fail "digest up to the end differs"
"$bin" journal replay "${sets[@]}" --digest --until-sequence "$((last + 1))" >"$work/until_beyond.out" 2>&1
expect_exit 2 $? "journal replay --until-sequence past the journal's end" "$work/until_beyond.out"
grep -q "journal ends at sequence $last, before --until-sequence $((last + 1))" "$work/until_beyond.out" \
  && pass "a point past the end is refused, naming both" || { fail "refusal message"; cat "$work/until_beyond.out"; }
grep -q '^digest:' "$work/until_beyond.out" && fail "a refused replay printed a digest" || pass "no digest when refused"

# --- the newest snapshot damaged -----------------------------------------------------------------
newest=$(ls "$data"/snapshots/snapshot-*.qts | sort | tail -1)
printf '\xff' | dd of="$newest" bs=1 seek=200 conv=notrunc status=none
"$bin" snapshot verify "${sets[@]}" >"$work/verify_bad.out" 2>&1
expect_exit 1 $? "snapshot verify with a damaged newest snapshot" "$work/verify_bad.out"
grep -q 'DAMAGED: .*CRC mismatch' "$work/verify_bad.out" && pass "damage named" || { fail "no damage line"; cat "$work/verify_bad.out"; }

before=$(fingerprint "$data")
"$bin" journal replay "${sets[@]}" --digest >"$work/fallback.out" 2>&1
expect_exit 0 $? "journal replay past a damaged snapshot" "$work/fallback.out"
grep -q "^skipped snapshot: .*CRC mismatch" "$work/fallback.out" && pass "the damaged one is reported" || fail "skip not reported"
grep -q "^snapshot: .*(sequence $half)" "$work/fallback.out" && pass "older snapshot used" || { fail "fallback"; cat "$work/fallback.out"; }
grep -q "^records replayed: $((last - half)) (sequences $((half + 1))\.\.$last)" "$work/fallback.out" \
  && pass "the tail after it replayed" || fail "tail count"
[[ $(field "$work/fallback.out" "digest:") == "$digest" ]] && pass "same digest" || fail "digest differs after fallback"

"$bin" journal replay "${sets[@]}" --digest --no-snapshot >"$work/nosnap.out" 2>&1
expect_exit 0 $? "journal replay --no-snapshot" "$work/nosnap.out"
grep -q '^snapshot: not used' "$work/nosnap.out" && pass "--no-snapshot says so" || fail "--no-snapshot line"
[[ $(field "$work/nosnap.out" "digest:") == "$digest" ]] && pass "same digest" || fail "digest differs"
[[ "$(fingerprint "$data")" == "$before" ]] && pass "replay and verify changed nothing" || fail "files changed"

# --- a crashed engine with a torn tail -----------------------------------------------------------
crashed="$work/crashed"
csets=(--set venue.kind=paper --set "persist.data_dir=$crashed" --set persist.durability=async
       --set load.orders_per_second=300 --set log.level=warn)
timeout -s KILL 3 "$bin" run "${csets[@]}" >"$work/crash_run.out" 2>&1
"$bin" journal dump --data-dir "$crashed" >"$work/dump.out" 2>/dev/null
read -r segment offset < <(tail -1 "$work/dump.out" | python3 -c \
  'import json,sys; r=json.loads(sys.stdin.read()); print(r["segment"], r["offset"])')
clast=$(tail -1 "$work/dump.out" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["seq"])')
if [[ -n "${segment:-}" && -n "${offset:-}" ]]; then
  printf '\xff' | dd of="$crashed/journal/$segment" bs=1 seek=$((offset + 40)) conv=notrunc status=none
  before=$(fingerprint "$crashed")
  "$bin" journal replay "${csets[@]}" --digest >"$work/torn.out" 2>&1
  expect_exit 1 $? "journal replay of a torn tail" "$work/torn.out"
  grep -q "^last sequence: $((clast - 1))$" "$work/torn.out" && pass "replayed up to the torn record" \
    || { fail "last sequence after tear"; cat "$work/torn.out"; }
  grep -q "^stopped at a torn tail in .*$segment at offset $offset" "$work/torn.out" \
    && pass "torn tail reported with file and offset" || fail "torn tail line"
  [[ "$(fingerprint "$crashed")" == "$before" ]] && pass "the torn tail is left as it is" || fail "files changed"
else
  fail "the crashed run left no journal records"
fi

"$bin" journal replay --data-dir "$work/nowhere" --set venue.kind=paper >"$work/none.out" 2>&1
expect_exit 3 $? "journal replay of a missing directory" "$work/none.out"

finish
