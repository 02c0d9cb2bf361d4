# Shared by the interop tests that put the engine in one network namespace
# and the kernel in another, joined by a veth: their messages and exit
# codes (ok, FAIL 1, SKIP 77), stopping background processes, and the
# namespace pair itself, named after the test's PID and removed on every
# exit path. Sourced after `set -euo pipefail`.

skip() {
	echo "SKIP: $*"
	exit 77
}

fail() {
	echo "FAIL: $*"
	exit 1
}

pass() {
	echo "ok: $*"
}

# Stop process $1 with SIGTERM (SIGKILL after 5 s) and reap it.
stop_pid() {
	[ -n "$1" ] || return 0
	if kill -0 "$1" 2>/dev/null; then
		kill -TERM "$1" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$1" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$1" 2>/dev/null || true
	fi
	wait "$1" 2>/dev/null || true
}

# What a test left running in the background: stopped at exit.
bg_pid=
cap_pid=

pair_cleanup() {
	local rc=$?

	trap - EXIT
	stop_pid "$bg_pid"
	stop_pid "$cap_pid"
	if $created_eng; then ip netns del "$ns_eng" 2>/dev/null || true; fi
	if $created_ker; then ip netns del "$ns_ker" 2>/dev/null || true; fi
	rm -rf "/var/run/dpdk/$prefix"
	rm -rf "$work"
	exit "$rc"
}

# Make the pair: engine namespace ns_eng (veth if_eng, eng_ip, left
# unaddressed for the engine's af_packet port) and kernel namespace ns_ker
# (veth if_ker with ker_ip/24, up, and lo up), in 10.$1.N.0/24 (N from the
# PID, so parallel tests differ by $1); work is a fresh directory tagged
# $2, and prefix the EAL file prefix. Skips (77) when the host cannot.
pair_setup() {
	id=$$
	ns_eng=wdpE$id
	ns_ker=wdpK$id
	if_eng=wdpe$id
	if_ker=wdpk$id
	prefix=wdp$id
	net=10.$1.$((id % 254 + 1))
	eng_ip=$net.1
	ker_ip=$net.2
	work=$(mktemp -d "${TMPDIR:-/tmp}/wdp-$2.XXXXXX")
	created_eng=false
	created_ker=false
	trap pair_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	ip netns add "$ns_eng" 2>/dev/null || skip "cannot create network namespace $ns_eng"
	created_eng=true
	ip netns add "$ns_ker" 2>/dev/null || skip "cannot create network namespace $ns_ker"
	created_ker=true
	ip -n "$ns_eng" link add "$if_eng" type veth peer name "$if_ker" netns "$ns_ker" \
		2>/dev/null || skip "cannot create a veth pair"
	ip netns exec "$ns_eng" sysctl -qw "net.ipv6.conf.$if_eng.disable_ipv6=1" 2>/dev/null || true
	# af_packet hands the engine frames exactly as the veth carries them:
	# the kernel must neither leave checksums to an offload (the engine
	# would see partial ones) nor send segments larger than the MTU
	# (GSO/TSO; af_packet would truncate them to its frame size).
	for ns_if in "$ns_ker:$if_ker" "$ns_eng:$if_eng"; do
		ip netns exec "${ns_if%%:*}" ethtool -K "${ns_if#*:}" tx off tso off gso off gro off \
			>/dev/null 2>&1 || skip "ethtool cannot turn the offloads of ${ns_if#*:} off"
	done
	ip -n "$ns_eng" link set "$if_eng" up
	ip -n "$ns_ker" addr add "$ker_ip/24" dev "$if_ker"
	ip -n "$ns_ker" link set "$if_ker" up
	ip -n "$ns_ker" link set lo up
}
