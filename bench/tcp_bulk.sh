#!/bin/bash
# Bulk TCP throughput of the engine, with the Linux kernel for scale. Prints
# in one run:
#   1. engine -> kernel and kernel -> engine over a veth (engine on
#      net_af_packet in one namespace, tcp_kernel_peer.py in the other),
#   2. kernel -> kernel over the same kind of veth pair (iperf3 when
#      installed, else tcp_kernel_peer.py at both ends),
#   3. engine -> engine over an in-memory net_ring pair, both engines in one
#      process polled alternately (wskdp-tcp-peer --mode ring-bench).
# Every transfer is one connection whose bytes are verified by the
# receiver. A benchmark, not a test: the figures depend on the machine.
#
# Usage: bench/tcp_bulk.sh BUILD_DIR
# Environment: BENCH_VETH_BYTES (default 200 MB), BENCH_RING_BYTES
# (default 1 GB). Needs root, ip netns, ethtool and python3.
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
peer=$build/tests/wskdp-tcp-peer
kpeer=$here/tests/interop/tcp_kernel_peer.py
veth_bytes=${BENCH_VETH_BYTES:-200000000}
ring_bytes=${BENCH_RING_BYTES:-1000000000}

[ -x "$peer" ] || { echo "$peer is not built"; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }

id=$$
nsA=wdbA$id
nsB=wdbB$id
ifA=wdba$id
ifB=wdbb$id
ipA=10.79.$((id % 254 + 1)).1
ipB=10.79.$((id % 254 + 1)).2
work=$(mktemp -d "${TMPDIR:-/tmp}/wdp-bench.XXXXXX")
bg_pid=

cleanup() {
	if [ -n "$bg_pid" ]; then kill "$bg_pid" 2>/dev/null || true; wait "$bg_pid" 2>/dev/null || true; fi
	ip netns del "$nsA" 2>/dev/null || true
	ip netns del "$nsB" 2>/dev/null || true
	rm -rf "/var/run/dpdk/wdb$id" "$work"
}
trap cleanup EXIT

field() {
	sed -nE "s/.* $1=([^ ]+).*/\1/p" <<<"$2"
}

# A veth pair between two namespaces, offloads off on both ends (af_packet
# needs complete checksums and MTU-sized frames; the kernel-to-kernel run
# gets the same wire for a fair comparison). $1: address the A end too.
veth_up() {
	ip netns del "$nsA" 2>/dev/null || true
	ip netns del "$nsB" 2>/dev/null || true
	ip netns add "$nsA"
	ip netns add "$nsB"
	ip -n "$nsA" link add "$ifA" type veth peer name "$ifB" netns "$nsB"
	ip netns exec "$nsA" sysctl -qw "net.ipv6.conf.$ifA.disable_ipv6=1" 2>/dev/null || true
	ip netns exec "$nsA" ethtool -K "$ifA" tx off tso off gso off gro off >/dev/null
	ip netns exec "$nsB" ethtool -K "$ifB" tx off tso off gso off gro off >/dev/null
	if [ "$1" = yes ]; then ip -n "$nsA" addr add "$ipA/24" dev "$ifA"; fi
	ip -n "$nsB" addr add "$ipB/24" dev "$ifB"
	ip -n "$nsA" link set "$ifA" up
	ip -n "$nsB" link set "$ifB" up
}

eal=(--no-huge -m 512 --no-pci --no-shconf --no-telemetry -l 0
     "--file-prefix=wdb$id" "--vdev=net_af_packet0,iface=$ifA")

# Engine as client in A, Python server in B; $1 direction, $2 port.
engine_kernel() {
	local line
	ip netns exec "$nsB" python3 "$kpeer" --mode server --ip "$ipB" --port "$2" \
		--conns 1 --timeout 120 >"$work/srv.log" 2>&1 &
	bg_pid=$!
	for _ in $(seq 100); do grep -q listening "$work/srv.log" && break; sleep 0.1; done
	ip netns exec "$nsA" "$peer" "${eal[@]}" -- --mode client --ip "$ipA/24" --peer "$ipB" \
		--port "$2" --bytes "$veth_bytes" --direction "$1" --timeout 120 >"$work/cli.log" 2>&1 || true
	wait "$bg_pid" || true
	bg_pid=
	line=$(grep ' port client ' "$work/cli.log" || true)
	if [ "$(field completed "$line")" != 1 ]; then
		cat "$work/cli.log" "$work/srv.log"
		echo "engine $1: failed"
		return
	fi
	printf '%-44s %7s Gb/s  (%s MB in %s s)\n' "$3" "$(field Gb_per_s "$line")" \
		"$((veth_bytes / 1000000))" "$(field secs "$line")"
}

echo "== TCP bulk throughput, one connection, every byte verified =="
veth_up no
engine_kernel up 5101 "engine -> kernel (veth, net_af_packet)"
engine_kernel down 5102 "kernel -> engine (veth, net_af_packet)"

veth_up yes
if command -v iperf3 >/dev/null; then
	ip netns exec "$nsB" iperf3 -s -1 -B "$ipB" -p 5201 >/dev/null 2>&1 &
	bg_pid=$!
	sleep 0.5
	gbps=$(ip netns exec "$nsA" iperf3 -c "$ipB" -p 5201 -n "$veth_bytes" -J 2>/dev/null |
		python3 -c 'import json,sys; print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))')
	wait "$bg_pid" || true
	bg_pid=
	printf '%-44s %7s Gb/s  (iperf3, %s MB)\n' "kernel -> kernel (veth, offloads off)" "$gbps" "$((veth_bytes / 1000000))"
else
	ip netns exec "$nsB" python3 "$kpeer" --mode server --ip "$ipB" --port 5103 --conns 1 \
		--timeout 120 >"$work/srv.log" 2>&1 &
	bg_pid=$!
	sleep 0.5
	line=$(ip netns exec "$nsA" python3 "$kpeer" --mode client --peer "$ipB" --port 5103 \
		--bytes "$veth_bytes" --timeout 120 | grep ' port client ')
	wait "$bg_pid" || true
	bg_pid=
	printf '%-44s %7s Gb/s  (python peer at both ends, %s MB)\n' "kernel -> kernel (veth, offloads off)" \
		"$(field Gb_per_s "$line")" "$((veth_bytes / 1000000))"
fi

line=$("$peer" --no-huge -m 1024 --no-pci --no-shconf --no-telemetry -l 0 -- \
	--mode ring-bench --bytes "$ring_bytes" --timeout 120 2>/dev/null | grep ' ring-bench server ')
printf '%-44s %7s Gb/s  (%s MB in %s s, both engines on one core)\n' \
	"engine -> engine (net_ring, in memory)" "$(field Gb_per_s "$line")" \
	"$((ring_bytes / 1000000))" "$(field secs "$line")"
