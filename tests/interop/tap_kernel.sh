#!/bin/bash
# What it checks: wskdp-gen on a net_tap port answers the kernel's ARP and
# ping with no loss. The tap lives in a namespace this test creates, where
# the kernel side of the tap gets an address; everything is removed at exit.
# Assumes root and network namespaces; exits 77 saying why otherwise.
set -euo pipefail
gen=$1
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for namespaces and tap devices"; exit 77; }
command -v ping >/dev/null || { echo "SKIP: ping is not installed"; exit 77; }
ns=wdpT$$
tap=wdptap$$
net=10.78.$(($$ % 254 + 1))
log=$(mktemp)
prefix=wdpt$$
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$log" "/var/run/dpdk/$prefix"
}
trap cleanup EXIT
ip netns add "$ns" 2>/dev/null || { echo "SKIP: cannot create a network namespace"; exit 77; }
ip -n "$ns" link set lo up

ip netns exec "$ns" "$gen" --no-huge -m 256 --no-pci --file-prefix="$prefix" -l 0 \
	--vdev="net_tap0,iface=$tap" -- --ip "$net.1/24" --mac 02:77:64:70:74:01 \
	--duration 60 >"$log" 2>&1 &
pid=$!
for _ in $(seq 150); do
	grep -q "serving $net.1/24" "$log" && break
	kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "FAIL: engine exited"; exit 1; }
	sleep 0.1
done
grep -q "serving $net.1/24" "$log" || { cat "$log"; echo "FAIL: engine not serving"; exit 1; }
# The tap appears once the port starts; give its kernel side the peer
# address. Its kernel side carries the DPDK port's own MAC, which is why the
# engine runs with --mac: it would (rightly) drop ARP from its own address.
for _ in $(seq 50); do ip -n "$ns" link show "$tap" >/dev/null 2>&1 && break; sleep 0.1; done
ip -n "$ns" addr add "$net.2/24" dev "$tap"
ip -n "$ns" link set "$tap" up
up=0
for _ in $(seq 30); do
	if ip netns exec "$ns" ping -c1 -W1 "$net.1" >/dev/null 2>&1; then up=1; break; fi
done
[ "$up" -eq 1 ] || { cat "$log"; echo "FAIL: no first ping reply over the tap"; exit 1; }
out=$(ip netns exec "$ns" ping -c 50 -i 0.02 -w 15 "$net.1")
grep -q "50 packets transmitted, 50 received, 0% packet loss" <<<"$out" ||
	{ echo "$out"; cat "$log"; echo "FAIL: loss over the tap"; exit 1; }
echo "ok: 50 pings over net_tap, 0% loss"
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
[ "$rc" -eq 0 ] || { cat "$log"; echo "FAIL: engine exit status $rc"; exit 1; }
grep -q icmp_echo_replies "$log" || { cat "$log"; echo "FAIL: no echo counter printed"; exit 1; }
echo "ok: engine exited 0 and counted its echo replies"
