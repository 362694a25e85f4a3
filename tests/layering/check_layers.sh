#!/usr/bin/env bash
# The project's layering, checked from the sources: which top-level folders the code in each
# folder may include (#include "folder/..."). Data flows one way; a lower layer never includes a
# higher one. Usage: check_layers.sh [ROOT] — exits 1 and names every offending line.
#
#   common   — the bottom: JSON text, base64, the WebSocket outbox; includes no other project folder
#   engine   — trading state and the strategy API; only itself
#   persist  — journal, snapshots, backups of the engine's state; common, engine
#   gateway  — venues (Capital.com client, paper) and client ports; common, engine
#   feeds    — market data; common, engine, and gateway (the Capital.com protocol and TLS)
#   sim      — the broker simulator, an independent check of the protocol: common only
#   app      — wires everything; tests/ and bench/ may include anything
set -euo pipefail

root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
declare -A allowed=(
  [common]="common"
  [engine]="engine"
  [persist]="common engine persist"
  [gateway]="common engine gateway"
  [feeds]="common engine feeds gateway"
  [sim]="common sim"
)
project_folders="app bench common engine feeds gateway persist sim tests tuning"

violations=0
for layer in "${!allowed[@]}"; do
  [[ -d "$root/$layer" ]] || continue
  while IFS= read -r hit; do
    file=${hit%%:*}
    rest=${hit#*:}
    line=${rest%%:*}
    target=$(sed -E 's/^[^"]*#[[:space:]]*include[[:space:]]*"([^/"]+)\/.*/\1/' <<<"${rest#*:}")
    [[ " $project_folders " == *" $target "* ]] || continue  # a third-party header
    if [[ " ${allowed[$layer]} " != *" $target "* ]]; then
      echo "${file#"$root"/}:$line: $layer/ may not include $target/ (allowed: ${allowed[$layer]})"
      violations=$((violations + 1))
    fi
  done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^/"]+/' "$root/$layer" \
             --include='*.hpp' --include='*.cpp' --include='*.h' --include='*.inc' || true)
done

if ((violations > 0)); then
  echo "check_layers: $violations include(s) against the layering"
  exit 1
fi
echo "check_layers: every include follows the layering"
