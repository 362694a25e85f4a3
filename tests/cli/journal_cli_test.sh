#!/usr/bin/env bash
# `quanttrading journal dump | verify | stats` on journals written by journal_fixture_writer:
# exit codes (verify: 0 clean, 1 torn tail, 2 corruption; 3 unreadable), output, filters, and
# that verify never modifies what it reads.
# Usage: journal_cli_test.sh PATH_TO_QUANTTRADING PATH_TO_JOURNAL_FIXTURE_WRITER
# shellcheck source=tests/cli/test_lib.sh
source "$(dirname "$0")/test_lib.sh"
bin="$1"
fixture="$2"
require_executables "$bin" "$fixture"

# --- a clean journal -------------------------------------------------------------------------
mkdir -p "$work/clean/journal"
"$fixture" "$work/clean/journal" clean || { fail "fixture writer (clean)"; exit 1; }

"$bin" journal verify --data-dir "$work/clean" >"$work/verify.out" 2>&1
expect_exit 0 $? "verify of a clean journal"
grep -q 'verdict: clean' "$work/verify.out" && pass "verify says clean" || { fail "no clean verdict"; cat "$work/verify.out"; }
grep -q 'sequences 1\.\.' "$work/verify.out" && pass "verify lists segments" || fail "no segment lines"

# Without --data-dir, the journal is <persist.data_dir>/journal of the configuration.
"$bin" journal verify --set "persist.data_dir=$work/clean" >"$work/verify_cfg.out" 2>&1
expect_exit 0 $? "verify with persist.data_dir from --set"
grep -q "journal $work/clean/journal" "$work/verify_cfg.out" && pass "default dir from the config" \
  || { fail "config dir not used"; cat "$work/verify_cfg.out"; }

"$bin" journal dump --data-dir "$work/clean" >"$work/dump.out" 2>"$work/dump.err"
expect_exit 0 $? "dump"
lines=$(wc -l <"$work/dump.out")
[[ $lines -eq 2000 ]] && pass "dump prints 2000 records" || fail "dump printed $lines lines"
if python3 - "$work/dump.out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["seq"] for r in rows] == list(range(1, 2001)), "sequences not dense"
for r in rows:
    assert set(r) == {"seq", "ts", "type", "segment", "offset", "payload"}, r
    assert r["segment"].startswith("segment-") and r["segment"].endswith(".qtj"), r
    assert isinstance(r["payload"], dict), r
fills = [r for r in rows if r["type"] == "venue_event"]
assert fills and fills[0]["payload"]["kind"] == "fill" and "fill_price" in fills[0]["payload"]
PY
then pass "dump lines are JSON with seq/ts/type/segment/offset/payload"; else fail "dump JSON"; fi

"$bin" journal dump --data-dir "$work/clean" --type order_received >"$work/type.out"
n=$(wc -l <"$work/type.out"); others=$(grep -vc '"type":"order_received"' "$work/type.out")
[[ $n -eq 250 && $others -eq 0 ]] && pass "--type order_received: 250 records" || fail "--type: $n lines, $others of another type"

# Sample record 17 is order_received with order id 17; records 19, 20 and 21 (sent to venue,
# fill, cancel) are about order 17 too.
"$bin" journal dump --data-dir "$work/clean" --order-id 17 >"$work/order.out"
if python3 - "$work/order.out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows, "nothing for order 17"
assert any(r["type"] == "order_received" and r["seq"] == 17 for r in rows), rows
for r in rows:
    p = r["payload"]
    assert 17 in (p.get("order_id"), p.get("requested_order_id")), r
PY
then pass "--order-id 17 finds only order 17's records"; else fail "--order-id"; fi

"$bin" journal dump --data-dir "$work/clean" --from-seq 1990 >"$work/from.out"
n=$(wc -l <"$work/from.out"); first=$(head -1 "$work/from.out" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["seq"])')
[[ $n -eq 11 && $first -eq 1990 ]] && pass "--from-seq 1990: 11 records from 1990" || fail "--from-seq: $n lines, first $first"

"$bin" journal dump --data-dir "$work/clean" --type no_such_type >/dev/null 2>"$work/badtype.err"
expect_exit 3 $? "dump --type no_such_type"
grep -q 'order_received' "$work/badtype.err" && pass "unknown type lists the known ones" || fail "no type list"

"$bin" journal stats --data-dir "$work/clean" >"$work/stats.out" 2>&1
expect_exit 0 $? "stats"
for want in 'records: 2000' 'sequences: 1\.\.2000' 'order_received +250' 'venue_event +250' 'time span: ' 'damage: none'; do
  grep -Eq "$want" "$work/stats.out" && pass "stats shows '$want'" || { fail "stats lacks '$want'"; cat "$work/stats.out"; }
done

# --- a torn tail: reported, exit 1, nothing modified ------------------------------------------
mkdir -p "$work/torn/journal"
read -r torn_file torn_offset < <("$fixture" "$work/torn/journal" torn)
before=$(cd "$work/torn/journal" && sha256sum * | sort)
"$bin" journal verify --data-dir "$work/torn" >"$work/torn.out" 2>&1
expect_exit 1 $? "verify of a torn tail"
grep -q "TORN TAIL in .*$torn_file at offset $torn_offset: bad CRC" "$work/torn.out" \
  && pass "torn tail reported with file and offset ($torn_file @ $torn_offset)" \
  || { fail "torn tail report"; cat "$work/torn.out"; }
after=$(cd "$work/torn/journal" && sha256sum * | sort)
[[ "$before" == "$after" ]] && pass "verify did not modify the journal" || fail "verify changed files"
"$bin" journal dump --data-dir "$work/torn" >"$work/torn_dump.out" 2>"$work/torn_dump.err"
expect_exit 1 $? "dump stopping at a torn tail"
n=$(wc -l <"$work/torn_dump.out")
[[ $n -eq 1999 ]] && pass "dump printed the 1999 good records" || fail "dump printed $n"
grep -q "offset $torn_offset" "$work/torn_dump.err" && pass "dump names where it stopped" || fail "dump stderr"

# --- corruption in a sealed segment: exit 2 ----------------------------------------------------
mkdir -p "$work/corrupt/journal"
read -r bad_file bad_offset < <("$fixture" "$work/corrupt/journal" corrupt)
"$bin" journal verify --data-dir "$work/corrupt" >"$work/corrupt.out" 2>&1
expect_exit 2 $? "verify of a corrupt sealed segment"
grep -q "CORRUPTION in .*$bad_file at offset $bad_offset" "$work/corrupt.out" \
  && pass "corruption reported with file and offset ($bad_file @ $bad_offset)" \
  || { fail "corruption report"; cat "$work/corrupt.out"; }
"$bin" journal stats --data-dir "$work/corrupt" >"$work/corrupt_stats.out" 2>&1
expect_exit 2 $? "stats of a corrupt journal"

# --- no journal at all --------------------------------------------------------------------------
"$bin" journal verify --data-dir "$work/nowhere" >"$work/missing.out" 2>&1
expect_exit 3 $? "verify of a missing directory"
grep -q 'does not exist' "$work/missing.out" && pass "missing directory explained" || fail "missing dir message"

finish
