#!/bin/bash
# Proves the engine's L2/L3 against the Linux kernel: through a veth into a
# network namespace, the kernel resolves the engine with ARP, stores its MAC,
# pings it without loss, and the engine's telemetry and exit counters agree.
#
# Usage: l2l3_kernel.sh PATH/TO/wskdp-gen
# Needs root, ip netns, veth, ping (iputils-ping), arping and python3; exits
# 77 (skipped) without them. Everything it creates is named after its PID and
# removed on every exit path.
#
# To look at a running engine by hand, DPDK's own client reads the same
# socket (dpdk-dev installs it):
#   echo /wskdp/stats | dpdk-telemetry.py -f wdp<PID>
set -euo pipefail

gen=${1:?usage: $0 PATH/TO/wskdp-gen}

. "$(dirname "$0")/lib.sh"

[ -x "$gen" ] || fail "$gen is not an executable"
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces and veth)"
for tool in ip ping arping python3; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done
ip netns list >/dev/null 2>&1 || skip "ip netns is not available"

id=$$
ns_eng=wdpE$id
ns_ker=wdpK$id
if_eng=wdpe$id
if_ker=wdpk$id
prefix=wdp$id
# Addresses live only inside the two namespaces; deriving the subnet from
# the PID keeps parallel runs readable in captures, not just correct.
net=10.77.$((id % 254 + 1))
eng_ip=$net.1
ker_ip=$net.2
sock=/var/run/dpdk/$prefix/dpdk_telemetry.v2
log=$(mktemp "${TMPDIR:-/tmp}/wdp-l2l3.XXXXXX")

created_eng=false
created_ker=false
engine_pid=

cleanup() {
	local rc=$?

	trap - EXIT
	stop_pid "$engine_pid"
	# Deleting a namespace deletes the veth end inside it, and with it
	# the peer.
	if $created_eng; then ip netns del "$ns_eng" 2>/dev/null || true; fi
	if $created_ker; then ip netns del "$ns_ker" 2>/dev/null || true; fi
	# EAL leaves its runtime directory behind unless run --in-memory.
	rm -rf "/var/run/dpdk/$prefix"
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -s "$log" ]; then
		echo "---- engine log ($log) ----"
		cat "$log"
		echo "---- end of engine log ----"
	fi
	rm -f "$log"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns add "$ns_eng" 2>/dev/null || skip "cannot create network namespace $ns_eng"
created_eng=true
ip netns add "$ns_ker" 2>/dev/null || skip "cannot create network namespace $ns_ker"
created_ker=true
# Created directly inside the namespaces, so no veth ever sits in the
# caller's namespace.
ip -n "$ns_eng" link add "$if_eng" type veth peer name "$if_ker" netns "$ns_ker" \
	2>/dev/null || skip "cannot create a veth pair"
# The engine side carries no kernel address, not even an IPv6 link-local
# one: everything on that wire must come from the engine. (The sysctl is
# absent when the kernel has no IPv6; then there is nothing to silence.)
ip netns exec "$ns_eng" sysctl -qw "net.ipv6.conf.$if_eng.disable_ipv6=1" 2>/dev/null || true
ip -n "$ns_eng" link set "$if_eng" up
ip -n "$ns_ker" addr add "$ker_ip/24" dev "$if_ker"
ip -n "$ns_ker" link set "$if_ker" up
pass "namespaces $ns_eng (engine) and $ns_ker (kernel $ker_ip) joined by $if_eng <-> $if_ker"

# SHARDS=2 runs two shards on two lcores over two af_packet queue pairs:
# ARP then reaches one shard only and must be shared through the inboxes.
shards=${SHARDS:-1}
ip netns exec "$ns_eng" "$gen" --no-huge -m 256 --no-pci --file-prefix="$prefix" -l "0-$((shards - 1))" \
	--vdev="net_af_packet0,iface=$if_eng,qpairs=$shards" -- --ip "$eng_ip/24" --duration 60 \
	>"$log" 2>&1 &
engine_pid=$!

for _ in $(seq 150); do
	grep -q "serving $eng_ip/24" "$log" && break
	kill -0 "$engine_pid" 2>/dev/null || fail "the engine exited before serving"
	sleep 0.1
done
grep -q "serving $eng_ip/24" "$log" || fail "the engine did not report serving within 15 s"
pass "engine (pid $engine_pid) serving $eng_ip on $if_eng"

answered=false
for _ in $(seq 15); do
	if ip netns exec "$ns_ker" ping -c1 -W1 "$eng_ip" >/dev/null 2>&1; then
		answered=true
		break
	fi
	kill -0 "$engine_pid" 2>/dev/null || fail "the engine exited while waiting for its first ping reply"
done
$answered || fail "no reply to a single ping of $eng_ip after 15 tries"
pass "first ping reply from $eng_ip"

out=$(ip netns exec "$ns_ker" ping -c 50 -i 0.02 -w 15 "$eng_ip" 2>&1) || true
if ! grep -Eq '^50 packets transmitted, 50 received, 0% packet loss' <<<"$out"; then
	echo "$out"
	fail "ping -c 50 -i 0.02 lost packets"
fi
pass "ping -c 50 -i 0.02: $(grep -E 'packets transmitted' <<<"$out"); $(grep -E '^rtt' <<<"$out")"

# Thomas Habets' arping (Debian's arping package) names the interface with
# -i and paces with -W; iputils' arping uses -I and a fixed 1 s pace.
if arping --help 2>&1 | grep -q Habets; then
	out=$(ip netns exec "$ns_ker" arping -c 5 -W 0.1 -i "$if_ker" "$eng_ip" 2>&1) || true
	replies=$(sed -nE 's/.* ([0-9]+) packets received.*/\1/p' <<<"$out")
else
	out=$(ip netns exec "$ns_ker" arping -c 5 -w 10 -I "$if_ker" "$eng_ip" 2>&1) || true
	replies=$(sed -nE 's/^Received ([0-9]+) response.*/\1/p' <<<"$out")
fi
if [ "${replies:-0}" != 5 ]; then
	echo "$out"
	fail "arping -c 5 got ${replies:-no} replies, want 5"
fi
pass "arping -c 5: 5 replies"

# A tiny client for DPDK's telemetry socket (SOCK_SEQPACKET, one JSON
# greeting, then one JSON reply per command). Prints the greeting's pid,
# then each field of the command's reply as "name value".
telemetry() {
	python3 - "$sock" "$1" <<'PY'
import json, socket, sys

path, cmd = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(5)
s.connect(path)
hello = json.loads(s.recv(4096))
s.send(cmd.encode())
reply = json.loads(s.recv(hello["max_output_len"]))
value = reply.get(cmd.split(",")[0])
if not isinstance(value, dict):
    sys.exit("telemetry: %s answered %r" % (cmd, reply))
print("pid", hello["pid"])
for name, v in value.items():
    print(name, v)
PY
}

field() {
	awk -v k="$1" '$1 == k { print $2 }' <<<"$2"
}

[ -S "$sock" ] || fail "no telemetry socket at $sock"
info=$(telemetry /ethdev/info,0) || fail "telemetry /ethdev/info,0 failed"
[ "$(field pid "$info")" = "$engine_pid" ] ||
	fail "telemetry at $sock belongs to pid $(field pid "$info"), not the engine ($engine_pid)"
mac=$(field mac_addr "$info" | tr 'A-F' 'a-f')
[ -n "$mac" ] || fail "telemetry /ethdev/info,0 has no mac_addr"
pass "telemetry at $sock answers for the engine; port 0 MAC $mac"

neigh=$(ip -n "$ns_ker" neigh show "$eng_ip" dev "$if_ker")
if ! grep -q "lladdr $mac " <<<"$neigh "; then
	echo "neighbour entry: ${neigh:-none}"
	fail "the kernel's neighbour table does not map $eng_ip to the engine's MAC $mac"
fi
pass "kernel neighbour table: $neigh"

stats=$(telemetry /wskdp/stats) || fail "telemetry /wskdp/stats failed"
echo_replies=$(field icmp_echo_replies "$stats")
arp_replies=$(field arp_replies_sent "$stats")
# The kernel may add its own ARP requests (neighbour probes) and the first
# pings, so these are lower bounds.
[ "${echo_replies:-0}" -ge 50 ] ||
	fail "telemetry icmp_echo_replies is ${echo_replies:-missing}, want >= 50"
[ "${arp_replies:-0}" -ge 5 ] ||
	fail "telemetry arp_replies_sent is ${arp_replies:-missing}, want >= 5"
pass "telemetry /wskdp/stats: icmp_echo_replies $echo_replies, arp_replies_sent $arp_replies"

kill -TERM "$engine_pid"
for _ in $(seq 100); do
	kill -0 "$engine_pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$engine_pid" 2>/dev/null && fail "the engine did not exit within 10 s of SIGTERM"
rc=0
wait "$engine_pid" || rc=$?
engine_pid=
[ "$rc" -eq 0 ] || fail "the engine exited with status $rc after SIGTERM, want 0"
printed=$(field icmp_echo_replies "$(cat "$log")")
[ "${printed:-0}" -ge "$echo_replies" ] ||
	fail "the engine's exit counters show icmp_echo_replies ${printed:-missing}, want >= $echo_replies"
pass "SIGTERM: engine exited 0 and printed icmp_echo_replies $printed"
