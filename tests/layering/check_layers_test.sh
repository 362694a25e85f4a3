#!/usr/bin/env bash
# check_layers.sh must refuse a tree that breaks the layering and name the line: a planted
# engine → persist include, a sim → gateway include; and accept the same tree without them.
set -euo pipefail

checker="$(cd "$(dirname "$0")" && pwd)/check_layers.sh"
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/engine" "$tree/persist" "$tree/sim"
printf '#include <vector>\n#include "absl/status/status.h"\n#include "engine/types.hpp"\n' \
  >"$tree/engine/ok.hpp"
printf '#include "engine/types.hpp"\n' >"$tree/persist/ok.cpp"
printf '// x\n#include "persist/journal.hpp"\n' >"$tree/engine/bad.cpp"
printf '#include "gateway/capital/protocol.hpp"\n' >"$tree/sim/bad.cpp"

if output=$("$checker" "$tree"); then
  echo "FAIL: the checker accepted a tree with two violations:"
  echo "$output"
  exit 1
fi
for expected in "engine/bad.cpp:2: engine/ may not include persist/" \
                "sim/bad.cpp:1: sim/ may not include gateway/"; do
  if ! grep -qF "$expected" <<<"$output"; then
    echo "FAIL: expected '$expected' in:"
    echo "$output"
    exit 1
  fi
done
rm "$tree/engine/bad.cpp" "$tree/sim/bad.cpp"
"$checker" "$tree"
echo "PASS: violations named, clean tree accepted"
