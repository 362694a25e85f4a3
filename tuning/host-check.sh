#!/usr/bin/env bash
# Read-only host check for running quanttrading: prints what the host offers for low latency
# (cores, isolated CPUs, frequency governor, transparent huge pages, huge pages, NUMA, relevant
# sysctls) and advises which [engine] threading mode to configure. Changes nothing.
# See tuning/README.md for what to do about each line.
#
# Usage: tuning/host-check.sh
set -uo pipefail

read_file() { # read_file PATH [DEFAULT]: first line of PATH, or DEFAULT (n/a) when unreadable/empty
  local v default=n/a
  [[ $# -ge 2 ]] && default=$2
  v=$(head -n1 "$1" 2>/dev/null) || v=""
  if [[ -n $v ]]; then printf '%s' "$v"; else printf '%s' "$default"; fi
}
sysctl_val() { sysctl -n "$1" 2>/dev/null || echo "n/a"; }
row() { printf '  %-34s %s\n' "$1" "$2"; }

# Expands a CPU list such as "2-3,6" to a count.
cpu_list_count() {
  local list=$1 n=0 part a b
  [[ -z $list || $list == n/a ]] && { echo 0; return; }
  IFS=',' read -ra parts <<<"$list"
  for part in "${parts[@]}"; do
    if [[ $part == *-* ]]; then
      a=${part%-*}; b=${part#*-}; n=$((n + b - a + 1))
    else
      n=$((n + 1))
    fi
  done
  echo "$n"
}

echo "quanttrading host check ($(uname -n), kernel $(uname -r))"
echo

echo "CPU"
online_cores=$(nproc --all 2>/dev/null || getconf _NPROCESSORS_ONLN)
usable_cores=$(nproc 2>/dev/null || echo "$online_cores")
model=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
row "model" "${model:-n/a}"
row "online CPUs / usable by us" "$online_cores / $usable_cores (affinity mask: $(taskset -pc $$ 2>/dev/null | sed 's/.*: //' || echo n/a))"
threads_per_core=$(lscpu 2>/dev/null | awk -F: '/^Thread\(s\) per core/{gsub(/ /,"",$2); print $2}')
row "threads per core (SMT)" "${threads_per_core:-n/a}"
isolated=$(read_file /sys/devices/system/cpu/isolated "")
isolated_count=$(cpu_list_count "$isolated")
row "isolated CPUs (isolcpus)" "${isolated:-none}"
row "nohz_full CPUs" "$(read_file /sys/devices/system/cpu/nohz_full none)"
if [[ -r /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor ]]; then
  govs=$(cat /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor 2>/dev/null | sort | uniq -c | awk '{printf "%s%s x%s", sep, $2, $1; sep=", "}')
  row "frequency governor" "$govs"
else
  row "frequency governor" "not exposed (VM or no cpufreq driver)"
fi
if [[ -d /sys/devices/system/cpu/cpu0/cpuidle ]]; then
  row "deepest C-state (cpu0)" "$(cat /sys/devices/system/cpu/cpu0/cpuidle/state*/name 2>/dev/null | tail -n1)"
fi
row "clocksource" "$(read_file /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo

echo "Memory"
row "transparent huge pages" "$(read_file /sys/kernel/mm/transparent_hugepage/enabled)"
row "THP defrag" "$(read_file /sys/kernel/mm/transparent_hugepage/defrag)"
row "huge pages (total/free, size)" "$(awk '/^HugePages_Total/{t=$2} /^HugePages_Free/{f=$2} /^Hugepagesize/{s=$2" "$3} END{print t"/"f", "s}' /proc/meminfo)"
shopt -s nullglob
node_dirs=(/sys/devices/system/node/node[0-9]*)
shopt -u nullglob
numa_nodes=${#node_dirs[@]}
if [[ $numa_nodes -gt 0 ]]; then
  nodes=""
  for n in "${node_dirs[@]}"; do
    nodes+="${nodes:+; }$(basename "$n"): cpus $(read_file "$n/cpulist")"
  done
  row "NUMA nodes" "$numa_nodes ($nodes)"
else
  row "NUMA nodes" "not exposed"
fi
row "vm.swappiness" "$(sysctl_val vm.swappiness)"
row "kernel.numa_balancing" "$(sysctl_val kernel.numa_balancing)"
echo

echo "Kernel / network"
row "kernel.perf_event_paranoid" "$(sysctl_val kernel.perf_event_paranoid) (<= 1 lets perf profile without root)"
row "kernel.kptr_restrict" "$(sysctl_val kernel.kptr_restrict)"
row "kernel.sched_rt_runtime_us" "$(sysctl_val kernel.sched_rt_runtime_us)"
row "net.core.busy_poll / busy_read" "$(sysctl_val net.core.busy_poll) / $(sysctl_val net.core.busy_read) (us)"
row "net.ipv4.tcp_low_latency" "$(sysctl_val net.ipv4.tcp_low_latency)"
row "net.core.rmem_max / wmem_max" "$(sysctl_val net.core.rmem_max) / $(sysctl_val net.core.wmem_max)"
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet irqbalance 2>/dev/null; then
  row "irqbalance" "running (ban the trading cores: IRQBALANCE_BANNED_CPULIST)"
elif pgrep -x irqbalance >/dev/null 2>&1; then
  row "irqbalance" "running (ban the trading cores: IRQBALANCE_BANNED_CPULIST)"
else
  row "irqbalance" "not running"
fi
row "memlock limit (ulimit -l)" "$(ulimit -l)"
echo

echo "Advice ([engine] threading in the configuration; see tuning/README.md)"
# The dedicated mode runs the engine, feed and venue agents on their own threads (three busy
# threads when they spin). It pays off only when each can own a core: >= 4 usable cores
# (one left for the OS, IRQs and I/O threads) or isolated cores set aside for it.
if [[ $isolated_count -ge 1 ]]; then
  echo "  threading = \"dedicated\": $isolated_count isolated CPU(s) ($isolated)."
  echo "  Pin [threads.engine] and [threads.feed]/[threads.venue] to isolated CPUs (cpu = N),"
  echo "  wait = \"spin\" on the engine thread, and keep IRQs off those CPUs."
elif [[ $usable_cores -ge 4 ]]; then
  echo "  threading = \"dedicated\" is reasonable: $usable_cores usable cores, none isolated."
  echo "  Without isolcpus other tasks still share those cores: prefer wait = \"park\" or"
  echo "  \"yield\" unless you isolate cores (README: isolcpus/nohz_full) and pin."
else
  echo "  threading = \"shared\": only $usable_cores usable core(s) and ${isolated_count} isolated."
  echo "  Cross-core hops and wake-ups cost more than the work here: run the stages on one thread"
  echo "  and keep wait = \"park\" so the host stays responsive. Measure both modes (make bench)."
fi
if [[ ${threads_per_core:-1} =~ ^[0-9]+$ && ${threads_per_core:-1} -gt 1 ]]; then
  echo "  SMT is on: do not pin two hot threads to sibling hyperthreads (lscpu -e shows CORE)."
fi
if [[ $(read_file /sys/kernel/mm/transparent_hugepage/enabled) == *"[always]"* ]]; then
  echo "  THP is 'always': consider 'madvise' to avoid compaction stalls (README: huge pages)."
fi
echo
echo "This script only reads; nothing was changed."
