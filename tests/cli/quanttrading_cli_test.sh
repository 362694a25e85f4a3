#!/usr/bin/env bash
# End-to-end checks of the quanttrading binary as a user runs it.
# Usage: quanttrading_cli_test.sh PATH_TO_QUANTTRADING
# shellcheck source=tests/cli/test_lib.sh
source "$(dirname "$0")/test_lib.sh"
bin="$1"
# wait_for FILE PATTERN: until FILE has a line matching PATTERN (up to 60 s: sanitizer builds
# start slowly, more so beside other tests); a fixed sleep made the checks below race start-up.
wait_for() {
  for _ in $(seq 600); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for '$2' in $1"
  return 1
}
# Runs journal into the test's own data directory, never the caller's ./data.
export QT_PERSIST_DATA_DIR="$work/data"

# 1. A timed run exits 0 and its summary shows quotes, orders sent and filled, and P&L.
"$bin" run --duration 4 >"$work/run.out" 2>&1
rc=$?
if [[ $rc -eq 0 ]]; then pass "run --duration 4 exits 0"; else fail "run exited $rc"; cat "$work/run.out"; fi
summary=$(grep -A20 'summary:' "$work/run.out")
quotes=$(sed -n 's/.*quotes processed=\([0-9]*\).*/\1/p' <<<"$summary")
sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' <<<"$summary")
filled=$(sed -n 's/.*filled=\([0-9]*\).*/\1/p' <<<"$summary")
[[ ${quotes:-0} -gt 100 ]] && pass "summary: quotes processed=$quotes" || fail "quotes processed='$quotes'"
[[ ${sent:-0} -gt 0 ]] && pass "summary: orders sent=$sent" || fail "orders sent='$sent'"
[[ ${filled:-0} -gt 0 ]] && pass "summary: orders filled=$filled" || fail "orders filled='$filled'"
grep -q 'total P&L=' <<<"$summary" && pass "summary shows P&L" || fail "no P&L in summary"
grep -q 'live orders at exit=0' <<<"$summary" && pass "open orders cancelled at exit" || fail "orders left open at exit"
status_lines=$(grep -c 'quotes/s=' "$work/run.out")
[[ $status_lines -ge 3 ]] && pass "$status_lines status lines" || fail "only $status_lines status lines"

grep -q 'built-in Capital.com simulator' "$work/run.out" && pass "run says it trades against the simulator" \
  || fail "run does not say it runs against the simulator"
grep -Eq 'allocator: (glibc malloc|mimalloc [0-9.]+ \(active)' "$work/run.out" \
  && pass "run names its allocator: $(grep -o 'allocator: .*' "$work/run.out")" \
  || fail "no allocator line, or mimalloc linked but not active"

# 1b. The paper venue (no network at all) still runs.
"$bin" run --duration 2 --set venue.kind=paper >"$work/paper.out" 2>&1
rc=$?
paper_quotes=$(sed -n 's/.*quotes processed=\([0-9]*\).*/\1/p' "$work/paper.out")
[[ $rc -eq 0 && ${paper_quotes:-0} -gt 1000 ]] && pass "paper venue run: quotes processed=$paper_quotes" \
  || { fail "paper venue run exited $rc"; cat "$work/paper.out"; }

# 1c. The journal survives a restart: a second paper run recovers the first run's records and
#     continues their sequence; a second engine on the same data directory is refused.
"$bin" run --duration 2 --set venue.kind=paper >"$work/paper2.out" 2>&1
rc=$?
recovered=$(sed -n 's/.* + \([0-9]*\) records replayed.*/\1/p' "$work/paper2.out")
[[ $rc -eq 0 && ${recovered:-0} -gt 0 ]] && pass "second paper run recovered $recovered journal records" \
  || { fail "second paper run: exit $rc, recovered '${recovered}'"; cat "$work/paper2.out"; }
"$bin" run --duration 6 --set venue.kind=paper >"$work/holder.out" 2>&1 &
holder=$!
wait_for "$work/holder.out" 'journal: .* recovered'  # logged once the data directory is held
"$bin" run --duration 1 --set venue.kind=paper >"$work/second.out" 2>&1
rc=$?
[[ $rc -ne 0 ]] && grep -q "held by a running engine (pid $holder)" "$work/second.out" \
  && pass "a second engine on the same data directory is refused, naming pid $holder" \
  || { fail "second engine on a held data directory: exit $rc"; cat "$work/second.out"; }
wait $holder

# 1d. The [persist] snapshot policy from the config is applied: snapshots every 0.2 s keep the
#     newest persist.snapshot_keep of them (2, then 5; the default would be 3).
for keep in 2 5; do
  rm -rf "$work/keep$keep"
  QT_PERSIST_DATA_DIR="$work/keep$keep" "$bin" run --duration 3 --set venue.kind=paper \
    --set persist.snapshot_interval_seconds=0.2 --set persist.snapshot_keep=$keep \
    >"$work/keep$keep.out" 2>&1
  kept=$(find "$work/keep$keep/snapshots" -name 'snapshot-*.qts' 2>/dev/null | wc -l)
  [[ $kept -eq $keep ]] && pass "persist.snapshot_keep=$keep keeps $kept snapshots" \
    || { fail "persist.snapshot_keep=$keep kept $kept snapshots"; tail -5 "$work/keep$keep.out"; }
done

# 2. SIGTERM stops a run cleanly with exit 0 and a summary.
"$bin" run >"$work/sig.out" 2>&1 &
pid=$!
wait_for "$work/sig.out" 'engine ready'
kill -TERM $pid
wait $pid
rc=$?
[[ $rc -eq 0 ]] && pass "SIGTERM exits 0" || fail "SIGTERM exit code $rc"
grep -q 'received SIGTERM' "$work/sig.out" && grep -q 'summary:' "$work/sig.out" \
  && pass "SIGTERM prints a summary" || fail "no summary after SIGTERM"

# 3. JSON log lines parse as JSON.
"$bin" run --duration 2 --log-format json >"$work/json.out" 2>&1
if python3 -c '
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert lines, "no output"
for l in lines: json.loads(l)
' "$work/json.out"; then pass "--log-format json emits JSON lines"; else fail "invalid JSON lines"; fi

# 4. show-config reports every error at once, with the key, and exits non-zero.
cat >"$work/bad.toml" <<'TOML'
[risk]
max_order_notional = -5.0
trading_state = "sideways"
[engine]
threading = "many"
TOML
"$bin" show-config --config "$work/bad.toml" >"$work/bad.out" 2>&1
rc=$?
[[ $rc -ne 0 ]] && pass "bad config exits $rc" || fail "bad config exited 0"
for key in risk.max_order_notional risk.trading_state engine.threading; do
  grep -q "$key" "$work/bad.out" && pass "error names $key" || fail "error does not name $key"
done

# 5. Environment and --set override; secrets are masked.
out=$(QT_RISK_MAX_ORDERS_PER_SECOND=7 QT_CAPITAL_PASSWORD=hunter2-secret "$bin" show-config --set feed.seed=99)
grep -q 'max_orders_per_second = 7' <<<"$out" && pass "env override applied" || fail "env override missing"
grep -q 'seed = 99' <<<"$out" && pass "--set override applied" || fail "--set override missing"
grep -q 'hunter2-secret' <<<"$out" && fail "secret printed by show-config" || pass "secret masked"

# 5b. One flag names the data directory wherever one is meant, and every --help shows it.
for command in "run" "show-config" "journal dump" "journal verify" "journal stats" "journal replay" \
               "snapshot verify" "backup" "restore"; do
  # shellcheck disable=SC2086
  "$bin" $command --help 2>&1 | grep -q -- '--data-dir' && pass "$command --help shows --data-dir" \
    || fail "$command --help lacks --data-dir"
done
"$bin" show-config --data-dir "$work/flagdir" | grep -q "data_dir = \"$work/flagdir\"" \
  && pass "--data-dir overrides persist.data_dir (and QT_PERSIST_DATA_DIR)" || fail "show-config --data-dir"
"$bin" run --duration 1 --set venue.kind=paper --data-dir "$work/flagdir" >"$work/flagdir.out" 2>&1
[[ -d "$work/flagdir/journal" ]] && pass "run --data-dir journals there" \
  || { fail "run --data-dir"; cat "$work/flagdir.out"; }

# 6. check-capital: against the built-in simulator (no credentials), against a separately started
#    `quanttrading sim`, and against that simulator with wrong credentials or injected faults.
"$bin" check-capital --stream-seconds 2 --place-test-order >"$work/check.out" 2>&1
rc=$?
[[ $rc -eq 0 ]] && grep -q 'all steps passed' "$work/check.out" \
  && pass "check-capital against the built-in simulator (with a test order)" \
  || { fail "check-capital against the built-in simulator exited $rc"; cat "$work/check.out"; }

start_sim() {  # start_sim NAME ARGS...: starts `quanttrading sim` on a free port, sets $port
  local name=$1; shift
  "$bin" sim --port 0 --tls --write-ca "$work/$name-ca.pem" --always-open --duration 60 "$@" \
    >"$work/$name.out" 2>&1 &
  sim_pid=$!
  port=""
  for _ in $(seq 100); do
    port=$(grep -o 'https://127.0.0.1:[0-9]*' "$work/$name.out" 2>/dev/null | head -1 | sed 's/.*://')
    [[ -n "$port" ]] && return 0
    sleep 0.1
  done
  fail "quanttrading sim $name did not start"; cat "$work/$name.out"; return 1
}
check_against() {  # check_against NAME PASSWORD: runs check-capital against the started sim
  CAPITAL_DEMO_URL="https://127.0.0.1:$port" CAPITAL_STREAM_URL="wss://127.0.0.1:$port/connect" \
    CAPITAL_CA_FILE="$work/$1-ca.pem" CAPITAL_API_KEY=sim-api-key \
    CAPITAL_IDENTIFIER=sim@example.com CAPITAL_PASSWORD="$2" \
    "$bin" check-capital --stream-seconds 2 >"$work/check-$1.out" 2>&1
}

if start_sim plain; then
  check_against plain sim-password; rc=$?
  [[ $rc -eq 0 ]] && pass "check-capital against quanttrading sim" \
    || { fail "check-capital against quanttrading sim exited $rc"; cat "$work/check-plain.out"; }
  check_against plain not-the-password; rc=$?
  if [[ $rc -ne 0 ]] && grep -q 'invalid identifier or password' "$work/check-plain.out"; then
    pass "wrong password: exit $rc with a clear reason"
  else
    fail "wrong password: exit $rc"; cat "$work/check-plain.out"
  fi
  grep -q 'not-the-password' "$work/check-plain.out" && fail "password echoed" || pass "password not echoed"
  kill $sim_pid 2>/dev/null; wait $sim_pid 2>/dev/null
fi
if start_sim faulty --error-rate 1.0; then
  check_against faulty sim-password; rc=$?
  if [[ $rc -ne 0 ]] && grep -q 'FAIL' "$work/check-faulty.out"; then
    pass "faulty simulator (--error-rate 1.0): exit $rc, $(grep -m1 FAIL "$work/check-faulty.out" | cut -c1-90)"
  else
    fail "faulty simulator: exit $rc"; cat "$work/check-faulty.out"
  fi
  kill $sim_pid 2>/dev/null; wait $sim_pid 2>/dev/null
fi

finish
