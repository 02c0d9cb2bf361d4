#!/bin/bash
# Connections per second: the engine against the engine, and the Linux
# kernel against the kernel, doing the same work on the same two cores:
# connect / 100 B request / 100 B response / close, 64 connections in
# flight (and 256). Plus bulk Gb/s on one connection, engine to engine. Prints one
# table. A benchmark, not a test: the figures depend on the machine and on
# what else runs on it.
#
#   engine: wskdp-gen's embedded run, client shard on lcore 1, server
#           shard on lcore 0, joined by net_ring (in memory);
#   kernel: bench/kernel_cps.c (epoll), server on CPU 0 and client on CPU 1
#           over loopback in a fresh network namespace with tcp_tw_reuse=1
#           and the whole port range.
#
# Each figure is the median of ROUNDS runs (3 unless given), the engine's
# and the kernel's runs taking turns, so that a slow spell of the machine
# does not land on one side only; every run's figure is printed after it.
#
# Usage: bench/cps.sh BUILD_DIR [SECONDS] [ROUNDS]   (needs root for the namespace)
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR [SECONDS] [ROUNDS]}
secs=${2:-5}
rounds=${3:-3}
here=$(cd "$(dirname "$0")" && pwd)
gen=$build/apps/wskdp-gen
work=$(mktemp -d "${TMPDIR:-/tmp}/wdp-cps.XXXXXX")
ns=wdpcps$$
srv_pid=
nr=/proc/sys/vm/nr_hugepages
old_pages=$(cat "$nr")
cleanup() {
	[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	echo "$old_pages" > "$nr" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
# The engine's memory on 2 MB pages, as any DPDK deployment runs (the
# kernel's own memory is mapped with large pages too): wskdp-gen's default
# EAL arguments take hugepages when 256 are free and fall back to 4 KB
# pages otherwise, which costs it 15-30% here in TLB misses. Put back at
# exit.
free_pages=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
if [ "${free_pages:-0}" -lt 256 ]; then
	echo $((old_pages + 256 - ${free_pages:-0})) > "$nr" 2>/dev/null || true
	free_pages=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
fi
if [ "${free_pages:-0}" -ge 256 ]; then
	echo "engine memory: 2 MB hugepages"
else
	echo "engine memory: 4 KB pages (could not reserve 256 hugepages; figures are lower)"
fi
[ -x "$gen" ] || { echo "$gen is not built"; exit 1; }
cc -O2 -Wall -o "$work/kernel_cps" "$here/kernel_cps.c"

json_field() {
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); v=r
for k in sys.argv[2].split("."): v=v[k]
print(v)' "$1" "$2"
}

# One engine run; its connections/s on stdout. A run with failed
# connections is reported on stderr: its figure would not be comparable.
engine() {
	local failed
	"$gen" --duration "$secs" --quiet --json "$work/e.json" "$@" 2>/dev/null
	failed=$(json_field "$work/e.json" connections.failed)
	[ "$failed" = 0 ] || echo "warning: engine run $* had $failed failed connections" >&2
	printf '%.0f\n' "$(json_field "$work/e.json" rate.cps)"
}

kernel() {
	local line
	line=$(ip netns exec "$ns" taskset -c 1 "$work/kernel_cps" client 127.0.0.1 8080 "$1" "$secs")
	grep -q 'failed=0' <<<"$line" || echo "warning: kernel run: $line" >&2
	sed -nE 's/.*cps=([0-9]+).*/\1/p' <<<"$line"
}

median() {
	python3 -c 'import statistics,sys; print("%.3f" % statistics.median(map(float, sys.argv[1:])))' "$@"
}

# label, unit format, then the runs' figures.
report() {
	local label=$1 fmt=$2
	shift 2
	printf "%-48s $fmt  (runs: %s)\n" "$label" "$(median "$@")" "$*"
}

ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" sysctl -qw net.ipv4.tcp_tw_reuse=1
ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
ip netns exec "$ns" taskset -c 0 "$work/kernel_cps" server 8080 >"$work/srv.log" 2>&1 &
srv_pid=$!
sleep 0.5

# Two depths, the same for both sides: the kernel does a little better at
# 64 connections in flight, the engine at 256 (bigger bursts per pass).
for inflight in 64 256; do
	echo "== connect / 100 B request / 100 B response / close, $inflight in flight, $secs s each, median of $rounds =="
	plain=() tfo=() kern=()
	for _ in $(seq "$rounds"); do
		plain+=("$(engine --concurrency "$inflight")")
		tfo+=("$(engine --concurrency "$inflight" --tfo)")
		kern+=("$(kernel "$inflight")")
	done
	report "engine -> engine (net_ring, lcores 1 + 0)" '%12.0f conn/s' "${plain[@]}"
	report "engine -> engine with TCP Fast Open" '%12.0f conn/s' "${tfo[@]}"
	report "kernel -> kernel (loopback, CPUs 1 + 0)" '%12.0f conn/s' "${kern[@]}"
	python3 -c 'import sys; e,t,k=map(float,sys.argv[1:]); print("%-48s %12.1fx plain, %.1fx with TFO (target 20x)" % ("ratio of the medians, engine / kernel", e/k, t/k))' \
		"$(median "${plain[@]}")" "$(median "${tfo[@]}")" "$(median "${kern[@]}")"
done

echo "== bulk, one connection, $secs s each, median of $rounds =="
# 65535: the in-memory link sized as Linux sizes loopback (its lo MTU is
# 65536), the like-for-like comparison with a kernel on one host.
for mtu in 1500 9000 65535; do
	gbps=()
	for _ in $(seq "$rounds"); do
		"$gen" --duration "$secs" --quiet --bulk --concurrency 1 --mtu "$mtu" --json "$work/b.json" 2>/dev/null
		gbps+=("$(printf '%.3f' "$(json_field "$work/b.json" rate.tx_gbps)")")
	done
	report "engine -> engine bulk, MTU $mtu" '%12.3f Gb/s payload, target 20' "${gbps[@]}"
done
