#!/usr/bin/env bash
# End-to-end checks of the quanttrading binary as a user runs it.
# Usage: quanttrading_cli_test.sh PATH_TO_QUANTTRADING
set -uo pipefail
bin="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# 1. A timed run exits 0 and its summary shows quotes, orders sent and filled, and P&L.
"$bin" run --duration 4 >"$work/run.out" 2>&1
rc=$?
if [[ $rc -eq 0 ]]; then pass "run --duration 4 exits 0"; else fail "run exited $rc"; cat "$work/run.out"; fi
summary=$(grep -A20 'summary:' "$work/run.out")
quotes=$(sed -n 's/.*quotes processed=\([0-9]*\).*/\1/p' <<<"$summary")
sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' <<<"$summary")
filled=$(sed -n 's/.*filled=\([0-9]*\).*/\1/p' <<<"$summary")
[[ ${quotes:-0} -gt 1000 ]] && pass "summary: quotes processed=$quotes" || fail "quotes processed='$quotes'"
[[ ${sent:-0} -gt 0 ]] && pass "summary: orders sent=$sent" || fail "orders sent='$sent'"
[[ ${filled:-0} -gt 0 ]] && pass "summary: orders filled=$filled" || fail "orders filled='$filled'"
grep -q 'total P&L=' <<<"$summary" && pass "summary shows P&L" || fail "no P&L in summary"
grep -q 'live orders at exit=0' <<<"$summary" && pass "open orders cancelled at exit" || fail "orders left open at exit"
status_lines=$(grep -c 'quotes/s=' "$work/run.out")
[[ $status_lines -ge 3 ]] && pass "$status_lines status lines" || fail "only $status_lines status lines"

# 2. SIGTERM stops a run cleanly with exit 0 and a summary.
"$bin" run >"$work/sig.out" 2>&1 &
pid=$!
sleep 2
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

echo "$failures failed"
[[ $failures -eq 0 ]]
